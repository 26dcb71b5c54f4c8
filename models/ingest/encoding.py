"""The text encoding of an upload, and a stream that hands its text on as UTF-8.

UTF-16 needs its byte-order mark; UTF-8 may have one. Otherwise the whole file is
scanned: valid UTF-8 stays UTF-8. A file with invalid UTF-8 is read as Windows-1252
only when it has no more valid multi-byte UTF-8 characters than invalid bytes: an
export that is UTF-8 but for a damaged byte or two keeps its accented text, and only
the rows holding a damaged byte are lost (they are reported, see ``readers``), instead
of every "é" turning into "Ã©". Binary data and UTF-16 without a byte-order mark are
refused with a plain sentence.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass

import numpy as np

from models.ingest.report import ValidationReport, reject

REPLACEMENT = "\ufffd"
_SCAN_BLOCK = 8 * 1024 * 1024
_HEAD = 64 * 1024
# cp1252 leaves five bytes undefined; read those as Latin-1 (the C1 control characters).
_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"
_CP1252_TABLE = "".join(
    bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256)
)
# Bytes below 0x20 that text files hold: tab, line feed, form feed, carriage return.
_TEXT_CONTROLS = np.array([0x09, 0x0A, 0x0C, 0x0D], dtype=np.uint8)
# A head with more than this share of other control bytes is binary data.
_BINARY_SHARE = 0.01


@dataclass
class TextEncoding:
    name: str  # "utf-8", "utf-8-sig", "utf-16" or "cp1252"
    damaged: int = 0  # invalid UTF-8 sequences read as U+FFFD (name "utf-8" only)


def detect_encoding(handle, report: ValidationReport) -> TextEncoding:
    """Scan ``handle`` (seekable, binary) and name its encoding; adds a warning when
    the file was not clean UTF-8 and rejects binary data."""
    handle.seek(0)
    head = handle.read(_HEAD)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return TextEncoding("utf-16")
    refuse_binary(head, report)
    bom = head.startswith(codecs.BOM_UTF8)
    handle.seek(len(codecs.BOM_UTF8) if bom else 0)
    valid, invalid, undefined = _scan_utf8(handle)
    handle.seek(0)
    if not invalid:
        return TextEncoding("utf-8-sig" if bom else "utf-8")
    if bom or valid > invalid:
        report.warnings.append(
            f"The file is UTF-8 but {invalid:,} byte sequences in it are not; rows holding "
            "them were left out (see the problems).")
        return TextEncoding("utf-8", damaged=invalid)
    message = "The file is not valid UTF-8; it was read as Windows-1252 (cp1252)."
    if undefined:
        message += f" {undefined:,} bytes that Windows-1252 does not define were read as Latin-1."
    report.warnings.append(message)
    return TextEncoding("cp1252")


def refuse_binary(head: bytes, report: ValidationReport) -> None:
    """Reject UTF-16 without a byte-order mark and other binary data."""
    if not head:
        return
    array = np.frombuffer(head[: len(head) // 2 * 2] or head, dtype=np.uint8)
    if len(array) >= 2 and (array == 0).mean() > 0.25:
        even, odd = (array[0::2] == 0).mean(), (array[1::2] == 0).mean()
        if max(even, odd) > 0.7 and min(even, odd) < 0.1:
            reject(report, "not_text", None,
                   "the file looks like UTF-16 text without a byte-order mark, which cannot be "
                   "read reliably. Save it as UTF-8 (\"CSV UTF-8\" in Excel) and upload again.")
    controls = (array < 0x20) & ~np.isin(array, _TEXT_CONTROLS)
    if controls.sum() > 4 and controls.mean() > _BINARY_SHARE:
        reject(report, "not_text", None,
               "the file holds binary data, not CSV text. Export the data as a CSV text file "
               "(plain or .csv.gz) and upload that.")


def _scan_utf8(handle) -> tuple[int, int, int]:
    """Valid multi-byte characters, invalid sequences and bytes cp1252 leaves undefined."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    valid = invalid = undefined = 0
    while True:
        block = handle.read(_SCAN_BLOCK)
        if block.isascii() and not decoder.getstate()[0]:
            if not block:
                break
            continue
        text = decoder.decode(block, final=not block)
        replaced = text.count(REPLACEMENT) - block.count(REPLACEMENT.encode())
        invalid += max(replaced, 0)
        valid += len(text) - len(text.encode("ascii", "ignore")) - max(replaced, 0)
        undefined += sum(block.count(bytes([b])) for b in _CP1252_UNDEFINED)
        if not block:
            break
    return valid, invalid, undefined


class Utf8Stream(io.RawIOBase):
    """The text of a binary file as UTF-8 bytes, for pyarrow's CSV reader: without a
    byte-order mark or leading blank lines, with runs of spaces and tabs turned into
    one tab when ``whitespace`` is set (see ``sniff``)."""

    def __init__(self, handle, encoding: TextEncoding, whitespace=None):
        handle.seek(0)
        self._handle = handle
        self._decoder = None
        if encoding.name == "utf-16":
            self._decoder = codecs.getincrementaldecoder("utf-16")()
        elif encoding.name == "cp1252":
            self._decoder = _Cp1252Decoder()
        elif encoding.damaged:
            self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._whitespace = whitespace
        self._buffer = b""
        self._pending = b""  # an incomplete last line, kept for the whitespace rewrite
        self._start = True
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buffer and not self._done:
            self._fill()
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size

    def _fill(self) -> None:
        block = self._handle.read(_SCAN_BLOCK)
        final = not block
        if self._decoder is not None:
            block = self._decoder.decode(block, final=final).encode("utf-8", "surrogatepass")
        if self._start:
            if block.startswith(codecs.BOM_UTF8):
                block = block[len(codecs.BOM_UTF8):]
            block = block.lstrip(b"\r\n")
            self._start = not block and not final
        if self._whitespace is not None:
            block = self._pending + block
            cut = len(block) if final else block.rfind(b"\n") + 1
            block, self._pending = self._whitespace(block[:cut]) if cut else b"", block[cut:]
        self._buffer, self._done = block, final


class _Cp1252Decoder:
    def decode(self, data: bytes, final: bool = False) -> str:
        return codecs.charmap_decode(data, "strict", _CP1252_TABLE)[0]
