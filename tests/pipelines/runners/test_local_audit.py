"""The local runner (pipelines/runners/local.py) gives the Beam job's result row for row, within a memory budget."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from haetae.errors import UsageError
from haetae.pipelines.audit.job import run_audit
from haetae.pipelines.io.beam_io import MIN_SPLIT_BYTES, read_jsonl_dir
from haetae.pipelines.io.samples import synthetic_corpus
from haetae.pipelines.runners.local import _Watchdog, parse_size

ROOT = Path(__file__).resolve().parents[3]
BEAM_IN_MEMORY = {"runner": "DirectRunner", "beam_args": ["--direct_running_mode=in_memory"]}


def outputs(out: Path) -> dict:
    """Everything an audit publishes that does not name its run: ledger rows, kept and quarantine lines,
    aggregates (without the input paths list order) and the validation totals."""
    ledger = sorted(pq.read_table(sorted((out / "ledger").glob("*.parquet"))).to_pylist(), key=lambda r: r["key"])
    lines = {name: sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in read_jsonl_dir(str(out / name)))
             for name in ("kept", "quarantine") if (out / name).exists()}
    aggregates = json.loads((out / "aggregates.json").read_text(encoding="utf-8"))
    validation = json.loads((out / "validation.json").read_text(encoding="utf-8"))
    return {"ledger": ledger, **lines, "aggregates": aggregates, "totals": validation["totals"]}


def _mixed_corpus(path: Path, n: int = 1100) -> list[str]:
    """Synthetic documents (near duplicates included) with bad lines, a blank line, ids of two JSON types and
    duplicate ids read in other byte ranges."""
    lines = synthetic_corpus(n, seed=7)
    lines.insert(300, '{"id": "cut-off", "text": ')
    lines.insert(500, "[1, 2, 3]")
    lines.insert(600, "")
    lines.insert(700, json.dumps({"id": 77, "text": "숫자 아이디 문서입니다. 연락처 010-1234-5678"}, ensure_ascii=False))
    lines.insert(701, json.dumps({"id": "77", "text": "문자 아이디 문서입니다."}, ensure_ascii=False))
    lines.insert(702, json.dumps({"id": "exact-a", "text": json.loads(lines[10])["text"]}, ensure_ascii=False))
    lines += [lines[5], lines[900], lines[900]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


@pytest.mark.slow
def test_local_runner_matches_the_beam_job_row_for_row(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    _mixed_corpus(corpus)
    assert corpus.stat().st_size > MIN_SPLIT_BYTES  # several byte ranges
    sample = ROOT / "pipelines" / "data" / "sample_corpus.jsonl"
    inputs = [str(corpus), str(sample)]
    beam = run_audit(inputs, str(tmp_path / "beam"), progress=False, report=False, **BEAM_IN_MEMORY)
    local = run_audit(inputs, str(tmp_path / "local"), progress=False, report=False, workers=2)
    assert local.memory["workers"] == 2
    expected, got = outputs(tmp_path / "beam"), outputs(tmp_path / "local")
    assert got["ledger"] == expected["ledger"]
    assert got == expected
    assert local.counts == beam.counts and local.ok
    rules = {r["rule"] for r in got["ledger"]}
    assert {"input.duplicate_id", "input.malformed_json", "dedup.near"} <= rules


@pytest.mark.slow
def test_local_dedup_matches_beam_with_oversized_buckets_and_shingle_verification(tmp_path, monkeypatch, capsys):
    """Also with the candidate pairs flushed every few pairs: the components built as pairs arrive (pairs of
    nodes already connected skipped unverified) are those of all verified pairs."""
    from haetae.pipelines.runners import local as local_audit

    monkeypatch.setattr(local_audit, "MIN_WORKING_SET_BYTES", 512)  # 32 candidate pairs per buffer
    monkeypatch.setattr(local_audit, "WORKING_SET_BYTES", 512)
    policy = (ROOT / "policies" / "data_policy.yaml").read_text(encoding="utf-8")
    policy = policy.replace("minhash: {}", "minhash: {max_bucket_size: 2, verify: shingles}").replace(
        "recognizers: pii_recognizers.yaml", f"recognizers: {ROOT / 'policies' / 'pii_recognizers.yaml'}").replace(
        "detectors: rights_detectors.yaml", f"detectors: {ROOT / 'policies' / 'rights_detectors.yaml'}")
    assert "max_bucket_size: 2" in policy
    (tmp_path / "policy.yaml").write_text(policy, encoding="utf-8")
    lines = synthetic_corpus(400, seed=11)
    lines += [json.dumps({"id": f"copy-{i}", "text": json.loads(lines[3])["text"]}) for i in range(4)]
    (tmp_path / "c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    kwargs = {"policy_path": str(tmp_path / "policy.yaml"), "progress": False, "report": False}
    run_audit([str(tmp_path / "c.jsonl")], str(tmp_path / "beam"), **kwargs, **BEAM_IN_MEMORY)
    capsys.readouterr()
    run_audit([str(tmp_path / "c.jsonl")], str(tmp_path / "local"), **{**kwargs, "progress": True}, workers=0)
    counts = dict(line.strip().split(": ") for line in capsys.readouterr().err.splitlines()
                  if line.startswith("  dedup."))
    expected, got = outputs(tmp_path / "beam"), outputs(tmp_path / "local")
    assert got == expected
    kinds = {r["dup_kind"] for r in got["ledger"]}
    assert {"exact", "near", "representative", "unique"} <= kinds
    assert int(counts["dedup.pairs_already_connected"]) > 0  # pairs were skipped, in several buffers
    assert int(counts["dedup.candidate_pairs"]) == sum(int(counts[f"dedup.{k}"]) for k in (
        "verified_edges", "rejected_pairs", "pairs_already_connected"))


def test_scoring_in_batches_gives_the_record_by_record_result(tmp_path, monkeypatch):
    """Each scorer runs over a batch before the next, and the decide phase reads the spill a batch at a time
    (for the CPU's caches): batches of 7 (bad lines, a blank line and duplicate ids falling inside batches) and
    of one record publish the same rows in the same order."""
    from haetae.pipelines.runners import local as local_audit

    corpus = tmp_path / "corpus.jsonl"
    _mixed_corpus(corpus, n=950)
    published = {}
    for size in (1, 7):
        monkeypatch.setattr(local_audit, "SCORE_BATCH_RECORDS", size)
        out = tmp_path / f"batch-{size}"
        run_audit([str(corpus)], str(out), progress=False, report=False, workers=0)
        shards = sorted(path.read_text(encoding="utf-8").splitlines()  # shard names are random: order by content
                        for path in (out / "kept").glob("*.jsonl"))
        published[size] = outputs(out), shards
    assert published[7] == published[1]
    ledger = published[7][0]["ledger"]
    assert {"input.duplicate_id", "input.malformed_json"} <= {r["rule"] for r in ledger}
    assert sum(map(len, published[7][1])) > 500


def test_memory_budget_sizes():
    assert parse_size("4GiB") == 4 << 30
    assert parse_size("512m") == 512 << 20
    assert parse_size("1.5G") == int(1.5 * (1 << 30))
    assert parse_size(None) is None and parse_size("auto") is None
    for bad in ("lots", "-3G", "4 parsecs"):
        with pytest.raises(UsageError):
            parse_size(bad)


def test_a_budget_too_small_is_one_clear_line(tmp_path):
    (tmp_path / "in.jsonl").write_text(json.dumps({"id": 1, "text": "작은 문서입니다."}) + "\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "haetae.cli", "audit", str(tmp_path / "in.jsonl"), "--out", str(tmp_path / "o"),
         "--memory-budget", "64MiB"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    errors = [ln for ln in proc.stderr.splitlines() if "error" in ln]
    assert len(errors) == 1 and "--memory-budget 64 MiB cannot hold the audit" in errors[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o" / "_SUCCESS").exists()


def test_the_watchdog_stops_a_job_past_its_budget():
    stopped = threading.Event()
    dog = _Watchdog(budget=1 << 20, phase=lambda: "score", stop=stopped.set, every=0.05)
    dog.start()
    assert stopped.wait(10)
    assert "passed --memory-budget 1 MiB" in dog.exceeded and "score phase" in dog.exceeded


def test_beam_options_are_refused_by_the_local_runner(tmp_path):
    (tmp_path / "in.jsonl").write_text(json.dumps({"id": 1, "text": "문서"}) + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match="option of a Beam runner"):
        run_audit([str(tmp_path / "in.jsonl")], str(tmp_path / "o"), beam_args=["--flink_master=x:1"],
                  progress=False)


def test_the_progress_line_shows_phase_records_and_eta():
    from haetae.pipelines.runners.local import _LocalCounters, _Progress

    shared = _LocalCounters()
    shared[0], shared[1] = 12_345, 50_000_000
    display = _Progress(shared, total_bytes=200_000_000, enabled=False)
    display.phase_started -= 10  # 10 s into the phase: 5 MB/s, 150 MB left
    line = display.line()
    assert line.startswith("haetae audit: [score] 12,345 records read, 50.0 of 200.0 MB (25 %)")
    assert "ETA 0m30s" in line
    display.set_phase("decide", total_records=1000)
    shared[2] = 250
    display.phase_started -= 5
    assert "[decide] 250 of 1,000 records" in display.line() and "ETA 0m15s" in display.line()
