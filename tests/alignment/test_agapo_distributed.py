"""AGAPO on 2 CPU processes (``accelerate launch``, gloo) computes what one process computes on the same global batch.

Both runs sample with ``--rollout seeded`` (each completion from its own seed, see ``seeded_rollout``): TRL's batched
sampling draws other completions on 1 and on 2 processes, so only seeded completions make losses comparable.
Prompts are in data order (``--no-shuffle``), so process 0 holds the even rows, whose constraint every completion
meets: under kexaone every group on process 0 is zero-variance and filtered, at every step, while process 1's
groups train (exaone4 keeps them, with zero advantage, and adds the sequence KL). That is where a per-process mean
averaged by DDP weighs process 1's sequences wrongly (before the fix: grad norm 2x at step 1, then a DDP failure
on the MTP block's missing gradients at step 2) and where ranks that disagreed on shapes would hang.

Tolerance: 1e-5 relative, and 1e-5 absolute for the loss. The runs differ only in float32 summation order (two
partial gradient sums all-reduced vs one sum; batch-4 vs batch-8 matmuls). The loss is a near-cancelling mean of
terms of size |A| * |log p| (~8 per token, ~60 per exaone4 sequence), so its rounding is absolute, not relative
to its small value. Measured over 3 steps: loss <= 3.6e-7 (kexaone) and 8.4e-7 (exaone4) absolute; grad norm
<= 2.3e-7, entropy <= 1.3e-7 and KL <= 6.4e-7 relative (step 1's KL is 0 on both, hence abs 1e-7). The
tolerance leaves >= 10x margin and is 5 orders of magnitude below the factor-2 error the test exists to catch.
Rewards and the filtered fraction must be equal.
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


@pytest.mark.parametrize(
    ("variant", "filtered"),
    [
        (["--variant", "kexaone"], 0.5),  # process 0's zero-variance group is masked out of the loss
        (["--variant", "exaone4", "--beta", "0.05"], 0.0),  # nothing filtered; sequence KL to the reference
    ],
    ids=["kexaone", "exaone4"],
)
def test_two_processes_match_one_with_a_rank_whose_groups_are_all_solved(
    tmp_path, tokenizer_dir, rank0_filtered_data, variant, filtered
):
    common = [*variant, "--rollout", "seeded", "--no-shuffle", "--max-steps", str(STEPS), "--data", str(rank0_filtered_data),
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
        # kexaone: one of the two groups (process 0's, always met) is filtered at every step; process 1's trains.
        assert one["agapo/filtered_fraction"] == two["agapo/filtered_fraction"] == filtered
        assert one["reward"] == two["reward"] and one["reward_std"] == two["reward_std"]
        assert two["grad_norm"] > 0
        assert two["loss"] == pytest.approx(one["loss"], rel=1e-5, abs=1e-5), one["step"]
        compared = ("grad_norm", "entropy", "agapo/advantage_abs_mean", "agapo/is_ratio_mean", "kl", "agapo/kl_seq")
        for key in (k for k in compared if k in one):
            assert two[key] == pytest.approx(one[key], rel=1e-5, abs=1e-7), (one["step"], key)
