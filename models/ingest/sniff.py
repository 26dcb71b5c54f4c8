"""From raw bytes to a table of text columns: encoding, delimiter and header.

Every column is read as text; typing happens later, column by column, so one bad
value never fails the whole read. Columns are named by 0-based position ("0", "1",
...) and the header names, when there is a header, are kept alongside.
"""

from __future__ import annotations

import codecs
import csv
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from models.ingest.report import ValidationReport, reject
from models.ingest.synonyms import ALL_SYNONYMS, normalise
from models.ingest.values import looks_date, looks_numeric

WHITESPACE = "whitespace"
_DELIMITERS = ("\t", ";", "|", ",")
_SNIFF_BYTES = 64 * 1024
_SNIFF_LINES = 200
_CONSISTENT = 0.9
# cp1252 leaves five bytes undefined; read those as Latin-1 (the C1 control characters).
_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"
_CP1252_TABLE = "".join(
    bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256)
)


@dataclass
class RawTable:
    table: pa.Table  # text columns named "0", "1", ...
    names: list[str]  # header names, or the positions of a headerless file
    row_numbers: np.ndarray  # 1-based data row number of every table row
    bad_rows: np.ndarray  # data row numbers skipped for a wrong number of fields
    delimiter: str


@dataclass
class Layout:
    """How the rows of a file are split, judged from its first lines."""

    delimiter: str  # one character, or WHITESPACE
    header: bool
    width: int  # the usual number of fields in a row
    names: list[str]  # header names, or the positions of a headerless file
    rows: list[list[str]]  # the sampled lines split into fields, header included


def sniff_layout(lines: list[str]) -> Layout:
    """Delimiter, header and row width from the first non-blank lines of a file."""
    delimiter = _sniff_delimiter(lines)
    rows = _split(lines[:_SNIFF_LINES], delimiter)
    header = _has_header(rows)
    # The usual row width wins over the first row's, so an export whose data rows all
    # end in an extra delimiter (or whose header does) still reads every row.
    width = Counter(len(r) for r in rows).most_common(1)[0][0]
    names = [str(i) for i in range(width)]
    if header:
        names[: len(rows[0])] = [n.strip() for n in rows[0][:width]]
    return Layout(delimiter, header, width, names, rows)


def read_raw(source, report: ValidationReport) -> RawTable:
    """Read ``source`` (path, bytes or binary file object), filling the report's
    ``encoding``, ``delimiter``, ``header`` and ``rows_total``."""
    data, report.encoding = _to_utf8(_load(source), report.warnings)
    data = data.lstrip(b"\r\n")
    lines = _sample_lines(data)
    if not lines:
        reject(report, "empty_file", None, "the file is empty.")
    layout = sniff_layout(lines)
    delimiter, width = layout.delimiter, layout.width
    report.delimiter, report.header = delimiter, layout.header
    if delimiter == WHITESPACE:
        data, parse_delimiter, quote = _whitespace_to_tabs(data), "\t", False
    else:
        parse_delimiter, quote = delimiter, '"'
    table, bad = _read_table(data, parse_delimiter, quote, width, layout.header)
    report.rows_total = table.num_rows + len(bad)
    if report.rows_total == 0:
        reject(report, "empty_file", None, "the file has a header row but no data rows.")
    numbers = np.arange(1, report.rows_total + 1)
    if len(bad):
        numbers = np.setdiff1d(numbers, bad, assume_unique=True)
    return RawTable(table, layout.names, numbers, bad, delimiter)


