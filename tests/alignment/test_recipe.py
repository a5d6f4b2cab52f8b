"""Recipe values: command-line overrides and recipe files read numbers, strings, bools, null and lists alike.

PyYAML follows YAML 1.1, where ``3e-3`` (no dot) is the string "3e-3": ``train.learning_rate=3e-3`` was then
refused as "expected a number, got str". These run on the recipe module only (no model, no trainer).
"""

from __future__ import annotations

import pytest

from haetae.alignment.recipe import RecipeError, load_recipe, parse_override
from haetae.pipelines.policy.loader import parse_yaml


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("train.learning_rate=3e-3", 3e-3),
        ("train.learning_rate=1e5", 1e5),
        ("train.learning_rate=-2E-4", -2e-4),
        ("train.learning_rate=+1e+2", 100.0),
        ("train.learning_rate=1.0e-3", 1e-3),
        ("train.learning_rate=.5", 0.5),
        ("train.max_steps=3", 3),
        ("train.max_steps=1_000", 1000),
        ("model=ckpt/tiny", "ckpt/tiny"),
        ("model='1e5'", "1e5"),
        ("model=1e5x", "1e5x"),
        ("model=e5", "e5"),
        ("lora.enabled=true", True),
        ("resume=false", False),
        ("tokenizer=null", None),
        ("tokenizer=", None),
        ("agapo.rewards=[math_answer, safety]", ["math_answer", "safety"]),
        ("sft.data=[a.jsonl,b.jsonl]", ["a.jsonl", "b.jsonl"]),
        ("model=[unclosed", "[unclosed"),
    ],
)
def test_override_values_are_typed_like_yaml_1_2(text, value):
    key, got = parse_override(text)
    assert key == text.split("=", 1)[0]
    assert got == value and type(got) is type(value)


def test_an_exponent_learning_rate_reaches_the_trainer_fields_as_a_float(tmp_path):
    recipe = load_recipe("tiny-cpu", "agapo", ["train.learning_rate=3e-3", "agapo.learning_rate=1e-4"])
    assert recipe.get("train.learning_rate") == 3e-3
    assert recipe.trainer_fields()["learning_rate"] == 1e-4
    with pytest.raises(RecipeError, match="expected an integer, got float 100000.0"):
        load_recipe("tiny-cpu", "sft", ["train.max_steps=1e5"])


def test_recipe_files_read_exponent_numbers_without_a_dot(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("config: tiny\ntrain:\n  learning_rate: 3e-3\n  weight_decay: 1E-2\n"
                    "sft:\n  learning_rate: -2e-4\n  dataset_text_field: '1e5'\n", encoding="utf-8")
    recipe = load_recipe(str(path), "sft")
    assert recipe.get("train.learning_rate") == 3e-3 and recipe.get("train.weight_decay") == 1e-2
    assert recipe.get("sft.learning_rate") == -2e-4 and recipe.get("sft.dataset_text_field") == "1e5"
    assert parse_yaml("a: 1e5\nb: '3e-3'\nc: 10\nd: x1e5\n")[0] == {"a": 1e5, "b": "3e-3", "c": 10, "d": "x1e5"}
