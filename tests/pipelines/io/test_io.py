"""Reading inputs in byte ranges: every line is read exactly once, whatever the range size."""

from __future__ import annotations

import pytest

from haetae.pipelines.io.beam_io import (
    MAX_SPLIT_BYTES,
    MIN_SPLIT_BYTES,
    RANGES_PER_JOB,
    auto_split_bytes,
    iter_jsonl_range,
    split_ranges,
)

LINES = [
    b'{"id": "a", "text": "short"}',
    b"",  # a blank line
    b'{"id": "b", "text": "' + "가나다라마바사".encode() * 40 + b'"}',  # multi-byte, longer than small ranges
    b'{"id": "c", "text": "crlf line"}\r',
    b"not json at all",
    b'{"id": "d", "text": "last line without a newline"}',
]


@pytest.fixture()
def jsonl(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(LINES))
    return path


def read_all(path, split_bytes):
    size = path.stat().st_size
    return [(offset, raw) for r in split_ranges(str(path), size, split_bytes) for _, offset, raw in iter_jsonl_range(r)]


@pytest.mark.parametrize("split_bytes", [1, 2, 7, 29, 30, 31, 100, 333])
def test_byte_ranges_read_every_line_exactly_once(jsonl, split_bytes):
    whole = read_all(jsonl, split_bytes=1 << 30)
    assert [raw for _, raw in whole] == [ln.rstrip(b"\r") for ln in LINES]
    ranges = split_ranges(str(jsonl), jsonl.stat().st_size, split_bytes)
    assert len(ranges) > 1 and not any(r.whole for r in ranges)
    assert read_all(jsonl, split_bytes) == whole  # same offsets and bytes: nothing lost, nothing twice


def test_whole_file_ranges_know_line_numbers(jsonl):
    (whole,) = split_ranges(str(jsonl), jsonl.stat().st_size, 1 << 20)
    assert whole.whole and [n for n, _, _ in iter_jsonl_range(whole)] == list(range(1, len(LINES) + 1))


def test_compressed_files_are_never_split(tmp_path):
    assert len(split_ranges(str(tmp_path / "big.jsonl.gz"), 10 * MAX_SPLIT_BYTES, MIN_SPLIT_BYTES)) == 1


@pytest.mark.parametrize(("sizes", "expected"), [
    ([0], MIN_SPLIT_BYTES),
    ([20 << 20], MIN_SPLIT_BYTES),
    ([RANGES_PER_JOB * (5 << 20)], 5 << 20),
    ([1 << 39, 1 << 39], MAX_SPLIT_BYTES),
    ([5 << 20] * RANGES_PER_JOB, MAX_SPLIT_BYTES),  # enough files to spread: they keep their line numbers
])
def test_auto_split_bytes_spreads_a_job_within_bounds(sizes, expected):
    assert auto_split_bytes(sizes) == expected


