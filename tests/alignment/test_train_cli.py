"""`haetae train sft|agapo|grouper` end to end in subprocesses on the tiny-cpu recipe, and the recipe checks.

Data: the safety generator's own splits (`haetae safety generate`, template backend) and the bundled Constitution
of Korea as text rows; the model is `haetae model init --config tiny` with a tokenizer trained on that text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from haetae.alignment.configs import get_config
from haetae.alignment.recipe import RecipeError, load_recipe, shipped_recipes
from haetae.alignment.recipe_plan import plan_recipe
from haetae.errors import UsageError

from .conftest import CORPUS

# the safety generator's hand-written test seeds (the shipped taxonomy gets its seeds from the content branches)
SEEDED = Path(__file__).resolve().parents[1] / "taxonomy" / "fixtures" / "seeded"

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
       "GX_ANALYTICS_ENABLED": "false"}


def haetae(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "haetae.cli", *map(str, args)], capture_output=True, text=True,
                          env=ENV, timeout=timeout)


def ok(*args: str) -> subprocess.CompletedProcess:
    done = haetae(*args)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def head(src: Path, dst: Path, n: int) -> Path:
    dst.write_text("".join(src.read_text(encoding="utf-8").splitlines(keepends=True)[:n]), encoding="utf-8")
    return dst


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A tiny checkpoint with MTP and its tokenizer, the safety splits, and a text file of Constitution lines."""
    root = tmp_path_factory.mktemp("train_cli")
    ok("tokenizer", "train", CORPUS, "--vocab-size", "2048", "--out", root / "tok")
    ok("model", "init", "--config", "tiny", "--tokenizer", root / "tok", "--out", root / "ckpt")
    ok("safety", "generate", "--taxonomy", SEEDED, "--out", root / "safety", "--languages", "ko", "--audit", "off")
    lines = [x.strip() for x in CORPUS.read_text(encoding="utf-8").splitlines() if len(x.strip()) > 30][:8]
    (root / "text.jsonl").write_text("".join(json.dumps({"text": x}, ensure_ascii=False) + "\n" for x in lines),
                                     encoding="utf-8")
    head(root / "safety" / "train_sft.jsonl", root / "sft.jsonl", 16)
    head(root / "safety" / "train_redteam.jsonl", root / "prompts.jsonl", 2)
    head(root / "safety" / "preference.jsonl", root / "preference.jsonl", 2)
    return root


def metrics(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]


def tensors(model_dir: Path) -> dict[str, torch.Tensor]:
    with safe_open(str(model_dir / "model.safetensors"), "pt") as handle:
        return {k: handle.get_tensor(k) for k in handle.keys()}


def reloads_with_mtp(model_dir: Path) -> None:
    from haetae.alignment.mtp import ExaoneMoeWithMTP

    model = ExaoneMoeWithMTP.from_pretrained(model_dir)
    saved = tensors(model_dir)
    mtp = [k for k in saved if k.startswith("mtp.")]
    assert mtp, "the published checkpoint lost its MTP block"
    state = model.state_dict()
    assert all(torch.equal(state[k], saved[k]) for k in mtp)


PUBLISHED = {"model", "metrics.jsonl", "recipe.yaml", "counts.json", "_SUCCESS", ".haetae.lock", "checkpoints"}


def assert_clean_output(out: Path, *extra: str) -> None:
    """Only the published entries and the checkpoints: the scratch went with the staging folder."""
    assert {p.name for p in out.iterdir()} == PUBLISHED | set(extra)
    assert not list(out.rglob(".work")) and not list(out.glob(".haetae-*"))
    beside = {p.name for p in (out / "checkpoints").iterdir()} - {p.name for p in (out / "checkpoints").glob("checkpoint-*")}
    assert beside <= {"run.json", "README.md"}  # the run's identity, TRL's model card


