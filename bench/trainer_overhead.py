"""AGAPO's step time against TRL's GRPO step on the same model, data and settings, in one run (target <= 1.05x).

Both trainers start from the same tiny K-EXAONE (a copy each), see the same addition prompts, G, lengths, lr and
seed, and run interleaved in rounds so machine load hits both alike; the medians of the optimizer-step wall times
(generation, rewards, loss, update) are compared under two settings:

- ``same rollouts`` (learning rate 0): every trainer samples, scores and back-propagates exactly the same
  completions (the bench checks the logged token counts and rewards match GRPO's step by step) and AdamW does the
  same arithmetic, so the ratio is the trainer's own overhead: apples to apples;
- ``training`` (learning rate 1e-3): the policies move apart, so each samples other completions of other lengths
  and the reward parser sees other text; the ratio then also carries what the algorithms do differently.

Each step is split into TRL's generation + scoring (``_generate_and_score_completions``) and the rest (loss,
backward, optimizer, logging). exaone4's asymmetric sampling is not in any step: it is one sampling pass over the
prompts before training (``sampling.asymmetric_prefilter``), timed once and reported as its own cost.

    .venv/bin/python bench/trainer_overhead.py [--steps 10] [--rounds 3] [--sft-steps 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
from align_common import EXAONE4, GRPO, KEXAONE, build_trainer, sft_policy
from datasets import Dataset

from haetae.alignment.demo import addition_rows

METHODS = (GRPO, EXAONE4, KEXAONE)
SETTINGS = {"same rollouts (lr 0)": {"learning_rate": 0.0}, "training (lr 1e-3)": {"learning_rate": 1e-3}}


def time_generation(trainer) -> list[float]:
    """Wall seconds of each call to the trainer's generation + scoring (wrapped on this instance only)."""
    seconds: list[float] = []
    generate_and_score = trainer._generate_and_score_completions

    def timed(inputs):
        start = time.perf_counter()
        output = generate_and_score(inputs)
        seconds.append(time.perf_counter() - start)
        return output

    trainer._generate_and_score_completions = timed
    return seconds


def rollout_signature(trainer) -> list[tuple[float, float]]:
    """(tokens seen so far, mean reward) per step: equal between two runs only if they sampled the same text."""
    return [(row["num_tokens"], row["reward"]) for row in trainer.state.log_history if "reward" in row]


def prefilter_seconds(tokenizer, model, prompts: int) -> tuple[float, dict[str, int]]:
    """One asymmetric-sampling pass over the training prompts, as ``train_stages`` runs it before exaone4."""
    from haetae.alignment.rewards import MathAnswerReward
    from haetae.alignment.sampling import asymmetric_prefilter

    dataset = Dataset.from_list(addition_rows(prompts, seed=2))
    start = time.perf_counter()
    _, counts = asymmetric_prefilter(dataset, model, tokenizer, [MathAnswerReward(answer_column="answer")],
                                     num_generations=4, max_new_tokens=4, seed=0, temperature=1.0)
    return time.perf_counter() - start, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sft-steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    tokenizer, model = sft_policy(args.sft_steps)
    out = Path(tempfile.mkdtemp(prefix="trainer-overhead-"))
    prompts = 8 * args.steps
    steps: dict[tuple[str, str], list[float]] = {(s, m): [] for s in SETTINGS for m in METHODS}
    rest: dict[tuple[str, str], list[float]] = {key: [] for key in steps}
    generation: dict[tuple[str, str], list[float]] = {key: [] for key in steps}
    same_rollouts = True
    for _ in range(args.rounds):
        for setting, fields in SETTINGS.items():
            signatures = {}
            for method in METHODS:
                trainer, timer = build_trainer(method, tokenizer, model, prompts, args.steps, out, **fields)
                generated = time_generation(trainer)
                trainer.train()
                signatures[method] = rollout_signature(trainer)
                # The first step warms caches up; one generation per step (steps_per_generation = 1).
                steps[setting, method] += timer.seconds[1:]
                generation[setting, method] += generated[1:]
                rest[setting, method] += [s - g for s, g in zip(timer.seconds[1:], generated[1:], strict=True)]
            if fields["learning_rate"] == 0.0:
                same_rollouts &= all(signatures[m] == signatures[GRPO] for m in METHODS)
    prefilter_s, counts = prefilter_seconds(tokenizer, model, prompts)
    load_after = os.getloadavg()

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch threads {args.threads}, "
          f"{args.rounds} rounds x {args.steps} steps per trainer and setting, batch 8 completions (2 prompts x G=4), "
          f"<= 4 new tokens, beta 0; load average (1/5/15 min) {load_before} before, {load_after} after")
    print(f"same rollouts at lr 0 (token counts and rewards equal GRPO's at every step, every round): "
          f"{'yes' if same_rollouts else 'NO'}")
    for setting in SETTINGS:
        grpo_step = statistics.median(steps[setting, GRPO])
        grpo_rest = statistics.median(rest[setting, GRPO])
        print(f"\n{setting}\n| trainer | median step (s) | ratio to TRL GRPO | median generate+score (s) "
              f"| median loss+backward+update (s) | its ratio |\n|---|---|---|---|---|---|")
        for method in METHODS:
            step = statistics.median(steps[setting, method])
            other = statistics.median(rest[setting, method])
            print(f"| {method} | {step:.3f} | {step / grpo_step:.3f}x | "
                  f"{statistics.median(generation[setting, method]):.3f} | {other:.3f} | {other / grpo_rest:.3f}x |")
    grpo_step = statistics.median(steps["training (lr 1e-3)", GRPO])
    exaone4_step = statistics.median(steps["training (lr 1e-3)", EXAONE4])
    epoch_steps = prompts // 2
    print(f"\nexaone4 asymmetric prefilter, once before training (not in any step): {prefilter_s:.3f} s for "
          f"{counts['prompts']} prompts x G=4 (kept {counts['kept']}); spread over one epoch ({epoch_steps} steps) "
          f"+{prefilter_s / epoch_steps:.3f} s per step, exaone4 with it "
          f"{(exaone4_step + prefilter_s / epoch_steps) / grpo_step:.3f}x GRPO (training setting)")


if __name__ == "__main__":
    main()
