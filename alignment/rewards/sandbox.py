"""Where generated code runs: a :class:`Sandbox` protocol, and a subprocess with resource limits as the default.

**This is not a security boundary.** :class:`SubprocessSandbox` keeps honest mistakes of a policy model (an
infinite loop, a memory bomb, a huge file, a stray request, reading the trainer's environment) from hurting the
training run: the program runs in a separate ``python -I`` process with CPU-time (RLIMIT_CPU), address-space
(RLIMIT_AS) and file-size (RLIMIT_FSIZE) limits, a wall-clock limit, a minimal environment (no variable of the
trainer's, so no tokens or keys), stdin at /dev/null, a fresh scratch directory as cwd that is deleted after,
and no network where the platform allows: ``unshare -rn`` (a new user and network namespace with only a downed
loopback) when it works, otherwise network access is **not** blocked and the sandbox says so in the log and in
:attr:`SubprocessSandbox.network_isolated`. The program still runs as the trainer's user: it can read any file
that user can read, write outside the scratch directory (up to the file-size limit), and fork. Code from an
untrusted source, or a model trained to attack its reward, needs a real sandbox: a container or microVM
(gVisor, Firecracker, nsjail, bubblewrap with seccomp) or a remote execution service. Plug one in by writing a
class with ``run(program, tests) -> SandboxResult`` and passing it as ``CodeExecutionReward(sandbox=...)``.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from haetae.alignment.rewards.base import logger
from haetae.errors import UsageError

RUNNER = Path(__file__).with_name("_sandbox_runner.py")
_RESULT_TAIL_BYTES = 1 << 16

FailureKind = Literal["timeout", "cpu_limit", "memory_limit", "file_size_limit", "crash", "sandbox_error"]
LIMIT_KINDS = frozenset({"timeout", "cpu_limit", "memory_limit", "file_size_limit"})  # the program hit a limit


@dataclass(frozen=True)
class SandboxResult:
    """What running a program and its tests gave: one flag per test, or the reason there are none."""

    passed: tuple[bool, ...] = ()
    failure: FailureKind | None = None
    detail: str = ""


class Sandbox(Protocol):
    """Runs ``program`` and then each of ``tests`` (Python source) in its namespace; a test passes if it raises
    nothing. A run that could not finish is a :class:`SandboxResult` with ``failure`` set, never an exception."""

    def run(self, program: str, tests: Sequence[str]) -> SandboxResult: ...


@dataclass(frozen=True)
class ExecutionLimits:
    """Per-run limits of :class:`SubprocessSandbox` (a program and all its tests share them)."""

    wall_s: float = 10.0
    cpu_s: int = 5
    memory_bytes: int = 512 * 2**20
    file_size_bytes: int = 8 * 2**20

    def __post_init__(self) -> None:
        for name in ("wall_s", "cpu_s", "memory_bytes", "file_size_bytes"):
            if getattr(self, name) <= 0:
                raise UsageError(f"sandbox limit {name}={getattr(self, name)} must be positive")


@functools.cache
def network_isolation_prefix() -> tuple[str, ...] | None:
    """``("unshare", "-rn")`` when this machine lets an unprivileged user make a network namespace, else None."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    try:
        probe = subprocess.run([unshare, "-rn", "true"], stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=10, env={"PATH": os.defpath})
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (unshare, "-rn") if probe.returncode == 0 else None


