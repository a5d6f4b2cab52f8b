"""``python -m haetae.alignment.demo --out out/align``: the end-to-end alignment demo behind ``make demo-align``.

Bundled data only, CPU, one stage after another through the same commands a user runs:

1. ``haetae tokenizer train`` and ``haetae model init --config tiny`` on the bundled legal text
   (``pipelines/data/legal``: the Constitution of Korea and National Assembly bills, public text);
2. ``haetae safety generate`` (the shipped taxonomy and its hand-written seeds, offline): its ``train_sft`` split;
3. ``haetae train sft``: that chat data plus general text (legal paragraphs, and single-digit sums written as
   ``"3+4=7"`` so the from-scratch model learns the answer format);
4. ``haetae train agapo``: the verifiable toy task (single-digit addition prompts ``"3+4="``, generated item by item
   by code with exact answers, checked by ``math_answer``) mixed with safety prompts (scored by ``safety``);
5. ``haetae train grouper``: safety prompts, G responses sampled once from the AGAPO model and judged;
6. ``out/align/summary.html`` (``haetae.reports.align_report``) with the curves and greedy before/after samples;
7. ``haetae audit`` of the SFT training text (``out/align/audit``);
8. ``haetae safety eval`` of the SFT model (before alignment) and the GrouPER model (after) on the generated
   evaluation set with the offline judge (``--eval-limit`` items spread over areas and kinds, to fit a CPU run),
   and ``haetae safety gate`` on the result (a tiny model fails it; the demo reports that and goes on);
9. ``haetae report ethics`` in Korean and English, HTML and PDF: ``out/align/ethics/``.

The toy task is generated, not collected: for a verifiable-reward task this is legitimate (every answer is exact),
and it is the only data here whose correctness a reward can check.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from haetae.errors import JobFailed

LEGAL = Path(__file__).resolve().parents[1] / "pipelines" / "data" / "legal"
SAMPLE_PROMPTS = 6
MATH_REWARD = "rewards/math_answer/mean"
# SFT must leave the policy able to add sometimes but not always (sampled reward ~0.2-0.5): a group of G samples
# that is all wrong or all right has no advantage, so AGAPO learns only between those levels. From scratch the
# ~1M model needs a few thousand sums at lr 3e-3 to get there; batching rows of like length keeps the sums'
# batches short (the chat rows pad to ~190 tokens) so 400 steps cost about a minute.
SFT_SUMS = 3000
SFT_SETTINGS = ("train.learning_rate=0.003", "train.per_device_train_batch_size=16",
                "train.train_sampling_strategy=group_by_length")
# AGAPO: G=8 completions of 4 prompts a step. With G=4 and 2 prompts most groups were all wrong (no signal) and
# the per-step reward was a mean over 8 samples, too noisy to see a trend in 40 steps. lr 5e-4, not the recipe's
# 1e-3: steps that large on 4 prompts lowered the accuracy on all 100 sums (bench/learning_evidence.py); at 3e-4
# the demo's 300 steps moved the math reward's quarter means only 0.316 -> 0.334, at 5e-4 0.346 -> 0.451 (seed 0).
AGAPO_SETTINGS = ("agapo.num_generations=8", "agapo.per_device_train_batch_size=32", "train.learning_rate=0.0005")


def addition_rows(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` single-digit addition items ``{"prompt": "3+4=", "answer": "7"}`` drawn with ``seed``."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        a, b = rng.randrange(10), rng.randrange(10)
        rows.append({"prompt": f"{a}+{b}=", "answer": str(a + b)})
    return rows


def legal_files() -> list[Path]:
    return [LEGAL / "ko_constitution.txt", *sorted((LEGAL / "ko_bills").glob("*.txt"))]


def legal_paragraphs(limit: int, max_chars: int = 160) -> list[str]:
    """Non-empty paragraphs of the bundled legal text, cut to ``max_chars`` (general text for SFT)."""
    out: list[str] = []
    for path in legal_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(line.strip()[:max_chars])
                if len(out) >= limit:
                    return out
    return out


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return path


def read_jsonl(path: Path, limit: int) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if len(rows) >= limit:
                break
            rows.append(json.loads(line))
    return rows


def _cli(*argv: str) -> None:
    from haetae.cli import main

    code = main(list(argv))
    if code:
        raise JobFailed(f"demo-align: `haetae {' '.join(argv)}` exited {code}")


def _say(message: str) -> None:
    print(f"demo-align: {message}", file=sys.stderr, flush=True)


def greedy(model_dir: str, prompts: list[str], max_new_tokens: int) -> list[str]:
    """Greedy completions of ``prompts`` (text, already rendered) by the model in ``model_dir``."""
    import torch
    from transformers import AutoTokenizer

    from haetae.alignment.mtp import ExaoneMoeWithMTP

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = ExaoneMoeWithMTP.from_pretrained(model_dir).eval()
    texts = []
    with torch.no_grad():
        for prompt in prompts:
            ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
            out = model.generate(ids, do_sample=False, max_new_tokens=max_new_tokens,
                                 pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
            texts.append(tokenizer.decode(out[0, ids.size(1):], skip_special_tokens=True))
    return texts


def all_sums() -> list[dict[str, str]]:
    """Every single-digit sum once: the task has only 100 items, so an evaluation covers all of them instead of
    a random draw whose mix of easy and hard sums would move the number by several points."""
    return [{"prompt": f"{a}+{b}=", "answer": str(a + b)} for a in range(10) for b in range(10)]


def addition_accuracy(model, tokenizer, samples: int = 8, seed: int = 7) -> float:
    """Mean math_answer reward of ``samples`` completions (temperature 1) of each of the 100 sums: the demo's and
    the learning bench's measure of learning (the per-step training reward mixes which prompts a step drew)."""
    from haetae.alignment.rewards import MathAnswerReward
    from haetae.alignment.sampling import sample_groups

    rows = all_sums()
    groups = sample_groups(model, tokenizer, [r["prompt"] for r in rows], samples, 4, seed=seed)
    reward = MathAnswerReward(answer_column="answer")
    scores = [reward.score(r["prompt"], c, r) for r, texts in zip(rows, groups, strict=True) for c in texts]
    return sum(scores) / len(scores)


