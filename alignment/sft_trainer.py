"""SFT as TRL's ``SFTTrainer`` plus the MTP auxiliary loss where the checkpoint has an MTP block.

TRL 1.16's SFT loss runs the backbone and a fused LM head (``fused_lm_head=True``), so the model's own forward,
which adds ``mtp_loss_weight * mtp_loss``, is never called. This subclass keeps TRL's loss and metrics, catches
the backbone's final hidden states with a forward hook, and adds the MTP block's next-next-token loss on them:
one extra pass through the small MTP block, no second backbone pass. The MTP term is a mean over the
micro-batch's tokens and is divided by the gradient-accumulation steps, as TRL does for its MoE auxiliary loss.
``mtp_loss`` is logged beside TRL's ``loss``. A resumed run loads the checkpoint's full weights through
``checkpoint_weights`` (transformers' own resume leaves the MoE experts as initialised).
"""

from __future__ import annotations

from collections import defaultdict

import torch
from accelerate.utils import is_peft_model
from torch import nn
from trl import SFTTrainer

from haetae.alignment.checkpoint_weights import ResumesFullWeights
from haetae.alignment.mtp import ExaoneMoeWithMTP


def mtp_model(model: nn.Module) -> ExaoneMoeWithMTP | None:
    """The ExaoneMoeWithMTP inside ``model`` (PEFT- or accelerate-wrapped), or None."""
    inner = getattr(model, "module", model)
    if is_peft_model(inner):
        inner = inner.get_base_model()
    return inner if isinstance(inner, ExaoneMoeWithMTP) else None


class MTPSFTTrainer(ResumesFullWeights, SFTTrainer):
    """``SFTTrainer`` whose loss is ``main + mtp_loss_weight * mtp`` on checkpoints with an MTP block; resuming
    loads the checkpoint's experts (``ResumesFullWeights``)."""

    _tag_names = ["trl", "sft", "haetae"]

    def __init__(self, *args, mtp_loss_weight: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        base = mtp_model(self.model)
        self.mtp_loss_weight = (base.mtp_loss_weight if mtp_loss_weight is None else float(mtp_loss_weight)) \
            if base is not None else 0.0
        self._mtp_logs: dict[str, list[float]] = defaultdict(list)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        base = mtp_model(model)
        if base is None or self.mtp_loss_weight == 0.0 or not model.training or return_outputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        captured: dict[str, torch.Tensor] = {}
        hook = base.model.register_forward_hook(
            lambda module, args, output: captured.__setitem__("hidden", output.last_hidden_state))
        try:
            # return_outputs=False: TRL would rebuild the full logits with a second forward pass otherwise.
            loss = super().compute_loss(model, dict(inputs), num_items_in_batch=num_items_in_batch)
        finally:
            hook.remove()
        mtp = base.mtp_loss(captured["hidden"], inputs["input_ids"], inputs["labels"], inputs.get("attention_mask"),
                            inputs.get("position_ids"))
        steps = self.current_gradient_accumulation_steps if num_items_in_batch is not None else 1
        loss = loss + self.mtp_loss_weight * mtp / steps
        self._mtp_logs["mtp_loss"].append(self.accelerator.gather_for_metrics(mtp.detach()).mean().item())
        return loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs:
            logs.update({k: sum(v) / len(v) for k, v in self._mtp_logs.items() if v})
            self._mtp_logs.clear()
        super().log(logs, start_time)
