"""The audit job on Beam's DaskRunner against a dask.distributed LocalCluster of worker processes, each with a
memory limit (Dask spills to disk past 60 % of it), against the default (local) runner: identical rows."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from haetae.pipelines.audit import run_audit
from haetae.pipelines.io import read_jsonl_dir

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "pipelines" / "data" / "sample_corpus.jsonl"


def _ledger(out: Path) -> dict[str, dict]:
    rows = pq.read_table(sorted((out / "ledger").glob("*.parquet"))).to_pylist()
    return {r["key"]: r for r in rows}


def _lines(out: Path, name: str) -> list[str]:
    import json

    return sorted(json.dumps(r, sort_keys=True) for r in read_jsonl_dir(str(out / name)))


WORKER_MEMORY = "2GiB"  # per worker process (one holds Beam, Presidio, the language model: ~0.5-0.7 GiB)


@pytest.mark.slow
def test_dask_runner_matches_the_default_runner(tmp_path):
    from dask.distributed import LocalCluster

    from haetae.pipelines.samples import synthetic_corpus

    corpus = tmp_path / "corpus.jsonl"
    lines = synthetic_corpus(300, seed=2)
    corpus.write_text("\n".join(lines + [lines[4]]) + "\n", encoding="utf-8")
    inputs = [str(SAMPLE), str(corpus)]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      memory_limit=WORKER_MEMORY) as cluster:
        dask_out = tmp_path / "dask"
        summary = run_audit(inputs, str(dask_out), runner="DaskRunner", progress=False,
                            beam_args=[f"--dask_client_address={cluster.scheduler_address}"])
        info = cluster.scheduler_info["workers"].values()
        limits = [w["memory_limit"] for w in info]
    assert len(limits) == 2 and all(limit == 2 << 30 for limit in limits)
    direct_out = tmp_path / "local"
    local = run_audit(inputs, str(direct_out), progress=False, report=False, workers=2)
    assert local.memory["workers"] >= 1
    dask_rows, direct_rows = _ledger(dask_out), _ledger(direct_out)
    assert dask_rows == direct_rows
    assert _lines(dask_out, "kept") == _lines(direct_out, "kept")
    assert _lines(dask_out, "quarantine") == _lines(direct_out, "quarantine")
    assert summary.ok, summary.validation["failed"]
    assert len(read_jsonl_dir(str(dask_out / "kept"))) == summary.counts["keep"] + summary.counts["redact"]
    assert (dask_out / "report.html").stat().st_size > 5000