def test_rows_of_split_files_get_their_line_numbers_in_the_file(jsonl):
    """Records and quarantine rows read from byte ranges are numbered as if the file had been read whole."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.testing.util import assert_that, equal_to

    from haetae.pipelines.io.beam_io import NumberLines, ReadRecords

    whole = {offset: line for line, offset, raw in read_whole(jsonl) if raw.strip()}
    options = PipelineOptions(["--runner=haetae.pipelines.runners.options.DirectRunner", "--direct_running_mode=in_memory"])
    with beam.Pipeline(options=options) as p:
        read = p | ReadRecords([str(jsonl)], split_bytes=29)
        rows = (read.records, read.quarantine) | beam.Flatten()
        numbered = rows | NumberLines(read.line_index) | beam.Map(lambda r: (r["offset"], r["line"], "range_line" in r))
        assert_that(numbered, equal_to([(offset, line, False) for offset, line in whole.items()]))


def read_whole(path):
    (whole,) = split_ranges(str(path), path.stat().st_size, 1 << 30)
    return list(iter_jsonl_range(whole))


def test_first_lines_and_number_line_by_hand():
    from haetae.pipelines.io.beam_io import first_lines, number_line

    index = dict(first_lines(("f", [(60, 4), (0, 3), (30, 0)])))
    assert index == {("f", 0): 1, ("f", 30): 4, ("f", 60): 4}
    row = {"source": "f", "offset": 70, "line": None, "range_line": [60, 2]}
    assert number_line(row, index) == {"source": "f", "offset": 70, "line": 5}
    assert number_line({"source": "g", "line": 7}, index) == {"source": "g", "line": 7}  # read whole


# --------------------------------------------------------------------------------------------------------
# Input integrity: damaged files are reported per file, lines end at \n only, ids keep their JSON type.

import base64  # noqa: E402
import bz2  # noqa: E402
import datetime as dt  # noqa: E402
import decimal  # noqa: E402
import gzip  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import zlib  # noqa: E402

from haetae.pipelines.io import records as R  # noqa: E402

IN_MEMORY = ["--runner=haetae.pipelines.runners.options.DirectRunner", "--direct_running_mode=in_memory"]


def read_job(tmp_path, patterns, *, dedup_ids=False, **read_args):
    """Run ReadRecords (and QuarantineDuplicateIds) through the real shard writers; returns the records, the
    quarantine rows, the file faults, the reader's input count and its counters."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from haetae.pipelines.io.beam_io import (
        QuarantineDuplicateIds,
        ReadRecords,
        RecordFileFaults,
        WriteShards,
        read_jsonl_dir,
    )

    out = tmp_path / "read-out"
    p = beam.Pipeline(options=PipelineOptions(IN_MEMORY))
    read = p | ReadRecords([str(x) for x in patterns], **read_args)
    records, quarantine = read.records, read.quarantine
    if dedup_ids:
        unique = records | QuarantineDuplicateIds()
        records = unique.records
        quarantine = (quarantine, unique.quarantine) | "AllQuarantine" >> beam.Flatten()
    for name, rows in (("records", records), ("quarantine", quarantine)):
        rows | f"{name}Lines" >> beam.Map(R.to_json_line) | f"Write{name}" >> WriteShards(str(out / name), "part",
                                                                                           bundle_sinks=True)
    read.counts | beam.Map(lambda n: json.dumps({"input": n})) | "WriteCounts" >> WriteShards(
        str(out / "counts"), "part", bundle_sinks=True)
    read.file_faults | RecordFileFaults(str(out), bundle_sinks=True)
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query()["counters"]
                if c.key.metric.namespace == "read"}
    faults = _faults(out)
    count = sum(c["input"] for c in read_jsonl_dir(str(out / "counts"))) if (out / "counts").exists() else 0
    return (read_jsonl_dir(str(out / "records")) if (out / "records").exists() else [],
            read_jsonl_dir(str(out / "quarantine")) if (out / "quarantine").exists() else [], faults, count, counters)


def _faults(out):
    from haetae.pipelines.io.beam_io import FILE_FAULTS_DIR, read_jsonl_dir

    return read_jsonl_dir(str(out / FILE_FAULTS_DIR)) if (out / FILE_FAULTS_DIR).exists() else []


def corpus_bytes(n, start=0):
    docs = [{"id": i, "text": f"record number {i} " + "있다 " * (i % 7)} for i in range(start, start + n)]
    return ("\n".join(json.dumps(d, ensure_ascii=False) for d in docs) + "\n").encode()


