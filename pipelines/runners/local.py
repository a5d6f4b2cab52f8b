"""The audit on one machine with bounded memory: the ``local`` runner (the default of ``haetae audit``).

The same steps as the Beam job of :func:`haetae.pipelines.audit.job.build_pipeline` (the same DoFns, called
directly), in three phases, so no full record is ever held in a shuffle:

1. **Score** (worker processes, one task per byte range of :func:`~haetae.pipelines.io.beam_io.split_ranges`):
   read, parse, language, quality, PII, rights, pre-decision, MinHash sketch. Each scored record is
   appended to a spill file of its range (``_work/scored-N.pkl``, in input order); only its *claim* is kept
   in arrays: id, offset, whether it is undecided, exact key (32 bytes), signature and LSH band keys
   (``_work/claims-N.*``).
2. **Global** (the driver, on compact arrays): the first record of each id (the later ones are quarantined
   as ``duplicate_id``), then dedup of the first claims exactly as :class:`~.dedup.DeduplicateSketches`
   does (exact groups, LSH buckets by one sort per partition, each candidate pair verified once, connected
   components with the smallest id as root, cluster assignments). Ids become ranks (int order = id order),
   so the only per-record Python objects held are the ids themselves (about 100 bytes each); band keys are
   processed in hash partitions sized to ``--memory-budget``, signatures are read back per chunk of pairs
   from the range files (memory-mapped, then unmapped). The result is written per range (``_work/result-N``).
3. **Decide** (worker processes, one task per range): the spill file is re-read in order, each record meets
   its dedup result and is decided, redacted and re-scanned (:class:`~haetae.pipelines.audit.job.FinalDecide`),
   and the kept, ledger, quarantine and aggregate shards are written as they fill.

Memory: a worker holds one range's claims (a range is at most 64 MiB of input) and the shards it is filling;
the driver holds the id index and one partition. A watchdog samples the memory of the whole process tree
(proportional set size where Linux reports it, else RSS) and stops the job with one line when it passes
``--memory-budget``, before the machine swaps; the budget is also checked before each phase.

The result is identical, row for row, to the Beam job's on any runner (``tests/pipelines/runners/test_local_audit.py``).
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import pickle
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from haetae.errors import HaetaeError, UsageError

WORK_DIR = "_work"
PROGRESS_EVERY = 256  # records between updates of the shared progress counters
# Records a worker scores step by step: each scorer runs over the batch before the next starts, which keeps its
# code and tables in the CPU's caches (record by record the steps evict each other: ~1.5x the CPU per record in one process).
SCORE_BATCH_RECORDS = 1024
SCORE_BATCH_CHARS = 4 << 20  # and at most this much text held at once
SHARD_ROWS = 20_000  # rows per output shard (the Beam path's bundle sinks: 100,000)
WORKER_BASE_BYTES = 450 << 20  # what one worker process needs before its first range (measured: ~0.35-0.45 GiB)
WORKING_SET_BYTES = 192 << 20  # the driver's arrays per LSH partition or verification chunk (less if the budget is tight)
MIN_WORKING_SET_BYTES = 32 << 20
ID_INDEX_BYTES = 160  # driver bytes per record for the id index (string, object slot, ranks, offsets)
_GiB = 1 << 30


class MemoryBudgetExceeded(UsageError):
    """The job would not fit (or stopped fitting) in ``--memory-budget``."""


# ---------------------------------------------------------------------------------------------- sizes


def parse_size(text: str | int | None) -> int | None:
    """``4GiB``, ``4G``, ``512MiB``, ``1.5g``, ``2000000000`` -> bytes; None/"auto" -> None."""
    if text is None or isinstance(text, int):
        return text
    value = str(text).strip().lower().replace(" ", "")
    if value in ("", "auto"):
        return None
    units = {"": 1, "b": 1, "k": 1 << 10, "kb": 1000, "kib": 1 << 10, "m": 1 << 20, "mb": 1000 ** 2,
             "mib": 1 << 20, "g": _GiB, "gb": 1000 ** 3, "gib": _GiB, "t": 1 << 40, "tb": 1000 ** 4, "tib": 1 << 40}
    number = value.rstrip("abgikmt")
    unit = value[len(number):]
    try:
        amount = float(number)
    except ValueError:
        amount = -1
    if unit not in units or amount <= 0:
        raise UsageError(f"--memory-budget {text!r}: give a size like 4GiB, 6G or 800MiB")
    return int(amount * units[unit])


def show_size(n: float) -> str:
    return f"{n / _GiB:.2f} GiB" if n >= _GiB else f"{n / (1 << 20):.0f} MiB"


def available_memory() -> int | None:
    """MemAvailable of this machine (Linux), else None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def default_budget() -> int:
    """75 % of the memory available when the job starts (8 GiB where that is unknown)."""
    avail = available_memory()
    return int(avail * 0.75) if avail else 8 * _GiB


# -------------------------------------------------------------------------------------- process memory


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                kids.extend(int(p) for p in fh.read().split())
    except OSError:
        pass
    return kids


def process_tree(pid: int | None = None) -> list[int]:
    pid = pid or os.getpid()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(_children(p))
    return out


def _proc_memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in bytes (PSS = RSS where smaps_rollup is unavailable)."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
        return rss, pss or rss
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0, 0
    return rss, rss


def tree_memory(pid: int | None = None) -> tuple[int, int]:
    """(summed RSS, summed PSS) of a process and all its descendants (Linux; (0, 0) elsewhere)."""
    rss = pss = 0
    for p in process_tree(pid):
        r, s = _proc_memory(p)
        rss, pss = rss + r, pss + s
    return rss, pss


