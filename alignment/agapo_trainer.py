"""AGAPO as a TRL ``GRPOTrainer`` subclass that overrides three private hooks and nothing else.

- ``_calculate_rewards``: keeps the rewards TRL gathered from every process (NaN = a reward that failed);
- ``_generate_and_score_completions``: replaces TRL's advantages with AGAPO's (``agapo_batch_advantages``), computed
  over the global batch on every rank and sliced back, so ranks always agree on shapes: a filtered group stays in
  the batch with a NaN advantage and is masked out of the loss instead of being dropped;
- ``_compute_loss``: the variant's loss from ``objectives`` (no PPO clipping in either variant), weighted so that
  every kept sequence counts the same on any number of processes (``global_sequence_weight``); its kept
  count and every logged metric cross processes in one reduce per micro-batch;
- ``_save_checkpoint`` / ``_load_optimizer_and_scheduler``: the buffered generation batch and TRL's step counter
  travel with each checkpoint (``generation_buffer``), so a resumed run trains on the batch it had generated;
- ``_get_train_sampler``: TRL's sampler, shuffled per epoch from ``seed + epoch`` (``epoch_sampler``), so a
  run resumed in a later epoch sees the prompts the uninterrupted run saw;
- ``_load_from_checkpoint`` (``ResumesFullWeights``, shared with the SFT and GrouPER trainers): full weights come
  back through ``from_pretrained``'s key conversion (transformers' own resume leaves the MoE experts unloaded).

TRL 1.16.0 is pinned because these hooks are private; ``tests/alignment/test_agapo_trainer.py`` compares their
signatures and fails loudly when they change. Generation, reward calls, vLLM, weight sync and logging are TRL's.
Multimodal inputs are not forwarded (K-EXAONE is a text model).
"""

from __future__ import annotations

import copy
import os

import torch
from accelerate.utils import is_peft_model
from torch import Tensor, nn
from transformers.models.exaone_moe.modeling_exaone_moe import ExaoneMoeTopkRouter
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR
from trl import GRPOTrainer
from trl.models import prepare_deepspeed, prepare_fsdp
from trl.trainer.utils import add_fused_lm_head, disable_dropout_in_model

from haetae.alignment.agapo_config import AGAPOConfig
from haetae.alignment.checkpoint_weights import ResumesFullWeights
from haetae.alignment.epoch_sampler import EpochSeededRepeatSampler
from haetae.alignment.generation_buffer import load_generation_buffer, save_generation_buffer
from haetae.alignment.objectives import (
    agapo_advantages,
    agapo_exaone4_loss,
    agapo_kexaone_loss,
    all_wrong_groups,
    per_token_kl,
    zero_variance_groups,
)
from haetae.errors import UsageError


def agapo_batch_advantages(rewards: Tensor, args: AGAPOConfig) -> tuple[Tensor, Tensor]:
    """Advantages ``[P, G]`` and the bool ``[P]`` mask of groups filtered out of the loss, for ``args.variant``.

    kexaone drops zero-variance groups (every scored rollout got the same reward) before the global
    normalisation; exaone4 filters nothing here (its asymmetric sampling runs before training) and handles
    all-wrong groups as ``args.all_wrong`` says.
    """
    if args.variant == "kexaone":
        filtered = zero_variance_groups(rewards)
        masked = torch.where(filtered.unsqueeze(1), torch.nan, rewards)
        return agapo_advantages(masked, all_wrong="zero"), filtered
    filtered = torch.zeros(rewards.size(0), dtype=torch.bool, device=rewards.device)
    return agapo_advantages(rewards, all_wrong=args.all_wrong, wrong_reward=args.wrong_reward), filtered


def global_sequence_weight(kept_here: Tensor, kept_everywhere: Tensor, processes: int) -> Tensor:
    """Factor turning this process's mean over its kept sequences into its share of the global mean.

    DDP averages gradients over processes, so a per-process mean weighs a sequence by 1 / (its process's kept
    count): when filtering keeps 0 sequences on one rank and 4 on the other, those 4 would count half as much
    as on one process. Scaling by ``kept_here * processes / kept_everywhere`` restores 1 / (global count).
    """
    return kept_here.to(torch.float32) * processes / kept_everywhere.clamp(min=1.0)


def freeze_router(model: nn.Module) -> int:
    """Stop gradients into every ExaoneMoe router weight; returns how many routers were frozen.

    The score-correction bias is a buffer: no optimizer sees it, and nothing in the trainer updates it.
    """
    routers = [m for m in model.modules() if isinstance(m, ExaoneMoeTopkRouter)]
    for router in routers:
        router.weight.requires_grad_(False)
    return len(routers)


