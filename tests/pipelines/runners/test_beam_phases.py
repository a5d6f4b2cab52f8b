"""The audit's three phases run by a Beam runner (pipelines/runners/dask_phases.py), here the in-memory DirectRunner:
the local runner's rows, and a decide task that a runner reruns leaves no row twice."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from haetae.pipelines.audit.job import local_spec, run_audit
from haetae.pipelines.io.beam_io import read_jsonl_dir
from haetae.pipelines.policy.schema import load_policy

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "pipelines" / "data" / "sample_corpus.jsonl"
IN_MEMORY = ["--direct_running_mode=in_memory"]


def _rows(out: Path) -> dict[str, list[str]]:
    return {name: sorted(json.dumps(r, sort_keys=True) for r in read_jsonl_dir(str(out / name)))
            for name in ("kept", "quarantine")}


@pytest.mark.slow
def test_phases_on_a_beam_runner_give_the_local_runners_rows(tmp_path):
    import pyarrow.parquet as pq

    phases = run_audit([str(SAMPLE)], str(tmp_path / "phases"), runner="DirectRunner", beam_args=IN_MEMORY,
                       beam_plan="phases", progress=False, report=False)
    local = run_audit([str(SAMPLE)], str(tmp_path / "local"), progress=False, report=False, workers=0)

    def ledger(out):
        return sorted(pq.read_table(sorted((out / "ledger").glob("*.parquet"))).to_pylist(), key=lambda r: r["key"])

    assert ledger(tmp_path / "phases") == ledger(tmp_path / "local")
    assert _rows(tmp_path / "phases") == _rows(tmp_path / "local")
    assert phases.counts == local.counts and phases.counters == local.counters
    assert phases.counters["read.records"] + phases.counters["read.quarantined"] == phases.counts["input"]
    manifest = json.loads((tmp_path / "phases" / "_SUCCESS").read_text("utf-8"))
    assert manifest["config"]["beam_plan"] == "phases"
    assert manifest["config"]["runner"] == "haetae.pipelines.runners.options.DirectRunner"


def test_a_rerun_decide_task_writes_nothing_twice(tmp_path):
    from haetae.pipelines.runners import dask_phases as B
    from haetae.pipelines.runners import local as L

    out = tmp_path / "stage"
    out.mkdir()
    spec = L._Spec(work=str(out / L.WORK_DIR), **local_spec([str(SAMPLE)], str(out), load_policy(None)))
    os.makedirs(spec.work)
    score, decide = B.ScoreRanges("job", spec), B.DecideRanges("job", spec)
    try:
        score.setup()
        assert list(score.process(0)) == [0]
        facts = [B._load(L._path(spec, "facts", 0, "pkl"))]
        L.global_step(L._SPEC, facts, 1 << 30, lambda m: None)
        decide.setup()
        assert list(decide.process((0, None))) == [0]
        assert list(decide.process((0, None))) == [0]  # its inputs are gone: the finished attempt stands
    finally:
        B._forget("job")
    attempts = [p for p in os.listdir(spec.work) if p.startswith("attempt-")]
    assert len(attempts) == 1
    done = B._load(L._path(spec, "decided", 0, "pkl"))
    B._publish_attempt(spec, done["attempt"])
    kept = read_jsonl_dir(str(out / "kept"))
    assert len(kept) == len({r["id"] for r in kept}) > 100
