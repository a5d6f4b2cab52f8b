"""One execution layer for every job that writes an output: lock, stage, run, publish (DataTrove's executor).

Every job (``audit``, ``pii scan``, ``dedup``, ``safety generate`` and what later jobs write) resolves and
validates its inputs and configuration first, then opens :func:`job_output` on its ``--out``:

1. **Lock.** An exclusive lock on ``--out`` (``flock`` on ``.haetae.lock`` beside the outputs; on Linux NFS
   maps it to POSIX byte-range locks, so it holds across machines on NFSv4, Lustre and GPFS; on object stores,
   ``gs://`` or ``s3://``, there is no lock: see :func:`_remote_lock`). A second job on the same ``--out``
   refuses with one line naming the holder.
2. **Stage.** The job writes only under its own staging folder (``.haetae-staging-<run id>``, mode 0700,
   marked ``_RUNNING``), so shards of another run can never be merged into this one (:func:`merge_shards` reads
   only the staging folder it is given).
3. **Publish.** When the job succeeded (exit 0, or 1 for a failed validation, which is still a complete
   output), the previous output's entries are moved aside (manifest first), the staged ones moved in (manifest
   last), and the old ones deleted. A journal makes the few renames recoverable: a publish cut short is rolled
   back by the next job. The manifest ``_SUCCESS`` names the inputs (sizes and sha256), the configuration
   (policy hash), the counts, every output file (size and sha256) and the exit status.
4. **Fail.** On an error or interrupt the staging folder is kept with a ``_FAILED`` note (its reason), the
   previous output is untouched, and the next job on that ``--out`` removes it (and says so).

Re-running a job on the same inputs and configuration gives the same manifest ``content`` digests (per output
folder, the sha256 of its sorted row hashes, independent of how rows fell into shards); files merged by
:func:`merge_shards` with a sort key (``pii scan``, ``dedup``) are byte-identical.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from haetae import __version__
from haetae.errors import EXIT_OK, EXIT_VALIDATION_FAILED, JobFailed, UsageError, one_line

MANIFEST = "_SUCCESS"
RUNNING = "_RUNNING"
FAILED = "_FAILED"
LOCK = ".haetae.lock"
STAGING_PREFIX = ".haetae-staging-"
PREVIOUS_PREFIX = ".haetae-previous-"
JOURNAL_PREFIX = ".haetae-publish-"
_OUTPUT_ERRNOS = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
                  errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
                  errno.EPERM: "operation not permitted", errno.EFBIG: "file too large"}
_HELD: set[str] = set()  # lock paths this process holds (flock also refuses a second open in one process)
_HELD_GUARD = threading.Lock()


def is_remote(path: str) -> bool:
    return "://" in path


@dataclass
class Staging:
    """Where a running job writes, and what its manifest will say."""

    command: str
    out: str  # the --out the user gave (a folder, or a file for single-file jobs)
    root: str  # the folder the entries are published into
    dir: str  # this run's staging folder
    run_id: str
    entries: tuple[str, ...]  # names published into root (the manifest is added)
    manifest_name: str
    private: tuple[str, ...] = ()  # entries that hold raw data: 0700 folders, 0600 files
    inputs: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)
    exit_code: int = EXIT_OK
    started: float = field(default_factory=time.time)

    def path(self, *parts: str) -> str:
        return join(self.dir, *parts)

    @property
    def published(self) -> str:
        """Where the manifest lives once published."""
        return join(self.root, self.manifest_name)


def join(base: str, *parts: str) -> str:
    if is_remote(base):
        from apache_beam.io.filesystems import FileSystems

        return FileSystems.join(base, *parts)
    return os.path.join(base, *parts)


# ----------------------------------------------------------------------------------------- the transaction


@contextlib.contextmanager
def job_output(
    command: str, out: str, *, entries: Iterable[str] | None, single_file: bool = False, private: Iterable[str] = (),
    inputs: Iterable[tuple[str, int]] = (), config: dict[str, Any] | None = None, say: Callable[[str], None] | None = None,
) -> Iterator[Staging]:
    """Lock ``out``, yield a :class:`Staging` to write into, publish it whole when the block ends normally.

    ``single_file``: ``out`` names a file (``pii scan --out OUT.jsonl``); the entries are siblings of it and the
    manifest is ``OUT.jsonl._SUCCESS``. ``inputs`` are ``(path, size)``: they are hashed while the job runs and
    checked unchanged at the end.
    """
    say = say or (lambda msg: print(msg, file=sys.stderr, flush=True))
    out = out if is_remote(out) else os.path.abspath(out)
    if single_file:  # OUT.jsonl: the lock, staging and manifest are named after it, beside it
        root, stem = out.rsplit("/", 1)
        names, manifest_name, prefix = (stem, *entries), f"{stem}.{MANIFEST}", f".{stem}"
    else:
        root, names, manifest_name, prefix = out, tuple(entries or ()), MANIFEST, ""
    names = tuple(dict.fromkeys((*names, manifest_name)))
    open_entries = entries is None  # the job publishes whatever it wrote (see _settle_entries)
    _check_out(out, root, single_file)
    run_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    with _lock(root, f"{prefix}{LOCK}", command, run_id):
        _recover(root, prefix, say)
        staging_dir = join(root, f"{prefix}{STAGING_PREFIX}{run_id}")
        _mkdir_private(staging_dir)
        staging = Staging(command, out, root, staging_dir, run_id, names, manifest_name, tuple(private),
                          config=dict(config or {}))
        _write_json(staging.path(RUNNING), _identity(staging))
        hasher = _InputHasher(list(inputs))
        try:
            hasher.start()
            yield staging
            staging.inputs = hasher.result()
            if open_entries:
                _settle_entries(staging)
            _write_manifest(staging)
            _publish(staging, prefix)
        except BaseException as exc:
            hasher.cancel()
            reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else one_line(exc) or type(exc).__name__
            with contextlib.suppress(OSError):
                _write_json(staging.path(FAILED), {**_identity(staging), "reason": reason})
            if isinstance(exc, OSError) and exc.errno in _OUTPUT_ERRNOS:
                raise UsageError(f"cannot write {exc.filename or out}: {_OUTPUT_ERRNOS[exc.errno]}") from exc
            raise


def _check_out(out: str, root: str, single_file: bool) -> None:
    """``--out`` must be (or become) a folder we can write: a clear one-line error before anything is touched."""
    if is_remote(out):
        return
    if single_file and os.path.isdir(out):
        raise UsageError(f"--out {out} is a folder; give a file name like {os.path.join(out, 'out.jsonl')}")
    if not single_file and os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out} is a file; give a folder (it is created when absent)")
    parent = root
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise UsageError(f"--out {out}: {parent} is a file, not a folder")
    try:
        os.makedirs(root, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create --out {root}: {exc.strerror}") from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write --out {root}: permission denied")


@contextlib.contextmanager
def _lock(root: str, name: str, command: str, run_id: str) -> Iterator[None]:
    if is_remote(root):
        with _remote_lock(root, name, command, run_id):
            yield
        return
    import fcntl

    path = os.path.join(root, name)
    with _HELD_GUARD:
        if path in _HELD:
            raise UsageError(f"--out {root} is in use by another job of this process")
        _HELD.add(path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        with _HELD_GUARD:
            _HELD.discard(path)
        raise UsageError(f"cannot write --out {root}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_holder(fd)
            raise UsageError(f"--out {root} is locked by {holder}; wait for it to finish or choose another --out") \
                from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"command": command, "pid": os.getpid(), "host": socket.gethostname(),
                                 "run": run_id, "since": _now()}).encode())
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
        with _HELD_GUARD:
            _HELD.discard(path)


def _read_holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"haetae {info['command']} (pid {info['pid']} on {info['host']}, since {info['since']})"
    except (OSError, ValueError, KeyError):
        return "another haetae job"


@contextlib.contextmanager
def _remote_lock(root: str, name: str, command: str, run_id: str) -> Iterator[None]:
    """Object stores have no locks: a marker object is written and removed (check-then-write; two jobs that
    start within the same second can both pass). Run one job per ``--out`` there."""
    from apache_beam.io.filesystems import FileSystems

    path = FileSystems.join(root, name.lstrip("."))
    if FileSystems.exists(path):
        raise UsageError(f"--out {root} holds a lock marker {path} (another job, or a crashed one: delete it)")
    with FileSystems.create(path) as handle:
        handle.write(json.dumps({"command": command, "run": run_id}).encode())
    try:
        yield
    finally:
        FileSystems.delete([path])


def _recover(root: str, prefix: str, say: Callable[[str], None]) -> None:
    """Under the lock: roll back a publish that was cut short, and remove interrupted runs' staging folders."""
    if is_remote(root):
        return
    for name in sorted(os.listdir(root)):
        if name.startswith(f"{prefix}{JOURNAL_PREFIX}"):
            journal = os.path.join(root, name)
            with open(journal, encoding="utf-8") as fh:
                plan = json.load(fh)
            previous = os.path.join(root, plan["previous"])
            if not os.path.exists(os.path.join(root, plan["manifest"])) or plan.get("state") != "published":
                for entry in plan["entries"]:
                    saved = os.path.join(previous, entry)
                    if os.path.lexists(saved):
                        _remove(os.path.join(root, entry))
                        os.rename(saved, os.path.join(root, entry))
                say(f"haetae: restored the previous output in {root} (a publish was cut short)")
            shutil.rmtree(previous, ignore_errors=True)
            os.remove(journal)
    for name in sorted(os.listdir(root)):
        if name.startswith(f"{prefix}{STAGING_PREFIX}"):
            marker = os.path.join(root, name, FAILED)
            state = "failed" if os.path.exists(marker) else "interrupted"
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
            say(f"haetae: removed the partial work of an {state} run ({name[len(prefix) + len(STAGING_PREFIX):]})")


