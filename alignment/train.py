"""``run_training(stage, recipe, overrides)``: one training stage from a recipe, published through the execution layer.

Order: the recipe is checked, the checkpoint's ``config.json`` planned (a layout that does not fit stops here,
exit 2, with the numbers), the data read and checked, and only then are weights loaded. The run holds the lock
on ``OUT`` (``haetae.pipelines.runners.execution.job_output``) from start to publish.

Folders under ``OUT``::

    model/  adapter/            published at the end: the final model in Hugging Face format (merged weights,
    metrics.jsonl  recipe.yaml    with mtp.* tensors when the checkpoint has an MTP block; LoRA adapters apart)
    counts.json  _SUCCESS       (groups.jsonl too: GrouPER's sampled groups)
    checkpoints/checkpoint-N/   Trainer checkpoints (weights, optimizer, scheduler, RNG, data position) and
                                haetae/, the run's scratch at step N; checkpoints/run.json names the run

The scratch (metrics as they grow, the pre-filter and group caches) is written in the staging folder and goes
with it on publish (``run_state``). ``checkpoints/`` lives outside the staging folder, so an interrupted run
(SIGKILL included) leaves it in place: the next run on the same ``OUT`` with ``resume: auto`` (the default)
finds the newest ``checkpoints/checkpoint-N``, takes back its scratch (metric lines up to step N, the caches)
and continues from it. ``resume=false`` starts over and clears the checkpoints.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from haetae.alignment.recipe import Recipe, RecipeError, load_recipe
from haetae.alignment.run_state import (
    prepare_checkpoints,
    restore_work,
    run_identity,
    snapshot_callback,
)
from haetae.errors import UsageError

WORK = "work"  # inside the staging folder: never published
METRICS = "metrics.jsonl"
ENTRIES = ("model", "adapter", METRICS, "recipe.yaml", "counts.json", "groups.jsonl")


@dataclass
class TrainingResult:
    stage: str
    out: str
    model_dir: str
    metrics_path: str
    global_step: int
    resumed_from: str | None
    plan: str
    counts: dict[str, Any] = field(default_factory=dict)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _checkpoint_config(recipe: Recipe):
    """The checkpoint's config (never its weights): checked to be a K-EXAONE (exaone_moe) directory."""
    from transformers import AutoConfig

    model = recipe.get("model")
    if not model:
        raise RecipeError("model is not set: give model=PATH, a checkpoint directory (e.g. from `haetae model init "
                          "--config tiny --tokenizer TOK --out PATH`); nothing is downloaded")
    if not (Path(model) / "config.json").is_file():
        raise UsageError(f"model={model}: not a checkpoint directory (no config.json)")
    try:
        config = AutoConfig.from_pretrained(model)
    except (OSError, ValueError) as exc:
        raise UsageError(f"model={model}: cannot read config.json ({exc})") from None
    if config.model_type != "exaone_moe":
        raise UsageError(f"model={model}: model_type {config.model_type!r}; haetae train trains K-EXAONE "
                         "(exaone_moe) checkpoints")
    return config


def _load_tokenizer(recipe: Recipe):
    from transformers import AutoTokenizer

    where = recipe.get("tokenizer") or recipe.get("model")
    try:
        tokenizer = AutoTokenizer.from_pretrained(where)
    except (OSError, ValueError):
        raise UsageError(f"tokenizer: none in {where}; give tokenizer=DIR") from None
    if tokenizer.pad_token_id is None or tokenizer.eos_token_id is None:
        raise UsageError(f"tokenizer {where}: needs a pad and an end-of-sequence token")
    return tokenizer


def load_policy(recipe: Recipe):
    """The checkpoint as ``ExaoneMoeWithMTP`` when it has ``mtp.*`` weights (TRL cannot load those from a path),
    on the project's kernel, with LoRA when the recipe asks; router logits (and TRL's Mixtral loss) off."""
    import torch
    from transformers import AutoModelForCausalLM

    import haetae.alignment.attention  # noqa: F401  (registers haetae_hybrid)
    from haetae.alignment.lora import ExaoneLoraConfig, apply_lora
    from haetae.alignment.mtp import ExaoneMoeWithMTP, has_mtp_weights

    model_dir = recipe.get("model")
    model_class = ExaoneMoeWithMTP if has_mtp_weights(model_dir) else AutoModelForCausalLM
    dtype = torch.bfloat16 if recipe.get("dtype") == "bfloat16" else torch.float32
    try:
        model = model_class.from_pretrained(model_dir, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise UsageError(f"model={model_dir}: cannot load the weights ({exc})") from None
    model.set_attn_implementation(recipe.get("attn_implementation"))
    model.config.output_router_logits = False
    lora = recipe.section("lora")
    if lora.pop("enabled"):
        model = apply_lora(model, ExaoneLoraConfig(**lora))
    return model


class MetricsFile:
    """A ``TrainerCallback`` appending each log to ``metrics.jsonl`` with ``step``, ``epoch`` and ``stage``."""

    def __init__(self, path: Path, stage: str):
        from transformers import TrainerCallback

        self.path, self.stage = path, stage
        path.touch()  # a run that logs nothing still publishes an (empty) metrics file
        owner = self

        class _Callback(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kwargs):
                if state.is_world_process_zero and logs:
                    owner.write({**logs, "step": state.global_step, "epoch": state.epoch, "stage": owner.stage})

        self.callback = _Callback()

    def write(self, record: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, default=float) + "\n")

    def lines(self) -> int:
        if not self.path.is_file():
            return 0
        return sum(1 for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip())


