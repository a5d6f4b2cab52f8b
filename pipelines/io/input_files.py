"""Opening input files so that a damaged one is noticed where its bytes are decoded, never silently cut short.

Beam's own decompressing reader ends quietly where a truncated gzip or zstd stream ends, so a cut file looked
like a shorter one. Here compressed inputs are opened with ``FileSystems.open(..., UNCOMPRESSED)`` (so gs://,
s3:// and hdfs:// still work) and decompressed with the stdlib's zlib/bz2/lzma and zstandard's decompressor
objects, which know where a stream's end-of-stream marker is: a stream that stops before it, or bytes that do
not decode, raise :class:`FileFault` with what broke and how many compressed bytes were not read. The same
exception reports a corrupt Parquet file and a file whose lines end in CR only; the reader turns it into one
quarantine row for the file (:func:`~haetae.pipelines.io.records.file_fault_row`).

Parquet values of every Arrow type are made JSON values here (:func:`json_value`).
"""

from __future__ import annotations

import base64
import bz2
import datetime as dt
import decimal
import io
import lzma
import math
import zlib
from typing import Any, BinaryIO

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

CHUNK_BYTES = 64 << 10  # compressed bytes fed to a decompressor at a time: the precision of "bytes not read"
CR_PROBE_BYTES = 64 << 10  # a file with CR and no LF in its first 64 KiB has CR-only line endings
CODECS = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bzip2", ".zst": "zstd", ".zstd": "zstd", ".deflate": "deflate",
          ".xz": "lzma", ".lzma": "lzma"}


class FileFault(Exception):
    """An input file that cannot be read to its end (or at all): ``reason`` is a file-level quarantine reason,
    ``offset`` where reading stopped (decompressed byte offset, or Parquet row index), ``unread_bytes`` the
    file's bytes (compressed, as stored) that were not read."""

    def __init__(self, reason: str, detail: str, *, offset: int, unread_bytes: int):
        super().__init__(detail)
        self.reason, self.detail, self.offset, self.unread_bytes = reason, detail, offset, unread_bytes


def codec_of(path: str) -> str | None:
    """The compression of ``path`` by its suffix, or None for an uncompressed file."""
    lower = path.lower()
    return next((codec for suffix, codec in CODECS.items() if lower.endswith(suffix)), None)


def _decompressor(codec: str):
    if codec == "gzip":
        return zlib.decompressobj(zlib.MAX_WBITS | 16)
    if codec == "deflate":
        return zlib.decompressobj()
    if codec == "bzip2":
        return bz2.BZ2Decompressor()
    if codec == "lzma":
        return lzma.LZMADecompressor()
    import zstandard

    return zstandard.ZstdDecompressor(max_window_size=1 << 31).decompressobj()


def _decode_errors() -> tuple[type[BaseException], ...]:
    import zstandard

    return zlib.error, OSError, EOFError, ValueError, lzma.LZMAError, zstandard.ZstdError


class DecompressedStream(io.RawIOBase):
    """The decompressed bytes of a compressed file; concatenated streams (gzip members, bzip2 streams, zstd
    frames) are read one after another, as gzip, bzip2 and zstd do. Raises :class:`FileFault`
    (``corrupt_file``) when the bytes do not decode or the file ends inside a stream."""

    def __init__(self, raw: BinaryIO, codec: str, path: str, size: int, reason: str):
        super().__init__()
        self._raw, self.codec, self.path, self.size, self.reason = raw, codec, path, size, reason
        self._errors = _decode_errors()
        self._dec = _decompressor(codec)
        self._in_stream = False  # the current decompressor has input and has not reached its end marker
        self._pending, self._at = b"", 0
        self._done = False
        self._error: FileFault | None = None  # raised once the bytes decoded before it have been read
        self.consumed = 0  # compressed bytes decoded without error
        self.produced = 0  # decompressed bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._at >= len(self._pending) and not self._done:
            self._step()
        n = min(len(buffer), len(self._pending) - self._at)
        buffer[:n] = self._pending[self._at:self._at + n]
        self._at += n
        return n

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()

    def _step(self) -> None:
        if self._error is not None:
            self._done = True
            raise self._error
        chunk = self._raw.read(CHUNK_BYTES)
        if not chunk:
            self._done = True
            if self._in_stream:
                raise self._fault(f"truncated {self.codec} stream after {self.produced} decompressed bytes "
                                  "(the file ends before the end-of-stream marker)", self.produced)
            return
        self._feed(chunk)

    def _feed(self, data: bytes) -> None:
        self._pending, self._at = b"", 0
        out = []
        while data:
            try:
                out.append(self._dec.decompress(data))
            except self._errors as exc:
                produced = self.produced + sum(map(len, out))
                self._error = self._fault(f"corrupt {self.codec} data after {produced} decompressed bytes: {exc}",
                                          produced)
                break
            if not self._dec.eof:
                self.consumed += len(data)
                self._in_stream = True
                break
            rest = self._dec.unused_data
            if self.codec == "gzip":
                rest = rest.lstrip(b"\x00")  # gzip files may be padded with zeros after the last member
            self.consumed += len(data) - len(rest)
            self._in_stream = False
            if rest:
                self._dec = _decompressor(self.codec)
            data = rest
        self._pending = b"".join(out)
        self.produced += len(self._pending)

    def _fault(self, what: str, produced: int) -> FileFault:
        unread = max(0, self.size - self.consumed)
        return FileFault(self.reason, f"{what}; {unread} compressed bytes not read", offset=produced,
                         unread_bytes=unread)


def open_input(path: str, size: int, corrupt_reason: str) -> BinaryIO:
    """The file's (decompressed) bytes as a binary stream with ``readline``; compressed files are checked to
    their end-of-stream marker (see :class:`DecompressedStream`)."""
    raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    codec = codec_of(path)
    if codec is None:
        return raw
    return io.BufferedReader(DecompressedStream(raw, codec, path, size, corrupt_reason), buffer_size=CHUNK_BYTES)


def has_cr_only_line_ends(head: bytes) -> bool:
    """True for the first bytes of a file whose lines end in CR only (a raw CR cannot occur inside JSON)."""
    return b"\r" in head and b"\n" not in head


def json_value(value: Any) -> Any:
    """A Parquet (Arrow) value as a JSON value: dates, times and timestamps as ISO 8601, durations as ISO 8601
    durations (``PT1.5S``), decimals as their exact decimal string, binary as base64, non-finite floats as
    ``"NaN"``/``"Infinity"``/``"-Infinity"``, maps as lists of [key, value] pairs; nested values alike."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _iso_duration(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return str(value)


def _iso_duration(value: dt.timedelta) -> str:
    nanos = getattr(value, "nanoseconds", 0)  # pandas.Timedelta (Arrow duration[ns]) keeps nanoseconds
    total = decimal.Decimal(value // dt.timedelta(microseconds=1)) / 1_000_000 + decimal.Decimal(nanos) / 10**9
    sign = "-" if total < 0 else ""
    text = format(abs(total).normalize(), "f")
    return f"{sign}PT{text}S"
