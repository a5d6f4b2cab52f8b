"""A tiny AGAPO run on the bundled Constitution of Korea, on one process or several, resumable after a kill.

    python -m haetae.alignment.launch_smoke --out OUT [--save-steps 2] [--resume last]
    accelerate launch --multi_gpu --num_processes 2 -m haetae.alignment.launch_smoke --out OUT

On a CPU-only machine ``--multi_gpu`` starts the processes (torchrun) and the run's ``use_cpu`` makes accelerate
join them over gloo; accelerate 1.15's ``--cpu`` starts a single process unless an MPI hostfile is given.
``python -m torch.distributed.run --nproc_per_node 2 -m haetae.alignment.launch_smoke`` works too.

Reward: the project's instruction-following ``ConstraintReward`` on each row's ``constraints``. Data: ``--data``
(JSON lines with ``prompt`` and ``constraints``) or prompts cut from the bundled text. ``--rollout seeded``
samples each completion from its own seed (``seeded_rollout``) so runs on different process counts see the same
completions. Each logged step is one JSON line in ``--metrics`` (default ``OUT/metrics.jsonl``), from process 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch
from datasets import Dataset
from transformers import AutoTokenizer, TrainerCallback

from haetae.alignment.process_group import end_process_group
from haetae.errors import HaetaeError, UsageError, one_line

CORPUS = Path(__file__).resolve().parents[1] / "pipelines" / "data" / "legal" / "ko_constitution.txt"
DEFAULT_CONSTRAINTS = ([{"type": "max_words", "value": 2}], [{"type": "language", "value": "ko"}])


@dataclass
class SmokeOptions:
    out: Path
    variant: str = "kexaone"
    max_steps: int = 4
    save_steps: int = 0  # 0: no checkpoints
    per_device_batch: int = 8
    num_generations: int = 4
    steps_per_generation: int | None = None
    max_completion_length: int = 8
    learning_rate: float = 1e-3
    beta: float = 0.0
    seed: int = 0
    shuffle: bool = True
    rollout: str = "trl"  # or "seeded"
    resume: str | None = None  # "last" or a checkpoint folder
    data: Path | None = None
    prompts: int = 16  # without --data: how many prompts to cut from the bundled text
    tokenizer: Path | None = None
    metrics: Path | None = None
    threads: int = 1
    extra: dict = field(default_factory=dict)  # further AGAPOConfig fields


def tiny_policy(tokenizer, seed: int = 0):
    """A tiny K-EXAONE (with MTP) on the project's kernel, vocabulary and special tokens from ``tokenizer``."""
    import haetae.alignment.attention  # noqa: F401  (registers "haetae_hybrid")
    from haetae.alignment.configs import get_config
    from haetae.alignment.mtp import ExaoneMoeWithMTP

    torch.manual_seed(seed)
    config = get_config(
        "tiny",
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    model = ExaoneMoeWithMTP(config)
    model.set_attn_implementation("haetae_hybrid")
    return model


def corpus_prompts(tokenizer, count: int, length: int = 6) -> list[str]:
    """``count`` prompts of exactly ``length`` tokens from the bundled text's lines.

    Equal lengths mean no left padding: TRL's training forward numbers positions from 0 regardless of padding,
    so a prompt's log-probs would otherwise depend on the longest prompt it is batched with.
    """
    prompts = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        ids = tokenizer(line.strip(), add_special_tokens=False)["input_ids"][:length]
        text = tokenizer.decode(ids)
        if len(ids) == length and tokenizer(text, add_special_tokens=False)["input_ids"] == ids:
            prompts.append(text)
        if len(prompts) == count:
            return prompts
    raise UsageError(f"{CORPUS}: only {len(prompts)} lines give a {length}-token prompt; ask for fewer")


def load_dataset(options: SmokeOptions, tokenizer) -> Dataset:
    if options.data is None:
        prompts = corpus_prompts(tokenizer, options.prompts)
        rows = [{"prompt": p, "constraints": DEFAULT_CONSTRAINTS[i % 2]} for i, p in enumerate(prompts)]
        return constraint_rows(rows)
    try:
        rows = [json.loads(line) for line in options.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as error:
        raise UsageError(f"{options.data}: not readable JSON lines ({one_line(error)})") from None
    if not rows or not all(isinstance(r, dict) and {"prompt", "constraints"} <= r.keys() for r in rows):
        raise UsageError(f"{options.data}: every line must be an object with 'prompt' and 'constraints'")
    return constraint_rows(rows)


def constraint_rows(rows: list[dict]) -> Dataset:
    """Constraints as JSON text (``ConstraintReward`` parses it): their values mix types Arrow cannot store."""
    return Dataset.from_list(
        [{**row, "constraints": row["constraints"] if isinstance(row["constraints"], str)
          else json.dumps(row["constraints"], ensure_ascii=False)} for row in rows]
    )


def load_tokenizer(options: SmokeOptions, state):
    if options.tokenizer is not None:
        return AutoTokenizer.from_pretrained(options.tokenizer)
    from haetae.alignment.tokenizer import train_tokenizer

    folder = options.out / "tokenizer"
    with state.main_process_first():
        if not (folder / "tokenizer.json").is_file():
            train_tokenizer([CORPUS], 2048, folder)
    return AutoTokenizer.from_pretrained(folder)


class MetricsLog(TrainerCallback):
    """One JSON line per log event on process 0; flushed at once, so a killed run keeps every step it logged."""

    def __init__(self, path: Path):
        self.path = path

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs and "train_runtime" not in logs:
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"step": state.global_step, **logs}) + "\n")