def freeze_mtp(model: nn.Module) -> int:
    """Stop gradients into the MTP block (``mtp.*``, adapters included); returns how many tensors were frozen.

    The policy's log-probs never pass through the block, so the RL loss gives it no gradient: left trainable it
    would only hold optimizer state, and DDP (``find_unused_parameters`` is off under gradient checkpointing)
    would wait for its gradients, leaving a reduction bucket unsynchronised and failing on the next step. It is
    saved as SFT left it.
    """
    frozen = [p for name, p in model.named_parameters() if "mtp" in name.split(".") and p.requires_grad]
    for parameter in frozen:
        parameter.requires_grad_(False)
    return len(frozen)


class AGAPOTrainer(ResumesFullWeights, GRPOTrainer):
    """Asymmetric sampling and Global Advantage Policy Optimization; see ``AGAPOConfig.variant``."""

    _tag_names = ["trl", "agapo", "haetae"]

    def __init__(self, model, reward_funcs, args: AGAPOConfig | None = None, ref_model=None, **kwargs):
        if args is None:
            args = AGAPOConfig("agapo-output")
        if not isinstance(args, AGAPOConfig):
            raise UsageError(f"AGAPOTrainer needs an AGAPOConfig, got {type(args).__name__}")
        if isinstance(model, str):
            raise UsageError(
                f"AGAPOTrainer: load {model} with ExaoneMoeWithMTP.from_pretrained and pass the model (TRL cannot "
                "resolve the checkpoint's architecture from its path)"
            )
        beta = args.beta
        if beta != 0.0 and not is_peft_model(model):
            # TRL would rebuild the KL reference from the policy's path, which fails for these checkpoints; the
            # policy as passed in (before any update) is the SFT reference, so keep a frozen copy of it instead.
            ref_model = copy.deepcopy(model) if ref_model is None else ref_model
            args.beta = 0.0
        try:
            super().__init__(model, reward_funcs, args=args, **kwargs)
        finally:
            args.beta = beta
        self.beta = beta
        if ref_model is not None:
            self.ref_model = self._prepare_reference(ref_model)
        # TRL's fused LM head computes Mixtral's load-balancing loss whenever the config asks for router logits;
        # the sigmoid router has none, so never ask (and never pay for the router logits).
        text_config = self.model.config.get_text_config()
        if getattr(text_config, "output_router_logits", False):
            text_config.output_router_logits = False
        if self.aux_loss_enabled:
            raise UsageError(
                "AGAPOTrainer: router_aux_loss_coef must be 0 (no auxiliary loss for this router)"
            )
        self.frozen_routers = freeze_router(self.model) if args.freeze_router else 0
        self.frozen_mtp = freeze_mtp(self.model)
        self._agapo_rewards: Tensor | None = None

    def _prepare_reference(self, ref_model: nn.Module) -> nn.Module:
        """What TRL does to the reference it builds: eval mode, no grad, fused LM head, accelerator placement."""
        ref_model.eval().requires_grad_(False)
        if self.args.disable_dropout:
            disable_dropout_in_model(ref_model)
        add_fused_lm_head(ref_model, temperature=self.temperature)
        if self.is_deepspeed_enabled:
            return prepare_deepspeed(ref_model, self.accelerator)
        if self.is_fsdp_enabled:
            return prepare_fsdp(ref_model, self.accelerator)
        return self.accelerator.prepare_model(ref_model, evaluation_mode=True)

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        self._agapo_rewards = rewards_per_func  # [all processes' completions, reward funcs], gathered
        return rewards_per_func

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        mode = "train" if self.model.training else "eval"
        group_size = self.num_generations if mode == "train" else self.num_generations_eval
        per_func = self._agapo_rewards
        unscorable = per_func.isnan().all(dim=1)
        rewards = (per_func * self.reward_weights.to(per_func.device).unsqueeze(0)).nansum(dim=1)
        rewards = torch.where(unscorable, torch.nan, rewards).view(-1, group_size)
        advantages, filtered = agapo_batch_advantages(rewards, self.args)
        start = self.accelerator.process_index * len(inputs)
        output["advantages"] = advantages.flatten()[start : start + len(inputs)]

        # The rewards are already global: no collective here, and one device-to-host copy for all four values.
        values = torch.stack([
            filtered.float().mean(),
            all_wrong_groups(rewards, self.args.wrong_reward).float().mean(),
            per_func.isnan().float().mean(),
            advantages.abs().nanmean().nan_to_num(nan=0.0),  # 0 when no advantage is defined
        ]).tolist()
        names = ("filtered_fraction", "all_wrong_fraction", "reward_missing_fraction", "advantage_abs_mean")
        for name, value in zip(names, values, strict=True):
            self._metrics[mode][f"agapo/{name}"].append(value)
        return output

    def _reduce_sums(self, values: list[Tensor]) -> Tensor:
        """The scalars ``values``, each summed over every process, in one collective: one reduce per micro-batch
        instead of one per quantity (on many ranks every collective is a round trip)."""
        stacked = torch.stack([value.detach().reshape(()).to(torch.float32) for value in values])
        return self.accelerator.reduce(stacked, reduction="sum")

    def _save_checkpoint(self, model, trial):
        super()._save_checkpoint(model, trial)
        if not self.args.save_only_model:
            folder = os.path.join(self._get_output_dir(trial=trial), f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}")
            save_generation_buffer(folder, self.accelerator.process_index, self._step, self._buffered_inputs)

    def _get_train_sampler(self, dataset=None):
        # Trainer sets state.epoch to a whole number at the end of each epoch and restores it on resume.
        sampler = super()._get_train_sampler(dataset)
        return EpochSeededRepeatSampler.like(sampler, epoch_of=lambda: int(self.state.epoch or 0))

    def _load_optimizer_and_scheduler(self, checkpoint):
        super()._load_optimizer_and_scheduler(checkpoint)
        if checkpoint is not None:
            saved = load_generation_buffer(checkpoint, self.accelerator.process_index, self.accelerator.device)
            self._step, self._buffered_inputs = saved["step"], saved["buffered_inputs"]

    def _compute_loss(self, model, inputs):
        prompt_ids, prompt_mask = inputs["prompt_ids"], inputs["prompt_mask"]
        completion_ids, completion_mask = inputs["completion_ids"], inputs["completion_mask"]
        input_ids = torch.cat([prompt_ids, completion_ids], dim=1)
        attention_mask = torch.cat([prompt_mask, completion_mask], dim=1)
        mask = completion_mask if "tool_mask" not in inputs else completion_mask * inputs["tool_mask"]
        per_token_logps, entropies, _ = self._get_per_token_logps_and_entropies(
            model, input_ids, attention_mask, completion_ids.size(1), compute_entropy=True
        )
        advantages = inputs["advantages"]
        mode = "train" if self.model.training else "eval"
        if self.args.variant == "exaone4":
            loss, stats = agapo_exaone4_loss(
                per_token_logps, advantages, mask, inputs.get("ref_per_token_logps"), self.beta
            )
        else:
            # The rollout policy: vLLM's own log-probs when it generated, else the generation-time policy's
            # (TRL computes those when the batch is reused off-policy), else this is on-policy (ratio 1).
            rollout = inputs.get("sampling_per_token_logps")
            if rollout is None:
                rollout = inputs.get("old_per_token_logps")
            if rollout is None:
                rollout = per_token_logps.detach()
            loss, stats = agapo_kexaone_loss(per_token_logps, advantages, mask, rollout, self.args.is_cap)
        normalizer = self.current_gradient_accumulation_steps if mode == "train" else 1.0

        # Metrics as global weighted means, each a (sum, weight) pair reduced together with the kept count.
        float_mask = mask.to(per_token_logps.dtype)
        kept = (~advantages.isnan()).to(float_mask.dtype)
        kept_tokens = (float_mask * kept.unsqueeze(-1)).sum()
        stat_weights = {"kl_seq": kept.sum()}  # the others are means over the kept sequences' tokens
        weighted = [("entropy", (entropies * float_mask).sum(), float_mask.sum())]
        for name, value in stats.items():
            weight = stat_weights.get(name, kept_tokens)
            weighted.append((f"agapo/{name}", value * weight, weight))
        if "kl_seq" in stats:
            token_kl = per_token_kl(per_token_logps.detach(), inputs["ref_per_token_logps"])
            weighted.append(("kl", (token_kl * float_mask).sum(), float_mask.sum()))
        kept_here = kept.sum()
        reduced = self._reduce_sums([kept_here] + [x for _, total, weight in weighted for x in (total, weight)])
        processes = self.accelerator.num_processes
        loss = loss * global_sequence_weight(kept_here, reduced[0], processes).to(loss.dtype)

        totals = reduced[1:].view(-1, 2)  # rows: (sum, weight) per metric
        means = (totals[:, 0] / totals[:, 1].clamp(min=1.0)).tolist()
        for (name, _, _), mean in zip(weighted, means, strict=True):
            self._metrics[mode][name].append(mean)
        return loss / normalizer