def test_sft_then_agapo_then_grouper_through_the_cli(workspace, tmp_path):
    sft_out, agapo_out, grouper_out = tmp_path / "sft", tmp_path / "agapo", tmp_path / "grouper"
    data = f"[{workspace / 'sft.jsonl'},{workspace / 'text.jsonl'}]"
    done = ok("train", "sft", "--recipe", "tiny-cpu", f"model={workspace / 'ckpt'}", f"out={sft_out}",
              f"sft.data={data}", "train.max_steps=3", "train.save_steps=2")
    assert "memory plan" in done.stderr and "fits" in done.stderr
    logs = [m for m in metrics(sft_out) if "loss" in m]
    assert [m["step"] for m in logs] == [1, 2, 3]
    for m in logs:
        assert m["stage"] == "sft" and m["epoch"] > 0 and m["mtp_loss"] > 0 and "mean_token_accuracy" in m
    counts = json.loads((sft_out / "counts.json").read_text())
    assert counts["chat_rows"] == 16 and counts["text_rows"] == 8
    assert counts["examples"] + counts["dropped_no_trained_token_after_truncation"] == counts["rows"] == 24
    assert (sft_out / "checkpoints" / "checkpoint-2").is_dir() and (sft_out / "_SUCCESS").is_file()
    assert_clean_output(sft_out)
    snapshot = [json.loads(x) for x in (sft_out / "checkpoints" / "checkpoint-2" / "haetae" / "metrics.jsonl")
                .read_text(encoding="utf-8").splitlines()]
    assert [m["step"] for m in snapshot] == [1, 2]  # the scratch as it was at step 2, for a resume
    reloads_with_mtp(sft_out / "model")
    before, after = tensors(workspace / "ckpt"), tensors(sft_out / "model")
    assert not torch.equal(before["mtp.fc.weight"], after["mtp.fc.weight"]), "the MTP loss trained nothing"

    ok("train", "agapo", "--recipe", "tiny-cpu", f"model={sft_out / 'model'}", f"out={agapo_out}",
       "agapo.data=arithmetic", "agapo.data_limit=8", "train.max_steps=2")
    logs = [m for m in metrics(agapo_out) if "loss" in m]
    assert [m["step"] for m in logs] == [1, 2]
    for key in ("reward", "reward_std", "kl", "entropy", "agapo/filtered_fraction", "rewards/math_answer/mean"):
        assert all(key in m for m in logs), key
    counts = json.loads((agapo_out / "counts.json").read_text())
    assert counts["prompts"] == 8 == counts["kept"] + counts["dropped_all_correct"]
    assert counts["rewards"][0]["total"] == 2 * 8  # two steps of 8 completions, every one scored or counted
    reloads_with_mtp(agapo_out / "model")
    assert_clean_output(agapo_out)

    data = f"[{workspace / 'prompts.jsonl'},{workspace / 'preference.jsonl'}]"
    # the generator's groups hold 3 real responses (no placeholder member): G is the data's group size
    ok("train", "grouper", "--recipe", "tiny-cpu", f"model={agapo_out / 'model'}", f"out={grouper_out}",
       f"grouper.data={data}", "grouper.num_generations=3", "train.max_steps=2")
    logs = [m for m in metrics(grouper_out) if "loss" in m]
    assert [m["step"] for m in logs] == [1, 2] and all("grouper/reward" in m for m in logs)
    counts = json.loads((grouper_out / "counts.json").read_text())
    assert counts["sampled_prompts"] == 2 and counts["given_groups"] == 2 and counts["groups"] == 4
    assert counts["sampling"] == {"prompts": 2, "responses": 6, "scored": 6, "unscored": 0}
    assert len((grouper_out / "groups.jsonl").read_text().splitlines()) == 2  # the sampled groups, cached
    reloads_with_mtp(grouper_out / "model")
    assert_clean_output(grouper_out, "groups.jsonl")


def test_a_second_run_resumes_from_the_last_checkpoint(workspace, tmp_path):
    out = tmp_path / "sft"
    common = ("train", "sft", "--recipe", "tiny-cpu", f"model={workspace / 'ckpt'}", f"out={out}",
              f"sft.data={workspace / 'sft.jsonl'}", "train.save_steps=1")
    ok(*common, "train.max_steps=2")
    done = ok(*common, "train.max_steps=3")
    assert f"resuming from {out / 'checkpoints' / 'checkpoint-2'}" in done.stderr
    assert [m["step"] for m in metrics(out) if "loss" in m] == [1, 2, 3]
    other = haetae("train", "grouper", "--recipe", "tiny-cpu", f"model={workspace / 'ckpt'}", f"out={out}",
                   f"grouper.data={workspace / 'preference.jsonl'}")
    assert other.returncode == 2 and "holds the checkpoints of another run (sft" in other.stderr


def test_lora_publishes_the_adapter_and_merged_weights_with_mtp(workspace, tmp_path):
    out = tmp_path / "lora"
    ok("train", "sft", "--recipe", "tiny-cpu", f"model={workspace / 'ckpt'}", f"out={out}",
       f"sft.data={workspace / 'sft.jsonl'}", "train.max_steps=1", "lora.enabled=true")
    assert (out / "adapter" / "adapter_config.json").is_file()
    assert not any(".lora_" in k or "base_layer" in k for k in tensors(out / "model"))
    reloads_with_mtp(out / "model")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("sft.max_stpes=3", "override sft.max_stpes=3: unknown key; did you mean 'sft.max_steps'?"),
        ("lora.rank=4", "did you mean 'lora.r'?"),
        ("train.learning_rate=fast", "train.learning_rate=fast: expected a number, got str 'fast'"),
        ("sft.assistant_only_loss=3", "expected true/false"),
        ("max_steps", "write KEY=VALUE"),
    ],
)
def test_bad_override_is_exit_2_on_one_line(workspace, tmp_path, override, message):
    done = haetae("train", "sft", "--recipe", "tiny-cpu", f"model={workspace / 'ckpt'}", f"out={tmp_path / 'o'}",
                  override)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert not (tmp_path / "o").exists()


