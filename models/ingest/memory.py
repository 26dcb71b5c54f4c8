"""Giving freed memory back to the operating system between the phases of a read.

A read in batches frees many small buffers: the text of every batch (in pyarrow's
memory pool) and the per-batch typed columns (in the C heap) once they are joined
into one column. Both allocators keep such memory for reuse, and the C heap can only
shrink from its top, so without this the process keeps the high-water mark of every
phase on top of the next one.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import pyarrow as pa


def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def give_back() -> None:
    """Return the free pages of pyarrow's pool and of the C heap."""
    pa.default_memory_pool().release_unused()
    if _TRIM is not None:
        _TRIM(0)
