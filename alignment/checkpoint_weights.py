"""Loading a Trainer checkpoint's full weights back into the model being resumed, with the checkpoint key layout.

transformers 5 saves a model in its checkpoint layout: ExaoneMoe's fused experts are written as per-expert
``experts.N.gate_proj.weight`` tensors and the router's bias under another name, and ``from_pretrained`` converts
them back. ``Trainer._load_from_checkpoint`` skips that conversion: it loads the file with a non-strict
``load_state_dict``, so on resume every expert and correction bias silently keeps the value it had before
(a fresh initialisation), and only a "missing keys" warning says so.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn
from transformers.utils import SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME, WEIGHTS_INDEX_NAME, WEIGHTS_NAME

from haetae.errors import UsageError

FULL_WEIGHT_FILES = (SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME, WEIGHTS_NAME, WEIGHTS_INDEX_NAME)


def has_full_weights(checkpoint: str | Path) -> bool:
    return any((Path(checkpoint) / name).is_file() for name in FULL_WEIGHT_FILES)


def load_checkpoint_weights(model: nn.Module, checkpoint: str | Path) -> None:
    """Overwrite ``model``'s parameters and buffers with the checkpoint's, through ``from_pretrained``'s conversion.

    Strict: a checkpoint of another architecture or size is a UsageError naming what does not match.
    """
    dtype = next(model.parameters()).dtype
    loaded = type(model).from_pretrained(checkpoint, dtype=dtype)
    try:
        model.load_state_dict(loaded.state_dict(), strict=True)
    except RuntimeError as error:
        first = str(error).splitlines()[1].strip() if "\n" in str(error) else str(error)
        raise UsageError(f"{checkpoint}: its weights do not fit this model ({first[:200]})") from None


class ResumesFullWeights:
    """Trainer mixin (put it before the Trainer class): resume full weights through :func:`load_checkpoint_weights`.

    Every haetae trainer (SFT, AGAPO, GrouPER) trains ExaoneMoe, so each needs it; without it a resumed run
    continues with freshly initialised experts. DeepSpeed and FSDP shards, PEFT adapters and checkpoints without
    a full weights file keep transformers' own loading (they carry no converted expert keys).
    """

    def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
        from accelerate.utils import is_peft_model

        plain = model is None and not (self.is_deepspeed_enabled or self.is_fsdp_enabled or is_peft_model(self.model))
        if plain and has_full_weights(resume_from_checkpoint):
            load_checkpoint_weights(self.model, resume_from_checkpoint)
        else:
            super()._load_from_checkpoint(resume_from_checkpoint, model)
