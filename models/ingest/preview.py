"""A quick look at an upload before it is ingested: layout, proposed mapping, first rows.

:func:`preview` reads only the head of the file (:data:`PREVIEW_BYTES`), so the
upload page can show what was detected and let the user correct the column mapping
while a large file is still being stored. It never raises for a bad file: what would
reject the file on ingest (an empty file, a missing required column) comes back as
messages in ``problems``; only wrong arguments raise ``ValueError``.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pyarrow as pa

from models.ingest.columns import (
    attribute_names,
    describe_mapping,
    find_customer_id,
    find_transaction_columns,
)
from models.ingest.report import IngestError, ValidationReport
from models.ingest.rows import RawTable, decode_head
from models.ingest.sniff import WHITESPACE, sniff_layout
from models.ingest.source import read_head, unpack_head
from models.ingest.synonyms import TARGET_SYNONYMS, normalise
from models.ingest.values import parse_numbers

PREVIEW_BYTES = 1024 * 1024
KINDS = ("transactions", "customers")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe",
                   WHITESPACE: "whitespace"}
# Rows of the head used to match a headerless file's columns by content.
_CONTENT_ROWS = 5_000
# A proposed target must be a number in this share of its non-empty sampled values.
_NUMERIC_SHARE = 0.95


def preview(source, kind: str = "transactions", mapping: dict | None = None,
            rows: int = 20) -> dict:
    """What ingest would detect in ``source`` (path, bytes or binary file object),
    judged from its first :data:`PREVIEW_BYTES`. JSON-safe; keys:

    ``kind``, ``encoding``, ``delimiter`` (``comma``, ``semicolon``, ``tab``, ``pipe``,
    ``whitespace``; None when nothing could be read), ``header`` (bool), ``columns``
    (header names, or ``"0"``, ``"1"``, ... for a headerless file), ``mapping``
    ({product field: column}; for a customer table ``customer_id`` and every attribute
    under the name it will get), ``target`` (customer tables: a spend-like numeric
    column, or None), ``rows`` (the first ``rows`` data rows, lists of strings),
    ``truncated`` (the file is longer than what was read), ``problems`` and
    ``warnings`` (sentences).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if rows < 0:
        raise ValueError("rows must not be negative")
    report = ValidationReport(kind=kind)
    out = {"kind": kind, "encoding": None, "delimiter": None, "header": None, "columns": [],
           "mapping": {}, "rows": [], "truncated": False, "problems": [], "warnings": []}
    if kind == "customers":
        out["target"] = None
    try:
        head, truncated = read_head(source, PREVIEW_BYTES)
        head, out["truncated"] = unpack_head(head, truncated, PREVIEW_BYTES, report)
        text, out["encoding"] = decode_head(head, out["truncated"], report)
        _preview_text(text, kind, mapping, rows, report, out)
    except IngestError as error:
        out["problems"].append(_sentence(error.report.problems[-1].message))
    out["warnings"] = list(report.warnings)
    return out


def _preview_text(text: str, kind: str, mapping, rows: int, report: ValidationReport,
                  out: dict) -> None:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        out["problems"].append("The file is empty.")
        return
    layout = sniff_layout(lines)
    out.update(delimiter=DELIMITER_NAMES[layout.delimiter], header=layout.header,
               columns=list(layout.names))
    report.header, report.delimiter = layout.header, layout.delimiter
    body = _data_rows(text, layout.delimiter)[int(layout.header):]
    out["rows"] = body[:rows]
    if not body:
        out["problems"].append("The file has a header row but no data rows.")
    raw = _raw_table(body[:_CONTENT_ROWS], layout.names, layout.delimiter)
    if kind == "transactions":
        columns, missing = find_transaction_columns(raw, mapping, report)
        out["problems"].extend(_sentence(reason) for _, reason in missing)
        if not missing:
            describe_mapping(raw, columns, report)
            out["mapping"] = dict(report.mapping)
        else:
            out["mapping"] = {field: raw.names[p] for field, p in columns.items()}
        return
    given = dict(mapping or {})
    target = given.pop("target", None)
    id_position, reason = find_customer_id(raw.names, given, report)
    if id_position is None:
        out["problems"].append(_sentence(reason))
        return
    out["mapping"] = {"customer_id": raw.names[id_position]}
    attributes = attribute_names(raw.names, id_position)
    out["mapping"].update((name, raw.names[p]) for p, name in attributes)
    if target is not None:
        if str(target) not in out["mapping"].values():
            out["problems"].append(f"The target column '{target}' is not in the file.")
        out["target"] = str(target)
    else:
        out["target"] = _spend_like_column(raw, attributes)


def _data_rows(text: str, delimiter: str) -> list[list[str]]:
    """Every complete row of ``text`` split into fields; blank lines skipped."""
    if delimiter == WHITESPACE:
        return [line.split() for line in text.splitlines() if line.strip()]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return [row for row in reader if any(field.strip() for field in row)]


def _raw_table(rows: list[list[str]], names: list[str], delimiter: str) -> RawTable:
    width = len(names)
    columns = [pa.array([r[j] if j < len(r) else None for r in rows], pa.string())
               for j in range(width)]
    table = pa.table(columns, names=[str(j) for j in range(width)])
    numbers = np.arange(1, len(rows) + 1)
    return RawTable(table, list(names), numbers, np.zeros(0, dtype=np.int64), delimiter)


def _spend_like_column(raw: RawTable, attributes: list[tuple[int, str]]) -> str | None:
    """The first attribute named like spend (in :data:`TARGET_SYNONYMS` order) whose
    sampled values are numbers."""
    by_key = {normalise(name): (position, name) for position, name in attributes}
    for word in TARGET_SYNONYMS:
        if word not in by_key:
            continue
        position, name = by_key[word]
        numbers, missing = parse_numbers(raw.table.column(position), raw.delimiter)
        present = ~missing
        if present.any() and (~np.isnan(numbers[present])).mean() >= _NUMERIC_SHARE:
            return name
    return None


def _sentence(reason: str) -> str:
    return reason[:1].upper() + reason[1:]
