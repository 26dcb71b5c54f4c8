"""From an upload to a table of text columns, every row accounted for.

Every column is read as text; typing happens later, column by column, so one bad
value never fails the whole read. Columns are named by 0-based position ("0", "1",
...) and the header names, when there is a header, are kept alongside.

A quote that is opened and never closed makes a CSV parser read every following line
as part of one value. Such a *runaway* value is recognised by the whole rows inside it
(lines with as many delimiters as a row has): the rows it swallowed are counted as
unusable and reported with the row where the quote opened, so they count against the
rejection share instead of vanishing. When the runaway is too long for the parser at
all, the file is rejected with the row where the quote opened.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from models.ingest.encoding import REPLACEMENT, TextEncoding, Utf8Stream, detect_encoding
from models.ingest.report import ValidationReport, reject
from models.ingest.sniff import (
    SNIFF_BYTES,
    WHITESPACE,
    sample_lines,
    sniff_layout,
    whitespace_to_tabs,
)
from models.ingest.source import MAX_UNPACKED_BYTES, open_plain

_BLOCK_BYTES = 16 * 1024 * 1024
# Wider files are exports of something else (or attacks on the parser), not sales data.
MAX_COLUMNS = 1_000


@dataclass
class Runaway:
    """A quoted value that swallowed whole rows: the row where its quote opened and
    how many rows it took, that one included."""

    row: int
    rows: int


@dataclass
class RawTable:
    table: pa.Table  # text columns named "0", "1", ...
    names: list[str]  # header names, or the positions of a headerless file
    row_numbers: np.ndarray  # 1-based data row number of every table row
    bad_rows: np.ndarray  # data row numbers skipped for a wrong number of fields
    delimiter: str
    runaways: list[Runaway] = field(default_factory=list)
    runaway_mask: np.ndarray | None = None  # table rows that hold a runaway value
    damaged: np.ndarray | None = None  # table rows holding bytes that are not UTF-8


def read_raw(source, report: ValidationReport,
             max_unpacked_bytes: int = MAX_UNPACKED_BYTES) -> RawTable:
    """Read ``source`` (path, bytes or binary file object, maybe gzip-compressed),
    filling the report's ``encoding``, ``delimiter``, ``header`` and ``rows_total``."""
    with open_plain(source, report, max_unpacked_bytes) as handle:
        encoding = detect_encoding(handle, report)
        report.encoding = encoding.name
        head = io.BufferedReader(Utf8Stream(handle, encoding)).read(SNIFF_BYTES + 1)
        lines = sample_lines(head)
        if not lines:
            reject(report, "empty_file", None, "the file is empty.")
        layout = sniff_layout(lines)
        report.delimiter, report.header = layout.delimiter, layout.header
        if layout.width > MAX_COLUMNS:
            reject(report, "too_many_columns", None,
                   f"the file has more than {MAX_COLUMNS:,} columns ({layout.width:,} in its "
                   "first line); upload only the columns the analysis needs.")
        _warn_repeated_names(layout, report)
        raw = _read_rows(handle, encoding, layout, report)
    if report.rows_total == 0:
        reject(report, "empty_file", None, "the file has a header row but no data rows.")
    return raw


def _warn_repeated_names(layout, report: ValidationReport) -> None:
    if not layout.header:
        return
    seen: dict[str, list[int]] = {}
    for position, name in enumerate(layout.names):
        if name:
            seen.setdefault(name, []).append(position)
    repeated = {name: p for name, p in seen.items() if len(p) > 1}
    if repeated:
        shown = "; ".join(f"'{name}' (columns {', '.join(str(p + 1) for p in positions)})"
                          for name, positions in list(repeated.items())[:5])
        report.warnings.append(f"Column names appear more than once: {shown}. The first of "
                               "each is matched by name; pass a column mapping to choose "
                               "another.")


def decode_head(head: bytes, truncated: bool, report: ValidationReport) -> tuple[str, str]:
    """The text of the first bytes of a file and its encoding; a ``truncated`` head
    loses its last, partial line first."""
    if truncated and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]
    handle = io.BytesIO(head)
    encoding = detect_encoding(handle, report)
    text = io.BufferedReader(Utf8Stream(handle, encoding)).read()
    return text.decode("utf-8", errors="replace"), encoding.name


def _read_rows(handle, encoding: TextEncoding, layout, report: ValidationReport) -> RawTable:
    if layout.delimiter == WHITESPACE:
        delimiter, quote, rewrite = "\t", False, whitespace_to_tabs
    else:
        delimiter, quote, rewrite = layout.delimiter, '"', None

    def open_text():
        return io.BufferedReader(Utf8Stream(handle, encoding, rewrite), _BLOCK_BYTES)

    try:
        table, bad, swallowed = _read_table(open_text, delimiter, quote, layout.width,
                                            layout.header)
    except pa.ArrowInvalid:
        _reject_unreadable(open_text(), layout.header, report)
    swallowed.update(_swallowed_in_table(table, bad, delimiter, layout.width))
    logical = table.num_rows + len(bad)
    consumed = np.ones(logical, dtype=np.int64)
    runaway_logical = sorted(swallowed)
    for number in runaway_logical:
        consumed[number - 1] = swallowed[number]
    starts = np.cumsum(consumed) - consumed + 1  # data row where each logical row starts
    report.rows_total = int(consumed.sum())
    is_bad = np.zeros(logical, dtype=bool)
    if len(bad):
        is_bad[bad - 1] = True
    runaways = [Runaway(int(starts[n - 1]), int(swallowed[n])) for n in runaway_logical]
    runaway_rows = np.zeros(logical, dtype=bool)
    runaway_rows[[n - 1 for n in runaway_logical]] = True
    damaged = None
    if encoding.damaged:
        damaged = _holds_replacement(table)
    return RawTable(table, layout.names, starts[~is_bad], starts[is_bad & ~runaway_rows],
                    layout.delimiter, runaways, runaway_rows[~is_bad], damaged)


