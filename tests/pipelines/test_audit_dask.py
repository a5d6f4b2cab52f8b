"""The audit job on Beam's DaskRunner against a dask.distributed LocalCluster of worker processes."""

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


@pytest.mark.slow
def test_dask_runner_matches_direct_runner(tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        dask_out = tmp_path / "dask"
        summary = run_audit([str(SAMPLE)], str(dask_out), runner="DaskRunner", progress=False,
                            beam_args=[f"--dask_client_address={cluster.scheduler_address}"])
        workers = len(cluster.scheduler_info["workers"])
    assert workers == 2
    direct_out = tmp_path / "direct"
    run_audit([str(SAMPLE)], str(direct_out), beam_args=["--direct_running_mode=in_memory"], progress=False,
              report=False)
    dask_rows, direct_rows = _ledger(dask_out), _ledger(direct_out)
    assert dask_rows == direct_rows
    assert summary.ok, summary.validation["failed"]
    assert len(read_jsonl_dir(str(dask_out / "kept"))) == summary.counts["keep"] + summary.counts["redact"]
    assert (dask_out / "report.html").stat().st_size > 5000