def resume_checkpoint(options: SmokeOptions, num_processes: int) -> str | None:
    from haetae.alignment.generation_buffer import last_complete_checkpoint

    if options.resume in (None, ""):
        return None
    if options.resume != "last":
        return options.resume
    found = last_complete_checkpoint(options.out, num_processes)
    if found is None:
        raise UsageError(f"{options.out}: no complete checkpoint to resume from; run without --resume")
    return str(found)


def train_smoke(options: SmokeOptions):
    """Build the tokenizer, policy, data and reward, train, and return the trainer."""
    from accelerate import PartialState

    from haetae.alignment.agapo_config import AGAPOConfig
    from haetae.alignment.agapo_trainer import AGAPOTrainer
    from haetae.alignment.rewards import ConstraintReward
    from haetae.alignment.seeded_rollout import seeded_rollout

    if options.rollout not in ("trl", "seeded"):
        raise UsageError(f"--rollout {options.rollout}: use 'trl' or 'seeded'")
    torch.set_num_threads(options.threads)
    use_cpu = not torch.cuda.is_available()
    state = PartialState(cpu=use_cpu)
    checkpoint = resume_checkpoint(options, state.num_processes)  # before any work: a bad --resume fails at once
    options.out.mkdir(parents=True, exist_ok=True)
    tokenizer = load_tokenizer(options, state)
    args = AGAPOConfig(
        output_dir=str(options.out),
        use_cpu=use_cpu,
        bf16=False,
        variant=options.variant,
        beta=options.beta,
        per_device_train_batch_size=options.per_device_batch,
        num_generations=options.num_generations,
        steps_per_generation=options.steps_per_generation,
        max_completion_length=options.max_completion_length,
        max_steps=options.max_steps,
        learning_rate=options.learning_rate,
        seed=options.seed,
        shuffle_dataset=options.shuffle,
        logging_steps=1,
        save_strategy="steps" if options.save_steps else "no",
        save_steps=options.save_steps or 500,
        report_to="none",
        disable_tqdm=True,
        **options.extra,
    )
    trainer = AGAPOTrainer(
        tiny_policy(tokenizer, options.seed),
        ConstraintReward(score="fraction"),
        args=args,
        train_dataset=load_dataset(options, tokenizer),
        processing_class=tokenizer,
        rollout_func=seeded_rollout if options.rollout == "seeded" else None,
        callbacks=[MetricsLog(options.metrics or options.out / "metrics.jsonl")],
    )
    trainer.train(resume_from_checkpoint=checkpoint)
    return trainer


def parse_options(argv: list[str] | None) -> SmokeOptions:
    parser = argparse.ArgumentParser(prog="python -m haetae.alignment.launch_smoke", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--variant", default="kexaone", choices=("kexaone", "exaone4"))
    parser.add_argument("--max-steps", type=int, default=4)
    parser.add_argument("--save-steps", type=int, default=0)
    parser.add_argument("--per-device-batch", type=int, default=8)
    parser.add_argument("--num-generations", type=int, default=4)
    parser.add_argument("--steps-per-generation", type=int)
    parser.add_argument("--max-completion-length", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--beta", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-shuffle", dest="shuffle", action="store_false")
    parser.add_argument("--rollout", default="trl", choices=("trl", "seeded"))
    parser.add_argument("--resume", help="'last' (newest complete checkpoint under --out) or a checkpoint folder")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--prompts", type=int, default=16, help="without --data: prompts cut from the bundled text")
    parser.add_argument("--tokenizer", type=Path)
    parser.add_argument("--metrics", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    return SmokeOptions(**vars(parser.parse_args(argv)))


def main(argv: list[str] | None = None) -> int:
    finished = False
    try:
        train_smoke(parse_options(argv))
        finished = True
    except HaetaeError as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        return error.exit_code
    finally:
        end_process_group(wait_for_all=finished)
    return 0


if __name__ == "__main__":
    sys.exit(main())
