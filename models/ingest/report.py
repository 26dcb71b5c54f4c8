"""Validation report of one ingested file, and the error that rejects a file whole."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import NoReturn

import numpy as np

MAX_EXAMPLE_ROWS = 5
# Control characters and the Unicode marks that reorder or hide text on a terminal.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with control characters written out as escapes (``\\x1b``), so a
    name or value from an upload cannot steer the terminal or the page it is shown on."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1] if ord(m.group()) < 0x100
                            else f"\\u{ord(m.group()):04x}", text)


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

    def __post_init__(self):
        self.message = printable(self.message)
        if self.column is not None:
            self.column = printable(self.column)

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
    report.reason = f"Rejected: {printable(reason)}"
    report.rows_accepted = 0
    report.rows_rejected = report.rows_total
    raise IngestError(report)


class RowChecks:
    """Collects per-row problems as boolean masks over the parsed rows.

    Masks marked ``invalid`` make a row unusable: such rows count towards the
    rejection share and are dropped. Other problems are reported only.
    """

    def __init__(self, report: ValidationReport, row_numbers: np.ndarray,
                 bad_rows: np.ndarray, runaways=(), runaway_mask: np.ndarray | None = None):
        self.report = report
        self.row_numbers = row_numbers
        self.invalid = np.zeros(len(row_numbers), dtype=bool)
        self.bad_rows = bad_rows
        # Rows swallowed by runaway quotes are not in the table; they count here.
        self.swallowed = sum(r.rows for r in runaways)
        self._invalid_problems: list[Problem] = []
        if len(bad_rows):
            self._record(Problem(
                "wrong_field_count", None, len(bad_rows),
                [int(r) for r in bad_rows[:MAX_EXAMPLE_ROWS]],
                f"{_rows(len(bad_rows))} had a different number of fields than the first row.",
            ), invalid=True)
        if runaways:
            first = runaways[0]
            self._record(Problem(
                "unbalanced_quote", None, self.swallowed,
                [r.row for r in runaways[:MAX_EXAMPLE_ROWS]],
                f"A quoted value opens in row {first.row} and is not closed before the next "
                f"rows: it swallowed {_rows(first.rows)} (rows {first.row}–"
                f"{first.row + first.rows - 1})"
                + (f", and {len(runaways) - 1} more such quotes swallowed further rows"
                   if len(runaways) > 1 else "")
                + ". Those rows were left out; close or remove the quote to keep them.",
            ), invalid=True)
        if runaway_mask is not None:
            self.invalid |= runaway_mask
        self._runaway_mask = runaway_mask

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
        counted = self.invalid if self._runaway_mask is None else self.invalid & ~self._runaway_mask
        invalid = int(np.count_nonzero(counted)) + len(self.bad_rows) + self.swallowed
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