def _settle_entries(staging: Staging) -> None:
    """For a job that names no entries up front: what it wrote, and what the previous output's manifest
    listed (so files the new run no longer writes do not linger beside it)."""
    written = [n for n in sorted(os.listdir(staging.dir)) if n not in (RUNNING, FAILED)]
    previous = read_manifest(staging.root) or {}
    listed = [o["path"].split("/")[0] for o in previous.get("outputs", [])]
    staging.entries = tuple(dict.fromkeys((*written, *listed, staging.manifest_name)))


def _publish(staging: Staging, prefix: str) -> None:
    for name in staging.private:
        protect(staging.path(name))
    if is_remote(staging.root):
        _publish_remote(staging)
        return
    os.remove(staging.path(RUNNING))
    root = staging.root
    previous = f"{prefix}{PREVIOUS_PREFIX}{staging.run_id}"
    journal = os.path.join(root, f"{prefix}{JOURNAL_PREFIX}{staging.run_id}.json")
    plan = {"entries": list(staging.entries), "previous": previous, "manifest": staging.manifest_name,
            "state": "moving"}
    _write_json(journal, plan)
    os.mkdir(os.path.join(root, previous))
    ordered = [staging.manifest_name, *(e for e in staging.entries if e != staging.manifest_name)]
    for entry in ordered:  # the old manifest first: from here the folder reads as incomplete
        if os.path.lexists(os.path.join(root, entry)):
            os.rename(os.path.join(root, entry), os.path.join(root, previous, entry))
    for entry in reversed(ordered):  # the new manifest last
        if os.path.lexists(staging.path(entry)):
            os.rename(staging.path(entry), os.path.join(root, entry))
    plan["state"] = "published"
    _write_json(journal, plan)
    shutil.rmtree(os.path.join(root, previous), ignore_errors=True)
    shutil.rmtree(staging.dir, ignore_errors=True)
    os.remove(journal)