def _read_table(open_text: Callable, delimiter: str, quote, width: int,
                header: bool) -> tuple[pa.Table, np.ndarray, dict[int, int]]:
    """The table, the 1-based logical numbers of rows skipped for their field count (a
    logical row may span lines inside quotes; blank lines do not count) and, for the
    skipped rows holding a runaway value, {logical number: rows it took}."""
    names = [str(i) for i in range(width)]
    bad: list[int] = []
    swallowed: dict[int, int] = {}

    def skip_and_remember(row) -> str:
        if row.number is None:  # a threaded read; it is read again without threads
            bad.append(-1)
            return "skip"
        bad.append(row.number - int(header))
        if quote and _row_like_lines(row.text, delimiter, width):
            swallowed[bad[-1]] = _rows_in(row.text)
        return "skip"

    def read(use_threads: bool) -> pa.Table:
        with open_text() as text:
            return pacsv.read_csv(
                text,
                read_options=pacsv.ReadOptions(column_names=names, skip_rows=int(header),
                                               use_threads=use_threads,
                                               block_size=_BLOCK_BYTES),
                parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=quote,
                                                 newlines_in_values=True,
                                                 invalid_row_handler=skip_and_remember),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True,
                    quoted_strings_can_be_null=True),
            )

    table = read(use_threads=True)
    if bad:
        # Only a single-threaded read knows the row number of a skipped row.
        bad.clear()
        swallowed.clear()
        table = read(use_threads=False)
    return table, np.asarray(bad, dtype=np.int64), swallowed


def _row_like_lines(text: str, delimiter: str, width: int) -> int:
    """Lines after the first in ``text`` that hold a whole row's delimiters."""
    if width < 2:
        return 0
    return sum(line.count(delimiter) >= width - 1 for line in text.split("\n")[1:])


def _rows_in(text: str) -> int:
    """The rows a runaway value took: its own and every non-blank line inside it."""
    return 1 + sum(bool(line.strip()) for line in text.split("\n")[1:])


def _swallowed_in_table(table: pa.Table, bad: np.ndarray, delimiter: str,
                        width: int) -> dict[int, int]:
    """{logical row number: rows it took} for the table rows holding a runaway value
    (a runaway that happens to end in a row with the right number of fields)."""
    out: dict[int, int] = {}
    multiline = np.zeros(table.num_rows, dtype=bool)
    for column in table.columns:
        multiline |= np.asarray(pc.fill_null(pc.match_substring(column, "\n"), False))
    if not multiline.any():
        return out
    logical = np.setdiff1d(np.arange(1, table.num_rows + len(bad) + 1), bad)
    for index in np.flatnonzero(multiline):
        fields = [v for v in table.slice(index, 1).to_pylist()[0].values() if v]
        text = delimiter.join(fields)
        if _row_like_lines(text, delimiter, width):
            out[int(logical[index])] = _rows_in(text)
    return out


def _holds_replacement(table: pa.Table) -> np.ndarray:
    mask = np.zeros(table.num_rows, dtype=bool)
    for column in table.columns:
        mask |= np.asarray(pc.fill_null(pc.match_substring(column, REPLACEMENT), False))
    return mask


def _reject_unreadable(text, header: bool, report: ValidationReport):
    """Reject a file the parser gave up on, naming where a quote was left open."""
    line_number = row = opened_line = opened_row = 0
    longest = (0, 0, 0)
    open_quote = False
    with text:
        for raw_line in text:
            line_number += 1
            if not raw_line.strip():
                continue
            if not open_quote:
                row += 1
            if raw_line.count(b'"') % 2:
                if not open_quote:
                    opened_line, opened_row = line_number, row
                elif line_number - opened_line > longest[0]:
                    longest = (line_number - opened_line, opened_line, opened_row)
                open_quote = not open_quote
    if open_quote and line_number - opened_line + 1 > longest[0]:
        longest = (line_number - opened_line + 1, opened_line, opened_row)
    if longest[0]:
        lines, line, data_row = longest
        reject(report, "unbalanced_quote", None,
               f"a quoted value opens in row {data_row - int(header)} (line {line} of the "
               f"file) and is not closed for {lines:,} lines; the file cannot be split into "
               "rows. Close or remove that quote and upload again.",
               rows=[max(data_row - int(header), 1)])
    reject(report, "unreadable", None, "the file cannot be split into rows: one row is longer "
           f"than {_BLOCK_BYTES // 1024**2} MB.")
