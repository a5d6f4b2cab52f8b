"""End-to-end audit job on the bundled sample corpus and on bad input (real Beam, Presidio, GX)."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from haetae.pipelines.audit.job import run_audit
from haetae.pipelines.io import records as R
from haetae.pipelines.io.beam_io import read_jsonl_dir

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "pipelines" / "data" / "sample_corpus.jsonl"
IN_MEMORY = ["--direct_running_mode=in_memory"]
PHONE = re.compile(r"01\d-\d{3,4}-\d{4}|02-\d{3}-\d{4}")
EMAIL = re.compile(r"[\w.]+@example\.(kr|com)")


def ledger(out: Path):
    return pq.read_table(sorted((out / "ledger").glob("*.parquet"))).to_pylist()


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("audit")
    summary = run_audit([str(SAMPLE)], str(out), beam_args=IN_MEMORY, progress=False)
    return out, summary


def test_counts_reconcile_with_input_lines(sample_run):
    out, summary = sample_run
    lines = [ln for ln in SAMPLE.read_text(encoding="utf-8").splitlines() if ln.strip()]
    rows = ledger(out)
    assert summary.counts["input"] == len(lines) == len(rows)
    assert sum(summary.counts[d] for d in R.DECISIONS) == len(lines)
    kept = read_jsonl_dir(str(out / "kept"))
    quarantine = read_jsonl_dir(str(out / "quarantine"))
    assert len(kept) == summary.counts["keep"] + summary.counts["redact"]
    assert len(quarantine) == summary.counts["quarantine"]
    assert summary.ok, summary.validation["failed"]
    assert len({r["key"] for r in rows}) == len(rows)


def test_every_decision_names_its_rule_and_policy(sample_run):
    out, summary = sample_run
    rows = ledger(out)
    by_id = {r["id"]: r for r in rows if r["decision"] != "quarantine"}
    planted = {json.loads(ln)["id"]: json.loads(ln) for ln in SAMPLE.read_text(encoding="utf-8").splitlines()
               if ln.startswith("{") and '"planted"' in ln}
    kinds = {}
    for rid, doc in planted.items():
        kinds.setdefault(doc["planted"], []).append(by_id[rid])
    assert all(r["rule"].startswith("pii.entities.") and r["decision"] == "drop" for r in kinds["pii_drop"])
    assert all(r["rule"] == "rights.copyright.notice_without_allowed_licence" for r in kinds["copyright"])
    assert sum(r["decision"] == "redact" for r in kinds["pii"]) >= 20
    # every planted copy shares a cluster with its original; one of each pair is dropped as a duplicate
    assert all(r["dup_cluster_size"] >= 2 for r in kinds["duplicate"])
    assert sum(r["rule"].startswith("dedup.") for r in rows) >= len(kinds["duplicate"])
    assert {r["policy_sha256"] for r in rows} == {summary.aggregates["policy"]["sha256"]}
    for r in rows:
        assert r["decision"] in R.DECISIONS and r["rule"] and r["reasons"] is not None
        assert r["sha256"] and r["bytes"] > 0


def test_kept_text_is_redacted_and_keeps_other_fields(sample_run):
    out, _ = sample_run
    kept = {r["id"]: r for r in read_jsonl_dir(str(out / "kept"))}
    rows = {r["id"]: r for r in ledger(out) if r["decision"] == "redact"}
    assert rows
    for rid, row in rows.items():
        text = kept[rid]["text"]
        assert not PHONE.search(text) and not EMAIL.search(text)
        assert re.search(r"<[A-Z_]+>", text), text[-80:]
        assert row["residual_pii"] == 0 and row["redactions"] >= 1
        assert "source" in kept[rid]  # input fields other than id/text survive


def test_reports_and_logs_never_show_raw_pii(sample_run):
    out, _ = sample_run
    for name in ("report.html", "aggregates.json", "validation.json"):
        content = (out / name).read_text(encoding="utf-8")
        assert not PHONE.search(content), name
        assert not EMAIL.search(content), name
        assert "900101-1234568" not in content and "4111 1111 1111 1111" not in content
    html = (out / "report.html").read_text(encoding="utf-8")
    for section in ("Records by decision", "PII spans by entity type", "Licences found", "Duplicate clusters",
                    "Language mix", "Great Expectations", "Masked examples"):
        assert section in html
    assert "<svg" in html and "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")


BAD_LINES = [
    b'{"id": "ok-1", "text": "\xeb\x8c\x80\xed\x95\x9c\xeb\xaf\xbc\xea\xb5\xad\xec\x9d\x80 \xeb\xaf\xbc\xec\xa3\xbc\xea\xb3\xb5\xed\x99\x94\xea\xb5\xad\xec\x9d\xb4\xeb\x8b\xa4. \xeb\xaa\xa8\xeb\x93\xa0 \xea\xb6\x8c\xeb\xa0\xa5\xec\x9d\x80 \xea\xb5\xad\xeb\xaf\xbc\xec\x9c\xbc\xeb\xa1\x9c\xeb\xb6\x80\xed\x84\xb0 \xeb\x82\x98\xec\x98\xa8\xeb\x8b\xa4."}',
    b'{"id": "bad-json", "text": "no closing quote}',
    b'"just a string"',
    b'{"id": "no-text"}',
    b'{"id": "null-text", "text": null}',
    b'{"id": "num-text", "text": 42}',
    b'{"id": "bad-utf8", "text": "caf\xc3\x28 au lait"}',
    b'{"id": "nul", "text": "a\\u0000b is not allowed in training text"}',
    b'{"id": "surrogate", "text": "lone \\udc00 surrogate in an otherwise fine sentence"}',
    b'{"id": "empty", "text": "   "}',
    b'{"id": "huge", "text": "' + b"x" * 3000 + b'"}',
    b'{"id": "ok-1", "text": "a second record that reuses an id already taken earlier"}',
    b'{"text": "a record without any id field at all, which cannot be traced"}',
    b"",
    b'{"id": "ok-2", "text": "The committee reviews the audit report before a model release."}',
]
EXPECTED_REASONS = {
    "bad-json": R.MALFORMED_JSON, "no-text": R.MISSING_TEXT, "null-text": R.NULL_TEXT,
    "num-text": R.NON_STRING_TEXT, "nul": R.NUL_CHARACTER, "surrogate": R.LONE_SURROGATE,
    "empty": R.EMPTY_TEXT, "huge": R.TOO_LARGE,
}


@pytest.fixture(scope="module")
def bad_input(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    path = root / "bad.jsonl"
    path.write_bytes(b"\n".join(BAD_LINES) + b"\n")
    policy = (ROOT / "policies" / "data_policy.yaml").read_text(encoding="utf-8")
    policy = policy.replace("max_bytes: 1000000", "max_bytes: 2000").replace(
        "recognizers: pii_recognizers.yaml", f"recognizers: {ROOT / 'policies' / 'pii_recognizers.yaml'}").replace(
        "detectors: rights_detectors.yaml", f"detectors: {ROOT / 'policies' / 'rights_detectors.yaml'}")
    strict = policy.replace("max_quarantine_rate: 0.3", "max_quarantine_rate: 1.0")
    (root / "policy.yaml").write_text(strict, encoding="utf-8")
    (root / "strict.yaml").write_text(policy, encoding="utf-8")
    return root


def test_bad_input_is_quarantined_with_reasons_never_lost(bad_input, tmp_path):
    out = tmp_path / "out"
    summary = run_audit([str(bad_input / "bad.jsonl")], str(out), policy_path=str(bad_input / "policy.yaml"),
                        beam_args=IN_MEMORY, progress=False)
    quarantine = read_jsonl_dir(str(out / "quarantine"))
    by_reason = {}
    for q in quarantine:
        by_reason.setdefault(q["reason"], []).append(q)
        assert q["raw"] and q["source"].endswith("bad.jsonl") and q["line"] >= 1
    for rid, reason in EXPECTED_REASONS.items():
        assert any(f"\"{rid}\"" in q["raw"] for q in by_reason[reason]), (rid, reason)
    assert {R.INVALID_UTF8, R.NOT_AN_OBJECT, R.MISSING_ID, R.DUPLICATE_ID} <= set(by_reason)
    assert by_reason[R.DUPLICATE_ID][0]["line"] == 12  # the later occurrence is the one held back
    assert "\\x" in by_reason[R.INVALID_UTF8][0]["raw"]  # undecodable bytes shown escaped
    non_blank = sum(1 for ln in BAD_LINES if ln.strip())
    assert summary.counts["input"] == non_blank == len(ledger(out))
    assert summary.counts["quarantine"] == 12 and summary.ok


def test_failed_expectation_exits_nonzero_and_is_reported(bad_input, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "haetae.cli", "audit", str(bad_input / "bad.jsonl"), "--out", str(out),
         "--policy", str(bad_input / "strict.yaml"), "--quiet", *IN_MEMORY],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "quarantine rate within policy" in proc.stderr
    validation = json.loads((out / "validation.json").read_text())
    assert not validation["success"]
    assert validation["failed"] == ["totals: quarantine rate within policy"]
    assert "FAIL" in (out / "report.html").read_text(encoding="utf-8")


def test_unreadable_input_is_a_clear_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "haetae.cli", "audit", str(tmp_path / "missing-*.jsonl"), "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "matches no file" in proc.stderr and "Traceback" not in proc.stderr


def test_rerun_gives_identical_ledger_rows(sample_run, tmp_path):
    out, _ = sample_run
    run_audit([str(SAMPLE)], str(tmp_path), beam_args=IN_MEMORY, progress=False, report=False)
    first = sorted(ledger(out), key=lambda r: r["key"])
    second = sorted(ledger(tmp_path), key=lambda r: r["key"])
    assert first == second


def test_compressed_and_parquet_inputs_give_the_same_decisions(sample_run, tmp_path):
    import zstandard

    out, _ = sample_run
    lines = [ln for ln in SAMPLE.read_text(encoding="utf-8").splitlines() if ln.startswith('{"id"')]
    good, seen = [], set()
    for doc in (json.loads(ln) for ln in lines if _parses(ln)):
        if isinstance(doc.get("text"), str) and _encodable(doc["text"]) and doc["id"] not in seen:
            seen.add(doc["id"])
            good.append(doc)
    half = len(good) // 3
    gz_part = "\n".join(json.dumps(d, ensure_ascii=False) for d in good[:half]) + "\n"
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(gz_part.encode()))
    zst_part = "\n".join(json.dumps(d, ensure_ascii=False) for d in good[half:2 * half]) + "\n"
    (tmp_path / "b.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(zst_part.encode()))
    pq.write_table(pa.Table.from_pylist([{"id": d["id"], "text": d["text"]} for d in good[2 * half:]]),
                   tmp_path / "c.parquet")
    res = tmp_path / "res"
    summary = run_audit([str(tmp_path / "*.jsonl.*"), str(tmp_path / "c.parquet")], str(res),
                        beam_args=IN_MEMORY, progress=False, report=False)
    assert summary.counts["input"] == len(good) and summary.counts["quarantine"] == 0
    plain = {r["id"]: r["decision"] for r in ledger(out) if r["decision"] != "quarantine"}
    mixed = {r["id"]: r["decision"] for r in ledger(res)}
    assert mixed == {k: plain[k] for k in mixed}
    sources = {r["source"].rsplit("/", 1)[-1] for r in ledger(res)}
    assert sources == {"a.jsonl.gz", "b.jsonl.zst", "c.parquet"}


def _parses(line: str) -> bool:
    try:
        json.loads(line)
        return True
    except ValueError:
        return False


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def test_direct_runner_never_tries_prism(monkeypatch):
    """Beam's own DirectRunner first tries Prism, which downloads a binary; Haetae's must not."""
    import apache_beam as beam
    from apache_beam.runners.portability import prism_runner

    from haetae.pipelines.runners.options import pipeline_options

    tried = []

    def refuse(*args, **kwargs):  # Beam's DirectRunner would catch an exception here and fall back
        tried.append(True)
        raise RuntimeError("Prism was tried")

    monkeypatch.setattr(prism_runner.PrismRunner, "run_pipeline", refuse)
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.testing.util import assert_that, equal_to

    options, bundle_sinks = pipeline_options("DirectRunner", ["--direct_running_mode=in_memory"])
    with beam.Pipeline(options=options) as p:
        assert_that(p | beam.Create([1, 2, 3]) | beam.Map(lambda x: x * 2), equal_to([2, 4, 6]))
    assert bundle_sinks and not tried
    with beam.Pipeline(options=PipelineOptions(["--runner=DirectRunner"])) as p:  # the check can fail
        assert_that(p | beam.Create([1]), equal_to([1]))
    assert tried


def test_multiprocessing_run_of_a_split_file_matches_in_memory_and_is_quiet(tmp_path):
    """The default runner (worker processes, input cut in byte ranges) decides exactly as one process does;
    a duplicate id read in another range is still caught; every ledger row has its line number in the file;
    Beam's worker start-up notices are not printed."""
    from haetae.pipelines.io.beam_io import MIN_SPLIT_BYTES
    from haetae.pipelines.io.samples import synthetic_corpus

    lines = synthetic_corpus(1200, seed=3)
    lines.append(lines[0])  # the same id again, at the end of the file: another byte range
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert corpus.stat().st_size > MIN_SPLIT_BYTES  # read as more than one range
    proc = subprocess.run(
        [sys.executable, "-m", "haetae.cli", "audit", str(corpus), "--out", str(tmp_path / "mp"),
         "--direct_num_workers=2"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for notice in ("apitools not found", "Logging handler created", "Traceback"):
        assert notice not in proc.stderr
    run_audit([str(corpus)], str(tmp_path / "mem"), beam_args=IN_MEMORY, progress=False, report=False)
    by_key = [sorted(ledger(tmp_path / run), key=lambda row: row["key"]) for run in ("mp", "mem")]
    assert by_key[0] == by_key[1] and len(by_key[0]) == len(lines)
    duplicate_ids = [row for row in by_key[0] if row["rule"] == f"input.{R.DUPLICATE_ID}"]
    assert [row["offset"] for row in duplicate_ids] == [corpus.stat().st_size - len(lines[0].encode()) - 1]
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line.encode()) + 1)
    assert {row["offset"]: row["line"] for row in by_key[0]} == {o: n for n, o in enumerate(offsets[:-1], 1)}