def _publish_remote(staging: Staging) -> None:
    """Object stores have no atomic rename: files are moved one by one, the manifest last, so a reader that
    checks ``_SUCCESS`` first never reads a partial output."""
    from apache_beam.io.filesystems import FileSystems

    old = [join(staging.root, e) for e in staging.entries]
    manifest = join(staging.root, staging.manifest_name)
    if FileSystems.exists(manifest):
        FileSystems.delete([manifest])
    existing = [m.path for p in old for m in FileSystems.match([p + "*"])[0].metadata_list]
    if existing:
        FileSystems.delete(existing)
    base = staging.dir.rstrip("/") + "/"
    moves = [m.path for m in FileSystems.match([join(staging.dir, "**")])[0].metadata_list
             if m.path[len(base):].split("/")[0] in staging.entries]
    moves.sort(key=lambda p: p.endswith(staging.manifest_name))
    FileSystems.rename(moves, [p.replace(staging.dir.rstrip("/") + "/", staging.root.rstrip("/") + "/") for p in moves])


def protect(path: str) -> None:
    """Make ``path`` (a file, or a folder and everything under it) readable by its owner only."""
    if is_remote(path) or not os.path.lexists(path):
        return
    if os.path.isdir(path):
        os.chmod(path, 0o700)
        for base, dirs, files in os.walk(path):
            for d in dirs:
                os.chmod(os.path.join(base, d), 0o700)
            for f in files:
                os.chmod(os.path.join(base, f), 0o600)
    else:
        os.chmod(path, 0o600)


# ------------------------------------------------------------------------------------------------ manifest


def _identity(staging: Staging) -> dict[str, Any]:
    return {"command": staging.command, "run": staging.run_id, "pid": os.getpid(), "host": socket.gethostname(),
            "started": _now(staging.started), "haetae": __version__}


