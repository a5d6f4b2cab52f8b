"""A tiny AGAPO run killed with SIGKILL after a checkpoint and resumed logs what the uninterrupted run logs.

kexaone with ``steps_per_generation=2`` generates at steps 1, 3, 5 and reuses each batch for the next step, and
the checkpoint is taken at step 3: step 4 must train on the buffered batch of step 3 (TRL regenerates it on
resume), with the weights, optimizer, scheduler and RNG of step 3. Completions use TRL's own sampling, so step 5's
fresh generation is equal only if the RNG came back too. Observed: every logged value of steps 4-6 is bit-equal to
the uninterrupted run's (1 torch thread, same machine), so the test asserts equality, step time aside.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import torch

from haetae.alignment.checkpoint_weights import load_checkpoint_weights
from haetae.alignment.configs import get_config
from haetae.alignment.generation_buffer import (
    last_complete_checkpoint,
    load_generation_buffer,
    save_generation_buffer,
)
from haetae.alignment.mtp import ExaoneMoeWithMTP
from haetae.errors import UsageError

from .conftest import finish_smoke, read_metrics, start_smoke

pytestmark = pytest.mark.usefixtures("one_torch_thread")

RUN = ["--max-steps", "6", "--save-steps", "3", "--steps-per-generation", "2", "--variant", "kexaone"]
NOT_COMPARED = {"step_time"}  # wall-clock


def test_resume_after_sigkill_continues_exactly(tmp_path, tokenizer_dir):
    options = [*RUN, "--tokenizer", str(tokenizer_dir)]
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    run = start_smoke(1, "--out", str(whole), *options, log=tmp_path / "whole.log")
    finish_smoke(run, tmp_path / "whole.log", timeout=150)

    victim = start_smoke(1, "--out", str(cut), *options, log=tmp_path / "cut.log")
    written_last = cut / "checkpoint-3" / "generation_buffer_0.pt"
    deadline = time.monotonic() + 150
    while not written_last.exists() and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(victim.pid, signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL, "the run ended before it could be killed"
    assert last_complete_checkpoint(cut, 1) == cut / "checkpoint-3"

    log = tmp_path / "resumed.log"
    resumed_metrics = tmp_path / "resumed.jsonl"
    again = start_smoke(1, "--out", str(cut), *options, "--resume", "last", "--metrics", str(resumed_metrics), log=log)
    finish_smoke(again, log, timeout=150)

    uninterrupted = {m["step"]: m for m in read_metrics(whole / "metrics.jsonl")}
    before_kill = read_metrics(cut / "metrics.jsonl")
    resumed = read_metrics(resumed_metrics)
    assert [m["step"] for m in resumed] == [4, 5, 6]
    assert all(m == {**uninterrupted[m["step"]], "step_time": m["step_time"]} for m in before_kill)
    # Step 4 trains on step 3's buffered batch: no generation (no reward logged), as in the uninterrupted run.
    assert "reward" not in resumed[0] and "reward" in resumed[1]
    for metrics in resumed:
        want = uninterrupted[metrics["step"]]
        assert metrics.keys() == want.keys()
        differing = {k: (metrics[k], want[k]) for k in want if k not in NOT_COMPARED and metrics[k] != want[k]}
        assert not differing, (metrics["step"], differing)


def test_last_complete_checkpoint_skips_a_folder_a_kill_left_half_written(tmp_path):
    for step in (3, 6):
        (tmp_path / f"checkpoint-{step}").mkdir()
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    save_generation_buffer(tmp_path / "checkpoint-3", 0, 6, [{"x": torch.ones(2)}])
    save_generation_buffer(tmp_path / "checkpoint-3", 1, 6, [{"x": torch.zeros(2)}])
    save_generation_buffer(tmp_path / "checkpoint-6", 0, 12, [{"x": torch.ones(2)}])  # rank 1 never wrote
    assert last_complete_checkpoint(tmp_path, 2) == tmp_path / "checkpoint-3"
    assert last_complete_checkpoint(tmp_path, 1) == tmp_path / "checkpoint-6"
    assert last_complete_checkpoint(tmp_path / "absent", 1) is None
    saved = load_generation_buffer(tmp_path / "checkpoint-3", 1, torch.device("cpu"))
    assert saved["step"] == 6 and torch.equal(saved["buffered_inputs"][0]["x"], torch.zeros(2))
    with pytest.raises(UsageError, match="generation_buffer_1.pt: missing"):
        load_generation_buffer(tmp_path / "checkpoint-6", 1, torch.device("cpu"))


def test_checkpoint_weights_come_back_whole_where_a_plain_state_dict_load_drops_the_experts(tmp_path, make_policy):
    trained, fresh = make_policy(seed=1), make_policy(seed=2)
    trained.save_pretrained(tmp_path)
    # What transformers' Trainer does on resume: the saved (per-expert) keys do not match the fused parameters.
    from safetensors.torch import load_file

    result = fresh.load_state_dict(load_file(tmp_path / "model.safetensors"), strict=False)
    assert any("experts.gate_up_proj" in key for key in result.missing_keys)
    load_checkpoint_weights(fresh, tmp_path)
    want = trained.state_dict()
    assert all(torch.equal(tensor, want[name]) for name, tensor in fresh.state_dict().items())

    smaller = ExaoneMoeWithMTP(get_config("tiny", vocab_size=512))
    with pytest.raises(UsageError, match="do not fit this model"):
        load_checkpoint_weights(smaller, tmp_path)
