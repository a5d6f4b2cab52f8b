"""The local runner's three phases run by a Beam runner: the audit on Dask in bounded worker memory.

The Beam graph of :func:`haetae.pipelines.audit.job.build_pipeline` shuffles full records; Beam's Dask
translation materialises each bag partition as Python lists, so at 200k documents its workers pass a 4 GiB
memory limit. Here the runner only schedules the phases of :mod:`haetae.pipelines.runners.local`:

1. ``Create(range indices) | Reshuffle() | ParDo(ScoreRanges)``: each task scores one byte range with
   :func:`~haetae.pipelines.runners.local.score_range` (spill and claims in the staging folder's ``_work``) and
   writes its small facts (counts, lines, file faults, counters) to ``_work/facts-N.pkl``;
2. the driver reads the facts back and runs :func:`~haetae.pipelines.runners.local.global_step` on the claims;
3. ``Create((index, first line)) | Reshuffle() | ParDo(DecideRanges)``: each task decides one range into an
   attempt folder of its own and then names that folder in ``_work/decided-N.pkl``; the driver moves the
   named attempt's shards into the output, so a task that a runner retries (a worker lost) leaves no rows twice.

So no full record passes through the runner, a worker holds one range at a time, and the result is the local
runner's, row for row (``tests/pipelines/runners/test_audit_dask.py``). The workers must share the staging folder's
filesystem with the driver (a local cluster, or one mount on every machine). Each worker process sets the
DoFns up once per job (and keeps them until another audit replaces them) and runs one range at a time (the set-up DoFns keep state per call): give Dask workers
one thread each and more processes instead. Beam metrics are not used (Dask has none): each task returns its
counters in its facts, which the driver sums, as the local runner does.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import threading
import time
import uuid
from typing import Any

import apache_beam as beam

from haetae.errors import UsageError
from haetae.pipelines.runners import local as L

PHASE_OUTPUTS = ("kept", "ledger", "quarantine", "_aggregates")  # what decide_range writes under its out_dir
_LOCK = threading.Lock()  # one range at a time per process: the set-up DoFns are shared
_JOB: str | None = None  # the job whose spec this process has installed


def _install(job: str, spec: L._Spec) -> None:
    """Install the job's spec in this process once (as ``_init_worker`` does for the local runner's pool)."""
    global _JOB
    if _JOB != job:
        L._init_worker(spec)
        L._READY = False
        _JOB = job


def _forget(job: str) -> None:
    """Drop the set-up DoFns where the runner ran them in this process (an in-memory DirectRunner)."""
    global _JOB
    if _JOB == job:
        L._SPEC, L._READY, _JOB = None, False, None


def _dump(path: str, value: Any) -> None:
    """Write atomically: a reader sees the whole file or none."""
    tmp = f"{path}.{uuid.uuid4().hex[:8]}.tmp"
    with open(tmp, "wb") as fh:
        pickle.dump(value, fh, protocol=5)
    os.replace(tmp, path)


def _load(path: str) -> Any:
    with open(path, "rb") as fh:
        return pickle.load(fh)


class _PhaseFn(beam.DoFn):
    def __init__(self, job: str, spec: L._Spec):
        self.job, self.spec = job, spec

    def setup(self):
        with _LOCK:
            _install(self.job, self.spec)


class ScoreRanges(_PhaseFn):
    """Phase 1 for one range index: score, spill, keep the claims; yield (and save) the small facts."""

    def process(self, index: int):
        with _LOCK:
            _install(self.job, self.spec)
            facts = L.score_range(index)
            _dump(L._path(L._SPEC, "facts", index, "pkl"), facts)
        yield index


class DecideRanges(_PhaseFn):
    """Phase 3 for one ``(index, first line)``: decide the range into an attempt folder, then name it."""

    def process(self, item: tuple[int, int | None]):
        index, first_line = item
        with _LOCK:
            _install(self.job, self.spec)
            done = L._path(L._SPEC, "decided", index, "pkl")
            if not os.path.exists(done):  # a rerun of a finished task (its result lost with a worker)
                attempt = os.path.join(L._SPEC.work, f"attempt-{index:05d}-{uuid.uuid4().hex[:12]}")
                facts = L.decide_range(index, first_line, out_dir=attempt, keep_inputs=True)
                _dump(done, {**facts, "attempt": attempt})
            L.remove_inputs(L._SPEC, index)
        yield index


def _run(pipeline_options, name: str, transform: beam.DoFn, items: list, out: str) -> None:
    from haetae.pipelines.runners.execution import run_pipeline

    p = beam.Pipeline(options=pipeline_options)
    _ = p | f"{name}Items" >> beam.Create(items) | f"{name}Spread" >> beam.Reshuffle() | name >> beam.ParDo(transform)
    run_pipeline(p, out=out)


def _collect(spec: L._Spec, kind: str, n: int) -> list[dict[str, Any]]:
    missing = [i for i in range(n) if not os.path.exists(L._path(spec, kind, i, "pkl"))]
    if missing:
        raise UsageError(f"the runner's workers wrote no {kind} for {len(missing)} of {n} input ranges (first: "
                         f"{missing[0]}): they must share the output's staging folder ({spec.work}) with this "
                         "machine; give --beam-graph to run the audit as one Beam graph instead")
    return [_load(L._path(spec, kind, i, "pkl")) for i in range(n)]


def _publish_attempt(spec: L._Spec, attempt: str) -> None:
    """Move one finished attempt's shards into the output folders (same filesystem: renames)."""
    for sub in PHASE_OUTPUTS:
        src = os.path.join(attempt, sub)
        if not os.path.isdir(src):
            continue
        dst = os.path.join(spec.out_dir, sub)
        os.makedirs(dst, exist_ok=True)
        for name in sorted(os.listdir(src)):
            os.replace(os.path.join(src, name), os.path.join(dst, name))


