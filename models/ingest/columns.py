"""Matching the columns of a file to the canonical names.

Header names are compared after lower-casing and removing everything but letters
and digits, so ``CustomerID``, ``customer_id`` and ``Customer ID`` are one name.
For each canonical name the synonyms are tried in order; the first header that
matches wins, and a column is used at most once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from models.ingest.report import ValidationReport, reject
from models.ingest.rows import RawTable
from models.ingest.synonyms import CUSTOMER_ID_SYNONYMS, TRANSACTION_SYNONYMS, normalise
from models.ingest.values import parse_dates, parse_numbers, sample

_MIN_DATE, _MAX_DATE = np.datetime64("1900-01-01", "ns"), np.datetime64("2100-01-01", "ns")
_DECIMALS = re.compile(r"\d[.,]\d")
_CONTENT_SHARE = 0.9


def quoted(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def map_transaction_columns(raw: RawTable, mapping, report: ValidationReport) -> dict[str, int]:
    """Positions of the canonical transaction columns, from ``mapping``, the header
    or, for a headerless file, the content; rejects a file missing a required one."""
    columns, missing = find_transaction_columns(raw, mapping, report)
    for target, reason in missing:
        reject(report, "missing_column", target, reason)
    describe_mapping(raw, columns, report)
    return columns


def find_transaction_columns(raw: RawTable, mapping, report: ValidationReport
                             ) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """The canonical columns found, and (field, reason) for each required one missing.
    Only a mapping naming an unknown field or column is rejected here."""
    columns = resolve_override(mapping, raw.names, bool(report.header),
                               tuple(TRANSACTION_SYNONYMS), report)
    overridden = set(columns)
    if report.header:
        map_by_header(raw.names, TRANSACTION_SYNONYMS, columns)
    else:
        map_by_content(raw.table, columns, raw.delimiter)
    if {"quantity", "unit_price"} <= overridden and "amount" not in overridden:
        columns.pop("amount", None)
    if "amount" in columns:
        columns.pop("quantity", None)
        columns.pop("unit_price", None)
    elif "unit_price" in columns and "quantity" not in columns:
        # A lone price column is the line amount (e.g. user_id, order_date, price).
        columns["amount"] = columns.pop("unit_price")
    has_amount = "amount" in columns or {"quantity", "unit_price"} <= columns.keys()
    missing = []
    for target, present in (("customer_id", "customer_id" in columns),
                            ("date", "date" in columns), ("amount", has_amount)):
        if not present:
            hint = (f"Name it like one of {', '.join(TRANSACTION_SYNONYMS[target][:6])}"
                    + (" (or give Quantity and UnitPrice)" if target == "amount" else "")
                    + " or pass a column mapping.")
            found = (f"among {quoted(raw.names)}" if report.header
                     else "by content in this headerless file")
            missing.append((target, f"required column '{target}' was not found {found}. {hint}"))
    return columns, missing


def describe_mapping(raw: RawTable, columns: dict[str, int], report: ValidationReport) -> None:
    """Fill ``report.mapping`` and say how a headerless or amount-less file was read."""
    order = [*TRANSACTION_SYNONYMS]
    report.mapping = {t: raw.names[columns[t]] for t in sorted(columns, key=order.index)}
    if not report.header:
        used = ", ".join(f"{t} = column {p}" for t, p in report.mapping.items())
        report.warnings.append(f"The file has no header row; columns were matched by "
                               f"content: {used}.")
    if "amount" not in columns:
        report.warnings.append(
            f"No amount column: amount = {report.mapping['quantity']} × "
            f"{report.mapping['unit_price']}.")


def find_customer_id(names: list[str], mapping, report: ValidationReport
                     ) -> tuple[int | None, str | None]:
    """The customer id column of a customer table: given by ``mapping``, found by
    name, or the first column of a headerless file; else None and the reason."""
    columns = resolve_override(mapping, names, bool(report.header), ("customer_id",), report)
    if report.header:
        map_by_header(names, {"customer_id": CUSTOMER_ID_SYNONYMS}, columns)
    else:
        columns.setdefault("customer_id", 0)
    if "customer_id" in columns:
        return columns["customer_id"], None
    return None, (f"no customer id column was found among {quoted(names)}. Name it like "
                  f"one of {', '.join(CUSTOMER_ID_SYNONYMS[:6])} or pass a column mapping.")


def attribute_names(names: list[str], id_position: int) -> list[tuple[int, str]]:
    """(position, name) of every customer-table column but the id; blank and repeated
    header names get the position added so every attribute has its own name."""
    seen = {"customer_id"}
    out = []
    for position, name in enumerate(names):
        if position == id_position:
            continue
        name = name or f"column_{position}"
        if name in seen:
            name = f"{name}_{position}"
        seen.add(name)
        out.append((position, name))
    return out


def resolve_override(mapping: Mapping[str, object] | None, names: list[str], header: bool,
                     allowed: tuple[str, ...], report: ValidationReport) -> dict[str, int]:
    """Positions of the columns an explicit mapping names; rejects unknown ones.

    A source is a header name (exact, then case/spacing-insensitive) or a 0-based
    position given as an int or a digit string.
    """
    positions: dict[str, int] = {}
    for target, source in (mapping or {}).items():
        if target not in allowed:
            reject(report, "missing_column", None,
                   f"the column mapping names an unknown field '{target}'; "
                   f"known fields are {', '.join(allowed)}.")
        position = _find(source, names, header)
        if position is None:
            shown = quoted(names) if header else f"{len(names)} columns"
            reject(report, "missing_column", str(source),
                   f"the column mapping uses column '{source}' for {target}, but the file "
                   f"has no such column (the file has {shown}).")
        positions[target] = position
    return positions


def _find(source: object, names: list[str], header: bool) -> int | None:
    if isinstance(source, bool):
        return None
    if isinstance(source, (int, np.integer)):
        return int(source) if 0 <= source < len(names) else None
    text = str(source)
    if header:
        if text in names:
            return names.index(text)
        keys = [normalise(n) for n in names]
        if normalise(text) and normalise(text) in keys:
            return keys.index(normalise(text))
    if text.strip().isdigit() and int(text) < len(names):
        return int(text)
    return None


def map_by_header(names: list[str], synonyms: Mapping[str, tuple[str, ...]],
                  taken: dict[str, int]) -> dict[str, int]:
    """Add every canonical name whose synonym matches a free header to ``taken``."""
    keys = [normalise(n) for n in names]
    used = set(taken.values())
    for target, words in synonyms.items():
        if target in taken:
            continue
        for word in words:
            position = next((i for i, k in enumerate(keys) if k == word and i not in used), None)
            if position is not None:
                taken[target] = position
                used.add(position)
                break
    return taken


def map_by_content(table: pa.Table, taken: dict[str, int], delimiter: str) -> dict[str, int]:
    """Map a headerless transaction file: a date column, the first column as the
    customer id, and the last numeric column with decimals as the amount."""
    used = set(taken.values())
    free = [i for i in range(table.num_columns) if i not in used]
    heads = {i: table.column(i).slice(0, 5_000) for i in free}
    if "date" not in taken:
        for i in free:
            if i != free[0] and _is_date_column(heads[i]):
                taken["date"] = i
                break
        else:
            if free and _is_date_column(heads[free[0]]):
                taken["date"] = free[0]
    used = set(taken.values())
    if "customer_id" not in taken:
        first = next((i for i in free if i not in used), None)
        if first is not None:
            taken["customer_id"] = first
            used.add(first)
    if "amount" not in taken and not {"quantity", "unit_price"} <= taken.keys():
        numeric = [i for i in free if i not in used and _is_numeric_column(heads[i], delimiter)]
        with_decimals = [i for i in numeric if any(_DECIMALS.search(t) for t in sample(heads[i]))]
        chosen = (with_decimals or numeric)[-1:]
        if chosen:
            taken["amount"] = chosen[0]
    return taken


def _is_date_column(values: pa.ChunkedArray) -> bool:
    parsed = parse_dates(values)
    present = ~parsed.missing
    if not present.any():
        return False
    ok = (parsed.values >= _MIN_DATE) & (parsed.values < _MAX_DATE)
    return bool(ok[present].mean() >= _CONTENT_SHARE)


def _is_numeric_column(values: pa.ChunkedArray, delimiter: str) -> bool:
    numbers, missing = parse_numbers(values, delimiter)
    present = ~missing
    return bool(present.any() and (~np.isnan(numbers[present])).mean() >= _CONTENT_SHARE)
