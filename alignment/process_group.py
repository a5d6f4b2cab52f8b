"""Ending a distributed run cleanly on every rank."""

from __future__ import annotations

import gc

import torch


def end_process_group(wait_for_all: bool) -> None:
    """Destroy the default group while the interpreter is whole, after every rank has finished (``wait_for_all``).

    Left to interpreter exit, gloo's worker threads can abort a rank whose training had ended (SIGABRT,
    "terminate called without an active exception"; pytorch#179291). After a failure ranks do not wait for each
    other: one may never reach the barrier.
    """
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        if wait_for_all:
            torch.distributed.barrier()
        torch.distributed.destroy_process_group()
        gc.collect()
