"""Where the bytes of an upload come from: a path, bytes or a binary file object,
possibly gzip-compressed, and what to say when they are no CSV at all.

Gzip is recognised by its magic bytes, whatever the file is called, and unpacked to a
temporary file with a bound on the unpacked size (:data:`MAX_UNPACKED_BYTES` by
default), so a small upload cannot fill the memory or the disk (a "gzip bomb").
Other archives, spreadsheets and binary data are refused with a plain sentence.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import zlib

from models.ingest.report import ValidationReport, reject

MAX_UNPACKED_BYTES = 4 * 1024**3
GZIP_MAGIC = b"\x1f\x8b"
_COPY_BLOCK = 4 * 1024 * 1024
# Magic bytes of files people upload by mistake, and what they are.
_NOT_CSV = (
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook (.xlsx)"),
    (b"\xd0\xcf\x11\xe0", "an old-style Excel workbook (.xls)"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"\x28\xb5\x2f\xfd", "a Zstandard archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"%PDF", "a PDF document"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3", "an SQLite database"),
)
_EXPORT_HINT = "Export the data as a CSV text file (plain or .csv.gz) and upload that."


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


def unpack_head(head: bytes, truncated: bool, limit: int, report: ValidationReport
                ) -> tuple[bytes, bool]:
    """The first ``limit`` unpacked bytes of a head that may be gzip-compressed."""
    refuse_known_binary(head, report)
    if not head.startswith(GZIP_MAGIC):
        return head, truncated
    unpacker = zlib.decompressobj(wbits=47)
    try:
        data = unpacker.decompress(head, limit + 1)
    except zlib.error:
        reject(report, "not_text", None, "the file looks gzip-compressed but cannot be unpacked "
               "(it is damaged or incomplete).")
    return data[:limit], truncated or len(data) > limit or bool(unpacker.unconsumed_tail)


@contextlib.contextmanager
def open_plain(source, report: ValidationReport, max_unpacked_bytes: int = MAX_UNPACKED_BYTES):
    """A seekable binary file with the uncompressed bytes of ``source``."""
    with contextlib.ExitStack() as stack:
        handle = _open(source, stack)
        head = handle.read(64)
        handle.seek(0)
        refuse_known_binary(head, report)
        if head.startswith(GZIP_MAGIC):
            handle = _gunzip(handle, stack.enter_context(tempfile.TemporaryFile()),
                             max_unpacked_bytes, report)
        yield handle


def refuse_known_binary(head: bytes, report: ValidationReport) -> None:
    for magic, what in _NOT_CSV:
        if head.startswith(magic):
            reject(report, "not_text", None, f"the file is {what}, not a CSV text file. "
                   + _EXPORT_HINT)


def _open(source, stack: contextlib.ExitStack):
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(source)
    if isinstance(source, (str, os.PathLike)):
        return stack.enter_context(open(source, "rb"))
    if hasattr(source, "read"):
        if _seekable(source) and not isinstance(source, io.TextIOBase):
            source.seek(0)
            return source
        spool = stack.enter_context(tempfile.TemporaryFile())
        if isinstance(source, io.TextIOBase):
            for block in iter(lambda: source.read(_COPY_BLOCK), ""):
                spool.write(block.encode("utf-8"))
        else:
            shutil.copyfileobj(source, spool, _COPY_BLOCK)
        spool.seek(0)
        return spool
    raise TypeError(f"cannot read {type(source).__name__}: expected a path, bytes or a file")


def _gunzip(packed, target, limit: int, report: ValidationReport):
    """Unpack every gzip member of ``packed`` into ``target``, at most ``limit`` bytes."""
    unpacker = zlib.decompressobj(wbits=31)
    written, member_open = 0, False
    try:
        while True:
            block = unpacker.unconsumed_tail or packed.read(_COPY_BLOCK)
            if not block:
                break
            member_open = True
            data = unpacker.decompress(block, _COPY_BLOCK)
            written += len(data)
            if written > limit:
                reject(report, "too_large", None,
                       f"the compressed file unpacks to more than {limit / 1024**2:,.0f} MB, "
                       "the most an upload may hold. Split it into smaller files.")
            target.write(data)
            if unpacker.eof:
                # Concatenated gzip members (what `cat a.gz b.gz` makes) are one file.
                rest, member_open = unpacker.unused_data, False
                unpacker = zlib.decompressobj(wbits=31)
                if rest:
                    packed = _Prefixed(rest, packed)
    except zlib.error:
        reject(report, "not_text", None, "the file looks gzip-compressed but cannot be unpacked "
               "(it is damaged).")
    if member_open:
        reject(report, "not_text", None, "the gzip-compressed file is incomplete (it ends "
               "before its compressed data does); upload it again.")
    target.seek(0)
    return target


class _Prefixed:
    """A file whose first bytes are ``prefix``, then the rest of ``handle``."""

    def __init__(self, prefix: bytes, handle):
        self.prefix, self.handle = prefix, handle

    def read(self, size: int) -> bytes:
        if self.prefix:
            out, self.prefix = self.prefix[:size], self.prefix[size:]
            return out
        return self.handle.read(size)


def _seekable(handle) -> bool:
    try:
        return bool(handle.seekable())
    except (AttributeError, OSError, ValueError):
        return False