class SubprocessSandbox:
    """The default :class:`Sandbox`: a resource-limited ``python -I`` subprocess (see the module docstring).

    ``network``: ``"auto"`` blocks it where ``unshare -rn`` works and warns once where it does not; ``"require"``
    refuses to run without it; ``"allow"`` does not try.
    """

    def __init__(self, limits: ExecutionLimits | None = None,
                 network: Literal["auto", "require", "allow"] = "auto") -> None:
        if network not in ("auto", "require", "allow"):
            raise UsageError(f"sandbox network={network!r}: use 'auto', 'require' or 'allow'")
        self.limits = limits or ExecutionLimits()
        self._prefix = network_isolation_prefix() if network != "allow" else None
        if self._prefix is None and network == "require":
            raise UsageError("sandbox network='require': `unshare -rn` is not available here (no unprivileged "
                             "user namespaces); enable them, use a real sandbox, or set network='auto'")
        if self._prefix is None and network == "auto":
            logger.warning("code sandbox: `unshare -rn` is not available, generated code has network access")

    @property
    def network_isolated(self) -> bool:
        return self._prefix is not None

    def run(self, program: str, tests: Sequence[str]) -> SandboxResult:
        scratch = Path(tempfile.mkdtemp(prefix="haetae-sandbox-"))
        try:
            return self._run_in(scratch, program, list(tests))
        finally:
            _remove_tree(scratch)

    def _run_in(self, scratch: Path, program: str, tests: list[str]) -> SandboxResult:
        limits = self.limits
        nonce = secrets.token_hex(16)
        job = scratch / "job.json"
        job.write_text(json.dumps({"program": program, "tests": tests, "nonce": nonce, "limits": {
            "cpu_s": limits.cpu_s, "memory_bytes": limits.memory_bytes,
            "file_size_bytes": limits.file_size_bytes}}), encoding="utf-8")
        command = [*(self._prefix or ()), sys.executable, "-I", str(RUNNER), str(job)]
        env = {"PATH": os.defpath, "LANG": "C.UTF-8", "HOME": str(scratch), "TMPDIR": str(scratch),
               # One BLAS/OpenMP thread: per-thread buffers on a many-core host would eat the address-space limit.
               **dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1")}
        stdout_path, stderr_path = scratch / ".stdout", scratch / ".stderr"
        with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
            try:
                process = subprocess.Popen(command, cwd=scratch, env=env, stdin=subprocess.DEVNULL, stdout=stdout,
                                           stderr=stderr, start_new_session=True, close_fds=True)
            except OSError as error:
                return SandboxResult(failure="sandbox_error", detail=f"could not start: {error}")
            try:
                exited = _wait_with_usage(process, limits.wall_s)
            finally:
                _kill_group(process.pid)  # whatever the program forked dies with it
        if exited is None:
            process.wait()
            return SandboxResult(failure="timeout", detail=f"wall clock {limits.wall_s} s")
        returncode, cpu_s = exited
        if returncode == -signal.SIGKILL and cpu_s >= limits.cpu_s:  # SIGXCPU caught: the hard limit's SIGKILL
            return SandboxResult(failure="cpu_limit", detail=f"killed by SIGKILL after {cpu_s:.1f} s of CPU")
        return _read_result(returncode, stdout_path, stderr_path, nonce)


def _wait_with_usage(process: subprocess.Popen, wall_s: float) -> tuple[int, float] | None:
    """``(exit status as Popen reports it, CPU seconds used)`` once ``process`` exits, or None after ``wall_s``.

    ``os.wait4`` rather than ``Popen.wait``: the CPU time tells the hard CPU limit's SIGKILL from other kills.
    """
    deadline = time.monotonic() + wall_s
    pause = 0.001
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode, usage.ru_utime + usage.ru_stime
        if time.monotonic() >= deadline:
            return None
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _read_result(returncode: int, stdout_path: Path, stderr_path: Path, nonce: str) -> SandboxResult:
    """The runner's result line, or the failure kind its exit status tells."""
    lines = _tail(stdout_path).decode("utf-8", "replace").splitlines()
    result = next((line[len(nonce):] for line in reversed(lines) if line.startswith(nonce)), None)
    if returncode == 0 and result is not None:
        parsed = json.loads(result)
        if parsed["limit"] == "memory":
            return SandboxResult(failure="memory_limit", detail="MemoryError under RLIMIT_AS")
        return SandboxResult(passed=tuple(bool(p) for p in parsed["passed"]))
    by_signal: dict[int, FailureKind] = {-signal.SIGXCPU: "cpu_limit", -signal.SIGXFSZ: "file_size_limit"}
    stderr_tail = _tail(stderr_path, 2000).decode("utf-8", "replace")
    if returncode < 0:
        name = signal.Signals(-returncode).name
        return SandboxResult(failure=by_signal.get(returncode, "crash"), detail=f"killed by {name}")
    if "MemoryError" in stderr_tail:
        return SandboxResult(failure="memory_limit", detail="MemoryError under RLIMIT_AS")
    return SandboxResult(failure="crash", detail=f"exit {returncode} without a result: {stderr_tail[-300:]}")


def _tail(path: Path, size: int = _RESULT_TAIL_BYTES) -> bytes:
    """The last ``size`` bytes of ``path``; nothing if the program deleted or locked it."""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - size))
            return handle.read()
    except OSError:
        return b""


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _remove_tree(path: Path) -> None:
    """Delete the scratch directory even where the program took away its own permissions."""

    def make_writable_and_retry(function, failed_path, _exc_info) -> None:
        os.chmod(os.path.dirname(failed_path), stat.S_IRWXU)
        if os.path.isdir(failed_path):
            os.chmod(failed_path, stat.S_IRWXU)
        function(failed_path)

    shutil.rmtree(path, onerror=make_writable_and_retry)