def _write_manifest(staging: Staging) -> None:
    outputs = [describe_output(staging.dir, e) for e in staging.entries
               if e != staging.manifest_name and _exists(staging.path(e))]
    status = {EXIT_OK: "ok", EXIT_VALIDATION_FAILED: "validation_failed"}.get(staging.exit_code, "failed")
    manifest = {**_identity(staging), "finished": _now(), "status": status, "exit_code": staging.exit_code,
                "out": staging.out, "inputs": staging.inputs, "config": staging.config, "counts": staging.counts,
                "outputs": outputs}
    _write_json(staging.path(staging.manifest_name), manifest)


def read_manifest(out: str, single_file: bool = False) -> dict[str, Any] | None:
    """The published manifest of ``out`` (None when there is no complete output)."""
    path = (f"{out}.{MANIFEST}" if single_file else join(out, MANIFEST))
    try:
        return json.loads(_read_bytes(path))
    except (OSError, ValueError):
        return None


def describe_output(base: str, entry: str) -> dict[str, Any]:
    """An output entry: its files (size, sha256) and, for JSONL/Parquet folders, rows and a content digest that
    does not depend on how rows fell into shards."""
    path = join(base, entry)
    if not _isdir(path):
        return {"path": entry, **_file_facts(path)}
    files = sorted(_list_files(path))
    described = [{"path": entry + "/" + os.path.relpath(f, path), **_file_facts(f)} for f in files]
    if files and all(f.endswith(".parquet") for f in files):
        rows, digest = _parquet_digest(files)
    else:
        hashes = bytearray()
        for f in files:
            if f.endswith(".jsonl"):
                for line in _read_bytes(f).split(b"\n"):
                    if line.strip():
                        hashes += hashlib.sha256(line).digest()
        rows, digest = _sorted_digest(hashes)
    return {"path": entry, "files": described, "rows": rows, "content_sha256": digest}


def _sorted_digest(hashes: bytearray) -> tuple[int, str]:
    """(rows, sha256 of the rows' 32-byte hashes in sorted order): the same whatever the shards and their
    order; 32 bytes per row are held, sorted as one numpy array."""
    import numpy as np

    ordered = np.frombuffer(bytes(hashes), dtype="S32").copy()
    ordered.sort()
    return len(ordered), hashlib.sha256(ordered.tobytes()).hexdigest()


def _parquet_digest(files: list[str]) -> tuple[int, str]:
    """Rows and the :func:`_sorted_digest` of the sha256 of each row as canonical JSON (keys sorted), read
    batch by batch: the memory is 32 bytes per row, not the table."""
    import pyarrow.parquet as pq

    hashes = bytearray()
    for f in files:
        with _open_read(f) as handle:
            for batch in pq.ParquetFile(handle).iter_batches(batch_size=4096):
                for row in batch.to_pylist():
                    hashes += hashlib.sha256(json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                                                        default=str).encode("utf-8")).digest()
    return _sorted_digest(hashes)


def _file_facts(path: str) -> dict[str, Any]:
    digest, size = hashlib.sha256(), 0
    with _open_read(path) as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return {"bytes": size, "sha256": digest.hexdigest()}


class _InputHasher:
    """sha256 and size of every input, computed on a low-priority thread while the job runs; a file whose size
    changed during the job fails it (the output would describe neither version)."""

    def __init__(self, inputs: list[tuple[str, int]]):
        self.inputs, self._done, self._cancel = inputs, [], threading.Event()
        self._thread = threading.Thread(target=self._run, name="haetae-input-hashes", daemon=True)
        self._error: BaseException | None = None

    def start(self) -> None:
        if self.inputs:
            self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def _run(self) -> None:
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        try:
            for path, size in self.inputs:
                if self._cancel.is_set():
                    return
                facts = _file_facts(path)
                shown = path if is_remote(path) else os.path.abspath(path)
                self._done.append({"path": shown, "bytes": facts["bytes"], "sha256": facts["sha256"],
                                   "size_at_start": size})
        except BaseException as exc:  # reported when the job ends
            self._error = exc

    def result(self) -> list[dict[str, Any]]:
        if self.inputs:
            self._thread.join()
        if self._error is not None:
            raise JobFailed(f"cannot hash the inputs: {one_line(self._error)}")
        for item in self._done:
            if item.pop("size_at_start") != item["bytes"]:
                raise JobFailed(f"input {item['path']} changed while the job read it")
        return self._done


# ---------------------------------------------------------------------------------------------- shards


def shard_paths(directory: str, prefix: str) -> list[str]:
    """This staging folder's ``PREFIX-*`` shard files, in name order."""
    from apache_beam.io.filesystems import FileSystems

    pattern = FileSystems.join(directory, f"{prefix}-*")
    return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)


