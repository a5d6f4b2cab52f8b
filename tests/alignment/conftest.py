"""Shared fixtures for the alignment tests."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import torch

from haetae.alignment.launch_smoke import CORPUS, tiny_policy


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run a module on one torch thread: on 2 shared cores, oversubscribed threads make tiny models ~10x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="package")
def legal_tokenizer(tmp_path_factory):
    """A 2,048-token tokenizer trained on the bundled Constitution of Korea (the tiny config's vocabulary)."""
    from haetae.alignment.tokenizer import train_tokenizer

    return train_tokenizer([CORPUS], 2048, tmp_path_factory.mktemp("legal_tok"))


@pytest.fixture(scope="package")
def legal_prompts() -> list[str]:
    """Short prompts: the opening characters of the Constitution's longer lines."""
    lines = [
        line.strip() for line in CORPUS.read_text(encoding="utf-8").splitlines() if len(line.strip()) > 20
    ]
    return [line[:12] for line in lines[:32]]


@pytest.fixture
def make_policy(legal_tokenizer):
    """Factory of fresh tiny policies (seeded) for the trainer tests."""
    return lambda seed=0: tiny_policy(legal_tokenizer, seed)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (SMOKE_MEMORY_BYTES, SMOKE_MEMORY_BYTES))


SMOKE_MEMORY_BYTES = 8 * 2**30  # per process; a tiny run uses under 2 GiB of address space beyond torch's own


def smoke_command(processes: int, *options: str) -> list[str]:
    """``python -m haetae.alignment.launch_smoke`` on one process, or under ``accelerate launch`` on several."""
    if processes == 1:
        return [sys.executable, "-m", "haetae.alignment.launch_smoke", *options]
    launcher = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes),
                "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                "--main_process_port", str(_free_port())]
    return [*launcher, "-m", "haetae.alignment.launch_smoke", *options]


def start_smoke(processes: int, *options: str, log: Path) -> subprocess.Popen:
    """Start a tiny AGAPO run in its own process group (so a timeout can stop every rank), memory capped."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TRL_EXPERIMENTAL_SILENCE": "1", "TOKENIZERS_PARALLELISM": "false",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.Popen(smoke_command(processes, *options), stdout=log.open("w"), stderr=subprocess.STDOUT,
                            env=env, start_new_session=True, preexec_fn=_cap_memory)


def kill_smoke(process: subprocess.Popen) -> int:
    """SIGKILL the run: the launcher and every rank (torchrun starts ranks outside the launcher's process group)."""
    tree = [process.pid, *(child.pid for child in psutil.Process(process.pid).children(recursive=True))]
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in tree[1:]:
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).wait(timeout=30)
    return process.wait()


def finish_smoke(process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Wait for the run; on a timeout kill its whole group and fail (a hang, e.g. ranks disagreeing on shapes)."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_smoke(process)
        pytest.fail(f"run did not finish within {timeout}s (hung?); log tail:\n{log.read_text()[-3000:]}")
    assert process.returncode == 0, log.read_text()[-3000:]


def read_metrics(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="package")
def tokenizer_dir(legal_tokenizer, tmp_path_factory) -> Path:
    """The package tokenizer saved where a launched run can load it (instead of training its own)."""
    folder = tmp_path_factory.mktemp("smoke_tokenizer")
    legal_tokenizer.save_pretrained(folder)
    return folder
