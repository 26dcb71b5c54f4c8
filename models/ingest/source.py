"""Where the bytes of an upload come from: a path, bytes or a binary file object."""

from __future__ import annotations

import os


def read_head(source, limit: int) -> tuple[bytes, bool]:
    """The first ``limit`` bytes of ``source`` and whether there is more. A file
    object is put back where it was when it can seek, so the upload can still be
    stored or ingested after its preview."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source[: limit + 1])
    elif isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            data = handle.read(limit + 1)
    elif hasattr(source, "read"):
        position = source.tell() if _seekable(source) else None
        data = source.read(limit + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
        if position is not None:
            source.seek(position)
    else:
        raise TypeError(f"cannot read {type(source).__name__}: expected a path, bytes or a file")
    return bytes(data[:limit]), len(data) > limit


def _seekable(handle) -> bool:
    try:
        return bool(handle.seekable())
    except (AttributeError, OSError, ValueError):
        return False
