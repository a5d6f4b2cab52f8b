"""GrouPER (and SimPER, its G = 2 case) as a ``transformers.Trainer`` over cached, scored response groups.

``cache_groups`` samples G responses per prompt once from the initial policy, scores each with a ``Judge`` and
writes one JSONL line per prompt: ``{"prompt", "responses": [G], "rewards": [G floats or null]}``.
``load_cached_groups`` reads them back (one-line errors naming the file and line), and the trainer minimises
``grouper_loss`` on each response's mean token log-probability under the policy being trained.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from torch import nn
from transformers import Trainer
from trl.trainer.utils import selective_log_softmax

from haetae.alignment.agapo_trainer import freeze_mtp
from haetae.alignment.checkpoint_weights import ResumesFullWeights
from haetae.alignment.grouper_config import GrouPERConfig
from haetae.alignment.judges import Judge
from haetae.alignment.objectives import grouper_advantages, grouper_loss
from haetae.alignment.sampling import sample_groups
from haetae.errors import UsageError


def cache_groups(
    model: nn.Module,
    tokenizer,
    rows: Sequence[dict[str, Any]],
    judge: Judge,
    path: str | Path,
    num_generations: int,
    max_new_tokens: int,
    **sampling: Any,
) -> dict[str, int]:
    """Sample, score and write the groups (atomically); counts reconcile: responses == scored + unscored."""
    groups = sample_groups(
        model, tokenizer, [r["prompt"] for r in rows], num_generations, max_new_tokens, **sampling
    )
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    unscored = 0
    with tmp.open("w", encoding="utf-8") as out:
        for row, responses in zip(rows, groups, strict=True):
            ctx = {k: v for k, v in row.items() if k != "prompt"}
            rewards = [judge.score(row["prompt"], response, **ctx) for response in responses]
            unscored += sum(r is None for r in rewards)
            out.write(
                json.dumps({"prompt": row["prompt"], "responses": responses, "rewards": rewards}) + "\n"
            )
    os.replace(tmp, path)
    total = len(rows) * num_generations
    return {"prompts": len(rows), "responses": total, "scored": total - unscored, "unscored": unscored}


def load_cached_groups(path: str | Path, num_generations: int) -> Dataset:
    """The cached groups as a Dataset; a malformed line is a UsageError naming ``path:line``."""
    records = []
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise UsageError(
                    f"{where}: not JSON ({err.msg}); regenerate the cache with cache_groups"
                ) from None
            responses, rewards = record.get("responses"), record.get("rewards")
            if not isinstance(record.get("prompt"), str) or not isinstance(responses, list):
                raise UsageError(f"{where}: needs a string 'prompt' and a list 'responses'")
            if (
                len(responses) != num_generations
                or not isinstance(rewards, list)
                or len(rewards) != len(responses)
            ):
                raise UsageError(
                    f"{where}: expected {num_generations} responses and as many rewards; set num_generations to "
                    "the cache's group size or regenerate it"
                )
            rewards = [float("nan") if r is None else float(r) for r in rewards]
            records.append({"prompt": record["prompt"], "responses": responses, "rewards": rewards})
    if not records:
        raise UsageError(f"{path}: no cached groups; run cache_groups first")
    return Dataset.from_list(records)


class GroupCollator:
    """Tokenise each group's G (prompt, response) pairs; only response tokens (and EOS) are scored.

    A pair longer than ``max_length`` loses the response's end; a prompt of ``max_length`` tokens or more also
    loses its start, keeping one response token to score.
    """

    def __init__(self, tokenizer, max_length: int):
        self.tokenizer, self.max_length = tokenizer, max_length

    def __call__(self, groups: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        ids, scored = [], []
        for group in groups:
            prompt = self.tokenizer(group["prompt"], add_special_tokens=False)["input_ids"]
            for response in group["responses"]:
                answer = self.tokenizer(response, add_special_tokens=False)["input_ids"] + [
                    self.tokenizer.eos_token_id
                ]
                # Too long: the response is cut at its end; a prompt that alone fills max_length loses its start,
                # so every sequence keeps at least one scored token.
                kept_prompt = prompt[max(0, len(prompt) - (self.max_length - 1)):]
                answer = answer[: self.max_length - len(kept_prompt)]
                ids.append(kept_prompt + answer)
                scored.append([0] * len(kept_prompt) + [1] * len(answer))
        width = max(map(len, ids))
        pad = self.tokenizer.pad_token_id
        return {
            "input_ids": torch.tensor([s + [pad] * (width - len(s)) for s in ids]),
            "attention_mask": torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in ids]),
            "response_mask": torch.tensor([m + [0] * (width - len(m)) for m in scored]),
            "rewards": torch.tensor([g["rewards"] for g in groups], dtype=torch.float32),
        }


def mean_token_logps(model: nn.Module, input_ids, attention_mask, response_mask) -> torch.Tensor:
    """Each sequence's mean log-probability over its response tokens, ``[N]``; NaN if nothing was kept."""
    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, :-1]
    logps = selective_log_softmax(logits.float(), input_ids[:, 1:])
    mask = response_mask[:, 1:].to(logps.dtype)
    count = mask.sum(dim=-1)
    return torch.where(count > 0, (logps * mask).sum(dim=-1) / count.clamp(min=1.0), torch.nan)


class GrouPERTrainer(ResumesFullWeights, Trainer):
    """Minimises ``-E[(1/G) sum_i A_i exp(mean log pi(o_i|x))]`` over the cached groups (SimPER / 2 when G = 2);
    resuming loads the checkpoint's experts (``ResumesFullWeights``)."""

    def __init__(self, model, args: GrouPERConfig, train_dataset: Dataset, processing_class, **kwargs):
        if not isinstance(args, GrouPERConfig):
            raise UsageError(f"GrouPERTrainer needs a GrouPERConfig, got {type(args).__name__}")
        collator = GroupCollator(processing_class, args.max_length)
        # The loss reads the main head's log-probs only: the MTP block gets no gradient, so it is frozen and
        # saved as SFT left it, as in AGAPO (see ``freeze_mtp`` for why DDP needs this).
        self.frozen_mtp = freeze_mtp(model)
        super().__init__(
            model=model,
            args=args,
            train_dataset=train_dataset,
            data_collator=collator,
            processing_class=processing_class,
            **kwargs,
        )
        self._metrics: dict[str, list[float]] = defaultdict(list)
        # The loss is a mean over this micro-batch's groups: let Trainer scale it for gradient accumulation.
        self.model_accepts_loss_kwargs = False

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        rewards = inputs["rewards"]
        logps = mean_token_logps(
            model, inputs["input_ids"], inputs["attention_mask"], inputs["response_mask"]
        )
        advantages = grouper_advantages(rewards)
        loss, stats = grouper_loss(logps.view_as(rewards), advantages)
        self._metrics["inverse_perplexity"].append(stats["inverse_perplexity"].item())
        self._metrics["reward"].append(rewards.nanmean().item())
        self._metrics["reward_missing_fraction"].append(rewards.isnan().float().mean().item())
        return (loss, {"advantages": advantages}) if return_outputs else loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        logs.update({f"grouper/{k}": sum(v) / len(v) for k, v in self._metrics.items() if v})
        self._metrics.clear()
        super().log(logs, start_time)
