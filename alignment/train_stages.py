"""Build the trainer of one stage from a checked recipe: its config, its dataset and the counts that reconcile.

Each builder returns ``(trainer, counts)``. Anything that can be wrong with the data was checked before the
model was loaded (``train_data``); a trainer config that TRL refuses becomes a one-line RecipeError naming the
stage. Work that must not be redone on resume (the AGAPO pre-filter's kept prompts, GrouPER's sampled groups) is
cached in the run's work folder, which every checkpoint keeps a copy of (``run_state``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datasets import Dataset

from haetae.alignment.recipe import Recipe, RecipeError
from haetae.errors import UsageError

DEFAULT_TRAINER_FIELDS = {"report_to": "none", "save_strategy": "steps"}


def trainer_config(recipe: Recipe, output_dir: str, **fixed: Any):
    """The stage's TRL config with the recipe's fields; TRL's own checks become RecipeErrors naming the stage."""
    from haetae.alignment.recipe import stage_config_class

    cls = stage_config_class(recipe.stage)
    fields = {**DEFAULT_TRAINER_FIELDS, **recipe.trainer_fields(), **fixed, "output_dir": output_dir}
    try:
        return cls(**fields)
    except UsageError as exc:
        raise RecipeError(f"recipe {recipe.path} ({recipe.stage}): {exc}") from None
    except (ValueError, TypeError) as exc:
        raise RecipeError(f"recipe {recipe.path} ({recipe.stage}): {cls.__name__} refuses these settings: "
                          f"{exc}") from None


def packed_sequences_respected() -> bool:
    """Whether ``haetae_hybrid`` keeps packed documents apart (position ids restarting, no mask), probed on a
    4-layer model: document 2's logits packed must equal its logits alone."""
    import torch
    from transformers import ExaoneMoeForCausalLM

    import haetae.alignment.attention  # noqa: F401  (registers haetae_hybrid)
    from haetae.alignment.configs import get_config

    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = ExaoneMoeForCausalLM(get_config("tiny")).eval()
    model.set_attn_implementation("haetae_hybrid")
    first, second = torch.randint(3, 2000, (1, 6)), torch.randint(3, 2000, (1, 9))
    packed = torch.cat([first, second], dim=1)
    positions = torch.cat([torch.arange(6), torch.arange(9)]).unsqueeze(0)
    with torch.no_grad():
        together = model(input_ids=packed, position_ids=positions).logits[:, 6:]
        alone = model(input_ids=second).logits
    return torch.allclose(together, alone, atol=1e-4)


def build_sft(recipe: Recipe, model, tokenizer, rows: list[dict], output_dir: str, callbacks: list):
    from haetae.alignment.sft_trainer import MTPSFTTrainer
    from haetae.alignment.train_data import tokenize_sft_rows

    options = recipe.stage_options()
    fields = recipe.trainer_fields()
    if (fields.get("packing") or fields.get("padding_free")) and not packed_sequences_respected():
        raise RecipeError(f"recipe {recipe.path}: sft.packing / sft.padding_free: the haetae_hybrid kernel does not "
                          "keep packed documents apart yet (each would attend to the previous ones); set "
                          "sft.packing=false and sft.padding_free=false")
    columns = tokenize_sft_rows(rows, tokenizer, options["assistant_only_loss"])
    config = trainer_config(recipe, output_dir, assistant_only_loss=False, completion_only_loss=False)
    trainer = MTPSFTTrainer(model=model, args=config, train_dataset=Dataset.from_dict(columns),
                            processing_class=tokenizer, callbacks=callbacks,
                            mtp_loss_weight=options["mtp_loss_weight"])
    examples = len(trainer.train_dataset)
    counts = {"rows": len(rows), "chat_rows": sum("messages" in r for r in rows),
              "text_rows": sum("messages" not in r for r in rows), "examples": examples,
              "dropped_no_trained_token_after_truncation": len(rows) - examples if not config.packing else 0,
              "mtp_loss_weight": trainer.mtp_loss_weight}
    return trainer, counts


