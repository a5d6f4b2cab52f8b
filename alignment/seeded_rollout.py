"""Rollouts that do not depend on how many processes share the batch, for checking a distributed run against one.

TRL samples a process's whole slice in one batched ``generate`` from a per-process seed, so the same global batch
gets other completions on 1 and on 2 processes, and their losses cannot be compared. Here each completion is
sampled alone, from a seed fixed by (run seed, optimizer step, its row in the global generation batch), inside a
forked RNG: row ``r`` gets the same tokens whichever process holds it, and the trainer's own RNG stream is left as
it was. Pass it as ``rollout_func``; it is slower than batched generation and meant for checks and small runs.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import GenerationConfig

# Odd multipliers that spread (seed, step, row) over the 63-bit seed space without collisions in practice.
_STEP_STRIDE = 1_000_003
_SEED_STRIDE = 2_147_483_647


def row_seed(seed: int, step: int, row: int) -> int:
    return (seed * _SEED_STRIDE + step * _STEP_STRIDE + row) % (2**63 - 1)


def seeded_rollout(prompts: list[str], trainer: Any) -> dict[str, list]:
    """TRL ``rollout_func``: ``prompt_ids`` and ``completion_ids`` per row; ``logprobs`` None (TRL recomputes the
    generation-time policy's log-probs when the batch is reused off-policy)."""
    args = trainer.args
    tokenizer = trainer.processing_class
    prompt_ids = tokenizer(text=prompts)["input_ids"]
    first_row = trainer.accelerator.process_index * len(prompts)
    config = GenerationConfig(
        max_new_tokens=args.max_completion_length,
        do_sample=True,
        temperature=args.temperature,
        top_p=args.top_p,
        top_k=args.top_k or 0,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    model = trainer.model  # the unwrapped module: generating must not trigger DDP's gradient hooks
    completion_ids = []
    with torch.no_grad():
        for offset, ids in enumerate(prompt_ids):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(row_seed(args.seed, trainer.state.global_step, first_row + offset))
                inputs = torch.tensor([ids], device=trainer.accelerator.device)
                out = model.generate(
                    input_ids=inputs, attention_mask=torch.ones_like(inputs), generation_config=config
                )
            completion_ids.append(out[0, len(ids) :].tolist())
    return {"prompt_ids": prompt_ids, "completion_ids": completion_ids, "logprobs": None}