def checkpoint_addition_accuracy(model_dir: str) -> float:
    """:func:`addition_accuracy` of the checkpoint in ``model_dir``."""
    from transformers import AutoTokenizer

    from haetae.alignment.mtp import ExaoneMoeWithMTP

    return addition_accuracy(ExaoneMoeWithMTP.from_pretrained(model_dir).eval(),
                             AutoTokenizer.from_pretrained(model_dir))


def chat_prompt(tokenizer_dir: Path, user: str) -> str:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    return tokenizer.apply_chat_template([{"role": "user", "content": user}], tokenize=False,
                                         add_generation_prompt=True)


def before_after(sft_dir: str, after: dict[str, str], arithmetic: list[dict], safety_prompts: list[str]) -> list[dict]:
    """Greedy samples of the SFT model and of each later stage's model, scored by the rewards used in training."""
    from haetae.alignment.judges import RuleBasedJudge
    from haetae.alignment.rewards import MathAnswerReward

    math_reward, judge = MathAnswerReward(answer_column="answer"), RuleBasedJudge()
    chats = [chat_prompt(Path(sft_dir), p) for p in safety_prompts]
    samples = []
    prompts = [r["prompt"] for r in arithmetic]
    for before, later in zip(greedy(sft_dir, prompts, 4), greedy(after["agapo"], prompts, 4), strict=True):
        row = arithmetic[len(samples)]
        samples.append({"task": "addition (AGAPO)", "prompt": row["prompt"], "answer": row["answer"],
                        "before": before, "after": later,
                        "before_reward": math_reward.score(row["prompt"], before, row),
                        "after_reward": math_reward.score(row["prompt"], later, row)})
    for prompt, before, later in zip(safety_prompts, greedy(sft_dir, chats, 24), greedy(after["grouper"], chats, 24),
                                     strict=True):
        samples.append({"task": "safety (GrouPER)", "prompt": prompt, "answer": None, "before": before,
                        "after": later, "before_reward": judge.score(prompt, before),
                        "after_reward": judge.score(prompt, later)})
    return samples


