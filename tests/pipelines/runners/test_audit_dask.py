"""The audit on Beam's DaskRunner against a dask.distributed LocalCluster of worker processes, each with a
memory limit (Dask spills to disk past 60 % of it), against the default (local) runner: identical rows.

``--runner DaskRunner`` runs the local runner's three phases as Beam pipelines (``pipelines/runners/dask_phases.py``);
``beam_plan="graph"`` (``--beam-graph``) runs the whole Beam graph of ``build_pipeline``. Both are checked."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from haetae.pipelines.audit.job import run_audit
from haetae.pipelines.io.beam_io import MIN_SPLIT_BYTES, read_jsonl_dir

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "pipelines" / "data" / "sample_corpus.jsonl"


def _ledger(out: Path) -> dict[str, dict]:
    rows = pq.read_table(sorted((out / "ledger").glob("*.parquet"))).to_pylist()
    return {r["key"]: r for r in rows}


def _lines(out: Path, name: str) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for r in read_jsonl_dir(str(out / name)))


def _same_rows(out: Path, expected: Path) -> None:
    assert _ledger(out) == _ledger(expected)
    assert _lines(out, "kept") == _lines(expected, "kept")
    assert _lines(out, "quarantine") == _lines(expected, "quarantine")
    assert json.loads((out / "aggregates.json").read_text("utf-8")) == \
        json.loads((expected / "aggregates.json").read_text("utf-8"))


WORKER_MEMORY = "2GiB"  # per worker process (one holds Beam, Presidio, the language model: ~0.5-0.7 GiB)


@pytest.mark.slow
def test_dask_runner_matches_the_default_runner(tmp_path):
    from dask.distributed import LocalCluster

    from haetae.pipelines.io.samples import synthetic_corpus

    corpus = tmp_path / "corpus.jsonl"
    lines = synthetic_corpus(1200, seed=2)  # > MIN_SPLIT_BYTES: several byte ranges, so several tasks
    lines.insert(400, '{"id": "cut-off", "text": ')
    corpus.write_text("\n".join(lines + [lines[4], lines[900]]) + "\n", encoding="utf-8")  # ids met in other ranges
    assert corpus.stat().st_size > MIN_SPLIT_BYTES
    inputs = [str(SAMPLE), str(corpus)]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      memory_limit=WORKER_MEMORY) as cluster:
        address = [f"--dask_client_address={cluster.scheduler_address}"]
        phases = run_audit(inputs, str(tmp_path / "phases"), runner="dask", progress=False, beam_args=address)
        graph = run_audit(inputs, str(tmp_path / "graph"), runner="DaskRunner", progress=False, report=False,
                          beam_args=address, beam_plan="graph")
        info = cluster.scheduler_info["workers"].values()
        limits = [w["memory_limit"] for w in info]
    assert len(limits) == 2 and all(limit == 2 << 30 for limit in limits)
    local = run_audit(inputs, str(tmp_path / "local"), progress=False, report=False, workers=2)
    assert local.memory["workers"] >= 1
    _same_rows(tmp_path / "phases", tmp_path / "local")
    _same_rows(tmp_path / "graph", tmp_path / "local")
    assert phases.counts == local.counts == graph.counts
    assert phases.ok, phases.validation["failed"]
    assert len(read_jsonl_dir(str(tmp_path / "phases" / "kept"))) == phases.counts["keep"] + phases.counts["redact"]
    assert (tmp_path / "phases" / "report.html").stat().st_size > 5000
    assert not (tmp_path / "phases" / "_work").exists()

    # the workers' counters reach the driver and reconcile: every line read is kept, dropped or quarantined
    c = phases.counters
    assert c == local.counters
    assert c["read.records"] + c["read.quarantined"] == phases.counts["input"] == sum(
        phases.counts[d] for d in ("keep", "redact", "drop", "quarantine"))
    assert c["read.duplicate_ids"] == 1 + 2 and c["pii.records"] == c["read.records"]
    manifest = json.loads((tmp_path / "phases" / "_SUCCESS").read_text("utf-8"))
    assert manifest["config"]["runner"] == "haetae.pipelines.runners.options.DaskRunner"
    assert manifest["config"]["beam_plan"] == "phases"
    assert manifest["counts"]["records_read"] + manifest["counts"]["lines_quarantined_by_reader"] == \
        manifest["counts"]["input"]
    assert json.loads((tmp_path / "graph" / "_SUCCESS").read_text("utf-8"))["config"]["beam_plan"] == "graph"