def test_transactional_sinks_of_distributed_runners_write_the_same_outputs(sample_run, tmp_path):
    """Flink, Spark and Dataflow get Beam's own file sinks (bundle_sinks=False); run that path here."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from haetae.pipelines.audit.job import build_pipeline
    from haetae.pipelines.policy.schema import load_policy

    out, summary = sample_run
    pipeline = beam.Pipeline(options=PipelineOptions(
        ["--runner=haetae.pipelines.runners.options.DirectRunner", *IN_MEMORY]))
    build_pipeline(pipeline, [str(SAMPLE)], str(tmp_path), load_policy(None), bundle_sinks=False)
    pipeline.run().wait_until_finish()
    assert sorted(ledger(tmp_path), key=lambda r: r["key"]) == sorted(ledger(out), key=lambda r: r["key"])
    for name in ("kept", "quarantine"):
        assert sorted(map(json.dumps, read_jsonl_dir(str(tmp_path / name)))) == \
            sorted(map(json.dumps, read_jsonl_dir(str(out / name))))
    assert sum(c["input"] for c in read_jsonl_dir(str(tmp_path / "_counts"))) == summary.counts["input"]


# ------------------------------------------------------------------------------------ input integrity


def _texts(n: int, start: int = 0) -> list[str]:
    """Distinct plain English texts (no PII, no near duplicates of each other)."""
    from haetae.pipelines.io.samples import english_sentences

    sentences = [s for s in english_sentences() if len(s) > 40 and "@" not in s and "http" not in s]
    return [" ".join(sentences[(start + i) * 4:(start + i + 1) * 4]) for i in range(n)]


def _policy(root: Path, on_corrupt_file: str) -> Path:
    policy = (ROOT / "policies" / "data_policy.yaml").read_text(encoding="utf-8").replace(
        "on_corrupt_file: fail", f"on_corrupt_file: {on_corrupt_file}").replace(
        "recognizers: pii_recognizers.yaml", f"recognizers: {ROOT / 'policies' / 'pii_recognizers.yaml'}").replace(
        "detectors: rights_detectors.yaml", f"detectors: {ROOT / 'policies' / 'rights_detectors.yaml'}")
    path = root / f"policy-{on_corrupt_file}.yaml"
    path.write_text(policy, encoding="utf-8")
    return path


def _damaged_inputs(root: Path) -> dict[str, Any]:
    """A truncated gzip and a CR-only file beside good JSONL and Parquet inputs; returns what a reader should
    make of them."""
    import datetime as dt
    import decimal
    import zlib

    texts = _texts(16)
    good = [{"id": i, "text": t, "n": i} for i, t in enumerate(texts[:8])]
    packed = gzip.compress(("\n".join(json.dumps(d) for d in good) + "\n").encode(), mtime=0)
    cut = packed[: len(packed) * 3 // 4]
    (root / "cut.jsonl.gz").write_bytes(cut)
    before_cut = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(cut).count(b"\n")
    (root / "mac.jsonl").write_bytes(b"\r".join(json.dumps({"id": f"cr{i}", "text": texts[8 + i]}).encode()
                                                for i in range(2)) + b"\r")
    odd = [{"id": 123, "text": texts[10]}, {"id": "123", "text": texts[11]},
           {"id": "sep\u2028id", "text": texts[12] + "\u2029" + "\u0085 end"}]
    (root / "odd.jsonl").write_bytes(b"\xef\xbb\xbf" + b"".join(json.dumps(d, ensure_ascii=False).encode() + b"\r\n"
                                                                for d in odd))
    stamp = dt.datetime(2024, 5, 6, 7, 8, 9)
    pq.write_table(pa.table({
        "id": pa.array([500, 501], pa.int64()), "text": texts[13:15],
        "stamp": pa.array([stamp] * 2, pa.timestamp("ms")), "day": pa.array([dt.date(2024, 2, 29)] * 2),
        "price": pa.array([decimal.Decimal("9.50")] * 2, pa.decimal128(5, 2)),
        "blob": pa.array([b"\x01\x02"] * 2, pa.binary()),
    }), root / "typed.parquet")
    return {"before_cut": before_cut, "odd": odd, "good": good}


@pytest.fixture(scope="module")
def damaged_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("damaged")
    expected = _damaged_inputs(root)
    out = root / "out"
    summary = run_audit([str(root / "*.jsonl"), str(root / "*.jsonl.gz"), str(root / "typed.parquet")], str(out),
                        policy_path=str(_policy(root, "quarantine")), beam_args=IN_MEMORY, progress=False,
                        report=False)
    return root, out, summary, expected


def test_quarantined_corrupt_files_keep_what_was_read_and_reconcile(damaged_run):
    root, out, summary, expected = damaged_run
    rows = ledger(out)
    file_rows = {Path(r["source"]).name: r for r in rows if r["rule"] in ("input.corrupt_file",
                                                                          "input.cr_line_endings")}
    assert set(file_rows) == {"cut.jsonl.gz", "mac.jsonl"}
    assert file_rows["cut.jsonl.gz"]["rule"] == f"input.{R.CORRUPT_FILE}"
    assert "truncated gzip stream" in file_rows["cut.jsonl.gz"]["reasons"][0]
    assert file_rows["mac.jsonl"]["rule"] == f"input.{R.CR_LINE_ENDINGS}"
    assert file_rows["mac.jsonl"]["bytes"] == (root / "mac.jsonl").stat().st_size
    from_gz = [r for r in rows if r["source"].endswith("cut.jsonl.gz") and r["decision"] != R.QUARANTINE]
    assert len(from_gz) == expected["before_cut"]  # every whole line before the cut, nothing else
    records = expected["before_cut"] + len(expected["odd"]) + 2
    assert summary.counts["input"] == len(rows) == records + 2  # + one row per damaged file
    assert sum(summary.counts[d] for d in R.DECISIONS) == len(rows)
    assert summary.ok, summary.validation["failed"]
    quarantine = read_jsonl_dir(str(out / "quarantine"))
    assert {q["reason"] for q in quarantine} == {R.CORRUPT_FILE, R.CR_LINE_ENDINGS}


def test_kept_output_keeps_ids_types_and_parquet_values(damaged_run):
    _, out, _, expected = damaged_run
    kept = {json.dumps(k["id"]): k for k in read_jsonl_dir(str(out / "kept"))}
    # 123 and "123" are two records, each kept with its own JSON type; BOM, CRLF and U+2028 are harmless
    assert {"123", '"123"', json.dumps("sep\u2028id"), "500", "501"} <= set(kept)
    assert kept['"sep\\u2028id"']["text"] == expected["odd"][2]["text"]
    assert kept["500"]["stamp"] == "2024-05-06T07:08:09" and kept["500"]["day"] == "2024-02-29"
    assert kept["500"]["price"] == "9.50" and kept["500"]["blob"] == "AQI="
    rows = {r["id_key"]: r for r in ledger(out)}
    assert rows["123"]["id"] == rows['"123"']["id"] == "123"  # the display id; id_key tells them apart


def _build_and_run(inputs: list[str], out: Path, policy_path: Path, beam_args: list[str]):
    import apache_beam as beam

    from haetae.pipelines.audit.job import build_pipeline
    from haetae.pipelines.policy.schema import load_policy
    from haetae.pipelines.runners.options import pipeline_options

    policy = load_policy(str(policy_path))
    options, bundle_sinks = pipeline_options("DirectRunner", beam_args)
    pipeline = beam.Pipeline(options=options)
    build_pipeline(pipeline, inputs, str(out), policy, bundle_sinks=bundle_sinks)
    pipeline.run().wait_until_finish()
    return policy


@pytest.mark.parametrize("beam_args", [IN_MEMORY, ["--direct_num_workers=2",
                                                   "--direct_running_mode=multi_processing"]],
                         ids=["in_memory", "multi_processing"])
def test_corrupt_files_stop_the_job_when_policy_says_fail(tmp_path, beam_args):
    from haetae.errors import UsageError
    from haetae.pipelines.io.beam_io import InputError, raise_for_file_faults

    _damaged_inputs(tmp_path)
    out = tmp_path / "out"
    policy = _build_and_run([str(tmp_path / "cut.jsonl.gz"), str(tmp_path / "odd.jsonl")], out,
                            _policy(tmp_path, "fail"), beam_args)
    with pytest.raises(InputError) as info:
        raise_for_file_faults(str(out), policy)
    message = str(info.value)
    assert isinstance(info.value, UsageError) and "\n" not in message
    assert message.startswith(f"input {tmp_path / 'cut.jsonl.gz'} is unusable (corrupt_file): truncated gzip")
    assert "inputs.on_corrupt_file: quarantine" in message
    (fault,) = raise_for_file_faults(str(out), _policy_of(tmp_path, "quarantine"))
    assert fault["source"].endswith("cut.jsonl.gz")


def _policy_of(root: Path, on_corrupt_file: str):
    from haetae.pipelines.policy.schema import load_policy

    return load_policy(str(_policy(root, on_corrupt_file)))


def test_a_good_run_has_no_file_faults(tmp_path):
    from haetae.pipelines.io.beam_io import raise_for_file_faults

    (tmp_path / "in.jsonl").write_text(json.dumps({"id": 1, "text": _texts(1)[0]}) + "\n", encoding="utf-8")
    _build_and_run([str(tmp_path / "in.jsonl")], tmp_path / "out", _policy(tmp_path, "fail"), IN_MEMORY)
    assert raise_for_file_faults(str(tmp_path / "out"), None) == []