def run_phases(spec_args: dict[str, Any], pipeline_options, *, memory_budget: int | None, out: str,
               say) -> L.LocalRun:
    """Run the audit's three phases on the Beam runner of ``pipeline_options`` into ``spec_args["out_dir"]``."""
    from haetae.pipelines.runners.execution import is_remote

    if is_remote(spec_args["out_dir"]):
        raise UsageError("the phased audit on a Beam runner needs its staging folder on a filesystem its workers "
                         "share (not an object store); give --beam-graph to run the audit as one Beam graph")
    ranges = spec_args["ranges"]
    work = os.path.join(spec_args["out_dir"], L.WORK_DIR)
    os.makedirs(work, mode=0o700, exist_ok=True)
    spec = L._Spec(work=work, progress=None, **spec_args)  # no shared progress counters across machines
    job = uuid.uuid4().hex
    run = L.LocalRun()
    started = time.time()
    try:
        say(f"haetae audit: score: {len(ranges)} input range(s) on the runner's workers")
        _run(pipeline_options, "ScoreRanges", ScoreRanges(job, spec), list(range(len(ranges))), out)
        facts = _collect(spec, "facts", len(ranges))
        run.phases["score"] = round(time.time() - started, 2)
        for f in facts:
            L._add(run.counters, f["counters"])
        t = time.time()
        budget = memory_budget or L.default_budget()
        rss, pss = L._proc_memory(os.getpid())
        run.counters.update(L.global_step(spec, facts, budget - (pss or rss), say))
        run.phases["dedup"] = round(time.time() - t, 2)
        first_lines = L._first_lines(ranges, facts)
        t = time.time()
        say(f"haetae audit: decide: {sum(f['records'] for f in facts)} records on the runner's workers")
        _run(pipeline_options, "DecideRanges", DecideRanges(job, spec),
             [(i, first_lines.get(i)) for i in range(len(ranges))], out)
        decided = _collect(spec, "decided", len(ranges))
        for d in decided:
            _publish_attempt(spec, d["attempt"])
            L._add(run.counters, d["counters"])
        run.phases["decide"] = round(time.time() - t, 2)
        L._write_side_outputs(spec, facts)
    finally:
        _forget(job)
        with contextlib.suppress(OSError):
            shutil.rmtree(work)
    return run
