"""The alignment summary renders the metrics.jsonl of a real (2-step) AGAPO run: curves as SVG, samples escaped."""

from __future__ import annotations

import json
import re

import pytest

from haetae.errors import UsageError
from haetae.reports.align_report import first_last, read_metrics, write_align_summary

from .conftest import tiny_policy

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _tiny_checkpoint(tmp_path_factory, tokenizer):
    folder = tmp_path_factory.mktemp("tiny_ckpt")
    tiny_policy(tokenizer).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def two_step_run(tmp_path_factory, legal_tokenizer):
    from haetae.alignment.train import run_training

    model = _tiny_checkpoint(tmp_path_factory, legal_tokenizer)
    out = tmp_path_factory.mktemp("agapo_run")
    result = run_training("agapo", "tiny-cpu", [f"model={model}", f"out={out}", "train.max_steps=2",
                                                "agapo.prefilter=false", "agapo.max_completion_length=4",
                                                "train.save_steps=100"])
    return result.metrics_path


def test_summary_plots_every_logged_step(two_step_run, tmp_path):
    records = read_metrics(two_step_run)
    assert [r["step"] for r in records] == [1, 2] and all(r["stage"] == "agapo" for r in records)
    samples = [{"task": "addition", "prompt": "<script>alert(1)</script>3+4=", "answer": "7",
                "before": "8", "after": "7", "before_reward": 0.0, "after_reward": 1.0}]
    page = write_align_summary(tmp_path / "summary.html", {"agapo": two_step_run}, samples).read_text("utf-8")

    # One chart per AGAPO curve, each series a polyline through the two logged steps.
    for title in ("AGAPO reward", "AGAPO KL", "AGAPO loss", "AGAPO filtered fraction"):
        assert title in page
    polylines = re.findall(r'<polyline points="([^"]+)"', page)
    logged = sum(key in records[0] for key in ("reward", "rewards/math_answer/mean", "kl", "loss",
                                               "agapo/filtered_fraction", "agapo/all_wrong_fraction"))
    assert len(polylines) == logged >= 5
    assert all(len(p.split()) == 2 for p in polylines)
    # The headline reads the run's own numbers.
    first, last = first_last(records, "reward")
    assert f"{first:.3g} &rarr; {last:.3g}" in page
    # Samples are escaped (autoescape), and no script reaches the page.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;3+4=" in page and "<script" not in page
    # A stage that was not run has no section; the safety reward was not logged here, so it is not drawn.
    assert "GrouPER" not in page and "safety" not in page.split("AGAPO reward")[1].split("</figure>")[0]


def test_metrics_that_are_not_a_training_log_are_refused(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(json.dumps({"loss": 1.0}) + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"metrics.jsonl:1: a metrics line needs a 'step'"):
        read_metrics(path)
    path.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"metrics.jsonl:1: not JSON"):
        read_metrics(path)


def test_headline_compares_the_first_and_last_quarter_of_the_steps():
    # Eight logged steps: a quarter is two, so the noisy single steps in between do not move the headline.
    records = [{"step": s, "reward": r} for s, r in enumerate([0.0, 0.2, 1.0, 0.0, 0.0, 1.0, 0.6, 0.8], start=1)]
    assert first_last(records, "reward") == pytest.approx((0.1, 0.7))
    assert first_last(records, "reward", window=1) == pytest.approx((0.0, 0.8))
    assert first_last(records, "kl") is None


def test_evaluation_cards_show_before_and_after(two_step_run, tmp_path):
    info = {"evaluation": [{"label": "Addition accuracy, all 100 sums", "before": 0.278, "after": 0.431,
                            "detail": "SFT → AGAPO, 8 samples each at T=1"}]}
    page = write_align_summary(tmp_path / "summary.html", {"agapo": two_step_run}, [], info).read_text("utf-8")
    card = page.split("Addition accuracy, all 100 sums")[1].split("</div>")[0]
    assert "0.278 &rarr; 0.431" in card and "8 samples each" in card
