"""AGAPO's step time against TRL's GRPO step on the same model, data and settings, in one run (target <= 1.05x).

Both trainers start from the same tiny K-EXAONE (a copy each), see the same addition prompts, G, lengths, lr and
seed, and run interleaved in rounds so machine load hits both alike; the medians of the optimizer-step wall times
(generation, rewards, loss, update) are compared.

    .venv/bin/python bench/trainer_overhead.py [--steps 8] [--rounds 3] [--sft-steps 20]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
from pathlib import Path

import torch
from align_common import EXAONE4, GRPO, KEXAONE, build_trainer, sft_policy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sft-steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tokenizer, model = sft_policy(args.sft_steps)
    out = Path(tempfile.mkdtemp(prefix="trainer-overhead-"))
    times: dict[str, list[float]] = {GRPO: [], EXAONE4: [], KEXAONE: []}
    for _ in range(args.rounds):
        for method in times:
            trainer, timer = build_trainer(method, tokenizer, model, 8 * args.steps, args.steps, out)
            trainer.train()
            times[method] += timer.seconds[1:]  # the first step warms caches up
    grpo = statistics.median(times[GRPO])
    print(f"{platform.processor() or platform.machine()}, torch threads {args.threads}, {args.rounds} rounds x "
          f"{args.steps} steps, batch 8 completions (2 prompts x G=4), 4 new tokens")
    print("| trainer | median step (s) | ratio to TRL GRPO |\n|---|---|---|")
    for method, seconds in times.items():
        median = statistics.median(seconds)
        print(f"| {method} | {median:.3f} | {median / grpo:.3f}x |")


if __name__ == "__main__":
    main()
