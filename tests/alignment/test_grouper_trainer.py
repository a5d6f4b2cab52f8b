"""GrouPER / SimPER on a tiny K-EXAONE: judge, cached groups, loss == SimPER / 2 at G = 2, CPU training."""

from __future__ import annotations

import json
import math

import pytest
import torch
from datasets import Dataset

from haetae.alignment.grouper_config import GrouPERConfig
from haetae.alignment.grouper_trainer import (
    GroupCollator,
    GrouPERTrainer,
    cache_groups,
    load_cached_groups,
    mean_token_logps,
)
from haetae.alignment.judges import Judge, RuleBasedJudge, judge_reward_func
from haetae.alignment.objectives import simper_loss
from haetae.alignment.sampling import asymmetric_prefilter, sample_groups, score_groups
from haetae.errors import UsageError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_judge_reward_func_asks_the_judge_with_the_rows_columns():
    # The default rubric and custom checks: tests/alignment/test_judges.py.
    judge = RuleBasedJudge({"has": lambda p, r, c: c["word"] in r})
    assert isinstance(judge, Judge)
    reward = judge_reward_func(judge, name="has_word")
    got = reward(prompts=["p", "p"], completions=["x y", "z"], word=["y", "y"], trainer_state=None)
    assert got == [1.0, 0.0] and reward.__name__ == "has_word"


def test_score_groups_sums_reward_functions_and_keeps_failures_missing():
    rows = [{"prompt": "a", "target": "x"}, {"prompt": "b", "target": "y"}]
    groups = [["x", "no"], ["y", "??"]]

    def match(prompts, completions, target, **_):
        return [float(c == t) for c, t in zip(completions, target, strict=True)]

    def flaky(prompts, completions, **_):
        return [None if c == "??" else 0.5 for c in completions]

    got = score_groups([match, flaky], rows, groups)
    torch.testing.assert_close(got, torch.tensor([[1.5, 0.5], [1.5, 0.0]]))
    got = score_groups([flaky], rows, groups)
    assert got[1, 1].isnan() and got[0, 0] == 0.5


def test_asymmetric_prefilter_drops_all_correct_prompts_and_keeps_all_wrong(
    make_policy, legal_tokenizer, legal_prompts
):
    data = Dataset.from_list(
        [
            {"prompt": p, "kind": k}
            for p, k in zip(legal_prompts[:6], ["easy", "hard", "mixed"] * 2, strict=True)
        ]
    )

    def reward(prompts, completions, kind, **_):
        return [{"easy": 1.0, "hard": 0.0, "mixed": float(i % 2)}[k] for i, k in enumerate(kind)]

    kept, counts = asymmetric_prefilter(
        data, make_policy(), legal_tokenizer, [reward], num_generations=2, max_new_tokens=4
    )
    assert counts == {"prompts": 6, "kept": 4, "dropped_all_correct": 2}
    assert kept["kind"] == ["hard", "mixed", "hard", "mixed"]


def test_asymmetric_prefilter_asks_each_reward_whether_the_samples_are_correct(
    make_policy, legal_tokenizer, legal_prompts
):
    # A math + safety run: the math reward scores the sums (wrong here), the safety reward scores everything (safe).
    # A wrong-but-safe sum sums to 1.0 but is not solved; a safe safety prompt is, since math has no say there.
    data = Dataset.from_list([{"prompt": p, "answer": a} for p, a in zip(legal_prompts[:4], ["7", None] * 2,
                                                                          strict=True)])

    def math(prompts, completions, answer, **_):
        return [None if a is None else 0.0 for a in answer]

    def safety(prompts, completions, **_):
        return [1.0] * len(completions)

    kept, counts = asymmetric_prefilter(
        data, make_policy(), legal_tokenizer, [math, safety], num_generations=2, max_new_tokens=4
    )
    assert counts == {"prompts": 4, "kept": 2, "dropped_all_correct": 2}
    assert kept["answer"] == ["7", "7"]


