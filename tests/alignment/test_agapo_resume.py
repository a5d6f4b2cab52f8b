"""A tiny AGAPO run killed with SIGKILL after a checkpoint and resumed logs what the uninterrupted run logs.

kexaone with ``steps_per_generation=2`` generates at odd steps and reuses each batch for the next step; an epoch
of 8 prompts (2 per step) is 4 steps. The checkpoint is taken at step 5, in epoch 1: step 6 must train on step
5's buffered batch (TRL regenerates it on resume), with step 5's weights (the MoE experts included), optimizer,
scheduler and RNG; step 7 generates afresh, from epoch 1's prompt order (TRL's sampler replays epoch 0's after
a resume; on 2 processes ``set_epoch`` never reaches it) and the restored RNG (completions use TRL's own
sampling). Observed, on 1 and on 2 processes: every logged value of steps 6-7 is bit-equal to the uninterrupted
run's (1 torch thread per process, same machine), so the test asserts equality, step time aside.
"""

from __future__ import annotations

import signal
import time

import pytest
import torch
from trl.trainer.utils import RepeatSampler

from haetae.alignment import launch_smoke
from haetae.alignment.checkpoint_weights import load_checkpoint_weights
from haetae.alignment.configs import get_config
from haetae.alignment.epoch_sampler import EpochSeededRepeatSampler
from haetae.alignment.generation_buffer import (
    last_complete_checkpoint,
    load_generation_buffer,
    save_generation_buffer,
)
from haetae.alignment.mtp import ExaoneMoeWithMTP
from haetae.errors import UsageError

from .conftest import finish_smoke, kill_smoke, read_metrics, start_smoke

pytestmark = pytest.mark.usefixtures("one_torch_thread")

RUN = ["--prompts", "8", "--max-steps", "7", "--save-steps", "5", "--steps-per-generation", "2", "--variant", "kexaone"]
NOT_COMPARED = {"step_time"}  # wall-clock


@pytest.mark.parametrize("processes", [1, 2])
def test_resume_after_sigkill_continues_exactly(tmp_path, tokenizer_dir, processes):
    # The same global batch of 8 on 1 or 2 processes; on 2, each rank saves and restores its own buffer and RNG.
    options = [*RUN, "--tokenizer", str(tokenizer_dir), "--per-device-batch", str(8 // processes)]
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    # The uninterrupted run and the one to kill are independent: run them side by side (2 cores).
    run = start_smoke(processes, "--out", str(whole), *options, log=tmp_path / "whole.log")
    victim = start_smoke(processes, "--out", str(cut), *options, log=tmp_path / "cut.log")
    written_last = [cut / "checkpoint-5" / f"generation_buffer_{rank}.pt" for rank in range(processes)]
    deadline = time.monotonic() + 150
    while not all(p.exists() for p in written_last) and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert kill_smoke(victim) == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (cut / "checkpoint-7").exists()
    finish_smoke(run, tmp_path / "whole.log", timeout=150)
    assert last_complete_checkpoint(cut, processes) == cut / "checkpoint-5"

    log = tmp_path / "resumed.log"
    resumed_metrics = tmp_path / "resumed.jsonl"
    again = start_smoke(
        processes, "--out", str(cut), *options, "--resume", "last", "--metrics", str(resumed_metrics), log=log
    )
    finish_smoke(again, log, timeout=150)

    uninterrupted = {m["step"]: m for m in read_metrics(whole / "metrics.jsonl")}
    before_kill = read_metrics(cut / "metrics.jsonl")
    resumed = read_metrics(resumed_metrics)
    assert [m["step"] for m in resumed] == [6, 7]
    assert all(m == {**uninterrupted[m["step"]], "step_time": m["step_time"]} for m in before_kill)
    # Step 6 trains on step 5's buffered batch: no generation (no reward logged), as in the uninterrupted run.
    assert "reward" not in resumed[0] and "reward" in resumed[1]
    for metrics in resumed:
        want = uninterrupted[metrics["step"]]
        assert metrics.keys() == want.keys()
        differing = {k: (metrics[k], want[k]) for k in want if k not in NOT_COMPARED and metrics[k] != want[k]}
        assert not differing, (metrics["step"], differing)


def test_last_complete_checkpoint_skips_a_folder_a_kill_left_half_written(tmp_path):
    for step in (9, 10):  # numeric order: a name sort would put checkpoint-9 after checkpoint-10
        (tmp_path / f"checkpoint-{step}").mkdir()
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    save_generation_buffer(tmp_path / "checkpoint-9", 0, 18, [{"x": torch.ones(2)}])
    save_generation_buffer(tmp_path / "checkpoint-9", 1, 18, [{"x": torch.zeros(2)}])
    save_generation_buffer(tmp_path / "checkpoint-10", 0, 20, [{"x": torch.ones(2)}])  # rank 1 never wrote
    assert last_complete_checkpoint(tmp_path, 2) == tmp_path / "checkpoint-9"
    assert last_complete_checkpoint(tmp_path, 1) == tmp_path / "checkpoint-10"
    assert last_complete_checkpoint(tmp_path / "absent", 1) is None
    saved = load_generation_buffer(tmp_path / "checkpoint-9", 1, torch.device("cpu"))
    assert saved["step"] == 18 and torch.equal(saved["buffered_inputs"][0]["x"], torch.zeros(2))
    with pytest.raises(UsageError, match="generation_buffer_1.pt: missing"):
        load_generation_buffer(tmp_path / "checkpoint-10", 1, torch.device("cpu"))


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


def test_epoch_order_is_a_function_of_the_epoch_so_a_fresh_sampler_resumes_it():
    options = dict(data_source=range(16), mini_repeat_count=2, batch_size=4, repeat_count=2, seed=0)
    epoch = 0
    running = EpochSeededRepeatSampler(**options, epoch_of=lambda: epoch)
    epochs = []
    for epoch in range(3):  # noqa: B007  (read by epoch_of)
        epochs.append(list(running))
    assert epochs[0] == list(RepeatSampler(**options))  # epoch 0 is TRL's order
    assert epochs[1] != epochs[0] and epochs[2] != epochs[1]
    resumed = EpochSeededRepeatSampler.like(RepeatSampler(**options), epoch_of=lambda: 2)
    assert list(resumed) == epochs[2]
    # TRL's own sampler, built afresh on resume, replays epoch 0 where the run was in a later epoch.
    trl_running = RepeatSampler(**options)
    trl_epochs = [list(trl_running) for _ in range(2)]
    assert list(RepeatSampler(**options)) != trl_epochs[1]


def test_launcher_refuses_to_resume_without_a_complete_checkpoint(tmp_path, capsys):
    (tmp_path / "checkpoint-2").mkdir()  # a kill during the first save: no trainer state, no buffer
    assert launch_smoke.main(["--out", str(tmp_path), "--resume", "last"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no complete checkpoint to resume from" in err and str(tmp_path) in err