class _Watchdog(threading.Thread):
    """Samples the tree's memory; past the budget it records why and calls ``stop`` (kills the workers)."""

    def __init__(self, budget: int, phase: Callable[[], str], stop: Callable[[], None], every: float = 0.5):
        super().__init__(name="haetae-memory-watchdog", daemon=True)
        self.budget, self.phase, self.stop_job, self.every = budget, phase, stop, every
        self.peak_rss = self.peak_pss = 0
        self.exceeded: str | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        if not os.path.exists("/proc/self/smaps_rollup") and not os.path.exists("/proc/self/statm"):
            return
        while not self._halt.wait(self.every):
            rss, pss = tree_memory()
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            if pss > self.budget and self.exceeded is None:
                self.exceeded = (f"the audit passed --memory-budget {show_size(self.budget)} (its processes held "
                                 f"{show_size(pss)} in the {self.phase()} phase) and was stopped before the machine "
                                 "swaps; raise --memory-budget, give fewer --workers, or run it on Dask, Flink or "
                                 "Spark (see the README)")
                self.stop_job()
                return

    def halt(self) -> None:
        self._halt.set()


# ------------------------------------------------------------------------------------------ the job spec


@dataclass
class _Spec:
    """Everything a worker needs; built in the driver (configs validated there), inherited by fork."""

    ranges: list  # FileRange
    work: str
    out_dir: str
    policy: Any
    text_field: str
    id_field: str
    secrets: Any
    reader: Any  # ReadRanges (not set up)
    scorers: list  # the DoFns from language to pre-decision, not set up
    final: Any  # FinalDecide
    scan_quarantine: Any
    store_quarantine: Any
    params: Any  # DedupParams
    progress: Any = None  # multiprocessing Array('q', 3): records read, bytes read, records decided


class _NoProgress:
    def tick(self, n: int = 1) -> None:
        pass


class _Tracker:
    """Stands in for Beam's state sampler so the DoFns' ``Metrics.counter`` calls are counted."""

    def __init__(self):
        from apache_beam.metrics.execution import MetricsContainer

        self.metrics_container = MetricsContainer("haetae-local")

    def current_state(self):
        return self

    def update_metric(self, typed_metric_name, value) -> None:
        self.metrics_container.get_metric_cell(typed_metric_name).update(value)

    def counters(self) -> dict[str, int]:
        from haetae.pipelines.steps import counter_key

        return {counter_key(k.metric.namespace, k.metric.name): v for k, v in
                self.metrics_container.get_cumulative().counters.items()}


@contextlib.contextmanager
def _counting() -> Iterator[_Tracker]:
    from apache_beam.runners.worker import statesampler

    tracker = _Tracker()
    previous = statesampler.get_current_tracker()
    statesampler.set_current_tracker(tracker)
    try:
        yield tracker
    finally:
        statesampler.set_current_tracker(previous)


_SPEC: _Spec | None = None
_READY = False


def _init_worker(spec: _Spec | None = None) -> None:
    global _SPEC
    if spec is not None:
        _SPEC = spec
    with contextlib.suppress(AttributeError, OSError):
        os.nice(0)


def _setup() -> _Spec:
    """Set the DoFns up once per process (language model, PII scanner, rights scanner, MinHasher)."""
    global _READY
    spec = _SPEC
    if not _READY:
        for fn in (spec.reader, *[s for s in spec.scorers if hasattr(s, "setup")], spec.final,
                   spec.scan_quarantine, spec.store_quarantine):
            fn.setup()
            if hasattr(fn, "_progress"):
                fn._progress = _NoProgress()  # the local runner shows its own progress
        from haetae.pipelines.dedup.minhash import MinHasher

        spec._hasher = MinHasher(spec.params)
        _READY = True
    return spec


def _bump_progress(spec: _Spec, slot: int, n: int) -> None:
    if spec.progress is not None and n:
        with spec.progress.get_lock():
            spec.progress[slot] += n


def _one(fn, item):
    if callable(fn) and not hasattr(fn, "process"):
        return fn(item)
    out = list(fn.process(item))
    if len(out) != 1:
        raise RuntimeError(f"{type(fn).__name__} gave {len(out)} outputs for one record")
    return out[0]


def _path(spec: _Spec, kind: str, index: int, ext: str) -> str:
    return os.path.join(spec.work, f"{kind}-{index:05d}.{ext}")


# --------------------------------------------------------------------------------------- phase 1: score


