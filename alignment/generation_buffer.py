"""The buffered generation batch of a GRPO-style run, saved with each checkpoint so a resume does not regenerate it.

TRL generates once per ``steps_per_generation * num_iterations`` optimizer steps and keeps the scored batch in
``trainer._buffered_inputs``, indexed by ``trainer._step``. Neither is in a Hugging Face checkpoint, so a run resumed
from a checkpoint in the middle of a buffer generates a fresh batch (new completions, new rewards) and trains on
something the uninterrupted run never saw (TRL issues 3148, 3247). One file per process holds both; it is written
last and renamed into place, so its presence marks a checkpoint whose every file is complete.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch

from haetae.errors import UsageError

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def buffer_path(checkpoint: str | Path, process_index: int) -> Path:
    return Path(checkpoint) / f"generation_buffer_{process_index}.pt"


def save_generation_buffer(checkpoint: str | Path, process_index: int, step: int, buffered: Any) -> Path:
    """Write ``{"step", "buffered_inputs"}`` atomically (temporary file, then rename) into ``checkpoint``."""
    final = buffer_path(checkpoint, process_index)
    partial = final.with_suffix(".pt.partial")
    torch.save({"step": step, "buffered_inputs": buffered}, partial)
    os.replace(partial, final)
    return final


def load_generation_buffer(checkpoint: str | Path, process_index: int, device: torch.device) -> dict[str, Any]:
    """The saved step counter and buffer for this process; UsageError when the checkpoint has none for it."""
    path = buffer_path(checkpoint, process_index)
    if not path.is_file():
        raise UsageError(
            f"{path}: missing; this checkpoint was written by another trainer or world size (resume it with the "
            "same number of processes, or start from a checkpoint that has one buffer file per process)"
        )
    # accelerate's multi-process CPU device is "cpu:N", which torch.load cannot map to
    location = "cpu" if device.type == "cpu" else device
    return torch.load(path, map_location=location, weights_only=True)


def last_complete_checkpoint(output_dir: str | Path, num_processes: int) -> Path | None:
    """The newest ``checkpoint-N`` whose trainer state and every process's buffer are written, or None.

    A run killed while it was writing a checkpoint leaves a folder without them; ``transformers``'
    ``get_last_checkpoint`` would pick that folder anyway.
    """
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return None
    steps = sorted(
        (int(match.group(1)), entry)
        for entry in output_dir.iterdir()
        if entry.is_dir() and (match := _CHECKPOINT.match(entry.name))
    )
    for _, folder in reversed(steps):
        written = (folder / "trainer_state.json").is_file()
        if written and all(buffer_path(folder, rank).is_file() for rank in range(num_processes)):
            return folder
    return None
