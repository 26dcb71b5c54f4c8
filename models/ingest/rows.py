"""From an upload to text columns, read in record batches, every row accounted for.

Every column is read as text; typing happens later, column by column and batch by
batch, so one bad value never fails the whole read and the whole file never has to
sit in memory as text. Columns are named by 0-based position ("0", "1", ...) and the
header names, when there is a header, are kept alongside.

Rows with the wrong number of fields are skipped and remembered by their row number;
quoted values that swallowed whole rows are recognised as described in ``quotes``.
"""

from __future__ import annotations

import codecs
import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from models.ingest.encoding import REPLACEMENT, TextEncoding, Utf8Stream, detect_encoding
from models.ingest.quotes import reject_unreadable, row_like_lines, rows_in, runaways_in_batch
from models.ingest.report import ValidationReport, reject
from models.ingest.sniff import (
    SNIFF_BYTES,
    WHITESPACE,
    Layout,
    sample_lines,
    sniff_layout,
    whitespace_to_tabs,
)
from models.ingest.source import MAX_UNPACKED_BYTES, open_plain

# Text read per record batch. The reader keeps up to 32 blocks read ahead, so the
# memory of a pass grows with this, not with the file.
_STEP_BYTES = 4 * 1024 * 1024
# The longest row the parser can take: a pass that meets a row longer than a step is
# read again in blocks of this size.
_BLOCK_BYTES = 64 * 1024 * 1024
# Wider files are exports of something else (or attacks on the parser), not sales data.
MAX_COLUMNS = 1_000


@dataclass
class Runaway:
    """A quoted value that swallowed whole rows: the row where its quote opened and
    how many rows it took, that one included."""

    row: int
    rows: int


@dataclass
class RowIndex:
    """Where the rows of the table came from, known after a whole pass."""

    row_numbers: np.ndarray  # 1-based data row number of every table row
    bad_rows: np.ndarray  # data row numbers skipped for a wrong number of fields
    runaways: list[Runaway] = field(default_factory=list)
    runaway_mask: np.ndarray | None = None  # table rows that hold a runaway value
    damaged: np.ndarray | None = None  # table rows holding bytes that are not UTF-8


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
    """Read ``source`` (path, bytes or binary file object, maybe gzip-compressed) into
    one table, filling the report's ``encoding``, ``delimiter``, ``header`` and
    ``rows_total``."""
    with open_rows(source, report, max_unpacked_bytes) as stream:
        table = pa.Table.from_batches(list(stream.batches()), stream.schema)
        index = stream.index()
    reject_if_empty(report)
    return RawTable(table, stream.layout.names, index.row_numbers, index.bad_rows,
                    stream.layout.delimiter, index.runaways, index.runaway_mask,
                    index.damaged)


def reject_if_empty(report: ValidationReport) -> None:
    if report.rows_total == 0:
        reject(report, "empty_file", None, "the file has a header row but no data rows.")


@contextlib.contextmanager
def open_rows(source, report: ValidationReport,
              max_unpacked_bytes: int = MAX_UNPACKED_BYTES) -> Iterator[RowStream]:
    """The rows of ``source`` as a :class:`RowStream`, once its encoding, delimiter
    and header are known (and written to the report)."""
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
        yield RowStream(handle, encoding, layout, report)


