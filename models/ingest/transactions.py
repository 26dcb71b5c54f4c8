"""Reading an uploaded transaction file in batches, so memory follows the kept
columns, not the size of the upload.

The file is parsed in record batches of text (``rows``); the mapped columns of each
batch are typed and its text dropped (``collect``); the checks then run on the typed
columns of the whole file, so counts and example rows are those of the whole file.
Rows without a customer id are dropped and reported but do not count towards the
rejection share: retail exports routinely carry guest purchases without an id (a
quarter of the Online Retail data set), which is no sign of a broken file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from models.ingest.collect import (
    HEAD_ROWS,
    MAX_TEXT_LENGTH,
    OPTIONAL_TEXT_COLUMNS,
    Collected,
    number_parts,
    plan_columns,
)
from models.ingest.columns import describe_mapping, find_transaction_columns
from models.ingest.duplicates import candidates, exact_duplicates
from models.ingest.memory import give_back
from models.ingest.readers import IngestResult, kept, result, row_checks
from models.ingest.report import (
    MAX_EXAMPLE_ROWS,
    Problem,
    RowChecks,
    ValidationReport,
    printable,
    reject,
)
from models.ingest.rows import RawTable, RowStream, open_rows, reject_if_empty
from models.ingest.source import MAX_UNPACKED_BYTES

_EPOCH = np.datetime64("1970-01-01", "ns")
# One line of a sale above this is a data error (or a test value), not a purchase.
MAX_AMOUNT = 1e9
# Formula starts (=, +, @, a leading minus before a non-digit) and HTML tags.
_ACTIVE_TEXT = r"^[=+@\t\r]|^-[^0-9.]|<[A-Za-z/!]"
# A later batch can overturn the head's plan once per choice; then the file is read again.
_MAX_PASSES = 4


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
    with open_rows(source, report, max_unpacked_bytes) as stream:
        columns, collected = _read_columns(stream, mapping, report)
        return _checked(stream, columns, collected, report, max_invalid_share, now,
                        max_amount)


def _read_columns(stream: RowStream, mapping, report: ValidationReport
                  ) -> tuple[dict[str, int], Collected]:
    """Map the columns on the head of the file, then type them over the whole file
    (again, when a later batch overturned the head's plan)."""
    batches = stream.batches()
    head = _head(batches)
    head_table = pa.Table.from_batches(head, stream.schema)
    raw = RawTable(head_table, stream.layout.names, np.arange(1, head_table.num_rows + 1),
                   np.zeros(0, dtype=np.int64), stream.layout.delimiter)
    columns, missing = find_transaction_columns(raw, mapping, report)
    if missing or not head_table.num_rows:
        for _ in batches:  # every row is counted in the report, even of a rejected file
            pass
        stream.index()
        reject_if_empty(report)
        for target, reason in missing:
            reject(report, "missing_column", target, reason)
    describe_mapping(raw, columns, report)
    plan = plan_columns(head_table, columns)
    del raw, head_table
    for _ in range(_MAX_PASSES):
        collected = Collected(plan, columns, stream.layout.delimiter)
        for batch in _drain(head, batches):
            collected.add(batch)
        plan = collected.revised()
        if plan is None:
            break
        head, batches = [], stream.batches()
    return columns, collected


def _head(batches: Iterator[pa.RecordBatch]) -> list[pa.RecordBatch]:
    head, rows = [], 0
    for batch in batches:
        head.append(batch)
        rows += batch.num_rows
        if rows >= HEAD_ROWS:
            break
    return head


def _drain(head: list, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The head batches, each let go once handed on, then the rest."""
    while head:
        yield head.pop(0)
    yield from rest


def _checked(stream: RowStream, columns: dict[str, int], collected: Collected,
             report: ValidationReport, max_invalid_share: float, now,
             max_amount: float) -> IngestResult:
    label = report.mapping
    give_back()  # what the pass read ahead and parsed
    checks = row_checks(stream.index(), report)
    customer = collected.text("customer_id")
    missing_id = np.asarray(pc.is_null(customer))
    dates = collected.array("date", "datetime64[ns]")
    report.date_format = collected.plan.dates.formats[0] if collected.plan.dates.formats else None
    if collected.ambiguous_dates:
        report.warnings.append(
            f"No date shows whether the day or the month comes first; dates were read as "
            f"{report.date_format}.")
    checks.add("unparseable_date", label["date"], np.isnat(dates),
               "{rows} {have} no date or a date that could not be read.", invalid=True)
    limit = _naive_now(now)
    checks.add("future_date", label["date"], dates > limit,
               f"{{rows}} {{were}} dated after {pd.Timestamp(limit)}.", invalid=True)
    checks.add("date_before_1970", label["date"], dates < _EPOCH,
               "{rows} {were} dated before 1970.", invalid=True)
    amount, amount_label = _amounts(collected, columns, checks, label, max_amount)
    for name in collected.texts:
        checks.add("value_too_long", label[name], collected.array(f"long:{name}", bool),
                   f"{{rows}} {{have}} a value longer than {MAX_TEXT_LENGTH:,} characters and "
                   "{were} left out.", invalid=True)
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
    repeats = candidates(collected.array("hash", np.uint64), keep)
    duplicates = exact_duplicates(repeats, len(keep), stream.batches(look=False))
    del repeats
    give_back()
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

    del checks, missing_id, duplicates
    chunks = customer.chunks
    del customer
    data = {"customer_id": _kept_text(chunks, keep)}
    data["date"] = kept(dates, keep)
    data["amount"] = kept(amount, keep)
    del dates, amount
    for name in OPTIONAL_TEXT_COLUMNS:
        if name in columns:
            data[name] = _kept_text(collected.text(name).chunks, keep)
    frame = pd.DataFrame(data, copy=False)  # the columns are new already
    del data
    give_back()
    return result(frame, report)


def _kept_text(chunks: list[pa.Array], keep: np.ndarray) -> pd.Series:
    """The kept rows of a text column as a pandas string Series, built chunk by chunk
    from ``chunks`` (emptied on the way), so only one chunk is ever held twice."""
    out, start = [], 0
    while chunks:
        chunk = chunks.pop(0)
        inside = keep[start:start + len(chunk)]
        start += len(chunk)
        if not inside.all():
            chunk = chunk.filter(pa.array(inside))
        out.append(chunk.cast(pa.large_string()))
        del chunk
    give_back()
    return pa.chunked_array(out, pa.large_string()).to_pandas()


def _amounts(collected: Collected, columns: dict[str, int], checks: RowChecks,
             label: dict[str, str], max_amount: float) -> tuple[np.ndarray, str]:
    """Line amounts (NaN where unusable): ``amount``, or quantity × unit price."""
    parts = number_parts(columns)
    for part in parts:
        checks.add("unparseable_amount", label[part], collected.array(f"nan:{part}", bool),
                   f"{{rows}} {{have}} no {part.replace('_', ' ')} or one that is not a "
                   "finite number.", invalid=True)
    amount = collected.array("amount", np.float64)
    amount_label = " × ".join(label[p] for p in parts)
    beyond = ~np.isnan(amount) & ~(np.abs(amount) <= max_amount)
    checks.add("amount_out_of_range", amount_label, beyond,
               f"{{rows}} {{have}} an amount beyond ±{max_amount:,.0f}, too large to be one "
               "purchase, and {were} left out.", invalid=True)
    amount[beyond] = np.nan
    return amount, amount_label


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


def _naive_now(now) -> np.datetime64:
    stamp = pd.Timestamp.now() if now is None else pd.Timestamp(now)
    if stamp.tz is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_datetime64().astype("datetime64[ns]")
