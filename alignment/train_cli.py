"""``haetae train sft|agapo|grouper --recipe NAME [key=value ...]``: one training stage from a recipe."""

from __future__ import annotations

import argparse
import sys

STAGE_HELP = {
    "sft": "supervised fine-tuning on chat (assistant-only loss) and text rows, MTP auxiliary loss",
    "agapo": "AGAPO RL with verifiable rewards (variants exaone4, kexaone)",
    "grouper": "GrouPER (SimPER at G=2) on groups sampled once and judged, or on cached groups",
}


def _train(args: argparse.Namespace, extra: list[str]) -> int:
    from haetae.alignment.process_group import end_process_group
    from haetae.alignment.train import run_training

    overrides = list(args.overrides)
    overrides += [f"{key}={value}" for key, value in (("model", args.model), ("out", args.out)) if value]
    finished = False
    try:
        result = run_training(args.train_command, args.recipe, overrides)
        finished = True
    finally:
        end_process_group(wait_for_all=finished)
    resumed = f", resumed from {result.resumed_from}" if result.resumed_from else ""
    print(f"haetae train {result.stage}: {result.global_step} steps{resumed}; model {result.model_dir}, "
          f"metrics {result.metrics_path}", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    train = subparsers.add_parser("train", help="train a K-EXAONE checkpoint: sft, agapo, grouper (from a recipe)")
    stages = train.add_subparsers(dest="train_command", required=True, metavar="STAGE")
    for stage, help_text in STAGE_HELP.items():
        parser = stages.add_parser(
            stage, help=help_text, description=f"{help_text}. Recipes: alignment/recipes/ (tiny-cpu, small-1gpu, "
            "k-exaone-236b-a23b). Outputs: OUT/model, OUT/metrics.jsonl, OUT/checkpoints/ (resumed automatically).")
        parser.add_argument("--recipe", required=True, help="recipe file, or a shipped recipe's name (tiny-cpu)")
        parser.add_argument("--model", help="checkpoint directory (same as model=PATH)")
        parser.add_argument("--out", help="output folder (same as out=PATH)")
        parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                            help="recipe overrides with dotted keys, e.g. sft.max_steps=3 train.learning_rate=1e-4")
        parser.set_defaults(func=_train)
