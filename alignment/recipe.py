"""Training recipes: one YAML file per hardware target, checked whole before any weight is loaded.

A recipe (``alignment/recipes/NAME.yaml``) has fixed top-level sections::

    model, tokenizer, out, config, attn_implementation, dtype   run-wide settings (see RUN_KEYS)
    hardware:  gpus, zero, accelerate_config                    what the memory planner checks the layout against
    lora:      enabled, r, alpha, attention, experts, ...       alignment/lora.py's ExaoneLoraConfig
    train:     any transformers TrainingArguments field         shared by every stage
    sft / agapo / grouper: the stage's own keys (STAGE_KEYS)    plus any field of its TRL config class

Overrides on the command line use the same dotted keys (``sft.max_steps=3``, ``model=ckpt/``); values are read
as YAML scalars, as in the files, with YAML 1.2 numbers (``train.learning_rate=3e-3`` is a float). An unknown key, in the file or in an override, is a one-line :class:`RecipeError` with the
closest known key; a value of the wrong type is refused before any trainer config is built.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from haetae.errors import UsageError
from haetae.pipelines.policy.loader import YamlProblem, load_yaml_value, node_line, parse_yaml, read_yaml_file

STAGES = ("sft", "agapo", "grouper")

# name -> (allowed types, default, help). ``None`` in the types means "may be null".
RUN_KEYS: dict[str, tuple[tuple, Any, str]] = {
    "description": ((str, type(None)), None, "what the recipe is for"),
    "model": ((str, type(None)), None, "checkpoint directory to start from (model=PATH; nothing is downloaded)"),
    "tokenizer": ((str, type(None)), None, "tokenizer directory (default: the model directory)"),
    "out": ((str, type(None)), None, "output folder (out=PATH)"),
    "config": ((str,), "tiny", "named architecture the recipe is sized for (planned when no model is given)"),
    "attn_implementation": ((str,), "haetae_hybrid", "attention kernel; every recipe uses haetae_hybrid"),
    "dtype": ((str,), "float32", "weights dtype when loading: float32 or bfloat16"),
    "resume": ((bool, str), "auto", "auto: continue from OUT/checkpoints if any; false: start over"),
    "torch_threads": ((int, type(None)), None, "CPU threads for torch (1 on small shared CPUs; default: torch's)"),
}
HARDWARE_KEYS: dict[str, tuple[tuple, Any, str]] = {
    "gpus": ((str,), "1xCPU-8G", "COUNTxNAME-MEMORYG the layout must fit (e.g. 64xA100-80G)"),
    "zero": ((int,), 0, "ZeRO stage of the launch config (DeepSpeed ZeRO-3 / FSDP2 full shard = 3)"),
    "accelerate_config": ((str, type(None)), None, "accelerate config file beside the recipe, for launching"),
}
LORA_KEYS: dict[str, tuple[tuple, Any, str]] = {
    "enabled": ((bool,), False, "train LoRA adapters instead of the full weights"),
    "r": ((int,), 8, "adapter rank"),
    "alpha": ((int,), 16, "adapter scale numerator"),
    "attention": ((bool,), True, "adapt q/k/v/o projections"),
    "experts": ((bool,), True, "adapt the fused routed-expert weights"),
    "train_router": ((bool,), False, "train a copy of the router (frozen by default)"),
    "train_mtp": ((bool,), False, "train the MTP block in full beside the adapters"),
}
_DATA = ((str, list, type(None)), None, "JSONL file(s), or 'arithmetic' (the built-in toy task)")
_LIMIT = ((int, type(None)), None, "use the first N rows only")
STAGE_KEYS: dict[str, dict[str, tuple[tuple, Any, str]]] = {
    "sft": {
        "data": _DATA,
        "data_limit": _LIMIT,
        "assistant_only_loss": ((bool,), True, "loss on assistant tokens only (chat rows); text rows train whole"),
        "mtp_loss_weight": ((float, int, type(None)), None, "MTP auxiliary loss weight (default: the config's)"),
    },
    "agapo": {
        "data": _DATA,
        "data_limit": _LIMIT,
        "rewards": ((list,), ["math_answer"], "reward functions: math_answer, safety, constraints"),
        "prefilter": ((bool,), True, "exaone4: drop prompts the starting policy always solves (asymmetric sampling)"),
    },
    "grouper": {
        "data": _DATA,
        "data_limit": _LIMIT,
        "judge": ((str,), "rule_based", "judge that scores sampled groups (rule_based)"),
        "max_new_tokens": ((int,), 32, "tokens sampled per response when the groups are sampled here"),
        "temperature": ((float, int), 1.0, "sampling temperature of the group sampling"),
    },
}
SECTIONS = {"hardware": HARDWARE_KEYS, "lora": LORA_KEYS}


class RecipeError(UsageError):
    """A recipe that cannot be used: one line naming the file (and line) or the override, and the fix."""


def stage_config_class(stage: str) -> type:
    """The TRL / transformers config dataclass a stage's keys are fields of (imported lazily: TRL is heavy)."""
    if stage == "sft":
        from trl import SFTConfig

        return SFTConfig
    if stage == "agapo":
        from haetae.alignment.agapo_config import AGAPOConfig

        return AGAPOConfig
    if stage == "grouper":
        from haetae.alignment.grouper_config import GrouPERConfig

        return GrouPERConfig
    raise RecipeError(f"unknown stage {stage!r}; choose one of {', '.join(STAGES)}")


