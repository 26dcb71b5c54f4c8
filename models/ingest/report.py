"""Validation report of one ingested file, and the error that rejects a file whole."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import NoReturn

import numpy as np

MAX_EXAMPLE_ROWS = 5


@dataclass
class Problem:
    """One kind of problem found in one column, with the first rows where it occurs.

    ``rows`` are 1-based data row numbers: row 1 is the first row below the header
    (the first line of a headerless file); blank lines are not counted.
    """

    kind: str
    column: str | None
    count: int
    rows: list[int]
    message: str

    def summary(self) -> str:
        where = f" in column '{self.column}'" if self.column is not None else ""
        rows = ", ".join(str(r) for r in self.rows)
        first = f", first at rows {rows}" if rows else ""
        return f"{self.kind}{where}: {_rows(self.count)}{first}"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ValidationReport:
    """What was read, how, and what was wrong with it; ``to_dict()`` is JSON-safe."""

    kind: str
    rows_total: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    header: bool | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejected: bool = False
    reason: str | None = None

    def count(self, kind: str, column: str | None = None) -> int:
        """Rows affected by ``kind`` (optionally only in ``column``)."""
        return sum(
            p.count for p in self.problems if p.kind == kind and column in (None, p.column)
        )

    def to_dict(self) -> dict:
        out = asdict(self)
        out["problems"] = [p.to_dict() for p in self.problems]
        return out


def _rows(count: int) -> str:
    return "1 row" if count == 1 else f"{count:,} rows"


class IngestError(ValueError):
    """A file rejected whole; ``report`` says why and what else was found."""

    def __init__(self, report: ValidationReport):
        super().__init__(report.reason)
        self.report = report

    def __reduce__(self):
        return type(self), (self.report,)


def reject(report: ValidationReport, kind: str, column: str | None, reason: str,
           count: int = 0, rows: list[int] | None = None) -> NoReturn:
    """Record the rejecting problem on ``report`` and raise :class:`IngestError`."""
    report.problems.append(Problem(kind, column, count, rows or [], reason))
    report.rejected = True
    report.reason = f"Rejected: {reason}"
    report.rows_accepted = 0
    report.rows_rejected = report.rows_total
    raise IngestError(report)


class RowChecks:
    """Collects per-row problems as boolean masks over the parsed rows.

    Masks marked ``invalid`` make a row unusable: such rows count towards the
    rejection share and are dropped. Other problems are reported only.
    """

    def __init__(self, report: ValidationReport, row_numbers: np.ndarray,
                 bad_rows: np.ndarray):
        self.report = report
        self.row_numbers = row_numbers
        self.invalid = np.zeros(len(row_numbers), dtype=bool)
        self.bad_rows = bad_rows
        self._invalid_problems: list[Problem] = []
        if len(bad_rows):
            self._record(Problem(
                "wrong_field_count", None, len(bad_rows),
                [int(r) for r in bad_rows[:MAX_EXAMPLE_ROWS]],
                f"{_rows(len(bad_rows))} had a different number of fields than the first row.",
            ), invalid=True)

    def add(self, kind: str, column: str | None, mask: np.ndarray, message: str,
            invalid: bool) -> int:
        """Report rows where ``mask`` is set.

        ``message`` may use ``{rows}`` ("1 row", "3 rows"), ``{have}`` and ``{were}``.
        """
        count = int(np.count_nonzero(mask))
        if count:
            rows = self.row_numbers[np.flatnonzero(mask)[:MAX_EXAMPLE_ROWS]]
            text = message.format(rows=_rows(count), have="has" if count == 1 else "have",
                                  were="was" if count == 1 else "were")
            problem = Problem(kind, column, count, [int(r) for r in rows], text)
            self._record(problem, invalid)
            if invalid:
                self.invalid |= mask
        return count

    def _record(self, problem: Problem, invalid: bool) -> None:
        self.report.problems.append(problem)
        if invalid:
            self._invalid_problems.append(problem)

    def enforce_share(self, max_invalid_share: float) -> None:
        """Reject the file when too many rows could not be used."""
        total = self.report.rows_total
        invalid = int(np.count_nonzero(self.invalid)) + len(self.bad_rows)
        if total == 0 or invalid / total <= max_invalid_share:
            return
        details = "; ".join(p.summary() for p in self._invalid_problems)
        reason = (
            f"{invalid / total:.1%} of rows ({invalid:,} of {total:,}) could not be parsed, "
            f"above the {max_invalid_share:.1%} limit. {details}"
        )
        first = np.sort(np.concatenate([
            self.row_numbers[np.flatnonzero(self.invalid)[:MAX_EXAMPLE_ROWS]],
            self.bad_rows[:MAX_EXAMPLE_ROWS],
        ]))[:MAX_EXAMPLE_ROWS]
        reject(self.report, "too_many_invalid", None, reason, invalid, [int(r) for r in first])