def run_demo(out: Path, sft_steps: int, agapo_steps: int, grouper_steps: int, recipe: str = "tiny-cpu",
             agapo_overrides: tuple[str, ...] = (), seed: int = 0, eval_limit: int = 240) -> Path:
    from haetae.alignment.train import run_training
    from haetae.reports.align_report import first_last, read_metrics, write_align_summary

    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    data = out / "data"
    data.mkdir(exist_ok=True)
    _say("1/9 tokenizer and tiny model on the bundled legal text")
    _cli("tokenizer", "train", *map(str, legal_files()), "--vocab-size", "2048", "--out", str(out / "tokenizer"))
    _cli("model", "init", "--config", "tiny", "--tokenizer", str(out / "tokenizer"), "--out", str(out / "init"),
         "--seed", str(seed))
    _say("2/9 safety data from the taxonomy")
    _cli("safety", "generate", "--out", str(out / "safety"), "--languages", "ko,en", "--audit", "off")
    # 40 chat rows: the seed-based targets (refusal + the area's safe help) render to ~1,000 tokens with the tiny
    # legal-text tokenizer and are cut at 192, so more of them crowd out the sums (measured: SFT sampled accuracy on
    # the sums 0.19 with 40 rows, 0.07 with 160, 0.14 with none)
    chat = read_jsonl(out / "safety" / "train_sft.jsonl", 40)
    # the hand-written seeds themselves (plain items): the last user turn is the request
    redteam = [r["messages"][-1]["content"] for r in read_jsonl(out / "safety" / "train_redteam.jsonl", 400)
               if r.get("messages") and r.get("mutation", "none") == "none"]
    random.Random(0).shuffle(redteam)
    text = [{"text": p} for p in legal_paragraphs(80)]
    sums = [{"text": r["prompt"] + r["answer"]} for r in addition_rows(SFT_SUMS, seed=1)]
    sft_data = write_jsonl(data / "sft.jsonl", [{"messages": r["messages"]} for r in chat] + text + sums)
    _say("3/9 SFT")
    common = ("resume=false", f"train.seed={seed}")
    sft = run_training("sft", recipe, [*common, f"model={out / 'init'}", f"out={out / 'sft'}",
                                       f"sft.data={sft_data}", f"train.max_steps={sft_steps}", *SFT_SETTINGS])
    _say("4/9 AGAPO on single-digit addition plus safety prompts")
    # Prompts as text (chat turns rendered with the generation prompt): one column type for both tasks.
    agapo_rows = addition_rows(96, seed=2) + [{"prompt": chat_prompt(out / "tokenizer", p), "answer": None}
                                              for p in redteam[:32]]
    random.Random(3).shuffle(agapo_rows)
    agapo_data = write_jsonl(data / "agapo.jsonl", agapo_rows)
    agapo = run_training("agapo", recipe, [*common, f"model={sft.model_dir}", f"out={out / 'agapo'}",
                                           f"agapo.data={agapo_data}", "agapo.rewards=[math_answer,safety]",
                                           f"train.max_steps={agapo_steps}", *AGAPO_SETTINGS, *agapo_overrides])
    _say("5/9 GrouPER on safety prompts")
    grouper_data = write_jsonl(data / "grouper.jsonl",
                               [{"prompt": [{"role": "user", "content": p}]} for p in redteam[32:64]])
    grouper = run_training("grouper", recipe, [*common, f"model={agapo.model_dir}", f"out={out / 'grouper'}",
                                               f"grouper.data={grouper_data}", f"train.max_steps={grouper_steps}"])
    _say("6/9 before/after samples and the summary")
    samples = before_after(sft.model_dir, {"agapo": agapo.model_dir, "grouper": grouper.model_dir},
                           addition_rows(SAMPLE_PROMPTS, seed=99), redteam[64:64 + SAMPLE_PROMPTS // 2])
    math_span = first_last(read_metrics(agapo.metrics_path), MATH_REWARD)
    accuracy = (checkpoint_addition_accuracy(sft.model_dir), checkpoint_addition_accuracy(agapo.model_dir))
    learning = (f"Sampled accuracy on all 100 single-digit sums (8 completions each, temperature 1): SFT "
                f"{accuracy[0]:.3f} -> AGAPO {accuracy[1]:.3f}; AGAPO math reward, mean of the first vs the last "
                "quarter of its training steps: "
                + (f"{math_span[0]:.3f} -> {math_span[1]:.3f}" if math_span else "not logged"))
    _say(learning)
    info = {"seconds": time.monotonic() - started,
            "notes": "Tiny K-EXAONE (~1M parameters) trained from scratch on CPU. The addition task is generated by "
                     "code with exact answers (a verifiable toy task); safety prompts come from the taxonomy's "
                     f"hand-written seeds and are scored by the rule-based judge. {learning}.",
            "evaluation": [{"label": "Addition accuracy, all 100 sums", "before": accuracy[0], "after": accuracy[1],
                            "detail": "SFT → AGAPO, 8 samples each at T=1"}]}
    path = write_align_summary(out / "summary.html", {"sft": sft.metrics_path, "agapo": agapo.metrics_path,
                                                      "grouper": grouper.metrics_path}, samples, info)
    _say(f"wrote {path}")
    review = evaluate_and_review(out, sft.model_dir, grouper.model_dir, chat, text, eval_limit)
    _say(f"wrote {path} and {review} in {time.monotonic() - started:.0f} s")
    return path


MODEL_CARD = """name: haetae-tiny demo
architecture: K-EXAONE-style hybrid-attention MoE (haetae model init --config tiny, ~1M parameters)
training: "SFT -> AGAPO -> GrouPER on bundled data (make demo-align)"
before: the SFT checkpoint (out/align/sft)
after: the GrouPER checkpoint (out/align/grouper)
intended_use: "a demonstration of the pipeline only; not a usable or safe assistant"
"""


def evaluate_and_review(out: Path, before: str, after: str, chat: list[dict], text: list[dict],
                        eval_limit: int) -> Path:
    """Steps 7-9: audit of the SFT text, safety evaluation before/after, the gate, the ethics review."""
    from haetae.cli import main as cli

    _say("7/9 audit of the SFT training text")
    rows = [{"id": f"chat{i}", "text": "\n".join(m["content"] for m in r["messages"]), "lang": r.get("language")}
            for i, r in enumerate(chat)] + [{"id": f"text{i}", "text": r["text"]} for i, r in enumerate(text)]
    _cli("audit", str(write_jsonl(out / "data" / "sft_text.jsonl", rows)), "--out", str(out / "audit"))
    _say(f"8/9 safety evaluation before and after alignment ({eval_limit} items each, offline judge)")
    for name, model in (("before", before), ("after", after)):
        _cli("safety", "eval", "--model", str(model), "--eval-set", str(out / "safety"), "--out",
             str(out / f"eval_{name}"), "--judge", "offline", "--limit", str(eval_limit), "--max-tokens", "48",
             "--n-boot", "500")
    gate = cli(["safety", "gate", str(out / "eval_after" / "metrics.json")])
    _say("release gate: " + ("PASS" if gate == 0 else "FAIL (expected for a ~1M-parameter demo model)"))
    _say("9/9 ethics-committee review")
    card = out / "model_card.yaml"
    card.write_text(MODEL_CARD, encoding="utf-8")
    for lang in ("ko", "en"):
        _cli("report", "ethics", "--audit", str(out / "audit"), "--safety", str(out / "eval_after"), "--baseline",
             str(out / "eval_before"), "--model-card", str(card), "--out", str(out / "ethics"), "--lang", lang, "--pdf")
    return out / "ethics"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m haetae.alignment.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="out/align")
    parser.add_argument("--sft-steps", type=int, default=400)
    parser.add_argument("--agapo-steps", type=int, default=300)
    parser.add_argument("--grouper-steps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights and train.seed of every stage")
    parser.add_argument("--eval-limit", type=int, default=240,
                        help="evaluation items per model (spread over areas, red-team and over-refusal)")
    args = parser.parse_args(argv)
    run_demo(Path(args.out), args.sft_steps, args.agapo_steps, args.grouper_steps, seed=args.seed,
             eval_limit=args.eval_limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