def test_truncated_gzip_keeps_the_records_before_the_cut_and_reports_the_file(tmp_path):
    packed = gzip.compress(corpus_bytes(3000), mtime=0)
    cut = packed[: len(packed) // 2]
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(cut)
    available = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(cut)
    complete = available.count(b"\n")  # lines wholly before the cut
    records, quarantine, faults, count, counters = read_job(tmp_path, [path])
    assert sorted(int(r["id"]) for r in records) == list(range(complete))
    assert [q["reason"] for q in quarantine] == [R.CORRUPT_FILE]  # the partial last line is not a record
    (fault,) = faults
    assert fault == quarantine[0] and fault["source"] == str(path) and fault["line"] is None
    assert f"truncated gzip stream after {len(available)} decompressed bytes" in fault["detail"]
    assert "0 compressed bytes not read" in fault["detail"] and fault["bytes"] == 0
    assert count == complete + 1 == len(records) + len(quarantine)  # counts reconcile
    assert counters["file_faults"] == 1


def test_corrupt_gzip_member_reports_the_compressed_bytes_not_read(tmp_path):
    first = gzip.compress(corpus_bytes(200), mtime=0)
    rest = b"GARBAGE!" + gzip.compress(corpus_bytes(200, start=200), mtime=0)
    path = tmp_path / "members.jsonl.gz"
    path.write_bytes(first + rest)
    records, quarantine, faults, count, _ = read_job(tmp_path, [path])
    assert sorted(int(r["id"]) for r in records) == list(range(200))
    (fault,) = faults
    assert fault["reason"] == R.CORRUPT_FILE and "corrupt gzip data" in fault["detail"]
    assert f"{len(rest)} compressed bytes not read" in fault["detail"] and fault["bytes"] == len(rest)
    assert count == 201


def test_concatenated_and_zero_padded_gzip_members_are_read_whole(tmp_path):
    path = tmp_path / "members.jsonl.gz"
    path.write_bytes(gzip.compress(corpus_bytes(50)) + gzip.compress(corpus_bytes(50, 50)) + b"\0" * 512)
    records, quarantine, faults, count, _ = read_job(tmp_path, [path])
    assert len(records) == 100 and not quarantine and not faults and count == 100


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("plain.jsonl.gz", b'{"id": 1, "text": "not gzip at all"}\n', "corrupt gzip data after 0 decompressed bytes"),
    ("plain.jsonl.zst", b'{"id": 1, "text": "not zstd at all"}\n', "corrupt zstd data after 0 decompressed bytes"),
    ("cut.jsonl.zst", None, "truncated zstd stream"),
    ("cut.jsonl.bz2", bz2.compress(corpus_bytes(500))[:-40], "truncated bzip2 stream"),
    ("flipped.jsonl.bz2", b"BZh9" + b"\x55" * 200, "corrupt bzip2 data"),
])
def test_damaged_compressed_files_give_one_row_for_the_file(tmp_path, name, content, expected):
    if content is None:
        import zstandard

        content = zstandard.ZstdCompressor().compress(corpus_bytes(500))[:-30]
    path = tmp_path / name
    path.write_bytes(content)
    records, quarantine, faults, count, _ = read_job(tmp_path, [path])
    assert [q["reason"] for q in quarantine] == [R.CORRUPT_FILE] and faults == quarantine
    assert expected in faults[0]["detail"] and "compressed bytes not read" in faults[0]["detail"]
    assert count == len(records) + 1
    assert all(r["text"].startswith("record number") for r in records)  # only whole lines before the fault


def write_parquet(path, n=300, row_group_size=100, **columns):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": list(range(n)), "text": [f"row {i} text" for i in range(n)], **columns})
    pq.write_table(table, path, row_group_size=row_group_size, compression="zstd")
    return pq.ParquetFile(path).metadata