class RowStream:
    """The rows of an upload as record batches of text columns; each call of
    :meth:`batches` reads the file again from the start, and :meth:`index` tells,
    after a whole pass, where every row came from."""

    def __init__(self, handle, encoding: TextEncoding, layout: Layout,
                 report: ValidationReport):
        self.handle, self.encoding, self.layout, self.report = handle, encoding, layout, report
        self.names = [str(i) for i in range(layout.width)]
        self.schema = pa.schema([(name, pa.string()) for name in self.names])
        if layout.delimiter == WHITESPACE:
            self.delimiter, self.quote, self._rewrite = "\t", False, whitespace_to_tabs
        else:
            self.delimiter, self.quote, self._rewrite = layout.delimiter, '"', None
        self._reset()

    def _reset(self) -> None:
        self.rows = 0
        self._bad: list[int] = []
        self._swallowed: dict[int, int] = {}  # logical row number: rows it took
        self._swallowed_rows: dict[int, int] = {}  # table row: rows it took
        self._damaged: list[np.ndarray] = []

    def batches(self, look: bool = True) -> Iterator[pa.RecordBatch]:
        """One pass over the file; ``look=False`` skips the row bookkeeping of a pass
        whose :meth:`index` is already known.

        The file is read in steps; when a row is longer than a step the pass starts
        again in larger blocks, and the rows already handed on are read but not handed
        on again, so the caller sees every row once and in order."""
        handed = 0
        for block in sorted({min(_STEP_BYTES, _BLOCK_BYTES), _BLOCK_BYTES}):
            self._reset()
            try:
                for batch in self._reader(block):
                    if look:
                        self._look_at(batch)
                    self.rows += batch.num_rows
                    if self.rows > handed:
                        fresh = batch.slice(max(0, handed - (self.rows - batch.num_rows)))
                        handed = self.rows
                        yield fresh
                return
            except pa.ArrowInvalid:
                continue
        reject_unreadable(self._open_text(_STEP_BYTES), self.layout.header, self.report,
                          _BLOCK_BYTES // 1024**2)

    def _reader(self, block: int) -> pacsv.CSVStreamingReader:
        return pacsv.open_csv(
            self._open_text(block),
            read_options=pacsv.ReadOptions(column_names=self.names,
                                           skip_rows=int(self.layout.header),
                                           use_threads=False, block_size=block),
            parse_options=pacsv.ParseOptions(delimiter=self.delimiter,
                                             quote_char=self.quote,
                                             newlines_in_values=True,
                                             invalid_row_handler=self._skip_and_remember),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(self.names, pa.string()),
                strings_can_be_null=True, quoted_strings_can_be_null=True),
        )

    def _open_text(self, block: int):
        """The text as UTF-8 for the parser: the file itself when it already is (the
        fast path), else decoded and rewritten on the way."""
        self.handle.seek(0)
        start = self.handle.read(4)
        self.handle.seek(0)
        start = start.removeprefix(codecs.BOM_UTF8)
        if (self.encoding.name in ("utf-8", "utf-8-sig") and not self.encoding.damaged
                and self._rewrite is None and not start.startswith((b"\r", b"\n"))):
            return self.handle
        return io.BufferedReader(Utf8Stream(self.handle, self.encoding, self._rewrite), block)

    def _skip_and_remember(self, row) -> str:
        self._bad.append(row.number - int(self.layout.header))
        if self.quote and row_like_lines(row.text, self.delimiter, self.layout.width):
            self._swallowed[self._bad[-1]] = rows_in(row.text)
        return "skip"

    def _look_at(self, batch: pa.RecordBatch) -> None:
        if self.quote:
            for index, rows in runaways_in_batch(batch, self.delimiter,
                                                 self.layout.width).items():
                self._swallowed_rows[self.rows + index] = rows
        if self.encoding.damaged:
            mask = np.zeros(batch.num_rows, dtype=bool)
            for column in batch.columns:
                mask |= np.asarray(pc.fill_null(pc.match_substring(column, REPLACEMENT),
                                                False))
            self._damaged.append(mask)

    def index(self) -> RowIndex:
        """Row numbers of the last whole pass; sets the report's ``rows_total``."""
        bad = np.asarray(self._bad, dtype=np.int64)
        damaged = None
        if self.encoding.damaged:
            damaged = (np.concatenate(self._damaged) if self._damaged
                       else np.zeros(0, dtype=bool))
        if not len(bad) and not self._swallowed_rows:  # every row is a table row
            self.report.rows_total = self.rows
            return RowIndex(np.arange(1, self.rows + 1, dtype=_row_type(self.rows)), bad,
                            [], np.zeros(self.rows, dtype=bool), damaged)
        swallowed = dict(self._swallowed)
        if self._swallowed_rows:
            logical = np.setdiff1d(np.arange(1, self.rows + len(bad) + 1), bad)
            for row, rows in self._swallowed_rows.items():
                swallowed[int(logical[row])] = rows
        count = self.rows + len(bad)
        consumed = np.ones(count, dtype=np.int64)
        runaway_logical = sorted(swallowed)
        for number in runaway_logical:
            consumed[number - 1] = swallowed[number]
        starts = np.cumsum(consumed) - consumed + 1  # data row where each logical row starts
        self.report.rows_total = int(consumed.sum())
        is_bad = np.zeros(count, dtype=bool)
        if len(bad):
            is_bad[bad - 1] = True
        runaways = [Runaway(int(starts[n - 1]), int(swallowed[n])) for n in runaway_logical]
        runaway_rows = np.zeros(count, dtype=bool)
        runaway_rows[[n - 1 for n in runaway_logical]] = True
        row_type = _row_type(self.report.rows_total)
        return RowIndex(starts[~is_bad].astype(row_type), starts[is_bad & ~runaway_rows],
                        runaways, runaway_rows[~is_bad], damaged)


def _row_type(rows: int) -> type:
    """Row numbers take 4 bytes a row while they fit."""
    return np.int32 if rows < np.iinfo(np.int32).max else np.int64


def _warn_repeated_names(layout: Layout, report: ValidationReport) -> None:
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
