"""Exact duplicate rows of a file read in batches.

Every row gets a 64-bit hash of all its fields as it streams past; only rows whose
hash repeats are candidates, and only they are read again and compared field by
field, so a hash collision can never drop a row.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_BASE = np.uint64(0x100000001B3)
_SLICE_BYTES = 4 * 1024 * 1024


def row_hashes(batch: pa.RecordBatch) -> np.ndarray:
    """A uint64 per row: equal rows (field by field) have equal hashes."""
    out = np.zeros(batch.num_rows, dtype=np.uint64)
    for position, column in enumerate(batch.columns):
        mix = _splitmix(np.array([position + 1], dtype=np.uint64))
        out += _splitmix(_text_hashes(column) ^ mix) * (mix | np.uint64(1))
    return _splitmix(out)


def candidates(hashes: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Positions of the rows (among ``keep``) whose hash repeats: the only rows that
    can be exact duplicates."""
    ordered = hashes[keep]
    ordered.sort()
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    del ordered
    if not len(repeated):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(keep & pd.Series(hashes, copy=False).isin(repeated).to_numpy())


def exact_duplicates(candidates: np.ndarray, rows: int,
                     batches: Iterable[pa.RecordBatch]) -> np.ndarray:
    """Of ``rows`` rows, those among ``candidates`` (increasing positions) equal in
    every field to an earlier candidate; ``batches`` is a new pass over the file, read
    only when there are candidates."""
    out = np.zeros(rows, dtype=bool)
    if not len(candidates):
        return out
    parts, start = [], 0
    for batch in batches:
        inside = candidates[(candidates >= start) & (candidates < start + batch.num_rows)]
        if len(inside):
            parts.append(batch.take(pa.array(inside - start)))
        start += batch.num_rows
    read = pa.Table.from_batches(parts).to_pandas()
    out[candidates[read.duplicated(keep="first").to_numpy()]] = True
    return out


def _text_hashes(column: pa.Array) -> np.ndarray:
    """A polynomial hash of every string's bytes, mixed with its length."""
    column = pc.fill_null(column, "")
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)[
        column.offset: column.offset + len(column) + 1].astype(np.int64)
    data = column.buffers()[2]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    out = lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    # Slices of a few MB keep the 8-bytes-per-byte temporaries small.
    cuts = np.unique(np.searchsorted(offsets, np.arange(offsets[0], offsets[-1], _SLICE_BYTES)))
    bounds = [*cuts[cuts < len(lengths)].tolist(), len(lengths)]
    powers = _powers(int(lengths.max(initial=0)))
    for first, last in zip(bounds[:-1], bounds[1:], strict=True):
        sizes = lengths[first:last]
        filled = np.flatnonzero(sizes)
        if not len(filled):
            continue
        chunk = data[offsets[first]:offsets[last]].astype(np.uint64)
        starts = offsets[first:last] - offsets[first]
        position = np.arange(len(chunk)) - np.repeat(starts, sizes)
        chunk *= powers[position]
        out[first + filled] += np.add.reduceat(chunk, starts[filled])
    return out


def _powers(length: int) -> np.ndarray:
    powers = np.full(max(length, 1), _BASE, dtype=np.uint64)
    powers[0] = 1
    return np.multiply.accumulate(powers)


def _splitmix(values: np.ndarray) -> np.ndarray:
    values = values + np.uint64(0x9E3779B97F4A7C15)
    values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))