@contextlib.contextmanager
def _quiet_reader() -> Iterator[None]:
    """The reader's per-file warnings below ERROR are not shown, as on Beam's runners (whose workers log at
    ERROR): a file fault is reported by the job itself (``raise_for_file_faults``, the quarantine row)."""
    import logging

    logger = logging.getLogger("haetae.pipelines.io.beam_io")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def score_range(index: int) -> dict[str, Any]:
    """Read, score and sketch one range; spill the scored records, save the claims; return small facts."""
    from apache_beam.pvalue import TaggedOutput

    from haetae.pipelines.dedup.minhash import EMPTY_SIGNATURE_VALUE, band_hashes
    from haetae.pipelines.dedup.transforms import document_sketch
    from haetae.pipelines.io.beam_io import FILE_FAULTS_TAG, LINES_TAG, QUARANTINE_TAG

    spec = _setup()
    fr = spec.ranges[index]
    p = spec.params
    ids: list[str] = []
    offsets: list[int] = []
    sketched: list[bool] = []
    keys: list[bytes] = []
    sigs: list[bytes] = []
    extras: list[bytes] = []
    faults: list[dict] = []
    range_lines = 0
    pending = 0
    last_offset = max(fr.start, 0)
    empty_sig = np.full(p.num_perm, EMPTY_SIGNATURE_VALUE, dtype=np.uint32).tobytes()
    batch: list[dict] = []
    batch_chars = 0

    def score_batch() -> None:
        """Each scorer over the whole batch, then sketch and spill its records in input order."""
        nonlocal batch_chars, pending, last_offset
        scored = batch
        for step in spec.scorers:
            scored = [_one(step, rec) for rec in scored]
        for rec in scored:
            sketch = None if "decision" in rec else document_sketch(spec._hasher, rec["text"])
            pickle.dump(("r", rec), spill, protocol=5)
            ids.append(rec["id_key"])
            offsets.append(rec["offset"])
            sketched.append(sketch is not None)
            if sketch is None:
                keys.append(bytes(32))
                sigs.append(empty_sig)
                extras.append(b"")
            else:
                keys.append(bytes.fromhex(sketch[0]))
                sigs.append(sketch[1])
                extras.append(sketch[2])
        if scored:
            pending += len(scored)
            if pending >= PROGRESS_EVERY:
                offset = scored[-1]["offset"]
                _bump_progress(spec, 0, pending)
                _bump_progress(spec, 1, max(0, offset - last_offset))
                last_offset, pending = max(last_offset, offset), 0
        batch.clear()
        batch_chars = 0

    with _counting() as tracker, _quiet_reader(), open(_path(spec, "scored", index, "pkl"), "wb") as spill:
        spec.reader.start_bundle()
        for out in spec.reader.process(fr):
            if isinstance(out, TaggedOutput):
                if out.tag == QUARANTINE_TAG:
                    score_batch()  # the spill keeps the input's order of records and quarantined lines
                    pickle.dump(("q", out.value), spill, protocol=5)
                elif out.tag == LINES_TAG:
                    range_lines = out.value[1][1]
                elif out.tag == FILE_FAULTS_TAG:
                    faults.append(out.value)
                continue
            batch.append(out)
            batch_chars += len(out["text"])
            if len(batch) >= SCORE_BATCH_RECORDS or batch_chars >= SCORE_BATCH_CHARS:
                score_batch()
        score_batch()
        produced = spec.reader._produced
        counters = tracker.counters()
    _bump_progress(spec, 0, pending)
    size = fr.size if fr.end < 0 else fr.end - fr.start
    _bump_progress(spec, 1, max(0, (fr.start + size if size >= 0 else last_offset) - last_offset))
    n = len(ids)
    sig_matrix = np.frombuffer(b"".join(sigs), dtype=np.uint32).reshape(n, p.num_perm) if n else \
        np.zeros((0, p.num_perm), dtype=np.uint32)
    sketched_arr = np.array(sketched, dtype=bool)
    empty = np.all(sig_matrix == EMPTY_SIGNATURE_VALUE, axis=1) if n else np.zeros(0, dtype=bool)
    banded = sketched_arr & ~empty
    bands = np.zeros((n, p.bands), dtype=np.uint64)
    if banded.any():
        bands[banded] = band_hashes(sig_matrix[banded], p)
    np.save(_path(spec, "sigs", index, "npy"), sig_matrix)
    np.save(_path(spec, "bands", index, "npy"), bands)
    np.save(_path(spec, "keys", index, "npy"),
            np.frombuffer(b"".join(keys), dtype=np.uint64).reshape(n, 4) if n else np.zeros((0, 4), np.uint64))
    with open(_path(spec, "claims", index, "pkl"), "wb") as fh:
        pickle.dump({"ids": ids, "offsets": np.array(offsets, dtype=np.int64), "sketched": sketched_arr,
                     "banded": banded}, fh, protocol=5)
    if p.verify == "shingles":
        with open(_path(spec, "extras", index, "pkl"), "wb") as fh:
            pickle.dump(extras, fh, protocol=5)
    return {"index": index, "records": n, "produced": produced, "lines": range_lines, "faults": faults,
            "counters": counters}


# -------------------------------------------------------------------------------------- phase 2: global


class _Claims:
    """Per-range claim arrays, read back on demand (memory-mapped, then dropped)."""

    def __init__(self, spec: _Spec, counts: list[int]):
        self.spec, self.counts = spec, counts
        self.starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def load(self, index: int) -> dict[str, Any]:
        with open(_path(self.spec, "claims", index, "pkl"), "rb") as fh:
            return pickle.load(fh)

    def array(self, kind: str, index: int) -> np.ndarray:
        return np.load(_path(self.spec, kind, index, "npy"), mmap_mode="r")

    def rows(self, kind: str, seqs: np.ndarray) -> np.ndarray:
        """Rows of ``kind`` ("sigs", "keys", "bands") for global sequence numbers ``seqs`` (any order)."""
        seqs = np.asarray(seqs, dtype=np.int64)
        ranges = np.searchsorted(self.starts, seqs, side="right") - 1
        out = None
        for r in np.unique(ranges).tolist():
            pick = ranges == r
            mm = self.array(kind, r)
            part = np.asarray(mm[seqs[pick] - self.starts[r]])
            del mm
            if out is None:
                out = np.empty((len(seqs), *part.shape[1:]), dtype=part.dtype)
            out[pick] = part
        if out is None:
            mm = self.array(kind, 0) if self.counts else None
            shape = mm.shape[1:] if mm is not None else (0,)
            return np.empty((0, *shape), dtype=mm.dtype if mm is not None else np.uint32)
        return out


def _find(parent: np.ndarray, x: int) -> int:
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:
        parent[x], x = root, parent[x]
    return root


def _dedup(name: str) -> str:
    """A dedup counter as the Beam job's dedup stages name it (:data:`haetae.pipelines.dedup.transforms.NAMESPACE`)."""
    from haetae.pipelines.dedup.transforms import NAMESPACE
    from haetae.pipelines.steps import counter_key

    return counter_key(NAMESPACE, name)


