"""What a training run needs to resume, kept with its checkpoints; its scratch stays in the staging folder.

A run writes its scratch (``metrics.jsonl`` as it grows, the AGAPO pre-filter's kept prompts, GrouPER's sampled
groups) into a ``work`` folder inside the execution layer's staging folder, so a finished output holds only
what it publishes and the scratch goes with the staging folder on publish. What must outlive a kill goes with
the checkpoints instead::

    checkpoints/run.json                 the run's identity (stage, starting model): another run may not resume it
    checkpoints/checkpoint-N/haetae/     the work folder as it was when step N was saved

A resumed run copies ``checkpoint-N/haetae/`` back into its new work folder: the metric lines up to step N
(the later ones are logged again) and the caches, so nothing sampled before step N is sampled again. A run
killed before its first checkpoint starts over, caches included.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from haetae.errors import UsageError

CHECKPOINTS = "checkpoints"
IDENTITY = "run.json"
SNAPSHOT = "haetae"
LEGACY_WORK = ".work"  # where earlier versions kept the scratch, beside the published output


def run_identity(stage: str, model: str) -> dict[str, str]:
    return {"stage": stage, "model": os.path.abspath(model)}


def prepare_checkpoints(out: Path, identity: dict[str, str], resume: bool | str,
                        say=lambda message: None) -> tuple[Path, str | None]:
    """``(checkpoints folder, checkpoint to resume from or None)``; refuses another run's checkpoints.

    ``resume=False`` removes the checkpoints first; ``True`` requires one; ``"auto"`` takes the newest if any.
    """
    from transformers.trainer_utils import get_last_checkpoint

    checkpoints = out / CHECKPOINTS
    legacy = out / LEGACY_WORK
    if legacy.is_dir():
        shutil.rmtree(legacy)
        say(f"haetae train: removed {legacy} (scratch of an earlier version; it now lives in the staging folder)")
    if resume is False and checkpoints.exists():
        shutil.rmtree(checkpoints)
        say(f"haetae train: resume=false: removed {checkpoints}")
    identity_file = checkpoints / IDENTITY
    if identity_file.is_file():
        previous = json.loads(identity_file.read_text(encoding="utf-8"))
        if previous != identity:
            raise UsageError(f"out={out}: holds the checkpoints of another run ({previous['stage']} from "
                             f"{previous['model']}); choose another out, or resume=false to discard them")
    checkpoints.mkdir(parents=True, exist_ok=True)
    identity_file.write_text(json.dumps(identity), encoding="utf-8")
    last = get_last_checkpoint(str(checkpoints))
    if resume is True and last is None:
        raise UsageError(f"resume=true: no checkpoint in {checkpoints}; use resume=auto to start fresh")
    return checkpoints, last


def restore_work(checkpoint: str | None, work: Path) -> None:
    """Fill the (new, empty) work folder from the checkpoint's snapshot; nothing to restore starts it empty."""
    work.mkdir(parents=True, exist_ok=True)
    snapshot = Path(checkpoint) / SNAPSHOT if checkpoint else None
    if snapshot is not None and snapshot.is_dir():
        shutil.copytree(snapshot, work, dirs_exist_ok=True)


def snapshot_work(work: Path, checkpoint: Path) -> None:
    """Copy the work folder into a checkpoint just saved (written to a temporary name, then renamed)."""
    if not checkpoint.is_dir():
        return
    partial = checkpoint / f".{SNAPSHOT}-partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(work, partial)
    shutil.rmtree(checkpoint / SNAPSHOT, ignore_errors=True)
    partial.rename(checkpoint / SNAPSHOT)


def snapshot_callback(work: Path) -> Any:
    """A ``TrainerCallback`` that snapshots ``work`` into every checkpoint the main process saves."""
    from transformers import TrainerCallback
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

    class SnapshotWork(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                snapshot_work(work, Path(args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}")

    return SnapshotWork()
