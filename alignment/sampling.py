"""Offline passes that sample G responses per prompt from a fixed policy and score them, before training.

AGAPO's asymmetric sampling (``asymmetric_prefilter``) samples the SFT model and drops the prompts it already
solves every time; GrouPER samples its initial policy once and caches the scored groups (``grouper_trainer``).
Both go through ``sample_groups`` and ``score_groups`` so the two read rewards the same way: ``None`` from a
reward function is NaN (missing), never 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from datasets import Dataset
from torch import nn

from haetae.alignment.objectives import all_correct_groups

RewardFunc = Callable[..., list[float | None]]


@torch.no_grad()
def sample_groups(
    model: nn.Module,
    tokenizer,
    prompts: Sequence[str],
    num_generations: int,
    max_new_tokens: int,
    temperature: float = 1.0,
    seed: int = 0,
    batch_size: int = 8,
) -> list[list[str]]:
    """``num_generations`` sampled completions (decoded, special tokens dropped) for each prompt."""
    torch.manual_seed(seed)
    was_training = model.training
    model.eval()
    groups: list[list[str]] = []
    for start in range(0, len(prompts), batch_size):
        batch = list(prompts[start : start + batch_size])
        enc = tokenizer(
            batch, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False
        )
        enc = {k: v.to(model.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
        out = model.generate(
            **enc,
            do_sample=True,
            temperature=temperature,
            max_new_tokens=max_new_tokens,
            num_return_sequences=num_generations,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
        texts = tokenizer.batch_decode(out[:, enc["input_ids"].size(1) :], skip_special_tokens=True)
        groups += [texts[i : i + num_generations] for i in range(0, len(texts), num_generations)]
    model.train(was_training)
    return groups


def score_groups(
    reward_funcs: Sequence[RewardFunc], rows: Sequence[dict[str, Any]], groups: Sequence[Sequence[str]]
) -> torch.Tensor:
    """Rewards ``[prompts, G]``: the sum of the reward functions (TRL's calling convention), NaN where all fail."""
    flat_rows = [row for row, group in zip(rows, groups, strict=True) for _ in group]
    completions = [c for group in groups for c in group]
    columns = {k: [row[k] for row in flat_rows] for k in flat_rows[0] if k != "prompt"} if flat_rows else {}
    prompts = [row["prompt"] for row in flat_rows]
    per_func = torch.tensor(
        [
            [
                torch.nan if r is None else float(r)
                for r in func(prompts=prompts, completions=completions, **columns)
            ]
            for func in reward_funcs
        ]
    )  # [funcs, N]
    total = per_func.nansum(dim=0).masked_fill(per_func.isnan().all(dim=0), torch.nan)
    return total.view(len(groups), -1)


def asymmetric_prefilter(
    dataset: Dataset,
    model: nn.Module,
    tokenizer,
    reward_funcs: Sequence[RewardFunc],
    num_generations: int,
    max_new_tokens: int,
    correct_reward: float = 1.0,
    **sampling: Any,
) -> tuple[Dataset, dict[str, int]]:
    """Drop the prompts whose every SFT sample is correct (all-wrong and mixed groups are kept).

    "Correct" is asked of each reward function on its own: a prompt is solved when every function that scores it
    gives every sample at least ``correct_reward`` (a function that scores none of its samples, such as
    ``math_answer`` on a safety prompt, has no say). Thresholding the *sum* instead would call a wrong sum (math 0)
    with a safe answer (safety 1) solved, and drop nearly every arithmetic prompt of a math + safety run.

    Returns the kept rows and counts that reconcile: ``prompts == kept + dropped_all_correct``.
    """
    rows = dataset.to_list()
    groups = sample_groups(
        model, tokenizer, [r["prompt"] for r in rows], num_generations, max_new_tokens, **sampling
    )
    per_func = [score_groups([func], rows, groups) for func in reward_funcs]  # each [prompts, G]
    scored = torch.stack([~r.isnan().all(dim=1) for r in per_func])  # [funcs, prompts]
    func_solved = torch.stack([all_correct_groups(r, correct_reward) for r in per_func])
    solved = scored.any(dim=0) & (func_solved | ~scored).all(dim=0)
    kept = [i for i, done in enumerate(solved.tolist()) if not done]
    counts = {"prompts": len(rows), "kept": len(kept), "dropped_all_correct": len(rows) - len(kept)}
    return dataset.select(kept), counts
