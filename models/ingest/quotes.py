"""Quoted values that run away: a quote opened and never closed makes a CSV parser
read every following line as part of one value.

Such a *runaway* value is recognised by the whole rows inside it (lines with as many
delimiters as a row has). ``rows`` counts the rows it swallowed as unusable and
reports the row where the quote opened; when the runaway is too long for the parser
at all, :func:`reject_unreadable` rejects the file naming that row.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from models.ingest.report import ValidationReport, reject


def row_like_lines(text: str, delimiter: str, width: int) -> int:
    """Lines after the first in ``text`` that hold a whole row's delimiters."""
    if width < 2:
        return 0
    return sum(line.count(delimiter) >= width - 1 for line in text.split("\n")[1:])


def rows_in(text: str) -> int:
    """The rows a runaway value took: its own and every non-blank line inside it."""
    return 1 + sum(bool(line.strip()) for line in text.split("\n")[1:])


def runaways_in_batch(batch: pa.RecordBatch, delimiter: str, width: int) -> dict[int, int]:
    """{batch row index: rows it took} for the rows holding a runaway value (one that
    happens to end in a row with the right number of fields)."""
    out: dict[int, int] = {}
    multiline = np.zeros(batch.num_rows, dtype=bool)
    for column in batch.columns:
        multiline |= np.asarray(pc.fill_null(pc.match_substring(column, "\n"), False))
    for index in np.flatnonzero(multiline):
        fields = [v for v in batch.slice(index, 1).to_pylist()[0].values() if v]
        text = delimiter.join(fields)
        if row_like_lines(text, delimiter, width):
            out[int(index)] = rows_in(text)
    return out


def reject_unreadable(text, header: bool, report: ValidationReport, block_mb: int):
    """Reject a file the parser gave up on, naming where a quote was left open."""
    line_number = row = opened_line = opened_row = 0
    longest = (0, 0, 0)
    open_quote = False
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
           f"than {block_mb} MB.")