def global_step(spec: _Spec, facts: list[dict[str, Any]], budget_left: int,
                say: Callable[[str], None]) -> dict[str, int]:
    """Duplicate ids and dedup over all claims; writes ``result-N`` per range; returns counters."""
    from haetae.pipelines.dedup.minhash import bucket_pairs

    p = spec.params
    counts = [f["records"] for f in facts]
    claims = _Claims(spec, counts)
    n_total = int(claims.starts[-1])
    counters: dict[str, int] = {}
    if n_total * ID_INDEX_BYTES > budget_left:
        raise MemoryBudgetExceeded(
            f"the audit's id index of {n_total} records needs about {show_size(n_total * ID_INDEX_BYTES)} but only "
            f"{show_size(budget_left)} of --memory-budget is left; raise --memory-budget or run on Dask, Flink or Spark")
    # ids, offsets and flags of every claim, in input order (range order = (source, offset) order)
    ids = np.empty(n_total, dtype=object)
    offsets = np.empty(n_total, dtype=np.int64)
    sketched = np.empty(n_total, dtype=bool)
    banded = np.empty(n_total, dtype=bool)
    for r in range(len(counts)):
        c = claims.load(r)
        a, b = claims.starts[r], claims.starts[r + 1]
        ids[a:b] = c["ids"]
        offsets[a:b], sketched[a:b], banded[a:b] = c["offsets"], c["sketched"], c["banded"]
    range_of = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
    if n_total:
        uniq, first_idx, rank = np.unique(ids, return_index=True, return_inverse=True)
    else:
        uniq, first_idx, rank = np.empty(0, dtype=object), np.empty(0, np.int64), np.empty(0, np.int64)
    del ids
    rank = rank.reshape(-1).astype(np.int64)
    is_first = np.zeros(n_total, dtype=bool)
    is_first[first_idx] = True
    first_of = first_idx[rank]  # the sequence number of the first claim of each claim's id

    # dedup of the first claims that are undecided; node = position in id order among them
    part_seq = np.flatnonzero(is_first & sketched)
    part_seq = part_seq[np.argsort(rank[part_seq], kind="stable")]
    m = len(part_seq)
    counters[_dedup("documents")] = m
    node_of = np.full(n_total, -1, dtype=np.int64)
    node_of[part_seq] = np.arange(m)
    keys = claims.rows("keys", part_seq) if m else np.zeros((0, 4), np.uint64)
    order = np.lexsort((np.arange(m), keys[:, 3], keys[:, 2], keys[:, 1], keys[:, 0])) if m else np.zeros(0, np.int64)
    ks = keys[order]
    new_group = np.ones(m, dtype=bool)
    if m > 1:
        new_group[1:] = np.any(ks[1:] != ks[:-1], axis=1)
    group_start = np.flatnonzero(new_group)
    group_rep = np.empty(m, dtype=np.int64)
    group_rep[order] = np.repeat(order[group_start], np.diff(np.r_[group_start, m]))  # smallest node per key
    del keys, ks
    counters[_dedup("exact_duplicates")] = int(m - len(group_start))
    is_rep = group_rep == np.arange(m)
    rep_banded = is_rep & banded[part_seq]

    # LSH: band keys of the representatives, pooled and split into hash partitions that fit the budget
    band_nodes = np.flatnonzero(rep_banded)
    entry_bytes = 40  # key + owner + sort order + mask, per (document, band)
    share = max(MIN_WORKING_SET_BYTES, min(WORKING_SET_BYTES, budget_left // 3))
    parts = max(1, math.ceil(len(band_nodes) * p.bands * entry_bytes / share))
    say(f"dedup: {m} documents, {len(group_start)} exact groups, LSH in {parts} partition(s)")
    components = _Components(m, spec, claims, part_seq, p, share)
    for part in range(parts if len(band_nodes) else 0):
        part_keys, part_owners = [], []
        for r in range(len(counts)):
            a, b = claims.starts[r], claims.starts[r + 1]
            local_nodes = node_of[a:b]
            pick = np.flatnonzero((local_nodes >= 0) & rep_banded[np.maximum(local_nodes, 0)])
            if not len(pick):
                continue
            mm = claims.array("bands", r)
            bk = np.asarray(mm[pick]).ravel()
            del mm
            owners = np.repeat(local_nodes[pick], p.bands)
            if parts > 1:
                sel = (bk % np.uint64(parts)) == np.uint64(part)
                bk, owners = bk[sel], owners[sel]
            part_keys.append(bk)
            part_owners.append(owners)
        if not part_keys:
            continue
        bk = np.concatenate(part_keys)
        owners = np.concatenate(part_owners)
        del part_keys, part_owners
        o = np.argsort(bk, kind="stable")
        bk, owners = bk[o], owners[o]
        del o
        starts = np.flatnonzero(np.r_[True, bk[1:] != bk[:-1]])
        sizes = np.diff(np.r_[starts, len(bk)])
        del bk
        two = starts[sizes == 2]
        a_, b_ = owners[two], owners[two + 1]
        lo, hi = np.minimum(a_, b_), np.maximum(a_, b_)
        distinct = lo != hi
        components.add(lo[distinct] * m + hi[distinct])
        for s, z in zip(starts[sizes > 2].tolist(), sizes[sizes > 2].tolist()):
            pairs, big = bucket_pairs(owners[s:s + z].tolist(), p.max_bucket_size)
            components.oversized += big
            if pairs:
                arr = np.array(pairs, dtype=np.int64)
                components.add(arr[:, 0] * m + arr[:, 1])
        del owners
    components.flush()
    counters.update(components.counters())
    chunk = components.chunk
    in_edge = components.in_edge
    root_of_group = components.roots()
    del components
    root = root_of_group[group_rep]  # cluster representative of every node
    size = np.bincount(root, minlength=m)[root] if m else np.zeros(0, np.int64)
    clustered_groups = np.flatnonzero(in_edge & is_rep)
    roots = np.unique(root_of_group[clustered_groups])
    counters[_dedup("near_duplicate_clusters")] = len(roots)
    counters[_dedup("near_duplicates")] = len(clustered_groups) - len(roots)
    kind = np.where(size == 1, 0, np.where(np.arange(m) == root, 1, np.where(group_rep == root, 2, 3))).astype(np.int8)
    similarity = np.ones(m, dtype=np.float64)
    off = np.flatnonzero(is_rep & (root_of_group != np.arange(m)))
    if len(off):
        sims = np.empty(len(off), dtype=np.float64)
        for s in range(0, len(off), chunk):
            g = off[s:s + chunk]
            sa, sb = claims.rows("sigs", part_seq[g]), claims.rows("sigs", part_seq[root_of_group[g]])
            sims[s:s + chunk] = np.count_nonzero(sa == sb, axis=1).astype(np.float64) / p.num_perm
        group_sim = np.ones(m, dtype=np.float64)
        group_sim[off] = sims
        similarity = group_sim[group_rep]

    # results per range, in input order
    root_rank = rank[part_seq][root] if m else np.zeros(0, np.int64)
    for r in range(len(counts)):
        a, b = claims.starts[r], claims.starts[r + 1]
        nodes = node_of[a:b]
        first = is_first[a:b]
        status = np.where(~first, 2, np.where(nodes >= 0, 0, 1)).astype(np.int8)
        dup_nodes = nodes[nodes >= 0]
        later_first = first_of[a:b][~first]
        result = {
            "status": status,
            "cluster": [uniq[x] for x in root_rank[dup_nodes].tolist()],
            "size": size[dup_nodes], "kind": kind[dup_nodes], "similarity": similarity[dup_nodes],
            "first_range": range_of[later_first], "first_offset": offsets[later_first],
        }
        with open(_path(spec, "result", r, "pkl"), "wb") as fh:
            pickle.dump(result, fh, protocol=5)
    return counters


class _Components:
    """Connected components of the verified candidate pairs, built as the pairs arrive, in bounded memory.

    Pairs are buffered up to a working set, de-duplicated, and those whose two nodes are already connected are
    skipped before verification: they cannot change a component. The rest are verified in chunks and united at
    once, so neither the candidate pairs nor the edges of the whole corpus are ever held (a corpus whose band
    buckets are crowded yields far more candidate pairs than documents). The components equal those of all
    verified pairs, so the result is the Beam job's; the root of a component is its smallest node."""

    def __init__(self, m: int, spec: _Spec, claims: _Claims, part_seq: np.ndarray, params, share: int):
        self.m, self.spec, self.claims, self.part_seq, self.params = m, spec, claims, part_seq, params
        self.parent = np.arange(m, dtype=np.int64)
        self.in_edge = np.zeros(m, dtype=bool)
        self.buffer: list[np.ndarray] = []
        self.buffered = 0
        self.limit = max(1, share // 16)  # buffered pair codes (8 bytes each, twice while de-duplicated)
        self.chunk = max(4096, share // (8 * params.num_perm * 4))  # pairs verified at once
        self.extras_cache: dict[int, list[bytes]] = {}
        self.oversized = self.candidates = self.connected = self.verified = self.rejected = 0

    def add(self, codes: np.ndarray) -> None:
        if len(codes):
            self.buffer.append(codes)
            self.buffered += len(codes)
            if self.buffered >= self.limit:
                self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        codes = np.unique(np.concatenate(self.buffer))
        self.buffer, self.buffered = [], 0
        self.candidates += len(codes)
        for s in range(0, len(codes), self.chunk):
            a_, b_ = codes[s:s + self.chunk] // self.m, codes[s:s + self.chunk] % self.m
            root = self.roots_of(np.concatenate([a_, b_]))
            open_ = root[:len(a_)] != root[len(a_):]
            self.connected += int(len(a_) - np.count_nonzero(open_))
            a_, b_ = a_[open_], b_[open_]
            ok = self._verify(a_, b_)
            self.verified += int(np.count_nonzero(ok))
            self.rejected += int(len(ok) - np.count_nonzero(ok))
            self._unite(a_[ok], b_[ok])

    def _verify(self, a_: np.ndarray, b_: np.ndarray) -> np.ndarray:
        p, seq = self.params, self.part_seq
        if p.verify == "shingles":
            from haetae.pipelines.dedup.minhash import exact_jaccard

            cache = self.extras_cache
            return np.array([exact_jaccard(_extra(self.spec, self.claims, cache, seq[x]),
                                           _extra(self.spec, self.claims, cache, seq[y])) >= p.threshold
                             for x, y in zip(a_.tolist(), b_.tolist())], dtype=bool)
        sa, sb = self.claims.rows("sigs", seq[a_]), self.claims.rows("sigs", seq[b_])
        return np.count_nonzero(sa == sb, axis=1).astype(np.float64) / p.num_perm >= p.threshold

    def _unite(self, a_: np.ndarray, b_: np.ndarray) -> None:
        parent = self.parent
        self.in_edge[a_] = True
        self.in_edge[b_] = True
        for x, y in zip(a_.tolist(), b_.tolist()):
            rx, ry = _find(parent, x), _find(parent, y)
            if rx != ry:
                lo_, hi_ = (rx, ry) if rx < ry else (ry, rx)
                parent[hi_] = lo_

    def roots_of(self, nodes: np.ndarray) -> np.ndarray:
        """Roots by pointer jumping (vectorised); compresses the paths it walks."""
        root = self.parent[nodes]
        while True:
            up = self.parent[root]
            if np.array_equal(up, root):
                break
            root = up
        self.parent[nodes] = root
        return root

    def roots(self) -> np.ndarray:
        """The root of every node (a node in no verified pair is its own)."""
        self.extras_cache.clear()
        root = np.arange(self.m, dtype=np.int64)
        nodes = np.flatnonzero(self.in_edge)
        if len(nodes):
            root[nodes] = self.roots_of(nodes)
        return root

    def counters(self) -> dict[str, int]:
        """candidate_pairs = verified_edges + rejected_pairs + pairs_already_connected (distinct pairs per buffer:
        a pair met in two buffers counts twice)."""
        return {_dedup("lsh_buckets_oversized"): self.oversized, _dedup("candidate_pairs"): self.candidates,
                _dedup("verified_edges"): self.verified, _dedup("rejected_pairs"): self.rejected,
                _dedup("pairs_already_connected"): self.connected}


def _extra(spec: _Spec, claims: _Claims, cache: dict[int, list[bytes]], seq: int) -> np.ndarray:
    r = int(np.searchsorted(claims.starts, seq, side="right") - 1)
    if r not in cache:
        if len(cache) > 4:
            cache.clear()
        with open(_path(spec, "extras", r, "pkl"), "rb") as fh:
            cache[r] = pickle.load(fh)
    return np.frombuffer(cache[r][seq - claims.starts[r]], dtype=np.uint32)


# -------------------------------------------------------------------------------------- phase 3: decide

_KINDS = ("unique", "representative", "exact", "near")


class _Shards:
    """One output folder's shard writer for one range: rows are written as shards fill."""

    def __init__(self, directory: str, prefix: str, fmt: str = "jsonl", schema=None, private: bool = False):
        from haetae.pipelines.io.beam_io import _WriteBundleShards

        self.private = private
        self.writer = _WriteBundleShards(directory, prefix, fmt, schema, max_rows=SHARD_ROWS)
        self.writer.start_bundle()

    def add(self, row) -> None:
        for path in self.writer.process(row):
            self._written(path)

    def close(self) -> None:
        for wv in self.writer.finish_bundle():
            self._written(wv.value)

    def _written(self, path: str) -> None:
        if self.private:
            from haetae.pipelines.audit.quarantine import protect_file

            protect_file(path)


def decide_range(index: int, first_line: int | None, out_dir: str | None = None,
                 keep_inputs: bool = False) -> dict[str, Any]:
    """Decide one range into ``out_dir`` (default: the job's); its spill and result are removed unless
    ``keep_inputs`` (a Beam runner may retry the task: :mod:`haetae.pipelines.runners.dask_phases`)."""
    from haetae.pipelines.audit.job import (
        add_row,
        kept_line,
        ledger_row,
        ledger_schema,
        new_aggregates,
        policy_quarantine_row,
        quarantine_ledger_row,
    )
    from haetae.pipelines.io import records as R
    from haetae.pipelines.io.beam_io import number_line

    spec = _setup()
    fr = spec.ranges[index]
    out, tf, idf, policy = out_dir or spec.out_dir, spec.text_field, spec.id_field, spec.policy
    with open(_path(spec, "result", index, "pkl"), "rb") as fh:
        res = pickle.load(fh)
    line_map = {(fr.path, fr.start): first_line} if first_line is not None else {}
    schema = ledger_schema()
    kept = _Shards(os.path.join(out, "kept"), "part")
    quarantine = _Shards(os.path.join(out, "quarantine"), "part", private=True)
    ledger_decided = _Shards(os.path.join(out, "ledger"), "decided", "parquet", schema)
    ledger_quarantined = _Shards(os.path.join(out, "ledger"), "quarantined", "parquet", schema)
    agg_decided, agg_quarantined = new_aggregates(), new_aggregates()
    sources = [r.path for r in spec.ranges]

    def store(row):
        for stored in spec.store_quarantine.process(row):
            quarantine.add(R.to_json_line(stored))

    def input_quarantine(row):
        row = number_line(row, line_map)
        for scanned in spec.scan_quarantine.process(row):
            lrow = quarantine_ledger_row(scanned, policy, idf)
            ledger_quarantined.add(lrow)
            add_row(agg_quarantined, lrow, None, None)
            store(scanned)

    k = d = later = pending = 0
    with _counting() as tracker, open(_path(spec, "scored", index, "pkl"), "rb") as spill:
        for tag, item in _spilled(spec, spill):
            if tag == "q":
                input_quarantine(item)
                continue
            status = int(res["status"][k])
            k += 1
            pending += 1
            if pending >= PROGRESS_EVERY:
                _bump_progress(spec, 2, pending)
                pending = 0
            if status == 2:
                first = {"source": sources[int(res["first_range"][later])], "offset": int(res["first_offset"][later])}
                later += 1
                input_quarantine(spec.final.duplicate_id(item, first))
                continue
            dup = []
            if status == 0:
                dup = [{"cluster": res["cluster"][d], "cluster_size": int(res["size"][d]),
                        "kind": _KINDS[int(res["kind"][d])], "similarity": float(res["similarity"][d])}]
                d += 1
            for rec in spec.final.process((item["id_key"], {"rec": [item], "dup": dup})):
                rec = number_line(rec, line_map)
                lrow = ledger_row(rec, policy, tf, idf)
                ledger_decided.add(lrow)
                add_row(agg_decided, lrow, rec["text"], rec.get("text_spans", rec.get("pii_spans")))
                if rec["decision"] in (R.KEEP, R.REDACT):
                    kept.add(kept_line(rec, tf, idf))
                elif rec["decision"] == R.QUARANTINE:
                    store(policy_quarantine_row(rec, tf, idf))
        counters = tracker.counters()
    _bump_progress(spec, 2, pending)
    for shards in (kept, quarantine, ledger_decided, ledger_quarantined):
        shards.close()
    import json
    import uuid

    os.makedirs(os.path.join(out, "_aggregates"), exist_ok=True)
    for name, agg in (("decided", agg_decided), ("quarantined", agg_quarantined)):
        if agg["rows"]:
            with open(os.path.join(out, "_aggregates", f"{name}-{uuid.uuid4().hex}.jsonl"), "w", encoding="utf-8") as fh:
                fh.write(json.dumps(agg, ensure_ascii=False) + "\n")
    if not keep_inputs:
        remove_inputs(spec, index)
    return {"index": index, "counters": counters}


def _spilled(spec: _Spec, spill) -> Iterator[tuple[str, Any]]:
    """A range's spilled entries in order, read a batch at a time; the public form of each batch's record ids
    is looked up before its records are decided (see :meth:`FinalDecide.look_up_ids`)."""
    ended = False
    while not ended:
        batch, chars = [], 0
        try:
            while len(batch) < SCORE_BATCH_RECORDS and chars < SCORE_BATCH_CHARS:
                batch.append(pickle.load(spill))
                chars += len(batch[-1][1].get("text") or "") if batch[-1][0] == "r" else 0
        except EOFError:
            ended = True
        spec.final.look_up_ids(item["id"] for tag, item in batch if tag == "r")
        yield from batch


def remove_inputs(spec: _Spec, index: int) -> None:
    """A decided range's spill and dedup result (the largest files of the job's work folder)."""
    for kind in ("scored", "result"):
        with contextlib.suppress(OSError):
            os.remove(_path(spec, kind, index, "pkl"))


# ------------------------------------------------------------------------------------------- the driver


@dataclass
class LocalRun:
    counters: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    workers: int = 0
    peak_rss: int = 0
    peak_pss: int = 0


class _Progress(threading.Thread):
    """A one-line progress display on stderr: phase, records, MB, rate and ETA (shown after 2 s)."""

    def __init__(self, shared, total_bytes: int, enabled: bool):
        super().__init__(name="haetae-progress", daemon=True)
        self.shared, self.total_bytes, self.enabled = shared, total_bytes, enabled
        self.phase, self.total_records = "score", 0
        self.phase_started = self.started = time.monotonic()
        self._halt = threading.Event()
        self.tty = sys.stderr.isatty()
        self._shown = False

    def set_phase(self, name: str, total_records: int = 0) -> None:
        self.phase, self.total_records, self.phase_started = name, total_records, time.monotonic()

    def line(self) -> str:
        records, done_bytes, decided = (self.shared[i] for i in range(3))
        elapsed = max(1e-6, time.monotonic() - self.phase_started)
        if self.phase == "score":
            mb, total = done_bytes / 1e6, self.total_bytes / 1e6
            rate = mb / elapsed
            eta = (total - mb) / rate if rate > 0 and mb > 0 else None
            text = (f"[score] {records:,} records read, {mb:,.1f} of {total:,.1f} MB ({100 * mb / max(total, 1e-9):.0f} %), "
                    f"{rate:.2f} MB/s")
        elif self.phase == "decide":
            rate = decided / elapsed
            eta = (self.total_records - decided) / rate if rate > 0 and decided else None
            text = f"[decide] {decided:,} of {self.total_records:,} records, {rate:,.0f} records/s"
        else:
            eta = None
            text = f"[{self.phase}] {records:,} records read"
        if eta is not None:
            text += f", ETA {int(eta) // 60}m{int(eta) % 60:02d}s"
        return f"haetae audit: {text}"

    def run(self) -> None:
        if not self.enabled:
            return
        every = 1.0 if self.tty else 10.0
        if self._halt.wait(2.0):
            return
        while True:
            text = self.line()
            if self.tty:
                print("\r" + text.ljust(110), end="", file=sys.stderr, flush=True)
            else:
                print(text, file=sys.stderr, flush=True)
            self._shown = True
            if self._halt.wait(every):
                return

    def halt(self) -> None:
        self._halt.set()
        if self._shown and self.tty:
            print(file=sys.stderr, flush=True)


def run_local(
    spec_args: dict[str, Any], *, workers: int, memory_budget: int | None, progress: bool,
    say: Callable[[str], None], on_started: Callable[[], None] | None = None,
) -> LocalRun:
    """Run the audit's three phases into ``spec_args["out_dir"]`` (a staging folder)."""
    budget = memory_budget or default_budget()
    ranges = spec_args["ranges"]
    work = os.path.join(spec_args["out_dir"], WORK_DIR)
    os.makedirs(work, mode=0o700, exist_ok=True)
    if workers == 0 or "fork" in multiprocessing.get_all_start_methods():
        for fn in spec_args["scorers"]:  # state the forked workers share (copy-on-write), counted in base below
            if hasattr(fn, "preload"):
                fn.preload()
    rss_now, pss_now = tree_memory()
    base = pss_now or (400 << 20)
    if budget < base + WORKER_BASE_BYTES and workers > 0 or budget < base:
        raise MemoryBudgetExceeded(
            f"--memory-budget {show_size(budget)} cannot hold the audit: the driver alone uses {show_size(base)} "
            f"and each worker about {show_size(WORKER_BASE_BYTES)}; give at least "
            f"{show_size(base + WORKER_BASE_BYTES)} (or --workers 0 with {show_size(base + (256 << 20))})")
    fit = int((budget - base) // WORKER_BASE_BYTES)
    if workers > fit:
        say(f"haetae audit: --memory-budget {show_size(budget)} fits {fit} worker(s), not {workers}: using {fit}")
        workers = fit
    workers = min(workers, len(ranges))
    shared = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn") \
        .Array("q", 3) if workers else _LocalCounters()
    spec = _Spec(work=work, progress=shared, **spec_args)
    run = LocalRun(workers=workers)
    total_bytes = sum((r.size if r.end < 0 else r.end - r.start) for r in ranges if r.size >= 0)
    display = _Progress(shared, total_bytes, progress)
    pool: ProcessPoolExecutor | None = None

    def stop():
        if pool is not None:
            for proc in list(getattr(pool, "_processes", {}).values()):
                with contextlib.suppress(Exception):
                    proc.kill()

    watchdog = _Watchdog(budget, lambda: display.phase, stop)
    global _SPEC, _READY
    _SPEC, _READY = spec, False
    started = time.time()
    try:
        if workers:
            ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
            init_args = () if ctx.get_start_method() == "fork" else (spec,)
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=init_args)
            warm = [pool.submit(_warm) for _ in range(workers)]  # fork every worker now, before other threads start
            for f in warm:
                f.result()
        watchdog.start()
        display.start()
        if on_started:
            on_started()
        facts = _map(pool, score_range, [(i,) for i in range(len(ranges))], watchdog)
        run.phases["score"] = round(time.time() - started, 2)
        for f in facts:
            _add(run.counters, f["counters"])
        display.set_phase("dedup")
        t = time.time()
        rss_now, pss_now = tree_memory()
        run.counters.update(_call(lambda: global_step(spec, facts, budget - (pss_now or rss_now),
                                                      lambda m: None), watchdog))
        run.phases["dedup"] = round(time.time() - t, 2)
        first_lines = _first_lines(ranges, facts)
        display.set_phase("decide", sum(f["records"] for f in facts))
        t = time.time()
        decided = _map(pool, decide_range, [(i, first_lines.get(i)) for i in range(len(ranges))], watchdog)
        run.phases["decide"] = round(time.time() - t, 2)
        for f in decided:
            _add(run.counters, f["counters"])
        _write_side_outputs(spec, facts)
    except MemoryBudgetExceeded:
        raise
    except BaseException as exc:
        if watchdog.exceeded:
            raise MemoryBudgetExceeded(watchdog.exceeded) from None
        from concurrent.futures.process import BrokenProcessPool

        if isinstance(exc, BrokenProcessPool):
            raise UsageError("a worker of the audit died (killed by the system, perhaps out of memory); "
                             "give a --memory-budget below the machine's free memory, or fewer --workers") from None
        if isinstance(exc, Exception) and not isinstance(exc, HaetaeError | OSError) \
                and os.environ.get("HAETAE_DEBUG") != "1":  # OSError: job_output names an unusable output
            from haetae.errors import JobFailed, one_line

            raise JobFailed(f"the audit failed: {type(exc).__name__}: {one_line(exc)[:400]}") from exc
        raise
    finally:
        watchdog.halt()
        display.halt()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        _SPEC, _READY = None, False
        shutil.rmtree(work, ignore_errors=True)
    if watchdog.exceeded:
        raise MemoryBudgetExceeded(watchdog.exceeded)
    run.peak_rss, run.peak_pss = watchdog.peak_rss, watchdog.peak_pss
    return run


class _LocalCounters(list):
    """The progress counters when everything runs in this process."""

    def __init__(self):
        super().__init__([0, 0, 0])

    @contextlib.contextmanager
    def get_lock(self):
        yield


def _warm() -> int:
    _setup()
    return os.getpid()


def _call(fn, watchdog: _Watchdog):
    result = fn()
    if watchdog.exceeded:
        raise MemoryBudgetExceeded(watchdog.exceeded)
    return result


def _map(pool, fn, args: list[tuple], watchdog: _Watchdog) -> list[dict[str, Any]]:
    if pool is None:
        out = []
        for a in args:
            out.append(fn(*a))
            if watchdog.exceeded:
                raise MemoryBudgetExceeded(watchdog.exceeded)
        return out
    futures = [pool.submit(fn, *a) for a in args]
    return [f.result() for f in futures]


def _add(total: dict[str, int], part: dict[str, int]) -> None:
    for k, v in part.items():
        total[k] = total.get(k, 0) + v


def _first_lines(ranges, facts) -> dict[int, int]:
    """Range index -> the number of its first line in its file, for ranges of split files."""
    out, line, path = {}, 1, None
    for i, fr in enumerate(ranges):
        if fr.whole:
            continue
        if fr.path != path:
            path, line = fr.path, 1
        out[i] = line
        line += facts[i]["lines"]
    return out


def _write_side_outputs(spec: _Spec, facts: list[dict[str, Any]]) -> None:
    """``_counts`` (what the reader produced) and ``_file_faults`` (for raise_for_file_faults)."""
    import json
    import uuid

    from haetae.pipelines.io import records as R
    from haetae.pipelines.io.beam_io import FILE_FAULTS_DIR

    os.makedirs(os.path.join(spec.out_dir, "_counts"), exist_ok=True)
    with open(os.path.join(spec.out_dir, "_counts", f"part-{uuid.uuid4().hex}.jsonl"), "w", encoding="utf-8") as fh:
        for f in facts:
            if f["produced"]:
                fh.write(json.dumps({"input": f["produced"]}) + "\n")
    faults = [row for f in facts for row in f["faults"]]
    if faults:
        os.makedirs(os.path.join(spec.out_dir, FILE_FAULTS_DIR), exist_ok=True)
        with open(os.path.join(spec.out_dir, FILE_FAULTS_DIR, f"part-{uuid.uuid4().hex}.jsonl"), "w",
                  encoding="utf-8") as fh:
            fh.write("".join(R.to_json_line(row) + "\n" for row in faults))
