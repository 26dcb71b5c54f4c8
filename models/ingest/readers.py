"""The two readers: uploaded transaction files and customer tables, validated.

Both readers detect the encoding (UTF-8 with or without BOM, UTF-16 with BOM, else
Windows-1252), the delimiter (comma, semicolon, tab, pipe or runs of whitespace) and
whether the first row is a header, then map and type the columns and validate every
row. Rows that cannot be used are dropped and counted; a file with more than
``max_invalid_share`` of such rows, or without a required column, is rejected whole
with :class:`IngestError`, whose ``report`` says why.

Rows without a customer id in a transaction file are dropped and reported but do not
count towards the rejection share: retail exports routinely carry guest purchases
without an id (a quarter of the Online Retail data set), which is no sign of a broken
file. In a customer table a row without an id is invalid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from models.ingest.columns import attribute_names, find_customer_id, map_transaction_columns
from models.ingest.report import (
    MAX_EXAMPLE_ROWS,
    Problem,
    RowChecks,
    ValidationReport,
    printable,
    reject,
)
from models.ingest.rows import RawTable, read_raw
from models.ingest.source import MAX_UNPACKED_BYTES
from models.ingest.values import clean_text, parse_dates, parse_numbers, sample

OPTIONAL_TEXT_COLUMNS = ("order_id", "category", "channel", "region")
_EPOCH = np.datetime64("1970-01-01", "ns")
_FLOAT_ID = re.compile(r"^\d+\.0+$")
# A customer-table column is numeric when this share of its non-empty values are numbers.
_NUMERIC_SHARE = 0.95
# One line of a sale above this is a data error (or a test value), not a purchase.
MAX_AMOUNT = 1e9
# Formula starts (=, +, @, a leading minus before a non-digit) and HTML tags.
_ACTIVE_TEXT = r"^[=+@\t\r]|^-[^0-9.]|<[A-Za-z/!]"
# Ids, order numbers and names longer than this are pasted text, not identifiers.
MAX_TEXT_LENGTH = 1_000


@dataclass
class IngestResult:
    frame: pd.DataFrame
    report: ValidationReport


def read_transactions(source, mapping: Mapping[str, object] | None = None,
                      max_invalid_share: float = 0.05, now=None,
                      max_amount: float = MAX_AMOUNT,
                      max_unpacked_bytes: int = MAX_UNPACKED_BYTES) -> IngestResult:
    """Read a transaction file into the canonical transactions frame.

    ``mapping`` ({canonical name: header name or 0-based position}) overrides the
    automatic column matching. Rows dated after ``now`` (default: the current time)
    or before 1970 count as unparseable, and so do amounts beyond ± ``max_amount``
    (one such value would outweigh every other customer's spend). Exact duplicate rows
    are dropped when the file has an order id; without one they are kept and reported,
    since repeat purchases on one day look the same. A gzip-compressed file may unpack
    to at most ``max_unpacked_bytes``.
    """
    report = ValidationReport(kind="transactions")
    raw = read_raw(source, report, max_unpacked_bytes)
    columns = map_transaction_columns(raw, mapping, report)
    label = report.mapping
    checks = _row_checks(raw, report)

    customer = _customer_ids(raw.table.column(columns["customer_id"]))
    missing_id = np.asarray(pc.is_null(customer))
    dates = parse_dates(raw.table.column(columns["date"]))
    report.date_format = dates.format
    if dates.ambiguous:
        report.warnings.append(
            f"No date shows whether the day or the month comes first; dates were read as "
            f"{dates.format}.")
    checks.add("unparseable_date", label["date"], np.isnat(dates.values),
               "{rows} {have} no date or a date that could not be read.", invalid=True)
    limit = _naive_now(now)
    checks.add("future_date", label["date"], dates.values > limit,
               f"{{rows}} {{were}} dated after {pd.Timestamp(limit)}.", invalid=True)
    checks.add("date_before_1970", label["date"], dates.values < _EPOCH,
               "{rows} {were} dated before 1970.", invalid=True)
    amount, amount_label = _amounts(raw, columns, checks, label, max_amount)
    for name in ("customer_id", *OPTIONAL_TEXT_COLUMNS):
        if name in columns:
            _check_length(raw.table.column(columns[name]), label[name], checks)
    checks.add("missing_customer_id", label["customer_id"], missing_id,
               "{rows} {have} no customer id and {were} left out.", invalid=False)
    if missing_id.mean() > max_invalid_share:
        report.warnings.append(
            f"{missing_id.mean():.1%} of rows have no customer id (guest purchases?) "
            "and were left out.")
    checks.enforce_share(max_invalid_share)
    _warn_active_text(customer, label["customer_id"], report)

    keep = ~(checks.invalid | missing_id)
    if not keep.any():
        reject(report, "no_valid_rows", None,
               "no row has a customer id together with a valid date and amount.")
    if not (amount[keep] > 0).any():
        reject(report, "no_purchases", amount_label,
               f"no usable row has a positive amount in {amount_label}: without purchases "
               "(only returns or zero amounts) there is no spend to learn from.")
    _report_customers_left_out(customer, keep, missing_id, checks, label["customer_id"])
    duplicates = _exact_duplicates(raw.table, keep, dates.values, amount)
    if "order_id" in columns:
        checks.add("duplicate_row", None, duplicates,
                   "{rows} repeated an earlier row exactly and {were} dropped.", invalid=False)
        keep &= ~duplicates
    else:
        checks.add("duplicate_row", None, duplicates,
                   "{rows} repeated an earlier row exactly and {were} kept: without an order "
                   "id they may be real repeat purchases on the same day.", invalid=False)
    checks.add("return", amount_label, keep & (amount < 0),
               "{rows} {have} a negative amount. Negative amounts are returns; "
               "they were kept.", invalid=False)

    data = {"customer_id": _kept(customer, keep), "date": _kept(dates.values, keep),
            "amount": _kept(amount, keep)}
    for name in OPTIONAL_TEXT_COLUMNS:
        if name in columns:
            data[name] = _kept(clean_text(raw.table.column(columns[name])), keep)
    return _result(pd.DataFrame(data), report)


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
    checks = _row_checks(raw, report)
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
    kept = np.flatnonzero(keep)
    repeated = np.zeros(len(keep), dtype=bool)
    repeated[kept[ids.filter(pa.array(keep)).to_pandas().duplicated().to_numpy()]] = True
    checks.add("duplicate_customer", id_label, repeated,
               "{rows} repeated a customer id seen in an earlier row; the first row of "
               "each customer was kept.", invalid=False)
    keep &= ~repeated
    data = {"customer_id": _kept(ids, keep)}
    for name, values in attributes.items():
        data[name] = _kept(values, keep)
    return _result(pd.DataFrame(data), report)


def _row_checks(raw: RawTable, report: ValidationReport) -> RowChecks:
    checks = RowChecks(report, raw.row_numbers, raw.bad_rows, raw.runaways, raw.runaway_mask)
    if raw.damaged is not None:
        checks.add("invalid_encoding", None, raw.damaged,
                   "{rows} {have} bytes that are not valid UTF-8 (shown as \ufffd) and "
                   "{were} left out, so no id or name is read wrongly.", invalid=True)
    return checks


def _warn_active_text(ids: pa.ChunkedArray, column: str, report: ValidationReport) -> None:
    """Say so when ids look like spreadsheet formulas or HTML: they are kept as text,
    which the dashboard shows as text and the exports escape."""
    active = pc.fill_null(pc.match_substring_regex(ids, _ACTIVE_TEXT), False)
    count = pc.sum(active).as_py() or 0
    if count:
        report.warnings.append(
            f"{count:,} ids in column '{printable(column)}' start like a spreadsheet formula "
            "or hold HTML markup; they are kept as plain text (shown as text, escaped in "
            "exports).")


def _check_length(values: pa.ChunkedArray, column: str, checks: RowChecks) -> None:
    """Ids and names longer than :data:`MAX_TEXT_LENGTH` are no ids or names."""
    too_long = np.asarray(pc.fill_null(pc.greater(pc.utf8_length(values), MAX_TEXT_LENGTH),
                                       False))
    checks.add("value_too_long", column, too_long,
               f"{{rows}} {{have}} a value longer than {MAX_TEXT_LENGTH:,} characters and "
               "{were} left out.", invalid=True)


def _report_customers_left_out(customer: pa.ChunkedArray, keep: np.ndarray,
                               missing_id: np.ndarray, checks: RowChecks, column: str) -> None:
    """Name the customers all of whose rows were left out: they vanish from the data,
    which the row counts alone do not show. ``count`` is customers for this kind."""
    dropped = ~keep & ~missing_id
    if not dropped.any():
        return
    kept_ids = customer.filter(pa.array(keep))
    candidates = customer.filter(pa.array(dropped))
    gone = np.asarray(pc.invert(pc.is_in(candidates, value_set=pc.unique(kept_ids))))
    if not gone.any():
        return
    ids = pc.unique(candidates.filter(pa.array(gone))).to_pylist()
    rows = checks.row_numbers[np.flatnonzero(dropped)[gone][:MAX_EXAMPLE_ROWS]]
    shown = ", ".join(ids[:MAX_EXAMPLE_ROWS]) + (", ..." if len(ids) > MAX_EXAMPLE_ROWS else "")
    noun = "customer has" if len(ids) == 1 else "customers have"
    checks.report.problems.append(Problem(
        "customer_left_out", column, len(ids), [int(r) for r in rows],
        f"{len(ids):,} {noun} no usable row and {'is' if len(ids) == 1 else 'are'} not in the "
        f"data: {shown}."))


def _kept(values: np.ndarray | pa.ChunkedArray, keep: np.ndarray):
    """The kept rows of a column, as a NumPy array or a pandas string Series."""
    if isinstance(values, np.ndarray):
        return values if keep.all() else values[keep]
    return (values if keep.all() else values.filter(pa.array(keep))).to_pandas()


def _result(frame: pd.DataFrame, report: ValidationReport) -> IngestResult:
    report.rows_accepted = len(frame)
    report.rows_rejected = report.rows_total - len(frame)
    return IngestResult(frame, report)


def _amounts(raw: RawTable, columns: dict[str, int], checks: RowChecks,
             label: dict[str, str], max_amount: float) -> tuple[np.ndarray, str]:
    """Line amounts (NaN where unusable): ``amount``, or quantity × unit price."""
    parts = ("amount",) if "amount" in columns else ("quantity", "unit_price")
    amount = None
    for part in parts:
        values, _ = parse_numbers(raw.table.column(columns[part]), raw.delimiter)
        checks.add("unparseable_amount", label[part], np.isnan(values),
                   f"{{rows}} {{have}} no {part.replace('_', ' ')} or one that is not a "
                   "finite number.", invalid=True)
        with np.errstate(over="ignore"):
            amount = values if amount is None else amount * values
    amount_label = " × ".join(label[p] for p in parts)
    beyond = ~np.isnan(amount) & ~(np.abs(amount) <= max_amount)
    checks.add("amount_out_of_range", amount_label, beyond,
               f"{{rows}} {{have}} an amount beyond ±{max_amount:,.0f}, too large to be one "
               "purchase, and {were} left out.", invalid=True)
    return np.where(beyond, np.nan, amount), amount_label


def _customer_ids(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trimmed ids; ``17850.0``-style ids (a float export of integers) lose the ``.0``."""
    ids = clean_text(values)
    head = sample(ids)[:1_000]
    if head and all(_FLOAT_ID.match(t) for t in head) and pc.all(
            pc.match_substring_regex(ids, _FLOAT_ID.pattern)).as_py():
        ids = pc.replace_substring_regex(ids, r"\.0+$", "")
    return ids


def _naive_now(now) -> np.datetime64:
    stamp = pd.Timestamp.now() if now is None else pd.Timestamp(now)
    if stamp.tz is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_datetime64().astype("datetime64[ns]")


def _exact_duplicates(table: pa.Table, keep: np.ndarray, dates: np.ndarray,
                      amount: np.ndarray) -> np.ndarray:
    """Rows (among ``keep``) equal in every field to an earlier kept row.

    Equal rows have equal dates, amounts and field lengths, so a hash of those
    finds the few candidates cheaply; only they are compared field by field.
    """
    lengths = np.zeros(table.num_rows, dtype=np.uint64)
    for column in table.columns:
        lengths += pc.fill_null(pc.binary_length(column), 0).to_numpy().astype(np.uint64)
    key = (lengths * np.uint64(0x9E3779B97F4A7C15)
           ^ dates.view(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
           ^ amount.view(np.uint64) * np.uint64(0x165667B19E3779F9))
    # 32 bits sort twice as fast; the extra collisions are weeded out below.
    kept = np.flatnonzero(keep)
    hashes = (key[kept] >> np.uint64(32)).astype(np.uint32) ^ key[kept].astype(np.uint32)
    ordered = np.sort(hashes)
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    out = np.zeros(len(keep), dtype=bool)
    if len(repeated):
        candidates = kept[pd.Series(hashes).isin(repeated).to_numpy()]
        chosen = np.zeros(len(keep), dtype=bool)
        chosen[candidates] = True
        rows = table.filter(pa.array(chosen)).to_pandas()
        out[candidates[rows.duplicated(keep="first").to_numpy()]] = True
    return out