def _cached_prefilter(path: Path, build) -> dict[str, Any]:
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    result = build()
    path.write_text(json.dumps(result), encoding="utf-8")
    return result


def build_agapo(recipe: Recipe, model, tokenizer, rows: list[dict], output_dir: str, callbacks: list,
                work_dir: Path):
    from haetae.alignment.agapo_trainer import AGAPOTrainer
    from haetae.alignment.rewards import RewardStats
    from haetae.alignment.sampling import asymmetric_prefilter
    from haetae.alignment.train_data import agapo_rows, prompt_text
    from haetae.alignment.train_rewards import build_rewards

    options = recipe.stage_options()
    rewards = build_rewards(options["rewards"])
    columns = list(dict.fromkeys(c for r in rewards for c in r.columns))
    dataset = Dataset.from_list(agapo_rows(rows, columns))
    config = trainer_config(recipe, output_dir)
    counts: dict[str, Any] = {"prompts": len(dataset)}
    if config.variant == "exaone4" and options["prefilter"]:
        def prefilter() -> dict[str, Any]:
            rendered = Dataset.from_list([{**r, "prompt": prompt_text(r["prompt"], tokenizer, "agapo.data"),
                                           "_row": i} for i, r in enumerate(dataset.to_list())])
            kept, kept_counts = asymmetric_prefilter(
                rendered, model, tokenizer, rewards, num_generations=config.num_generations,
                max_new_tokens=config.max_completion_length, correct_reward=config.correct_reward,
                seed=config.seed, temperature=config.temperature)
            return {"kept_rows": list(kept["_row"]), **kept_counts}

        result = _cached_prefilter(work_dir / "agapo_prefilter.json", prefilter)
        dataset = dataset.select(result["kept_rows"])
        counts.update({k: v for k, v in result.items() if k != "kept_rows"})
        for reward in rewards:  # the pre-filter's scoring is not training: count the run's rewards from here
            reward.stats = RewardStats(reward.stats.name, reward.stats.max_unscored_fraction)
        if not len(dataset):
            raise UsageError(f"agapo: the starting policy solves every one of the {counts['prompts']} prompts "
                             "(asymmetric sampling kept none); give harder prompts or set agapo.prefilter=false")
    trainer = AGAPOTrainer(model, rewards, args=config, train_dataset=dataset, processing_class=tokenizer,
                           callbacks=callbacks)
    trainer.haetae_rewards = rewards
    return trainer, counts


def build_grouper(recipe: Recipe, model, tokenizer, rows: list[dict], output_dir: str, callbacks: list,
                  work_dir: Path):
    from haetae.alignment.grouper_trainer import GrouPERTrainer, cache_groups, load_cached_groups
    from haetae.alignment.train_data import grouper_rows
    from haetae.alignment.train_rewards import build_judge

    options = recipe.stage_options()
    config = trainer_config(recipe, output_dir)
    groups, prompts = grouper_rows(rows, tokenizer, config.num_generations)
    counts: dict[str, Any] = {"rows": len(rows), "given_groups": len(groups), "sampled_prompts": len(prompts)}
    if prompts:
        cache = work_dir / "groups.jsonl"
        if not cache.is_file():  # sampled once from the initial policy, kept for a resumed run
            sampled = cache_groups(model, tokenizer, [{"prompt": p["prompt"]} for p in prompts],
                                   build_judge(options["judge"]), cache, config.num_generations,
                                   options["max_new_tokens"], temperature=options["temperature"], seed=config.seed)
            counts["sampling"] = sampled
        groups += load_cached_groups(cache, config.num_generations).to_list()
    trainer = GrouPERTrainer(model, config, Dataset.from_list(groups), tokenizer, callbacks=callbacks)
    counts["groups"] = len(groups)
    return trainer, counts
