"""AGAPO on 2 CPU processes (``accelerate launch``, gloo) computes what one process computes on the same global batch.

Both runs sample with ``--rollout seeded`` (each completion from its own seed, see ``seeded_rollout``): TRL's batched
sampling draws other completions on 1 and on 2 processes, so only seeded completions make losses comparable.
Prompts are in data order (``--no-shuffle``), so process 0 holds the even rows: their constraint is met by every
completion, so every group on process 0 is zero-variance and filtered, at every step, while process 1's groups
train. That is the case where a per-process mean, averaged by DDP, counts process 1's sequences half (grad norm
2x, then a DDP failure on the MTP block's missing gradients at step 2) and where ranks that disagreed on shapes
would hang.

Tolerance: 1e-5 relative, and 1e-5 absolute for the loss. The runs differ only in float32 summation order (two
partial gradient sums all-reduced vs one sum; batch-4 vs batch-8 matmuls). The loss is a near-cancelling mean of
terms of size |A| * |log p| ~ 8, so its rounding is ~1e-6 absolute, not relative to its small value. Measured over 3
steps: loss <= 3.6e-7 absolute, grad norm <= 2.3e-7 and entropy <= 1.3e-7 relative; the tolerance leaves >= 30x
margin and is 5 orders of magnitude below the factor-2 grad-norm error the test exists to catch. Rewards and the
filtered fraction must be equal.
"""

from __future__ import annotations

import json

import pytest

from haetae.alignment.launch_smoke import corpus_prompts

from .conftest import finish_smoke, read_metrics, start_smoke

ALWAYS_MET = [{"type": "max_words", "value": 1000}]
# Graded word-count limits: completions of 8 untrained tokens carry 1 to ~5 words, so a group's rewards differ.
VARIED = [{"type": "max_words", "value": n} for n in (1, 2, 3, 4)]
STEPS = 3


@pytest.fixture(scope="module")
def rank0_filtered_data(legal_tokenizer, tmp_path_factory):
    rows = [
        {"prompt": p, "constraints": ALWAYS_MET if i % 2 == 0 else VARIED}
        for i, p in enumerate(corpus_prompts(legal_tokenizer, 2 * STEPS))
    ]
    path = tmp_path_factory.mktemp("data") / "rank0_filtered.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_two_processes_match_one_with_a_rank_whose_groups_are_all_filtered(
    tmp_path, tokenizer_dir, rank0_filtered_data
):
    common = ["--rollout", "seeded", "--no-shuffle", "--max-steps", str(STEPS), "--data", str(rank0_filtered_data),
              "--tokenizer", str(tokenizer_dir), "--num-generations", "4"]
    runs = {}
    for processes, batch in ((1, 8), (2, 4)):  # global batch 8 = 2 prompts x 4 completions in both
        out = tmp_path / f"p{processes}"
        log = tmp_path / f"p{processes}.log"
        run = start_smoke(processes, "--out", str(out), "--per-device-batch", str(batch), *common, log=log)
        finish_smoke(run, log, timeout=240)
        runs[processes] = read_metrics(out / "metrics.jsonl")

    single, double = runs[1], runs[2]
    assert [m["step"] for m in single] == [m["step"] for m in double] == list(range(1, STEPS + 1))
    for one, two in zip(single, double, strict=True):
        # One of the two groups (process 0's, always met) is filtered at every step; process 1's trains.
        assert one["agapo/filtered_fraction"] == two["agapo/filtered_fraction"] == 0.5
        assert one["reward"] == two["reward"] and one["reward_std"] == two["reward_std"]
        assert two["grad_norm"] > 0
        assert two["loss"] == pytest.approx(one["loss"], rel=1e-5, abs=1e-5), one["step"]
        for key in ("grad_norm", "entropy", "agapo/is_ratio_mean", "agapo/advantage_abs_mean"):
            assert two[key] == pytest.approx(one[key], rel=1e-5), (one["step"], key)