def _config_fields(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls) if f.init}


def _training_argument_fields() -> dict[str, dataclasses.Field]:
    from transformers import TrainingArguments

    return _config_fields(TrainingArguments)


def known_keys(stage: str) -> list[str]:
    """Every dotted key a recipe for ``stage`` may set."""
    keys = [k for k in RUN_KEYS]
    keys += [f"{section}.{k}" for section, table in SECTIONS.items() for k in table]
    keys += [f"train.{k}" for k in _training_argument_fields()]
    keys += [f"{stage}.{k}" for k in (*STAGE_KEYS[stage], *_config_fields(stage_config_class(stage)))]
    return keys


def _suggest(key: str, stage: str) -> str:
    close = difflib.get_close_matches(key, known_keys(stage), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return (f"top-level keys: {', '.join(RUN_KEYS)}; sections: hardware, lora, train (TrainingArguments), "
            f"{stage} ({stage_config_class(stage).__name__} fields and {', '.join(STAGE_KEYS[stage])})")


def _check_type(key: str, value: Any, types: tuple) -> str | None:
    """Why ``value`` does not fit ``types`` (None when it does); bool is never accepted as a number."""
    if isinstance(value, bool) and bool not in types:
        return f"expected {_type_names(types)}, got a boolean"
    if isinstance(value, types) or (float in types and isinstance(value, int)):
        return None
    return f"expected {_type_names(types)}, got {type(value).__name__} {value!r}"


def _type_names(types: tuple) -> str:
    names = {str: "a string", bool: "true/false", int: "an integer", float: "a number", list: "a list",
             dict: "a mapping", type(None): "null"}
    shown = [t for t in types if not (t is int and float in types)]  # an integer is a number
    return " or ".join(dict.fromkeys(names.get(t, t.__name__) for t in shown))


def _field_types(field: dataclasses.Field) -> tuple | None:
    """Types a config field accepts, judged from its default (None: not checked here, the config checks it)."""
    default = field.default
    if default is dataclasses.MISSING or default is None:
        return None
    if isinstance(default, bool):
        return (bool,)
    if isinstance(default, int):
        return (int,)
    if isinstance(default, float):
        return (float, int)
    if isinstance(default, str):
        return (str,)
    return None


def check_key(stage: str, key: str, value: Any) -> None:
    """Raise a RecipeError (without location) when ``key`` is unknown for ``stage`` or ``value`` has a wrong type."""
    head, _, rest = key.partition(".")
    table: dict | None = None
    field_types: tuple | None = None
    if not rest and head in RUN_KEYS:
        table = RUN_KEYS
    elif head in SECTIONS and rest in SECTIONS[head]:
        table = SECTIONS[head]
    elif head == "train" and rest in (fields := _training_argument_fields()):
        field_types = _field_types(fields[rest])
    elif head == stage and rest in STAGE_KEYS[stage]:
        table = STAGE_KEYS[stage]
    elif head == stage and rest in (fields := _config_fields(stage_config_class(stage))):
        field_types = _field_types(fields[rest])
    elif head in STAGES and head != stage:
        return  # another stage's section: checked when that stage runs
    else:
        raise RecipeError(f"{key}: unknown key; {_suggest(key, stage)}")
    types = table[rest or head][0] if table is not None else field_types
    if types is not None and value is not None and (problem := _check_type(key, value, types)):
        raise RecipeError(f"{key}: {problem}")


def flatten(doc: dict[str, Any]) -> dict[str, Any]:
    """``{"sft": {"max_steps": 3}}`` -> ``{"sft.max_steps": 3}`` (one level of sections)."""
    flat: dict[str, Any] = {}
    for key, value in doc.items():
        if key in (*SECTIONS, "train", *STAGES):
            if value is None:
                continue
            if not isinstance(value, dict):
                raise RecipeError(f"{key}: a section must be a mapping of keys to values")
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def parse_override(text: str) -> tuple[str, Any]:
    """``"sft.max_steps=3"`` -> ``("sft.max_steps", 3)``; the value is read as the recipe files are.

    YAML scalars and lists, with YAML 1.2 numbers: ``3e-3`` and ``1e5`` are floats (PyYAML alone reads them as
    strings), ``true``/``null`` are a bool and None, anything unparsable (``[a``) stays the text given.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise RecipeError(f"override {text!r}: write KEY=VALUE with a dotted key, e.g. sft.max_steps=3")
    try:
        value = load_yaml_value(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return key, value


@dataclasses.dataclass
class Recipe:
    """A checked recipe for one stage: ``values`` holds every dotted key set (defaults filled in)."""

    name: str
    path: str
    stage: str
    values: dict[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def section(self, name: str) -> dict[str, Any]:
        """The keys of one section (``train``, ``lora``, a stage), without the prefix."""
        prefix = f"{name}."
        return {k[len(prefix):]: v for k, v in self.values.items() if k.startswith(prefix)}

    def stage_options(self) -> dict[str, Any]:
        """The recipe's own keys of this stage (data, rewards, ...), defaults filled in."""
        own = self.section(self.stage)
        return {k: own.get(k, default) for k, (_, default, _) in STAGE_KEYS[self.stage].items()}

    def trainer_fields(self) -> dict[str, Any]:
        """TrainingArguments / stage-config fields: ``train.*`` overlaid by the stage's own config fields."""
        own = {k: v for k, v in self.section(self.stage).items() if k not in STAGE_KEYS[self.stage]}
        return {**self.section("train"), **own}

    def as_document(self) -> dict[str, Any]:
        """The resolved recipe as nested YAML-ready data (written beside the outputs)."""
        doc: dict[str, Any] = {}
        for key, value in self.values.items():
            head, _, rest = key.partition(".")
            if rest:
                doc.setdefault(head, {})[rest] = value
            else:
                doc[head] = value
        return doc


def _recipes_folder():
    return resources.files("haetae.alignment").joinpath("recipes")


def resolve_recipe_path(name_or_path: str) -> Path:
    """A recipe file: a path as given, else a shipped recipe by name (``tiny-cpu`` or ``tiny-cpu.yaml``)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = _recipes_folder()
    stem = path.name[:-5] if path.name.endswith(".yaml") else path.name
    candidate = shipped.joinpath(f"{stem}.yaml")
    if candidate.is_file():
        return Path(str(candidate))
    names = sorted(p.stem for p in shipped_recipes())
    raise RecipeError(f"recipe {name_or_path}: no such file; give a path or one of the shipped recipes: "
                      f"{', '.join(names)}")


def shipped_recipes() -> list[Path]:
    """The recipes in alignment/recipes/ (accelerate and DeepSpeed launch configs are not recipes)."""
    return sorted(Path(str(p)) for p in _recipes_folder().iterdir()
                  if p.name.endswith(".yaml") and not p.name.startswith(("accelerate-", "deepspeed-")))


def load_recipe(name_or_path: str, stage: str, overrides: list[str] | dict[str, Any] = ()) -> Recipe:
    """Read, check and resolve a recipe for ``stage`` with ``key=value`` overrides applied."""
    if stage not in STAGES:
        raise RecipeError(f"unknown stage {stage!r}; choose one of {', '.join(STAGES)}")
    path = resolve_recipe_path(name_or_path)
    try:
        doc, root = parse_yaml(read_yaml_file(path))
    except YamlProblem as exc:
        raise RecipeError(f"recipe {exc.located(path)}") from None
    if not isinstance(doc, dict):
        raise RecipeError(f"recipe {path}: the top level must be a mapping of sections (see alignment/recipe.py)")
    try:
        flat = flatten(doc)
    except RecipeError as exc:
        raise RecipeError(f"recipe {path}:line {node_line(root, [str(exc).split(':')[0]])}: {exc}") from None
    for key, value in flat.items():
        try:
            check_key(stage, key, value)
        except RecipeError as exc:
            raise RecipeError(f"recipe {path}:line {node_line(root, key.split('.'))}: {exc}") from None
    pairs = overrides.items() if isinstance(overrides, dict) else map(parse_override, overrides)
    for key, value in pairs:
        try:
            check_key(stage, key, value)
        except RecipeError as exc:
            raise RecipeError(f"override {key}={value}: {str(exc).removeprefix(f'{key}: ')}") from None
        flat[key] = value
    values = {k: default for k, (_, default, _) in RUN_KEYS.items()}
    for section, table in SECTIONS.items():
        values.update({f"{section}.{k}": default for k, (_, default, _) in table.items()})
    values.update(copy.deepcopy(flat))
    recipe = Recipe(path.stem, str(path), stage, values)
    _check_run_values(recipe)
    return recipe


def _check_run_values(recipe: Recipe) -> None:
    where = f"recipe {recipe.path}"
    if recipe.get("attn_implementation") != "haetae_hybrid":
        raise RecipeError(f"{where}: attn_implementation={recipe.get('attn_implementation')!r}; every recipe trains "
                          "through the project's kernel: set attn_implementation: haetae_hybrid")
    if recipe.get("dtype") not in ("float32", "bfloat16"):
        raise RecipeError(f"{where}: dtype={recipe.get('dtype')!r}; choose float32 or bfloat16")
    if recipe.get("resume") not in ("auto", False, True):
        raise RecipeError(f"{where}: resume={recipe.get('resume')!r}; choose auto, true or false")
    if recipe.get("hardware.zero") not in (0, 1, 2, 3):
        raise RecipeError(f"{where}: hardware.zero={recipe.get('hardware.zero')}; choose 0, 1, 2 or 3")
    rewards = recipe.get("agapo.rewards")
    if recipe.stage == "agapo" and rewards is not None:
        from haetae.alignment.train_rewards import REWARD_NAMES

        unknown = [r for r in rewards if r not in REWARD_NAMES]
        if unknown or not rewards:
            raise RecipeError(f"{where}: agapo.rewards={rewards}: choose from {', '.join(REWARD_NAMES)}")