def test_a_plan_that_does_not_fit_is_exit_2_with_the_numbers(workspace, tmp_path):
    done = haetae("train", "sft", "--recipe", "tiny-cpu", f"model={workspace / 'ckpt'}", f"out={tmp_path / 'o'}",
                  f"sft.data={workspace / 'sft.jsonl'}", "hardware.gpus=1xCPU-0.01G")
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "the memory plan does not fit: needs 0.03 GiB per GPU (parameters" in line
    assert "1 x CPU-0.01G" in line and "seq-len 192, micro-batch 4" in line
    assert not (tmp_path / "o").exists()


def test_every_shipped_recipe_loads_and_plans_to_fit_its_hardware():
    names = {p.stem for p in shipped_recipes()}
    assert names == {"tiny-cpu", "small-1gpu", "k-exaone-236b-a23b"}
    for path in shipped_recipes():
        for stage in ("sft", "agapo", "grouper"):
            recipe = load_recipe(str(path), stage)
            assert recipe.get("attn_implementation") == "haetae_hybrid"
            planned = plan_recipe(recipe, get_config(recipe.get("config")))
            assert planned.fits, f"{path.name} {stage}: {planned.summary()}"
    big = plan_recipe(load_recipe("k-exaone-236b-a23b", "sft"), get_config("k-exaone-236b-a23b"))
    assert (big.gpus.count, big.gpus.name, big.gpus.memory_gib, big.layout.zero) == (64, "A100", 80, 3)
    assert big.layout.recompute == "full" and big.plan.training_total / 2**30 < 80
    accelerate = Path(shipped_recipes()[0]).parent
    assert (accelerate / "accelerate-deepspeed-zero3.yaml").is_file() and (accelerate / "accelerate-fsdp2.yaml").is_file()


def test_recipe_file_errors_name_the_file_and_line(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("config: tiny\ntrain:\n  learning_rate: 1.0e-3\n  max_step: 3\n", encoding="utf-8")
    with pytest.raises(RecipeError, match=r"r.yaml:line 4: train.max_step: unknown key; did you mean 'train.max_steps'"):
        load_recipe(str(recipe), "sft")
    recipe.write_text("config: tiny\nattn_implementation: sdpa\n", encoding="utf-8")
    with pytest.raises(RecipeError, match="set attn_implementation: haetae_hybrid"):
        load_recipe(str(recipe), "sft")
    with pytest.raises(RecipeError, match="no such file; give a path or one of the shipped recipes: k-exaone"):
        load_recipe("tiny-gpu", "sft")


def test_sft_rows_train_assistant_turns_and_whole_text(legal_tokenizer):
    from haetae.alignment.train_data import tokenize_sft_rows

    chat = {"messages": [{"role": "user", "content": "헌법은"}, {"role": "assistant", "content": "국민의 약속"}],
            "_where": "a.jsonl:1"}
    text = {"text": "대한민국은 민주공화국이다.", "_where": "a.jsonl:2"}
    columns = tokenize_sft_rows([chat, text], legal_tokenizer, assistant_only_loss=True)
    ids, mask = columns["input_ids"][0], columns["assistant_masks"][0]
    trained = legal_tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if m])
    assert trained == "국민의 약속[|endofturn|]"
    assert all(columns["assistant_masks"][1]) and columns["input_ids"][1][-1] == legal_tokenizer.eos_token_id
    with pytest.raises(UsageError, match=r"a.jsonl:3: an SFT row needs chat 'messages' or a 'text' string"):
        tokenize_sft_rows([{"prompt": "x", "_where": "a.jsonl:3"}], legal_tokenizer, True)


def test_group_collator_keeps_a_scored_token_when_the_prompt_fills_max_length(legal_tokenizer):
    from haetae.alignment.grouper_trainer import GroupCollator

    long_prompt = "대한민국은 민주공화국이다. " * 20
    batch = GroupCollator(legal_tokenizer, 16)([{"prompt": long_prompt, "responses": ["예", "아니오 그렇지 않다"],
                                                  "rewards": [1.0, 0.0]}])
    assert batch["input_ids"].shape[1] <= 16
    assert batch["response_mask"].shape == batch["input_ids"].shape
    assert (batch["response_mask"].sum(dim=1) >= 1).all()


def test_packing_is_refused_while_the_kernel_mixes_packed_documents(workspace, tmp_path):
    from haetae.alignment.train import run_training
    from haetae.alignment.train_stages import packed_sequences_respected

    if packed_sequences_respected():
        pytest.skip("haetae_hybrid keeps packed documents apart: packing is allowed")
    with pytest.raises(RecipeError, match="does not keep packed documents apart yet"):
        run_training("sft", "tiny-cpu", [f"model={workspace / 'ckpt'}", f"out={tmp_path / 'o'}",
                                         f"sft.data={workspace / 'sft.jsonl'}", "sft.packing=true"])
    assert not (tmp_path / "o" / "_SUCCESS").exists()
