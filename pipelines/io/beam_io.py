"""Reading audit inputs and writing shards through Beam's filesystems (local, gs://, s3://, hdfs://).

Inputs are JSONL (plain, ``.gz``, ``.zst``, ``.bz2``) or Parquet, named by path or glob. Uncompressed JSONL
larger than the job's range size (:func:`auto_split_bytes`: 1/64 of the input, 1-64 MiB; 64 MiB when the job
has 64 files or more) is split into byte ranges so one large file spreads over workers (the line numbers of
its records are set after the read, from each range's line count: :class:`NumberLines`);
compressed files and Parquet files are read whole by one worker. Every line or row becomes either a record or a
quarantine row with a reason: nothing is dropped silently. Blank lines are not records; they are counted
(``blank_lines``) and skipped. Lines end at ``\n`` only (U+2028, U+2029 and U+0085 are text); a file's leading
UTF-8 BOM is dropped and counted (``read.bom``).

A file that cannot be read to its end (truncated or corrupt compressed stream, unreadable Parquet, lines ending
in CR only; see :mod:`~haetae.pipelines.io.input_files`) keeps what was read before the fault and gives one
file-level quarantine row (``corrupt_file`` or ``cr_line_endings``) with what broke and the bytes not read,
also on the ``file_faults`` output. The job's driver then calls :func:`raise_for_file_faults`: with policy
``inputs.on_corrupt_file: fail`` (the default) the job stops with an ``InputError`` naming the file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from haetae.errors import UsageError
from haetae.pipelines.io import records as R
from haetae.pipelines.io.input_files import (
    CR_PROBE_BYTES,
    FileFault,
    codec_of,
    has_cr_only_line_ends,
    json_value,
    open_input,
)
from haetae.pipelines.steps import Step

if TYPE_CHECKING:
    from haetae.pipelines.policy.schema import Policy

log = logging.getLogger(__name__)

QUARANTINE_TAG = "quarantine"
COUNTS_TAG = "counts"
LINES_TAG = "lines"
FILE_FAULTS_TAG = "file_faults"
FILE_FAULTS_DIR = "_file_faults"  # where a job records the file-level quarantine rows for raise_for_file_faults
UTF8_BOM = b"\xef\xbb\xbf"
RANGE_LINE = "range_line"  # [range start, line number within the range] of a row read from a split file
MAX_SPLIT_BYTES = 64 << 20
MIN_SPLIT_BYTES = 1 << 20
RANGES_PER_JOB = 64  # uncompressed JSONL is cut into about this many ranges, within the bounds above
_PARQUET_SUFFIXES = (".parquet", ".pq")


class InputError(UsageError):
    """An input path that cannot be read: the job stops before it starts."""


@dataclass(frozen=True)
class FileRange:
    path: str
    start: int
    end: int  # exclusive; -1 = to the end of the file
    whole: bool  # True when the range is the whole file (line numbers are known)
    size: int = -1  # the file's size in bytes, as stored (compressed); -1 = unknown


def input_format(path: str) -> str:
    lower = path.lower()
    return "parquet" if lower.endswith(_PARQUET_SUFFIXES) else "jsonl"


def expand_inputs(patterns: Iterable[str]) -> list[tuple[str, int]]:
    """Resolve paths and globs to ``(path, size)``; a pattern that matches nothing or names a directory is an
    ``InputError``."""
    files: dict[str, int] = {}
    for pattern in patterns:
        if "://" not in pattern and os.path.isdir(pattern):
            folder = pattern.rstrip("/" + os.sep) or pattern
            raise InputError(f"input {pattern} is a directory; give files or a glob like {folder}/*.jsonl")
        try:
            results = FileSystems.match([pattern])
        except Exception as exc:  # Beam raises BeamIOError with per-pattern exceptions
            raise InputError(f"cannot read input {pattern!r}: {exc}") from exc
        metadata = results[0].metadata_list if results else []
        if not metadata:
            raise InputError(f"input {pattern!r} matches no file")
        for meta in metadata:
            files[meta.path] = meta.size_in_bytes
    return sorted(files.items())


def auto_split_bytes(sizes: list[int]) -> int:
    """Range size for a job reading files of ``sizes`` bytes: about ``RANGES_PER_JOB`` ranges in all, so the
    first (fused read-and-score) stage spreads over every worker, between 1 MiB and 64 MiB per range. A job
    with ``RANGES_PER_JOB`` files or more is spread by its files: only files over 64 MiB are split (records of
    a split file get their line numbers from :class:`NumberLines`)."""
    if len(sizes) >= RANGES_PER_JOB:
        return MAX_SPLIT_BYTES
    return max(MIN_SPLIT_BYTES, min(MAX_SPLIT_BYTES, -(-sum(sizes) // RANGES_PER_JOB)))


def split_ranges(path: str, size: int, split_bytes: int = MAX_SPLIT_BYTES) -> list[FileRange]:
    """Byte ranges of one input: uncompressed JSONL is split, everything else is read whole."""
    if input_format(path) == "parquet" or codec_of(path) is not None or size <= split_bytes:
        return [FileRange(path, 0, -1, True, size)]
    return [FileRange(path, s, min(s + split_bytes, size), False, size) for s in range(0, size, split_bytes)]


def _check_id(value: Any) -> str | None:
    """The quarantine reason of an unusable id, or None."""
    if value is None or value == "":
        return R.MISSING_ID
    if isinstance(value, bool) or not isinstance(value, str | int):
        return R.INVALID_ID
    return None


def parse_object(
    obj: Any, *, source: str, line: int | None, offset: int, raw: str, text_field: str, id_field: str,
    max_bytes: int | None, raw_bytes: bytes | None = None,
) -> dict[str, Any]:
    """Validate one decoded input object; returns a record dict or a quarantine row (has ``reason``).
    ``raw_bytes``: the input as read, when ``raw`` is not it (a quarantine row hashes the input)."""
    record_id = id_key = None

    def bad(reason: str, detail: str = "") -> dict[str, Any]:
        return R.quarantine_row(source, line, offset, reason, raw, detail, record_id, record_id_key=id_key,
                                raw_bytes=raw_bytes)

    if not isinstance(obj, dict):
        return bad(R.NOT_AN_OBJECT, f"expected a JSON object, got {type(obj).__name__}")
    problem = _check_id(obj.get(id_field))
    if problem:
        return bad(problem, f"field {id_field!r}")
    record_id, id_key = str(obj[id_field]), R.id_key(obj[id_field])
    if text_field not in obj:
        return bad(R.MISSING_TEXT, f"field {text_field!r} is absent")
    text = obj[text_field]
    if text is None:
        return bad(R.NULL_TEXT, f"field {text_field!r} is null")
    if not isinstance(text, str):
        return bad(R.NON_STRING_TEXT, f"field {text_field!r} is {type(text).__name__}")
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        return bad(R.LONE_SURROGATE, "text holds an unpaired UTF-16 surrogate")
    if "\x00" in text:
        return bad(R.NUL_CHARACTER, "text holds a NUL character")
    if not text.strip():
        return bad(R.EMPTY_TEXT, "text is empty or whitespace")
    if max_bytes is not None and len(encoded) > max_bytes:
        return bad(R.TOO_LARGE, f"text is {len(encoded)} bytes, limit {max_bytes}")
    fields = {k: v for k, v in obj.items() if k not in (text_field, id_field)}
    return {
        "id": record_id,
        "id_key": id_key,
        "text": text,
        "source": source,
        "line": line,
        "offset": offset,
        "bytes": len(encoded),
        "sha256": hashlib.sha256(encoded).hexdigest(),
        "fields": fields,
    }


def parse_json_line(
    raw: bytes, *, source: str, line: int | None, offset: int, text_field: str, id_field: str,
    max_bytes: int | None,
) -> dict[str, Any]:
    """Decode and validate one JSONL line (without its newline)."""
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        shown = raw.decode("utf-8", errors="backslashreplace")
        return R.quarantine_row(source, line, offset, R.INVALID_UTF8, shown, f"byte {exc.start}", raw_bytes=raw)
    try:
        obj = json.loads(decoded)
    except (json.JSONDecodeError, RecursionError) as exc:
        return R.quarantine_row(source, line, offset, R.MALFORMED_JSON, decoded, getattr(exc, "msg", str(exc)),
                                raw_bytes=raw)
    return parse_object(
        obj, source=source, line=line, offset=offset, raw=decoded, text_field=text_field,
        id_field=id_field, max_bytes=max_bytes, raw_bytes=raw,
    )


def iter_jsonl_range(fr: FileRange) -> Iterator[tuple[int, int, bytes]]:
    """Yield ``(line number within the range, byte offset, raw line)`` for the lines that start inside the
    range (for a whole file, the line number in the file); lines end at ``\n`` (a CRLF's CR is dropped).

    Raises :class:`~haetae.pipelines.io.input_files.FileFault` after the last line read before a damaged
    compressed stream, and before any line of a file whose lines end in CR only (only the range at offset 0
    reports it; the file's other ranges yield nothing).
    """
    with open_input(fr.path, fr.size, R.CORRUPT_FILE) as handle:
        pos, first = 0, b""
        if fr.start > 0:
            if has_cr_only_line_ends(handle.read(CR_PROBE_BYTES)):
                return
            handle.seek(fr.start - 1)
            pos = fr.start - 1 + len(handle.readline())  # finish the line that straddles the boundary
        else:
            first = handle.readline(CR_PROBE_BYTES)
            if not first.endswith(b"\n") and has_cr_only_line_ends(first):
                raise FileFault(R.CR_LINE_ENDINGS, "lines end in CR only (no LF in the first 64 KiB); convert the "
                                "file to LF or CRLF line endings", offset=0, unread_bytes=max(fr.size, 0))
            if first and not first.endswith(b"\n"):
                first += handle.readline()  # a first line longer than the probe
        line_no = 0
        while fr.end < 0 or pos < fr.end:
            raw, first = first or handle.readline(), b""
            if not raw:
                break
            line_no += 1
            yield line_no, pos, raw.rstrip(b"\r\n")
            pos += len(raw)


class ReadRanges(Step):
    """Parse the lines or rows of one file range into records; bad input goes to the quarantine output.

    A row read from part of a split file does not know its line number yet: it carries ``range_line``
    (range start, line within the range), and the range's line count goes to the ``lines`` output, from
    which :class:`NumberLines` sets the line numbers. A file that cannot be read to its end gives one
    file-level quarantine row, also on the ``file_faults`` output.

    Counters (namespace "read"): ``lines``, ``blank_lines``, ``bytes``, ``records``, ``quarantined``, ``bom``
    and ``file_faults``.
    """

    NAMESPACE = "read"

    def __init__(self, text_field: str, id_field: str, max_bytes: int | None):
        self.text_field, self.id_field, self.max_bytes = text_field, id_field, max_bytes

    def setup(self):
        self._progress = ProgressLog("read")

    def start_bundle(self):
        self._produced = 0

    def process(self, fr: FileRange):
        self._range_lines = 0
        rows = self._parquet_rows(fr) if input_format(fr.path) == "parquet" else self._jsonl_rows(fr)
        try:
            for row in rows:
                yield self._output(row)
        except FileFault as fault:
            self.count("file_faults")
            log.warning("input %s: %s", fr.path, fault.detail)
            row = R.file_fault_row(fr.path, fault.reason, fault.detail, offset=fault.offset,
                                   unread_bytes=fault.unread_bytes)
            yield self._output(row)
            yield beam.pvalue.TaggedOutput(FILE_FAULTS_TAG, row)
        if not fr.whole:
            yield beam.pvalue.TaggedOutput(LINES_TAG, (fr.path, (fr.start, self._range_lines)))

    def _output(self, row: dict[str, Any]):
        self._progress.tick()
        self._produced += 1
        if "reason" in row:
            self.count("quarantined")
            return beam.pvalue.TaggedOutput(QUARANTINE_TAG, row)
        self.count("records")
        return row

    def finish_bundle(self):
        """The number of records and quarantine rows this bundle produced, on the ``counts`` output: the
        input count the audit reconciles its ledger with, counted where the input is read."""
        if self._produced:
            yield self.bundle_output(self._produced, COUNTS_TAG)

    def _jsonl_rows(self, fr: FileRange) -> Iterator[dict[str, Any]]:
        for line_no, offset, raw in iter_jsonl_range(fr):
            self._range_lines = line_no
            self.count("bytes", len(raw) + 1)
            if offset == 0 and raw.startswith(UTF8_BOM):
                self.count("bom")
                raw = raw[len(UTF8_BOM):]
            if not raw.strip():
                self.count("blank_lines")
                continue
            self.count("lines")
            row = parse_json_line(
                raw, source=fr.path, line=line_no if fr.whole else None, offset=offset,
                text_field=self.text_field, id_field=self.id_field, max_bytes=self.max_bytes,
            )
            if not fr.whole:
                row[RANGE_LINE] = [fr.start, line_no]
            yield row

    def _parquet_rows(self, fr: FileRange) -> Iterator[dict[str, Any]]:
        """Rows of a Parquet file with their values as JSON values (:func:`~.input_files.json_value`); the text
        field keeps its type, so a non-string text is quarantined, not stringified."""
        with FileSystems.open(fr.path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            index = 0
            for batch in parquet_batches(handle, fr.size):
                for obj in batch.to_pylist():
                    self.count("lines")
                    values = {k: json_value(v) for k, v in obj.items()}
                    raw = json.dumps(values, ensure_ascii=False)
                    self.count("bytes", len(raw))
                    if self.text_field in obj and not isinstance(obj[self.text_field], str | None):
                        values[self.text_field] = obj[self.text_field]
                    yield parse_object(
                        values, source=fr.path, line=index + 1, offset=index, raw=raw,
                        text_field=self.text_field, id_field=self.id_field, max_bytes=self.max_bytes,
                    )
                    index += 1


def parquet_batches(handle: BinaryIO, size: int, batch_size: int = 1024) -> Iterator[Any]:
    """The record batches of a Parquet file, row group by row group; raises
    :class:`~haetae.pipelines.io.input_files.FileFault` where the file cannot be read, with the rows and the
    compressed bytes (column chunks) not read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    errors = (pa.ArrowException, OSError, ValueError)
    try:
        parquet = pq.ParquetFile(handle)
    except errors as exc:
        raise FileFault(R.CORRUPT_FILE, f"not a readable Parquet file: {_one_line(exc)}; {max(size, 0)} bytes "
                        "not read", offset=0, unread_bytes=max(size, 0)) from None
    meta = parquet.metadata
    rows_before = 0
    for group in range(meta.num_row_groups):
        batches, read = parquet.iter_batches(batch_size=batch_size, row_groups=[group]), 0
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except errors as exc:
                later = [meta.row_group(g) for g in range(group, meta.num_row_groups)]
                unread = sum(rg.column(c).total_compressed_size for rg in later for c in range(rg.num_columns))
                rows = sum(rg.num_rows for rg in later) - read
                at = rows_before + read
                raise FileFault(R.CORRUPT_FILE, f"Parquet row group {group} unreadable at row {at}: "
                                f"{_one_line(exc)}; {rows} rows and {unread} compressed bytes not read",
                                offset=at, unread_bytes=unread) from None
            read += batch.num_rows
            yield batch
        rows_before += read


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


class ReadResult:
    """Records, quarantine rows, per-bundle counts of what was read (records + quarantine rows) and the line
    index of split files ((path, range start) -> number of the range's first line in the file)."""

    def __init__(self, records: beam.PCollection, quarantine: beam.PCollection, counts: beam.PCollection,
                 line_index: beam.PCollection, files: list[tuple[str, int]], file_faults: beam.PCollection):
        self.records, self.quarantine, self.counts, self.files = records, quarantine, counts, files
        self.line_index = line_index
        self.file_faults = file_faults  # the file-level rows (also in quarantine): write with RecordFileFaults


class ReadRecords(beam.PTransform):
    """Read JSONL/Parquet inputs into records and quarantine rows.

    The input patterns are resolved when the transform is built, so a missing or unreadable path is an
    ``InputError`` before the job starts.
    """

    def __init__(
        self, patterns: list[str], text_field: str = "text", id_field: str = "id", max_bytes: int | None = None,
        split_bytes: int | None = None,
    ):
        super().__init__()
        self.patterns, self.text_field, self.id_field = list(patterns), text_field, id_field
        self.max_bytes, self.split_bytes = max_bytes, split_bytes
        self.files = expand_inputs(self.patterns)

    def expand(self, pbegin) -> ReadResult:
        split = self.split_bytes or auto_split_bytes([size for _, size in self.files])
        ranges = [r for path, size in self.files for r in split_ranges(path, size, split)]
        parsed = (
            pbegin
            | "FileRanges" >> beam.Create(ranges)
            | "SpreadRanges" >> beam.Reshuffle()
            | "Parse" >> beam.ParDo(ReadRanges(self.text_field, self.id_field, self.max_bytes)).with_outputs(
                QUARANTINE_TAG, COUNTS_TAG, LINES_TAG, FILE_FAULTS_TAG, main="records"
            )
        )
        line_index = (
            parsed[LINES_TAG] | "GroupRanges" >> beam.GroupByKey() | "FirstLines" >> beam.FlatMap(first_lines)
        )
        return ReadResult(parsed.records, parsed[QUARANTINE_TAG], parsed[COUNTS_TAG], line_index, self.files,
                          parsed[FILE_FAULTS_TAG])


def first_lines(element) -> Iterator[tuple[tuple[str, int], int]]:
    """(path, [(range start, lines starting in the range)...]) -> ((path, range start), its first line number)."""
    path, ranges = element
    line = 1
    for start, count in sorted(ranges):
        yield (path, start), line
        line += count


def number_line(row: dict[str, Any], first_line: dict[tuple[str, int], int]) -> dict[str, Any]:
    """``row`` with its line number in the file, when it was read from a split file (see :class:`ReadRanges`)."""
    if RANGE_LINE not in row:
        return row
    start, line_in_range = row[RANGE_LINE]
    out = {k: v for k, v in row.items() if k != RANGE_LINE}
    out["line"] = first_line[(row["source"], start)] + line_in_range - 1
    return out


class NumberLines(beam.PTransform):
    """Set the line numbers of rows read from split files, from :attr:`ReadResult.line_index` (a side input
    of one entry per byte range)."""

    def __init__(self, line_index: beam.PCollection, label: str | None = None):
        super().__init__(label)
        self.line_index = line_index

    def expand(self, rows):
        return rows | beam.Map(number_line, beam.pvalue.AsDict(self.line_index))


class QuarantineDuplicateIds(beam.PTransform):
    """Keep the first record of each id (by source, offset; ids of different JSON types differ: ``id_key``);
    the others become quarantine rows."""

    def expand(self, records):
        return (
            records
            | "KeyById" >> beam.Map(lambda r: (r["id_key"], r))
            | "GroupById" >> beam.GroupByKey()
            | "SplitDuplicates" >> beam.ParDo(_SplitDuplicates()).with_outputs(QUARANTINE_TAG, main="records")
        )


def duplicate_id_row(rec: dict[str, Any], first: dict[str, Any]) -> dict[str, Any]:
    """The quarantine row of a record whose id an earlier record (by source, offset) already has."""
    raw = R.to_json_line({"id": R.id_value(rec["id_key"]), "text": rec["text"], **rec["fields"]})
    detail = f"id first seen at {R.record_key(first['source'], first['offset'])}"
    row = R.quarantine_row(rec["source"], rec["line"], rec["offset"], R.DUPLICATE_ID, raw, detail, rec["id"],
                           record_id_key=rec["id_key"])
    if RANGE_LINE in rec:
        row[RANGE_LINE] = rec[RANGE_LINE]
    return row


def input_order(rec: dict[str, Any]) -> tuple[str, int]:
    """Where a record was read: the first record of an id in this order keeps the id."""
    return rec["source"], rec["offset"]


class _SplitDuplicates(Step):
    NAMESPACE = "read"

    def process(self, element):
        _, group = element
        first, *later = sorted(group, key=input_order)
        yield first
        for rec in later:
            self.count("duplicate_ids")
            yield beam.pvalue.TaggedOutput(QUARANTINE_TAG, duplicate_id_row(rec, first))


class ProgressLog:
    """Prints a per-step count to stderr at most every ``every`` seconds (one per worker process)."""

    def __init__(self, step: str, every: float = 5.0):
        self.step, self.every, self.count = step, every, 0
        self.last = time.monotonic()

    def tick(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            print(f"[progress] {self.step}: {self.count} records (worker {os.getpid()})", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------
# Sinks. Beam's file sinks finalise through side inputs that its DaskRunner does not order correctly (their
# shards come out empty), so on Dask the bundle sinks below are used: each bundle writes its own shard file.


class _WriteBundleShards(Step):
    def __init__(self, directory: str, prefix: str, fmt: str, schema=None, max_rows: int = 100_000):
        self.directory, self.prefix, self.fmt, self.schema, self.max_rows = directory, prefix, fmt, schema, max_rows

    def start_bundle(self):
        self._rows: list = []

    def process(self, element):
        self._rows.append(element)
        if len(self._rows) >= self.max_rows:
            yield self._flush()

    def finish_bundle(self):
        if self._rows:
            yield self.bundle_output(self._flush())

    def _flush(self) -> str:
        rows, self._rows = self._rows, []
        suffix = ".parquet" if self.fmt == "parquet" else ".jsonl"
        path = FileSystems.join(self.directory, f"{self.prefix}-{uuid.uuid4().hex}{suffix}")
        if self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pylist(rows, schema=self.schema)
            with FileSystems.create(path) as handle:
                pq.write_table(table, handle)
        else:
            with FileSystems.create(path) as handle:
                handle.write(("\n".join(rows) + "\n").encode("utf-8"))
        return path


class WriteShards(beam.PTransform):
    """Write JSONL lines (str) or Parquet rows (dict) as shards ``DIR/PREFIX-*``.

    ``bundle_sinks=False`` uses Beam's transactional file sinks; ``True`` writes one shard per bundle, which
    works on every runner (used for Dask).
    """

    def __init__(self, directory: str, prefix: str, fmt: str = "jsonl", schema=None, bundle_sinks: bool = False):
        super().__init__()
        self.directory, self.prefix, self.fmt, self.schema, self.bundle_sinks = directory, prefix, fmt, schema, bundle_sinks

    def expand(self, pcoll):
        if self.bundle_sinks:
            return pcoll | beam.ParDo(_WriteBundleShards(self.directory, self.prefix, self.fmt, self.schema))
        base = FileSystems.join(self.directory, self.prefix)
        if self.fmt == "parquet":
            return pcoll | beam.io.WriteToParquet(base, self.schema, file_name_suffix=".parquet")
        return pcoll | beam.io.WriteToText(base, file_name_suffix=".jsonl")


def read_jsonl_dir(directory: str, prefix: str = "") -> list[dict[str, Any]]:
    """Read every ``DIR/PREFIX*.jsonl`` shard (driver side, for small outputs and tests)."""
    from haetae.pipelines.runners.execution import read_shard_rows

    return read_shard_rows(directory, prefix)


class RecordFileFaults(beam.PTransform):
    """Write :attr:`ReadResult.file_faults` to ``OUT/_file_faults/``, for :func:`raise_for_file_faults`."""

    def __init__(self, out_dir: str, bundle_sinks: bool = False):
        super().__init__()
        self.out_dir, self.bundle_sinks = out_dir, bundle_sinks

    def expand(self, faults):
        return (faults | "FaultLines" >> beam.Map(R.to_json_line)
                | WriteShards(FileSystems.join(self.out_dir, FILE_FAULTS_DIR), "part", bundle_sinks=self.bundle_sinks))


def on_corrupt_file(policy: Policy | None) -> str:
    """The policy's ``inputs.on_corrupt_file``: ``fail`` (the default) or ``quarantine``."""
    return (policy.section("inputs") if policy is not None else {}).get("on_corrupt_file", "fail")


def raise_for_file_faults(out_dir: str, policy: Policy | None) -> list[dict[str, Any]]:
    """After the Beam run, in the driver, before anything is published: the input files the reader could not
    read to their end (written by :class:`RecordFileFaults`), sorted by path. With ``inputs.on_corrupt_file:
    fail`` any such file is an :class:`InputError` (exit 2) naming it and what broke; with ``quarantine`` they
    are returned (their rows are already in the job's quarantine output, with what was read before the fault
    kept as usual)."""
    directory = FileSystems.join(out_dir, FILE_FAULTS_DIR)
    faults = sorted(read_jsonl_dir(directory), key=lambda q: q["source"]) if FileSystems.exists(directory) else []
    if faults and on_corrupt_file(policy) == "fail":
        first, more = faults[0], faults[1:]
        others = "; ".join(f"{q['source']} ({q['reason']})" for q in more[:3]) + ("; ..." if len(more) > 3 else "")
        raise InputError(
            f"input {first['source']} is unusable ({first['reason']}): {first['detail']}"
            + (f"; {len(more)} more: {others}" if more else "")
            + "; fix or remove it, or set inputs.on_corrupt_file: quarantine in the policy to keep what was read")
    return faults
