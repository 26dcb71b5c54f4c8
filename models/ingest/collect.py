"""The mapped columns of a transaction file, typed batch by batch.

Three choices depend on more than one value: how dates are read (format family and
day/month order), whether a number column uses the decimal comma, and whether ids
written like ``17850.0`` lose their ``.0``. They are made from the head of the file
(:func:`plan_columns`, the first batches, at least 5,000 rows) and every later batch is
checked against them; when a later batch proves one wrong (a date that only the other
day/month order reads, a decimal comma after numbers were read with a point, an id
that is not ``<digits>.0``), :meth:`Collected.revised` says so and the file is read
again with the corrected plan, so the result is the same as if the whole file had
been seen first. Only typed values and per-row flags are kept; the text of a batch
is dropped once it is typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from models.ingest.duplicates import row_hashes
from models.ingest.memory import give_back
from models.ingest.values import (
    DatePlan,
    clean_text,
    other_order_reads,
    plan_dates,
    read_dates,
    read_numbers,
    sample,
    shows_day_above_12,
)

OPTIONAL_TEXT_COLUMNS = ("order_id", "category", "channel", "region")
HEAD_ROWS = 5_000
_FLOAT_ID = re.compile(r"^\d+\.0+$")
# Ids, order numbers and names longer than this are pasted text, not identifiers.
MAX_TEXT_LENGTH = 1_000


@dataclass(frozen=True)
class Plan:
    dates: DatePlan
    float_ids: bool  # ids are "<digits>.0": drop the ".0"
    decimal_comma: dict[str, bool] = field(default_factory=dict)  # decided number columns


def plan_columns(head: pa.Table, columns: dict[str, int]) -> Plan:
    """The plan judged from the head of the file."""
    dates = plan_dates(sample(head.column(columns["date"])))
    return Plan(dates, float_ids(clean_text(head.column(columns["customer_id"]))))


def float_ids(ids) -> bool:
    """Whether the (cleaned) ids from the head of a column are all ``<digits>.0``."""
    head = sample(ids)[:1_000]
    return bool(head) and all(_FLOAT_ID.match(t) for t in head)


def all_float_ids(ids) -> bool:
    return bool(pc.all(pc.match_substring_regex(ids, _FLOAT_ID.pattern)).as_py())


def drop_float_suffix(ids):
    return pc.replace_substring_regex(ids, r"\.0+$", "")


def number_parts(columns: dict[str, int]) -> tuple[str, ...]:
    return ("amount",) if "amount" in columns else ("quantity", "unit_price")


class Collected:
    """Typed columns and per-row flags of one pass over the file."""

    def __init__(self, plan: Plan, columns: dict[str, int], delimiter: str):
        self.plan, self.columns, self.delimiter = plan, columns, delimiter
        self.parts = number_parts(columns)
        self.texts = [n for n in ("customer_id", *OPTIONAL_TEXT_COLUMNS) if n in columns]
        self._chunks: dict[str, list] = {}
        self._other_order = self._day_shown = self._id_not_float = False
        self._comma_seen = dict.fromkeys(self.parts, False)
        self._marks_before_comma = dict.fromkeys(self.parts, False)

    def add(self, batch: pa.RecordBatch) -> None:
        self._put("hash", row_hashes(batch))
        for name in self.texts:
            self._put(f"long:{name}", too_long(batch.column(self.columns[name])))
        self._add_ids(batch.column(self.columns["customer_id"]))
        self._add_dates(batch.column(self.columns["date"]))
        amount = None
        for part in self.parts:
            values = self._number(part, batch.column(self.columns[part]))
            self._put(f"nan:{part}", np.isnan(values))
            with np.errstate(over="ignore"):
                amount = values if amount is None else amount * values
        self._put("amount", amount)
        for name in OPTIONAL_TEXT_COLUMNS:
            if name in self.columns:
                self._put(name, clean_text(batch.column(self.columns[name])))

    def _add_ids(self, values: pa.Array) -> None:
        ids = clean_text(values)
        if self.plan.float_ids:
            self._id_not_float = self._id_not_float or not all_float_ids(ids)
            ids = drop_float_suffix(ids)
        self._put("customer_id", ids)

    def _add_dates(self, values: pa.Array) -> None:
        dates = read_dates(values, self.plan.dates)
        if self.plan.dates.family == "year_last" and not self.plan.dates.decided:
            self._other_order |= other_order_reads(values, dates, self.plan.dates)
            self._day_shown = self._day_shown or shows_day_above_12(dates)
        self._put("date", dates)

    def _number(self, part: str, values: pa.Array) -> np.ndarray:
        preset = self.plan.decimal_comma.get(part)
        comma = True if preset or self._comma_seen[part] else preset
        numbers, used = read_numbers(values, self.delimiter, comma)
        if used and not self._comma_seen[part]:
            self._comma_seen[part] = True
        elif not used and not self._comma_seen[part] and preset is None:
            self._marks_before_comma[part] |= bool(
                pc.any(pc.match_substring_regex(values, r"\d[.,]\d")).as_py())
        return numbers

    def _put(self, name: str, values) -> None:
        self._chunks.setdefault(name, []).append(values)

    def revised(self) -> Plan | None:
        """The corrected plan when a later batch proved the head's plan wrong."""
        plan = self.plan
        if self._other_order:
            plan = replace(plan, dates=plan.dates.flipped())
        if self._id_not_float:
            plan = replace(plan, float_ids=False)
        redo = {p: True for p in self.parts if self._comma_seen[p] and self._marks_before_comma[p]}
        if redo:
            plan = replace(plan, decimal_comma={**plan.decimal_comma, **redo})
        return None if plan == self.plan else plan

    @property
    def ambiguous_dates(self) -> bool:
        dates = self.plan.dates
        return dates.family == "year_last" and not dates.decided and not self._day_shown

    def array(self, name: str, dtype) -> np.ndarray:
        """One typed column of the whole pass (handed over: it is no longer kept here)."""
        chunks = self._chunks.pop(name, [])
        if not chunks:
            return np.zeros(0, dtype=dtype)
        out = np.concatenate(chunks)
        del chunks
        give_back()
        return out

    def text(self, name: str) -> pa.ChunkedArray:
        """One text column of the whole pass (handed over: it is no longer kept here)."""
        return pa.chunked_array(self._chunks.pop(name, []), pa.string())


def too_long(values: pa.Array) -> np.ndarray:
    """Ids and names longer than :data:`MAX_TEXT_LENGTH` are no ids or names."""
    return np.asarray(pc.fill_null(pc.greater(pc.utf8_length(values), MAX_TEXT_LENGTH),
                                   False))