def _input_files(recipe: Recipe) -> list[tuple[str, int]]:
    from haetae.alignment.train_data import ARITHMETIC, data_files

    spec = recipe.get(f"{recipe.stage}.data")
    files = [] if spec == ARITHMETIC else data_files(spec, recipe.stage)
    return [(str(p), p.stat().st_size) for p in files]


def _publish_model(trainer, tokenizer, staging) -> str:
    """The final model into the staging folder: full weights (LoRA merged in) and, for LoRA, the adapter apart."""
    from accelerate.utils import is_peft_model

    model = trainer.accelerator.unwrap_model(trainer.model)
    if is_peft_model(model):
        model.save_pretrained(staging.path("adapter"))
        model = model.merge_and_unload()
    model.save_pretrained(staging.path("model"))
    tokenizer.save_pretrained(staging.path("model"))
    return staging.path("model")


def run_training(stage: str, recipe: str | Recipe, overrides: list[str] | dict[str, Any] = ()) -> TrainingResult:
    """Train one stage (``sft``, ``agapo``, ``grouper``) as the recipe says; see the module docstring."""
    from transformers.utils import logging as hf_logging

    from haetae.alignment.recipe_plan import check_recipe_fits
    from haetae.alignment.train_data import stage_rows
    from haetae.alignment.train_stages import build_agapo, build_grouper, build_sft
    from haetae.pipelines.runners.execution import job_output

    hf_logging.set_verbosity_error()
    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe, stage, overrides)
    elif overrides:
        raise RecipeError("pass overrides with the recipe's name, not with a loaded Recipe")
    if recipe.get("torch_threads"):
        import torch

        torch.set_num_threads(recipe.get("torch_threads"))
    if not recipe.get("out"):
        raise RecipeError("out is not set: give out=PATH (the run's output folder)")
    planned = check_recipe_fits(recipe, _checkpoint_config(recipe))
    _say(f"haetae train {stage}: memory plan {planned.summary()}: fits")
    tokenizer = _load_tokenizer(recipe)
    options = recipe.stage_options()
    rows = stage_rows(options["data"], stage, options["data_limit"], seed=int(recipe.get("train.seed", 0) or 0))
    out = Path(recipe.get("out")).absolute()
    with job_output(f"train {stage}", str(out), entries=ENTRIES, inputs=_input_files(recipe),
                    config={"recipe": recipe.path, "stage": stage}, say=_say) as staging:
        checkpoints, last = prepare_checkpoints(out, run_identity(stage, recipe.get("model")),
                                                recipe.get("resume"), say=_say)
        work = Path(staging.path(WORK))
        restore_work(last, work)
        metrics = MetricsFile(work / METRICS, stage)
        if last is not None:
            _say(f"haetae train {stage}: resuming from {last} ({metrics.lines()} metric lines up to its step)")
        model = load_policy(recipe)
        callbacks = [metrics.callback, snapshot_callback(work)]
        if stage == "sft":
            trainer, counts = build_sft(recipe, model, tokenizer, rows, str(checkpoints), callbacks)
        elif stage == "agapo":
            trainer, counts = build_agapo(recipe, model, tokenizer, rows, str(checkpoints), callbacks, work)
        else:
            trainer, counts = build_grouper(recipe, model, tokenizer, rows, str(checkpoints), callbacks, work)
        trainer.train(resume_from_checkpoint=last)
        if hasattr(trainer, "haetae_rewards"):
            counts["rewards"] = [r.stats.as_dict() for r in trainer.haetae_rewards]
        counts["global_step"] = trainer.state.global_step
        model_dir = _publish_model(trainer, tokenizer, staging)
        shutil.copyfile(work / METRICS, staging.path(METRICS))
        if (work / "groups.jsonl").is_file():
            shutil.copyfile(work / "groups.jsonl", staging.path("groups.jsonl"))
        Path(staging.path("recipe.yaml")).write_text(
            yaml.safe_dump(recipe.as_document(), sort_keys=False, allow_unicode=True), encoding="utf-8")
        Path(staging.path("counts.json")).write_text(json.dumps(counts, indent=2), encoding="utf-8")
        staging.counts = {k: v for k, v in counts.items() if isinstance(v, int | float)}
    published = str(out / Path(model_dir).name)
    return TrainingResult(stage, str(out), published, str(out / METRICS), trainer.state.global_step, last,
                          planned.summary(), counts)