@pytest.fixture
def cached(tmp_path, make_policy, legal_tokenizer, legal_prompts):
    """Four groups of G=4 sampled from the initial policy, judged on whether they contain the particle '의'."""
    rows = [{"prompt": p, "required": ["의"]} for p in legal_prompts[:4]]
    judge = RuleBasedJudge(
        {"not_empty": lambda p, r, c: bool(r.strip()), "required": lambda p, r, c: "의" in r}
    )
    path = tmp_path / "groups.jsonl"
    counts = cache_groups(
        make_policy(), legal_tokenizer, rows, judge, path, num_generations=4, max_new_tokens=12
    )
    return path, counts


def test_cache_groups_writes_scored_groups_that_load_back(cached):
    path, counts = cached
    assert counts == {"prompts": 4, "responses": 16, "scored": 16, "unscored": 0}
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 4 and all(len(g["responses"]) == 4 == len(g["rewards"]) for g in lines)
    data = load_cached_groups(path, num_generations=4)
    assert data["rewards"] == [g["rewards"] for g in lines]
    assert len({r for g in lines for r in g["rewards"]}) > 1, "the judge must separate some responses"
    with pytest.raises(UsageError, match=r"groups.jsonl:1: expected 2 responses"):
        load_cached_groups(path, num_generations=2)
    bad = path.with_name("bad.jsonl")
    bad.write_text(path.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"bad.jsonl:5: not JSON"):
        load_cached_groups(bad, num_generations=4)


def test_grouper_with_two_responses_is_half_simper_on_the_model(make_policy, legal_tokenizer, tmp_path):
    model = make_policy()
    groups = [
        {"prompt": "대한민국은", "responses": ["민주공화국이다", "국민에게 있고"], "rewards": [0.9, 0.1]},
        {"prompt": "모든 국민은", "responses": ["법 앞에", "평등하다"], "rewards": [0.0, 1.0]},
    ]
    args = GrouPERConfig(str(tmp_path), num_generations=2, use_cpu=True, report_to="none")
    trainer = GrouPERTrainer(model, args, Dataset.from_list(groups), legal_tokenizer)
    batch = GroupCollator(legal_tokenizer, 64)(groups)
    with torch.no_grad():
        loss = trainer.compute_loss(model, batch)
        logps = mean_token_logps(
            model, batch["input_ids"], batch["attention_mask"], batch["response_mask"]
        ).view(2, 2)
    chosen, rejected = torch.stack([logps[0, 0], logps[1, 1]]), torch.stack([logps[0, 1], logps[1, 0]])
    torch.testing.assert_close(loss, simper_loss(chosen, rejected) / 2)


def test_grouper_trains_on_cached_groups(cached, make_policy, legal_tokenizer, tmp_path):
    path, _ = cached
    model = make_policy()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    args = GrouPERConfig(
        str(tmp_path / "out"),
        num_generations=4,
        per_device_train_batch_size=2,
        max_steps=3,
        learning_rate=1e-3,
        logging_steps=1,
        use_cpu=True,
        report_to="none",
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
    )
    trainer = GrouPERTrainer(model, args, load_cached_groups(path, 4), legal_tokenizer)
    trainer.train()
    logs = [h for h in trainer.state.log_history if "loss" in h]
    assert len(logs) == 3 and all(math.isfinite(h["loss"]) for h in logs)
    assert all("grouper/inverse_perplexity" in h and "grouper/reward" in h for h in logs)
    changed = [n for n, p in trainer.model.named_parameters() if not torch.equal(p, before[n])]
    assert any("self_attn" in n for n in changed)
    mtp = [p for n, p in trainer.model.named_parameters() if n.startswith("mtp.")]
    assert trainer.frozen_mtp == len(mtp) > 0 and not any(p.requires_grad for p in mtp)  # saved as SFT left it
    assert not any(n.startswith("mtp.") for n in changed)


def test_sample_groups_is_seeded(make_policy, legal_tokenizer, legal_prompts):
    model = make_policy()
    first = sample_groups(model, legal_tokenizer, legal_prompts[:2], 3, 6, seed=7)
    assert len(first) == 2 and all(len(g) == 3 for g in first)
    assert sample_groups(model, legal_tokenizer, legal_prompts[:2], 3, 6, seed=7) == first
