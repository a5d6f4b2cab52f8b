"""AGAPO's step time against TRL's GRPO step on the same model, data and settings, in one run (target <= 1.05x).

Both trainers start from the same tiny K-EXAONE (a copy each), see the same addition prompts, G, lengths, lr and
seed, and run interleaved in rounds (each starting with another trainer) so machine load hits all alike; the medians of the optimizer-step times
(generation, rewards, loss, update) are compared under two settings, as wall time and as this process's CPU time
(torch on one thread: CPU time is what other jobs on a shared machine inflate least):

- ``same rollouts`` (learning rate 0): every trainer samples, scores and back-propagates exactly the same
  completions (the bench checks the logged token counts and rewards match GRPO's step by step) and AdamW does the
  same arithmetic, so the ratio is the trainer's own overhead: apples to apples;
- ``training`` (learning rate 1e-3): the policies move apart, so each samples other completions of other lengths
  and the reward parser sees other text; the ratio then also carries what the algorithms do differently.

Each step is split into TRL's generation + scoring (``_generate_and_score_completions``) and the rest (loss,
backward, optimizer, logging); a last paired micro-benchmark runs one shared batch through each trainer's loss,
backward and AdamW step, alternating the trainers at every iteration. exaone4's asymmetric sampling is not in any step: it is one sampling pass over the
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
from collections import defaultdict
from pathlib import Path

import torch
from align_common import EXAONE4, GRPO, KEXAONE, build_trainer, sft_policy
from datasets import Dataset

from haetae.alignment.demo import addition_rows

METHODS = (GRPO, EXAONE4, KEXAONE)
SETTINGS = {"same rollouts (lr 0)": {"learning_rate": 0.0}, "training (lr 1e-3)": {"learning_rate": 1e-3}}


def time_generation(trainer) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each call to the trainer's generation + scoring (wrapped on this instance only)."""
    wall: list[float] = []
    cpu: list[float] = []
    generate_and_score = trainer._generate_and_score_completions

    def timed(inputs):
        start, cpu_start = time.perf_counter(), time.process_time()
        output = generate_and_score(inputs)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
        return output

    trainer._generate_and_score_completions = timed
    return wall, cpu


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


