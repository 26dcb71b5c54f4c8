"""The customer-table reader, and what both readers share.

Both readers detect the encoding (UTF-8 with or without BOM, UTF-16 with BOM, else
Windows-1252), the delimiter (comma, semicolon, tab, pipe or runs of whitespace) and
whether the first row is a header, then map and type the columns and validate every
row. Rows that cannot be used are dropped and counted; a file with more than
``max_invalid_share`` of such rows, or without a required column, is rejected whole
with :class:`IngestError`, whose ``report`` says why. Transaction files are read in
batches (``transactions``); a customer table, one row per customer, is read whole.
In a customer table a row without an id is invalid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from models.ingest.collect import (
    MAX_TEXT_LENGTH,
    all_float_ids,
    drop_float_suffix,
    float_ids,
    too_long,
)
from models.ingest.columns import attribute_names, find_customer_id
from models.ingest.report import RowChecks, ValidationReport, reject
from models.ingest.rows import RawTable, RowIndex, read_raw
from models.ingest.source import MAX_UNPACKED_BYTES
from models.ingest.values import clean_text, parse_numbers

# A customer-table column is numeric when this share of its non-empty values are numbers.
_NUMERIC_SHARE = 0.95


@dataclass
class IngestResult:
    frame: pd.DataFrame
    report: ValidationReport


def read_customers(source, mapping: Mapping[str, object] | None = None,
                   max_invalid_share: float = 0.05,
                   max_unpacked_bytes: int = MAX_UNPACKED_BYTES) -> IngestResult:
    """Read a customer table: one row per customer, ``customer_id`` plus every other
    column, numeric where at least 95 % of its non-empty values are numbers (the
    rest are reported as ``unparseable_number``), text otherwise.

    The id column is found by name, given by ``mapping`` ({"customer_id": column}),
    or is the first column of a headerless file. Later rows repeating an id are
    dropped and reported as ``duplicate_customer``.
    """
    report = ValidationReport(kind="customers")
    raw = read_raw(source, report, max_unpacked_bytes)
    id_position, reason = find_customer_id(raw.names, mapping, report)
    if id_position is None:
        reject(report, "missing_column", None, reason)
    columns = {"customer_id": id_position}
    id_position = columns["customer_id"]
    id_label = raw.names[id_position]
    report.mapping = {"customer_id": id_label}
    checks = row_checks(raw, report)
    _check_length(raw.table.column(id_position), id_label, checks)

    ids = _customer_ids(raw.table.column(id_position))
    checks.add("missing_customer_id", id_label, np.asarray(pc.is_null(ids)),
               "{rows} {have} no customer id.", invalid=True)
    attributes: dict[str, object] = {}
    for position, name in attribute_names(raw.names, id_position):
        values = raw.table.column(position)
        numbers, missing = parse_numbers(values, raw.delimiter)
        present = ~missing
        unparsed = present & np.isnan(numbers)
        if present.any() and present.sum() - unparsed.sum() >= _NUMERIC_SHARE * present.sum():
            checks.add("unparseable_number", raw.names[position], unparsed,
                       "{rows} {have} a value that is not a number in a numeric column.",
                       invalid=True)
            attributes[name] = numbers
        else:
            attributes[name] = clean_text(values)
    checks.enforce_share(max_invalid_share)

    keep = ~checks.invalid
    kept_rows = np.flatnonzero(keep)
    repeated = np.zeros(len(keep), dtype=bool)
    repeated[kept_rows[ids.filter(pa.array(keep)).to_pandas().duplicated().to_numpy()]] = True
    checks.add("duplicate_customer", id_label, repeated,
               "{rows} repeated a customer id seen in an earlier row; the first row of "
               "each customer was kept.", invalid=False)
    keep &= ~repeated
    data = {"customer_id": kept(ids, keep)}
    for name, values in attributes.items():
        data[name] = kept(values, keep)
    return result(pd.DataFrame(data), report)


def row_checks(raw: RowIndex | RawTable, report: ValidationReport) -> RowChecks:
    checks = RowChecks(report, raw.row_numbers, raw.bad_rows, raw.runaways, raw.runaway_mask)
    if raw.damaged is not None:
        checks.add("invalid_encoding", None, raw.damaged,
                   "{rows} {have} bytes that are not valid UTF-8 (shown as \ufffd) and "
                   "{were} left out, so no id or name is read wrongly.", invalid=True)
    return checks


def _check_length(values: pa.ChunkedArray, column: str, checks: RowChecks) -> None:
    checks.add("value_too_long", column, too_long(values),
               f"{{rows}} {{have}} a value longer than {MAX_TEXT_LENGTH:,} characters and "
               "{were} left out.", invalid=True)


def kept(values: np.ndarray | pa.ChunkedArray, keep: np.ndarray):
    """The kept rows of a column, as a NumPy array or a pandas string Series."""
    if isinstance(values, np.ndarray):
        return values if keep.all() else values[keep]
    return (values if keep.all() else values.filter(pa.array(keep))).to_pandas()


def result(frame: pd.DataFrame, report: ValidationReport) -> IngestResult:
    report.rows_accepted = len(frame)
    report.rows_rejected = report.rows_total - len(frame)
    return IngestResult(frame, report)


def _customer_ids(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trimmed ids; ``17850.0``-style ids (a float export of integers) lose the ``.0``."""
    ids = clean_text(values)
    if float_ids(ids) and all_float_ids(ids):
        ids = drop_float_suffix(ids)
    return ids


