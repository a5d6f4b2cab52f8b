"""The audit at corpus scale: wall time, MB/s per core and peak memory of the whole process tree.

Each run is ``haetae audit`` as a user starts it (a fresh process; its worker processes, or the Dask cluster's
processes, are its descendants), on ``synthetic_corpus(N, seed=1)`` (the corpus of ``bench/audit_throughput.py``:
~1.1 KB documents, 8 % near duplicates, planted PII). While it runs, the memory of every process of the tree is
sampled every 0.25 s from /proc: summed RSS (what ``ps`` shows; pages shared between the forked workers and
their parent count once per process) and summed PSS (shared pages split between the processes that share them:
the tree's real share of the machine's memory). A run whose summed RSS passes ``--kill-at`` is killed and
reported as such.

Runs: the default (local) runner at 20k and 200k documents, and Beam's DaskRunner at 200k against a
``dask.distributed`` LocalCluster of ``--workers`` worker processes with ``--dask-memory`` each: the audit's
three phases as Beam pipelines (``--runner DaskRunner``'s default), or with ``--dask-graph`` the whole Beam
graph (``--beam-graph``).
``--million`` adds the local runner at 1M documents (~1.1 GB; needs ~3 GB of disk for the corpus and the
spill, and a machine where 1M documents take reasonable time).

    python bench/audit_scale.py [--sizes 20000,200000] [--dask 200000] [--dask-graph] [--million] [--workers 2]
                                [--memory-budget 6GiB] [--kill-at 20GiB] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from haetae.pipelines.runners.local import parse_size, show_size, tree_memory  # noqa: E402

DASK_DRIVER = """
import sys
from dask.distributed import LocalCluster
from haetae.pipelines.audit.job import run_audit
corpus, out, workers, memory, plan = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
extra = sys.argv[6:]
with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                  memory_limit=memory) as cluster:
    summary = run_audit([corpus], out, runner="DaskRunner", progress=False, beam_plan=plan,
                        beam_args=[f"--dask_client_address={cluster.scheduler_address}", *extra])
print("counts", summary.counts, "ok", summary.ok, "phases", summary.phases, flush=True)
sys.exit(0 if summary.ok else 1)
"""


def write_corpus(n: int, path: Path) -> float:
    """``synthetic_corpus(n, seed=1)`` written once (cached by size); returns its MB."""
    if not path.exists():
        from haetae.pipelines.io.samples import synthetic_corpus

        tmp = path.with_suffix(".tmp")
        tmp.write_text("\n".join(synthetic_corpus(n, seed=1)) + "\n", encoding="utf-8")
        tmp.rename(path)
    return path.stat().st_size / 1e6


def measure(cmd: list[str], kill_at: int, env: dict[str, str]) -> dict:
    """Run ``cmd``, sampling its process tree's memory; returns wall, CPU seconds, peaks and the exit status."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    peak_rss = peak_pss = 0
    killed = False
    import threading

    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)
    reader.start()
    while proc.poll() is None:
        rss, pss = tree_memory(proc.pid)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        if rss > kill_at:
            killed = True
            for pid in reversed(_tree(proc.pid)):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
            break
        time.sleep(0.25)
    proc.wait()
    reader.join(5)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"rc": proc.returncode, "killed": killed, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "peak_rss": peak_rss, "peak_pss": peak_pss, "tail": "".join(output[-6:])}


def _tree(pid: int) -> list[int]:
    from haetae.pipelines.runners.local import process_tree

    return process_tree(pid)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,200000", help="documents per local-runner run, comma separated")
    parser.add_argument("--million", action="store_true", help="also run the local runner at 1,000,000 documents")
    parser.add_argument("--dask", type=int, default=200_000, help="documents of the Dask run (0: none)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--memory-budget", default=None, help="--memory-budget of the local runs (default: auto)")
    parser.add_argument("--dask-memory", default="4GiB", help="memory limit per Dask worker")
    parser.add_argument("--dask-graph", action="store_true",
                        help="run the whole Beam graph on Dask (--beam-graph) instead of the three phases")
    parser.add_argument("--dask-partition-size", type=int, default=None,
                        help="--dask_partition_size of the Dask run (byte ranges per bag partition)")
    parser.add_argument("--kill-at", default="20GiB", help="kill a run whose summed RSS passes this")
    parser.add_argument("--corpus-dir", default=os.path.join(tempfile.gettempdir(), "haetae-scale"))
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s] + ([1_000_000] if args.million else [])
    kill_at = parse_size(args.kill_at)
    corpus_dir = Path(args.corpus_dir)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false", "PYTHONPATH": str(ROOT)}
    cores = os.cpu_count() or 1
    runs = [("local", n) for n in sizes] + ([("dask", args.dask)] if args.dask else [])
    results = []
    for runner, n in runs:
        corpus = corpus_dir / f"synthetic-{n}.jsonl"
        mb = write_corpus(n, corpus)
        with tempfile.TemporaryDirectory(dir=corpus_dir) as tmp:
            out = os.path.join(tmp, "out")
            if runner == "local":
                cmd = [sys.executable, "-m", "haetae.cli", "audit", str(corpus), "--out", out, "--quiet",
                       "--workers", str(args.workers)]
                if args.memory_budget:
                    cmd += ["--memory-budget", args.memory_budget]
            else:
                cmd = [sys.executable, "-c", DASK_DRIVER, str(corpus), out, str(args.workers), args.dask_memory,
                       "graph" if args.dask_graph else "phases"]
                if args.dask_partition_size:
                    cmd.append(f"--dask_partition_size={args.dask_partition_size}")
            print(f"{runner} {n} documents ({mb:.0f} MB) ...", file=sys.stderr, flush=True)
            r = measure(cmd, kill_at, env)
        if runner == "dask":
            runner = "dask graph" if args.dask_graph else "dask phases"
        row = {"runner": runner, "docs": n, "mb": round(mb, 1), "workers": args.workers, "cores": cores, **r,
               "mb_per_s": round(mb / r["wall_s"], 3), "mb_per_s_per_core": round(mb / r["wall_s"] / cores, 3),
               "mb_per_cpu_s": round(mb / r["cpu_s"], 3) if r["cpu_s"] else None}
        results.append(row)
        print(f"  rc {r['rc']}{' (killed at the limit)' if r['killed'] else ''}, {r['wall_s']} s, "
              f"{row['mb_per_s_per_core']} MB/s per core, peak RSS {show_size(r['peak_rss'])}, "
              f"peak PSS {show_size(r['peak_pss'])}", file=sys.stderr, flush=True)
        if r["rc"] != 0:
            print(r["tail"], file=sys.stderr)
    print("| runner | documents | MB | wall s | CPU s | MB/s per core | MB per CPU-s | peak summed RSS | peak summed PSS | exit |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['runner']} | {r['docs']:,} | {r['mb']} | {r['wall_s']} | {r['cpu_s']} | {r['mb_per_s_per_core']} | "
              f"{r['mb_per_cpu_s']} | {show_size(r['peak_rss'])} | {show_size(r['peak_pss'])} | "
              f"{'killed' if r['killed'] else r['rc']} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0 if all(r["rc"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