def paired_loss_step(tokenizer, model, out: Path, iterations: int) -> dict[str, dict[str, float]]:
    """Median CPU ms of loss, backward and AdamW step on one shared generated batch, the trainers alternating at
    every iteration (finer interleaving than whole runs, so load drift cancels): only the trainers' code differs."""
    trainers = {m: build_trainer(m, tokenizer, model, 16, iterations, out, learning_rate=0.0)[0] for m in METHODS}
    grpo = trainers[GRPO]
    grpo.model.train()
    batch = grpo._generate_and_score_completions([grpo.train_dataset[i % 2] for i in range(8)])  # 2 prompts x G=4
    batch["advantages"] = torch.linspace(-1.5, 1.5, 8)  # non-zero and the same for all: a real update's work
    for trainer in trainers.values():
        trainer.create_optimizer_and_scheduler(num_training_steps=iterations)
        trainer.current_gradient_accumulation_steps = 1  # set by the training loop, which is not run here
        trainer.model.train()
    phases = {m: defaultdict(list) for m in METHODS}
    for index in range(iterations):
        for method in METHODS[index % 3:] + METHODS[: index % 3]:
            trainer, phase = trainers[method], phases[method]
            start = time.process_time()
            loss = trainer.compute_loss(trainer.model, batch)
            after_loss = time.process_time()
            trainer.accelerator.backward(loss)
            after_backward = time.process_time()
            trainer.optimizer.step()
            trainer.optimizer.zero_grad()
            end = time.process_time()
            if index >= 5:  # warm-up
                phase["loss"].append(after_loss - start)
                phase["backward"].append(after_backward - after_loss)
                phase["step"].append(end - after_backward)
                phase["total"].append(end - start)
    return {m: {k: 1e3 * statistics.median(v) for k, v in phases[m].items()} for m in METHODS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sft-steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--paired-iterations", type=int, default=60)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    tokenizer, model = sft_policy(args.sft_steps)
    out = Path(tempfile.mkdtemp(prefix="trainer-overhead-"))
    prompts = 8 * args.steps
    samples = {(setting, method): defaultdict(list) for setting in SETTINGS for method in METHODS}
    same_rollouts = True
    for round_index in range(args.rounds):
        order = METHODS[round_index % len(METHODS):] + METHODS[: round_index % len(METHODS)]  # no fixed first
        for setting, fields in SETTINGS.items():
            signatures = {}
            for method in order:
                trainer, timer = build_trainer(method, tokenizer, model, prompts, args.steps, out, **fields)
                generation_wall, generation_cpu = time_generation(trainer)
                trainer.train()
                signatures[method] = rollout_signature(trainer)
                # The first step warms caches up; one generation per step (steps_per_generation = 1).
                sample = samples[setting, method]
                sample["wall"] += timer.seconds[1:]
                sample["cpu"] += timer.cpu_seconds[1:]
                sample["generation cpu"] += generation_cpu[1:]
                sample["rest cpu"] += [s - g for s, g in zip(timer.cpu_seconds[1:], generation_cpu[1:], strict=True)]
            if fields["learning_rate"] == 0.0:
                same_rollouts &= all(signatures[m] == signatures[GRPO] for m in METHODS)
    prefilter_s, counts = prefilter_seconds(tokenizer, model, prompts)
    paired = paired_loss_step(tokenizer, model, out, args.paired_iterations)
    load_after = os.getloadavg()

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch threads {args.threads}, "
          f"{args.rounds} rounds x {args.steps} steps per trainer and setting (first step of each run dropped), "
          f"batch 8 completions (2 prompts x G=4), <= 4 new tokens, beta 0; load average (1/5/15 min) "
          f"{tuple(round(x, 2) for x in load_before)} before, {tuple(round(x, 2) for x in load_after)} after")
    print(f"same rollouts at lr 0 (token counts and rewards equal GRPO's at every step, every round): "
          f"{'yes' if same_rollouts else 'NO'}")
    for setting in SETTINGS:
        grpo = {key: statistics.median(values) for key, values in samples[setting, GRPO].items()}
        print(f"\n{setting}, medians per optimizer step\n| trainer | wall (s) | ratio to TRL GRPO | CPU (s) | ratio "
              "| CPU in generate+score (s) | CPU in loss+backward+update (s) | ratio |\n|---|---|---|---|---|---|---|---|")
        for method in METHODS:
            m = {key: statistics.median(values) for key, values in samples[setting, method].items()}
            print(f"| {method} | {m['wall']:.3f} | {m['wall'] / grpo['wall']:.3f}x | {m['cpu']:.3f} | "
                  f"{m['cpu'] / grpo['cpu']:.3f}x | {m['generation cpu']:.3f} | {m['rest cpu']:.3f} | "
                  f"{m['rest cpu'] / grpo['rest cpu']:.3f}x |")
    print(f"\nsame generated batch, loss + backward + AdamW step only, trainers alternating every iteration, "
          f"median CPU ms over {args.paired_iterations - 5} iterations\n| trainer | loss | backward | step | total "
          "| ratio to TRL GRPO |\n|---|---|---|---|---|---|")
    for method in METHODS:
        ms = paired[method]
        print(f"| {method} | {ms['loss']:.2f} | {ms['backward']:.2f} | {ms['step']:.2f} | {ms['total']:.2f} | "
              f"{ms['total'] / paired[GRPO]['total']:.3f}x |")
    grpo_step = statistics.median(samples["training (lr 1e-3)", GRPO]["wall"])
    exaone4_step = statistics.median(samples["training (lr 1e-3)", EXAONE4]["wall"])
    epoch_steps = prompts // 2
    print(f"\nexaone4 asymmetric prefilter, once before training (not in any step): {prefilter_s:.3f} s wall for "
          f"{counts['prompts']} prompts x G=4 (kept {counts['kept']}); spread over one epoch ({epoch_steps} steps) "
          f"+{prefilter_s / epoch_steps:.3f} s per step, exaone4 with it "
          f"{(exaone4_step + prefilter_s / epoch_steps) / grpo_step:.3f}x GRPO's wall step (training setting)")


if __name__ == "__main__":
    main()