def decode_head(head: bytes, truncated: bool, report: ValidationReport) -> tuple[str, str]:
    """The text of the first bytes of a file and its encoding; a ``truncated`` head
    loses its last, partial line (or character) first."""
    if truncated:
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            head = head[: len(head) // 2 * 2]
        elif b"\n" in head:
            head = head[: head.rindex(b"\n") + 1]
    data, encoding = _to_utf8(head, report.warnings)
    return data.decode("utf-8", errors="replace"), encoding


def _load(source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        return Path(source).read_bytes()
    if hasattr(source, "read"):
        data = source.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    raise TypeError(f"cannot read {type(source).__name__}: expected a path, bytes or a file")


def _to_utf8(data: bytes, warnings: list[str]) -> tuple[bytes, str]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16").encode("utf-8"), "utf-16"
    bom = data.startswith(codecs.BOM_UTF8)
    if bom:
        data = data[len(codecs.BOM_UTF8):]
    if data.isascii():
        return data, "utf-8-sig" if bom else "utf-8"
    try:
        data.decode("utf-8")
        return data, "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError:
        pass
    text, _ = codecs.charmap_decode(data, "strict", _CP1252_TABLE)
    message = "The file is not valid UTF-8; it was read as Windows-1252 (cp1252)."
    undefined = sum(data.count(bytes([b])) for b in _CP1252_UNDEFINED)
    if undefined:
        message += f" {undefined:,} bytes that Windows-1252 does not define were read as Latin-1."
    warnings.append(message)
    return text.encode("utf-8"), "cp1252"


def _sample_lines(data: bytes) -> list[str]:
    head = data[:_SNIFF_BYTES]
    if len(data) > _SNIFF_BYTES and b"\n" in head:
        head = head[: head.rindex(b"\n")]
    text = head.decode("utf-8", errors="replace")
    return [line for line in text.splitlines() if line.strip()]


def _split(lines: list[str], delimiter: str) -> list[list[str]]:
    if delimiter == WHITESPACE:
        return [line.split() for line in lines]
    return list(csv.reader(lines, delimiter=delimiter))


def _consistent_width(counts: list[int]) -> int:
    """The usual number of fields when nearly every line has it, else 0."""
    width, hits = Counter(counts).most_common(1)[0]
    return width if hits / len(counts) >= _CONSISTENT else 0


def _sniff_delimiter(lines: list[str]) -> str:
    """The delimiter splitting the first line, and nearly every other line into the
    same number of fields, best; ties go to the most fields, then to the earlier of
    tab, semicolon, pipe and comma (a semicolon file with decimal commas splits evenly
    on both). Runs of whitespace only when no delimiter fits."""
    lines = lines[:_SNIFF_LINES]
    best, best_score = None, None
    for delimiter in _DELIMITERS:
        score = _split_score(lines, delimiter)
        if score is not None and (best_score is None or score > best_score):
            best, best_score = delimiter, score
    if best is None and _split_score(lines, WHITESPACE) is not None:
        return WHITESPACE
    return best or ","


def _split_score(lines: list[str], delimiter: str) -> tuple[float, int] | None:
    rows = _split(lines, delimiter)
    if len(rows[0]) < 2:
        return None
    counts = [len(row) for row in rows[1:]] or [len(rows[0])]
    width = _consistent_width(counts)
    if width < 2:
        return None
    return sum(c == width for c in counts) / len(counts), width


def _typed(text: str) -> bool:
    return looks_numeric(text) or looks_date(text)


def _has_header(rows: list[list[str]]) -> bool:
    """A first row is a header when it names a known column, or when it holds text
    above a column whose other values are numbers or dates."""
    first = [f.strip() for f in rows[0]]
    if any(normalise(f) in ALL_SYNONYMS for f in first):
        return True
    filled = [f for f in first if f]
    if filled and all(_typed(f) for f in filled):
        return False
    body = rows[1:]
    evidence_for_data = False
    for j, value in enumerate(first):
        column = [r[j].strip() for r in body if len(r) > j and r[j].strip()]
        if not value or not column:
            continue
        if sum(map(_typed, column)) >= _CONSISTENT * len(column):
            if not _typed(value):
                return True
            evidence_for_data = True
    return not evidence_for_data


def _whitespace_to_tabs(data: bytes) -> bytes:
    """Collapse runs of spaces/tabs into one tab and trim them at line ends."""
    a = np.frombuffer(data, dtype=np.uint8)
    space = (a == 0x20) | (a == 0x09)
    after_space_or_start = np.empty_like(space)
    after_space_or_start[0] = True
    after_space_or_start[1:] = space[:-1] | (a[:-1] == 0x0A)
    a = a[~(space & after_space_or_start)]
    space = (a == 0x20) | (a == 0x09)
    before_end = np.empty_like(space)
    before_end[-1] = True
    before_end[:-1] = (a[1:] == 0x0A) | (a[1:] == 0x0D)
    a = a[~(space & before_end)]
    return np.where((a == 0x20) | (a == 0x09), np.uint8(0x09), a).tobytes()


def _read_table(data: bytes, delimiter: str, quote, width: int,
                header: bool) -> tuple[pa.Table, np.ndarray]:
    names = [str(i) for i in range(width)]
    bad: list[int | None] = []

    def skip_and_remember(row) -> str:
        bad.append(row.number)
        return "skip"

    def read(use_threads: bool) -> pa.Table:
        return pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=int(header),
                                           use_threads=use_threads),
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
        table = read(use_threads=False)
    return table, np.asarray(bad, dtype=np.int64) - int(header)