def iter_shard_lines(directory: str, prefix: str) -> Iterator[bytes]:
    """Every non-blank line of the JSONL shards ``DIR/PREFIX-*`` (split on ``\\n`` only: JSON text may hold
    U+2028, U+2029 and U+0085, which ``str.splitlines`` would cut)."""
    for path in shard_paths(directory, prefix):
        for line in _read_bytes(path).split(b"\n"):
            if line.strip():
                yield line


def merge_shards(directory: str, prefix: str, dest: str, *, key: Callable[[dict], Any] | None = None,
                 on_row: Callable[[dict], None] | None = None) -> int:
    """Merge the JSONL shards ``DIR/PREFIX-*`` of one staging folder into the file ``dest`` and delete them;
    returns the line count. With ``key`` the lines are sorted by it (the file is then byte-identical across
    re-runs; it holds every row in memory, as parsed JSON), else concatenated in shard-name order."""
    from apache_beam.io.filesystems import FileSystems

    shards = shard_paths(directory, prefix)
    count = 0
    with open_output(dest) as out:
        if key is None:
            for line in iter_shard_lines(directory, prefix):
                if on_row is not None:
                    on_row(json.loads(line))
                out.write(line + b"\n")
                count += 1
        else:
            rows = [json.loads(line) for line in iter_shard_lines(directory, prefix)]
            rows.sort(key=key)
            for row in rows:
                if on_row is not None:
                    on_row(row)
                out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
            count = len(rows)
    if shards:
        FileSystems.delete(shards)
    return count


def read_shard_rows(directory: str, prefix: str = "") -> list[dict[str, Any]]:
    """Every row of the JSONL shards ``DIR/PREFIX*`` (small outputs: aggregates, counts)."""
    from apache_beam.io.filesystems import FileSystems

    pattern = FileSystems.join(directory, f"{prefix}*.jsonl")
    rows: list[dict[str, Any]] = []
    for meta in sorted(FileSystems.match([pattern])[0].metadata_list, key=lambda m: m.path):
        rows.extend(json.loads(line) for line in _read_bytes(meta.path).split(b"\n") if line.strip())
    return rows


# --------------------------------------------------------------------------------------------- Beam runs


def run_pipeline(pipeline, *, out: str) -> Any:
    """Run a Beam pipeline to the end; a failure in a worker becomes one line (an unusable output is a
    :class:`UsageError`, anything else :class:`JobFailed`), never a multi-page traceback."""
    try:
        result = pipeline.run()
        result.wait_until_finish()
    except (KeyboardInterrupt, UsageError):
        raise
    except Exception as exc:
        raise _job_error(exc, out) from exc
    return result


def _job_error(exc: BaseException, out: str) -> Exception:
    text = str(exc)
    for number, meaning in _OUTPUT_ERRNOS.items():
        if f"[Errno {number}]" in text:
            return UsageError(f"cannot write {out}: {meaning}")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    cause = next((ln for ln in reversed(lines) if ":" in ln and not ln.startswith(("File ", "During"))),
                 lines[-1] if lines else type(exc).__name__)
    return JobFailed(f"the Beam job failed: {cause[:400]}")


# ----------------------------------------------------------------------------------------------- helpers


def _now(t: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _mkdir_private(path: str) -> None:
    if is_remote(path):
        return
    os.mkdir(path, 0o700)


def _write_json(path: str, doc: dict[str, Any]) -> None:
    data = json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    if is_remote(path):
        with open_output(path) as handle:
            handle.write(data)
        return
    tmp = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


def _exists(path: str) -> bool:
    if is_remote(path):
        from apache_beam.io.filesystems import FileSystems

        return FileSystems.exists(path) or bool(FileSystems.match([path + "/*"])[0].metadata_list)
    return os.path.lexists(path)


def _isdir(path: str) -> bool:
    if is_remote(path):
        from apache_beam.io.filesystems import FileSystems

        return not FileSystems.exists(path)
    return os.path.isdir(path)


def _list_files(path: str) -> list[str]:
    if is_remote(path):
        from apache_beam.io.filesystems import FileSystems

        return [m.path for m in FileSystems.match([join(path, "**")])[0].metadata_list]
    return [os.path.join(base, f) for base, _, files in os.walk(path) for f in files]


def _open_read(path: str):
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    if is_remote(path):
        return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    return open(path, "rb")


def open_output(path: str):
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    if is_remote(path):
        return FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED)
    return open(path, "wb")


def _read_bytes(path: str) -> bytes:
    with _open_read(path) as handle:
        return handle.read()
