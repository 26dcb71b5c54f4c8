"""How the rows of a file are laid out: delimiter, header and row width, judged from
its first lines (``rows`` then reads the whole file with that layout)."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass

import numpy as np

from models.ingest.report import printable
from models.ingest.synonyms import ALL_SYNONYMS, normalise
from models.ingest.values import looks_date, looks_numeric

WHITESPACE = "whitespace"
_DELIMITERS = ("\t", ";", "|", ",")
SNIFF_BYTES = 64 * 1024
_SNIFF_LINES = 200
_CONSISTENT = 0.9


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
        names[: len(rows[0])] = [printable(n.strip()) for n in rows[0][:width]]
    return Layout(delimiter, header, width, names, rows)


def sample_lines(data: bytes) -> list[str]:
    head = data[:SNIFF_BYTES]
    if len(data) > SNIFF_BYTES and b"\n" in head:
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


def whitespace_to_tabs(data: bytes) -> bytes:
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