def test_corrupt_parquet_keeps_the_row_groups_before_the_fault(tmp_path):
    path = tmp_path / "broken.parquet"
    meta = write_parquet(path)
    data = bytearray(path.read_bytes())
    second = meta.row_group(1).column(1)  # the text column of the second row group
    at = second.data_page_offset
    data[at:at + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    records, quarantine, faults, count, _ = read_job(tmp_path, [path])
    assert sorted(int(r["id"]) for r in records) == list(range(100))
    (fault,) = faults
    later = sum(meta.row_group(g).column(c).total_compressed_size for g in (1, 2) for c in range(2))
    assert fault["reason"] == R.CORRUPT_FILE and "row group 1 unreadable at row 100" in fault["detail"]
    assert f"200 rows and {later} compressed bytes not read" in fault["detail"] and fault["bytes"] == later
    assert count == 101


def test_truncated_parquet_is_reported_whole(tmp_path):
    path = tmp_path / "cut.parquet"
    write_parquet(path)
    path.write_bytes(path.read_bytes()[:-100])
    size = path.stat().st_size
    records, quarantine, faults, count, _ = read_job(tmp_path, [path])
    assert not records and [q["reason"] for q in quarantine] == [R.CORRUPT_FILE] and count == 1
    assert "not a readable Parquet file" in faults[0]["detail"] and faults[0]["bytes"] == size


def test_a_directory_as_input_is_a_clear_error(tmp_path):
    from haetae.errors import UsageError
    from haetae.pipelines.io.beam_io import InputError, expand_inputs

    (tmp_path / "a.jsonl").write_bytes(corpus_bytes(2))
    size = (tmp_path / "a.jsonl").stat().st_size
    for given in (str(tmp_path), str(tmp_path) + "/"):
        with pytest.raises(InputError, match=r"is a directory; give files or a glob like .*/\*\.jsonl") as info:
            expand_inputs([given])
        assert isinstance(info.value, UsageError) and "\n" not in str(info.value)
    assert expand_inputs([str(tmp_path / "*.jsonl")]) == [(str(tmp_path / "a.jsonl"), size)]


def test_parquet_values_of_every_arrow_type_become_json_values(tmp_path):
    import pyarrow as pa

    n = 3
    stamp = dt.datetime(2024, 5, 6, 7, 8, 9, 123456)
    columns = {
        "stamp": pa.array([stamp] * n, pa.timestamp("us")),
        "stamp_tz": pa.array([stamp] * n, pa.timestamp("ns", tz="UTC")),
        "day": pa.array([dt.date(2024, 2, 29)] * n, pa.date32()),
        "clock": pa.array([dt.time(23, 59, 1, 5)] * n, pa.time64("us")),
        "price": pa.array([decimal.Decimal("1234.5600")] * n, pa.decimal128(10, 4)),
        "blob": pa.array([b"\x00\xffbin"] * n, pa.binary()),
        "took": pa.array([dt.timedelta(days=1, seconds=2, microseconds=500000)] * n, pa.duration("us")),
        "tags": pa.array([["a", "b"]] * n, pa.list_(pa.string())),
        "nested": pa.array([{"when": dt.date(2020, 1, 1), "score": float("nan")}] * n,
                           pa.struct([("when", pa.date32()), ("score", pa.float64())])),
        "attrs": pa.array([[("k", 1)]] * n, pa.map_(pa.string(), pa.int64())),
    }
    path = tmp_path / "typed.parquet"
    write_parquet(path, n=n, **columns)
    records, quarantine, _, _, _ = read_job(tmp_path, [path])
    assert not quarantine and len(records) == n
    assert records[0]["fields"] == {
        "stamp": "2024-05-06T07:08:09.123456", "stamp_tz": "2024-05-06T07:08:09.123456+00:00",
        "day": "2024-02-29", "clock": "23:59:01.000005", "price": "1234.5600",
        "blob": base64.b64encode(b"\x00\xffbin").decode(), "took": "PT86402.5S", "tags": ["a", "b"],
        "nested": {"when": "2020-01-01", "score": "NaN"}, "attrs": [["k", 1]],
    }
    assert records[0]["id"] == "0" and records[0]["id_key"] == "0"


def test_a_binary_text_column_is_quarantined_not_stringified(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": ["a"], "text": pa.array([b"bytes"], pa.binary())}), tmp_path / "b.parquet")
    records, quarantine, _, _, _ = read_job(tmp_path, [tmp_path / "b.parquet"])
    assert not records and [q["reason"] for q in quarantine] == [R.NON_STRING_TEXT]


SEPARATORS = ["\u2028", "\u2029", "\u0085"]


@pytest.mark.parametrize("split_bytes", [None, 40])
def test_unicode_line_separators_in_text_and_id_are_text(tmp_path, split_bytes):
    from haetae.pipelines.io.beam_io import read_jsonl_dir

    docs = [{"id": f"id{sep}{i}", "text": f"before{sep}after {i}"} for i, sep in enumerate(SEPARATORS)]
    path = tmp_path / "seps.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    records, quarantine, _, _, _ = read_job(tmp_path, [path], split_bytes=split_bytes)
    assert not quarantine
    assert sorted((r["id"], r["text"]) for r in records) == sorted((d["id"], d["text"]) for d in docs)
    assert len(read_jsonl_dir(str(tmp_path / "read-out" / "records"))) == len(docs)  # the driver-side reader


def test_a_leading_bom_is_dropped_and_counted(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + corpus_bytes(3))
    records, quarantine, _, _, counters = read_job(tmp_path, [path])
    assert not quarantine and sorted(r["id"] for r in records) == ["0", "1", "2"]
    assert counters["bom"] == 1
    assert min(r["offset"] for r in records) == 0


def test_a_bom_inside_a_file_is_not_stripped(tmp_path):
    path = tmp_path / "bom-later.jsonl"
    path.write_bytes(corpus_bytes(1) + b"\xef\xbb\xbf" + corpus_bytes(1, 1))
    records, quarantine, _, _, _ = read_job(tmp_path, [path])
    assert [r["id"] for r in records] == ["0"] and [q["reason"] for q in quarantine] == [R.MALFORMED_JSON]


@pytest.mark.parametrize("split_bytes", [None, 50])
def test_cr_only_line_endings_quarantine_the_file_once(tmp_path, split_bytes):
    path = tmp_path / "mac.jsonl"
    path.write_bytes(corpus_bytes(4).replace(b"\n", b"\r"))
    records, quarantine, faults, count, _ = read_job(tmp_path, [path], split_bytes=split_bytes)
    assert not records and [q["reason"] for q in quarantine] == [R.CR_LINE_ENDINGS] and faults == quarantine
    assert "CR only" in faults[0]["detail"] and faults[0]["bytes"] == path.stat().st_size
    assert count == 1


def test_crlf_line_endings_keep_working(tmp_path):
    path = tmp_path / "dos.jsonl"
    path.write_bytes(corpus_bytes(4).replace(b"\n", b"\r\n"))
    records, quarantine, faults, _, _ = read_job(tmp_path, [path])
    assert not quarantine and not faults and sorted(r["id"] for r in records) == ["0", "1", "2", "3"]


def test_ids_123_and_quoted_123_are_different_records(tmp_path):
    path = tmp_path / "ids.jsonl"
    lines = [{"id": 123, "text": "an integer id"}, {"id": "123", "text": "a string id"},
             {"id": "123", "text": "the string id again"}]
    path.write_text("".join(json.dumps(d) + "\n" for d in lines), encoding="utf-8")
    records, quarantine, _, _, _ = read_job(tmp_path, [path], dedup_ids=True)
    assert sorted((r["id_key"], r["text"]) for r in records) == [('"123"', "a string id"), ("123", "an integer id")]
    (dup,) = quarantine
    assert dup["reason"] == R.DUPLICATE_ID and dup["id_key"] == '"123"' and json.loads(dup["raw"])["id"] == "123"


def test_quarantine_rows_hash_the_whole_input_not_the_stored_copy():
    from haetae.pipelines.audit.job import quarantine_ledger_row
    from haetae.pipelines.io.beam_io import parse_json_line
    from haetae.pipelines.policy.schema import load_policy

    line = b'{"id": "big", "text": "' + b"x" * (R.MAX_RAW_CHARS + 10)  # malformed: no closing quote
    row = parse_json_line(line, source="f", line=1, offset=0, text_field="text", id_field="id", max_bytes=None)
    assert row["reason"] == R.MALFORMED_JSON and row["raw_truncated"] and len(row["raw"]) == R.MAX_RAW_CHARS
    ledger = quarantine_ledger_row(row, load_policy(None))
    assert ledger["bytes"] == len(line) and ledger["sha256"] == hashlib.sha256(line).hexdigest()
    bad_utf8 = b'{"id": "u", "text": "\xff"}'
    row = parse_json_line(bad_utf8, source="f", line=2, offset=9, text_field="text", id_field="id", max_bytes=None)
    assert row["reason"] == R.INVALID_UTF8 and row["sha256"] == hashlib.sha256(bad_utf8).hexdigest()
