"""Reading inputs in byte ranges: every line is read exactly once, whatever the range size."""

from __future__ import annotations

import pytest

from haetae.pipelines.io import (
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

    from haetae.pipelines.io import NumberLines, ReadRecords

    whole = {offset: line for line, offset, raw in read_whole(jsonl) if raw.strip()}
    options = PipelineOptions(["--runner=haetae.pipelines.runners.DirectRunner", "--direct_running_mode=in_memory"])
    with beam.Pipeline(options=options) as p:
        read = p | ReadRecords([str(jsonl)], split_bytes=29)
        rows = (read.records, read.quarantine) | beam.Flatten()
        numbered = rows | NumberLines(read.line_index) | beam.Map(lambda r: (r["offset"], r["line"], "range_line" in r))
        assert_that(numbered, equal_to([(offset, line, False) for offset, line in whole.items()]))


def read_whole(path):
    (whole,) = split_ranges(str(path), path.stat().st_size, 1 << 30)
    return list(iter_jsonl_range(whole))


def test_first_lines_and_number_line_by_hand():
    from haetae.pipelines.io import first_lines, number_line

    index = dict(first_lines(("f", [(60, 4), (0, 3), (30, 0)])))
    assert index == {("f", 0): 1, ("f", 30): 4, ("f", 60): 4}
    row = {"source": "f", "offset": 70, "line": None, "range_line": [60, 2]}
    assert number_line(row, index) == {"source": "f", "offset": 70, "line": 5}
    assert number_line({"source": "g", "line": 7}, index) == {"source": "g", "line": 7}  # read whole
