"""The memory plan of a recipe: the layout it implies, planned with ``alignment/plan.py``, refused when it does not fit.

The Trainer's launchers (DDP, DeepSpeed ZeRO, FSDP2) shard by data parallelism only, so the layout is
``DP = GPU count`` with the recipe's ZeRO stage (FSDP2 full sharding counts as ZeRO-3); the sequence length and
micro-batch come from the stage's trainer settings and ``gradient_checkpointing`` means full recomputation.
LoRA recipes are planned as full fine-tuning (an upper bound: a LoRA layout that passes certainly fits).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from transformers import ExaoneMoeConfig

from haetae.alignment.plan import (
    GIB,
    GPUSpec,
    Layout,
    MemoryPlan,
    fits,
    make_layout,
    parse_gpus,
    plan_memory,
    suggest,
)
from haetae.alignment.recipe import Recipe, RecipeError, stage_config_class

AGAPO_PLANNED_PROMPT_TOKENS = 512  # GRPOConfig has no prompt-length limit; the plan assumes prompts this long


@dataclass(frozen=True)
class RecipePlan:
    gpus: GPUSpec
    layout: Layout
    plan: MemoryPlan

    @property
    def fits(self) -> bool:
        return fits(self.plan, self.gpus)

    def summary(self) -> str:
        p = self.plan
        return (f"{p.training_total / GIB:.2f} GiB per GPU (parameters {p.parameters / GIB:.2f}, gradients "
                f"{p.gradients / GIB:.2f}, optimizer {p.optimizer / GIB:.2f}, activations {p.activations / GIB:.2f}) "
                f"on {self.gpus} with DP={self.layout.dp} ZeRO-{self.layout.zero}, seq-len {self.layout.seq_len}, "
                f"micro-batch {self.layout.micro_batch}, recompute={self.layout.recompute}")


def _field_value(recipe: Recipe, name: str):
    fields = recipe.trainer_fields()
    if name in fields:
        return fields[name]
    defaults = {f.name: f.default for f in dataclasses.fields(stage_config_class(recipe.stage))}
    return defaults.get(name)


def recipe_layout(recipe: Recipe, config: ExaoneMoeConfig) -> tuple[GPUSpec, Layout]:
    stage = recipe.stage
    if stage == "agapo":
        seq_len = AGAPO_PLANNED_PROMPT_TOKENS + int(_field_value(recipe, "max_completion_length"))
    else:
        seq_len = int(_field_value(recipe, "max_length") or config.max_position_embeddings)
    micro_batch = int(_field_value(recipe, "per_device_train_batch_size"))
    if stage == "grouper":
        micro_batch *= int(_field_value(recipe, "num_generations"))  # each group is G sequences
    checkpointing = _field_value(recipe, "gradient_checkpointing") or _field_value(recipe, "activation_checkpointing")
    recompute = "full" if checkpointing else "none"
    try:
        gpus = parse_gpus(recipe.get("hardware.gpus"))
        layout = make_layout(config, gpus, dp=gpus.count, seq_len=seq_len, micro_batch=micro_batch,
                             zero=recipe.get("hardware.zero"), recompute=recompute)
    except ValueError as exc:
        raise RecipeError(f"recipe {recipe.path}: hardware: {exc}") from None
    return gpus, layout


def plan_recipe(recipe: Recipe, config: ExaoneMoeConfig) -> RecipePlan:
    gpus, layout = recipe_layout(recipe, config)
    return RecipePlan(gpus, layout, plan_memory(config, layout))


def check_recipe_fits(recipe: Recipe, config: ExaoneMoeConfig) -> RecipePlan:
    """The plan, or a one-line RecipeError with the numbers when the layout does not fit."""
    planned = plan_recipe(recipe, config)
    if not planned.fits:
        raise RecipeError(f"recipe {recipe.path} ({recipe.stage}): the memory plan does not fit: needs "
                          f"{planned.summary()}; {suggest(planned.plan, planned.gpus, planned.layout)}")
    return planned
