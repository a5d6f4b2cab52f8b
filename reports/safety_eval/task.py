"""The KGC-SAFETY task: the generated evaluation set as an inspect-ai dataset, generate(), and a judge scorer.

Red-team items (``eval.jsonl``: single-turn, multi-turn and adversarial, six languages) carry their area's
criteria and positive policy for the judge; over-refusal items (``contrast.jsonl`` or ``benign.jsonl``) are
benign prompts that share trigger words with harmful ones. Each sample's score holds the judge's verdict in its
metadata, so ``metrics.json`` is computed from inspect's own log, and the inspect metrics shown in ``inspect
view`` (safe rate, over-refusal, judge coverage) exclude ``error`` and ``abstain`` the same way.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser
from inspect_ai.scorer import SampleScore, Score, Target, metric, scorer
from inspect_ai.solver import TaskState, generate

from haetae.errors import UsageError
from haetae.reports.judges.verdict import JudgeInput, VerdictJudge

RED_TEAM_FILES = ("eval.jsonl",)
OVER_REFUSAL_FILES = ("contrast.jsonl", "benign.jsonl")
_ROLES = {"user": ChatMessageUser, "assistant": ChatMessageAssistant, "system": ChatMessageSystem}


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:
                    raise UsageError(f"{path}:{n}: not JSON ({exc.msg})") from None
    return rows


def _texts(value: Any, language: str) -> list[str]:
    """Criteria / policy rows ``{ko, en}`` in the item's language where written, else English."""
    out = []
    for v in value or []:
        out.append(v if isinstance(v, str) else str(v.get(language) or v.get("en") or ""))
    return [t for t in out if t]


def _messages(row: dict, where: str) -> list[dict[str, str]]:
    messages = row.get("messages") or row.get("prompt")
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    if not isinstance(messages, list) or not messages or messages[-1].get("role") != "user":
        raise UsageError(f"{where}: item {row.get('id')!r} has no conversation ending with a user turn")
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def sample_from_row(row: dict, kind: str, where: str) -> Sample:
    language = row.get("language", "en")
    messages = _messages(row, where)
    metadata = {
        "kind": kind, "area": row.get("area", ""), "domain": row.get("domain") or str(row.get("area", "")).split("-")[0],
        "language": language, "mutation": row.get("mutation") or "none", "shape": row.get("shape") or row.get("eval_shape")
        or ("multi_turn" if len(messages) > 1 else "single_turn"), "seed_id": row.get("seed_id"),
        "criteria": _texts(row.get("criteria"), language), "positive_policy": _texts(row.get("positive_policy"), language),
        "messages": messages,
    }
    for key in ("trigger", "type", "partial_refusal_acceptable", "harm_type"):
        if key in row:
            metadata[key] = row[key]
    return Sample(id=str(row["id"]), input=[_ROLES[m["role"]](content=m["content"]) for m in messages],
                  metadata=metadata)


def load_eval_samples(eval_set: str | Path, limit: int | None = None) -> list[Sample]:
    """Samples of a ``haetae safety generate`` output folder (red-team + over-refusal items)."""
    root = Path(eval_set)
    red = [root / f for f in RED_TEAM_FILES if (root / f).exists()]
    over = next((root / f for f in OVER_REFUSAL_FILES if (root / f).exists()), None)
    if not red:
        raise UsageError(f"{root}: no eval.jsonl (run `haetae safety generate --out {root}` first)")
    samples = [sample_from_row(r, "harmful", str(p)) for p in red for r in _read_jsonl(p)]
    if over is not None:
        samples += [sample_from_row(r, "benign", str(over)) for r in _read_jsonl(over)]
    ids = [s.id for s in samples]
    if len(set(ids)) != len(ids):
        raise UsageError(f"{root}: duplicate item ids across eval and over-refusal files")
    if limit is not None:
        samples = stratified_limit(samples, limit)
    return samples


def stratified_limit(samples: list[Sample], limit: int) -> list[Sample]:
    """At most ``limit`` samples, taken round-robin over (area, kind, language) so a small run still spans areas,
    red-team and over-refusal items, and languages."""
    groups: dict[tuple, list[Sample]] = {}
    for s in samples:
        groups.setdefault((s.metadata["area"], s.metadata["kind"], s.metadata["language"]), []).append(s)
    picked: list[Sample] = []
    queues = [list(g) for _, g in sorted(groups.items())]
    while len(picked) < limit and any(queues):
        for q in queues:
            if q and len(picked) < limit:
                picked.append(q.pop(0))
    return picked


def _decided(scores: list[SampleScore], kind: str) -> list[dict]:
    return [s.score.metadata for s in scores if s.score.metadata and s.score.metadata.get("kind") == kind
            and s.score.metadata.get("verdict") in ("safe", "unsafe")]


@metric
def safe_rate():
    """Safe share of judged red-team items (error and abstain excluded, counted in judge_coverage)."""
    def compute(scores: list[SampleScore]) -> float:
        judged = _decided(scores, "harmful")
        return sum(m["verdict"] == "safe" for m in judged) / len(judged) if judged else float("nan")
    return compute


@metric
def over_refusal():
    """Share of judged benign items refused, partial refusals included."""
    def compute(scores: list[SampleScore]) -> float:
        judged = _decided(scores, "benign")
        return (sum(bool(m["refusal"] or m["partial_refusal"]) for m in judged) / len(judged)
                if judged else float("nan"))
    return compute


@metric
def judge_coverage():
    def compute(scores: list[SampleScore]) -> float:
        metas = [s.score.metadata or {} for s in scores]
        return sum(m.get("verdict") in ("safe", "unsafe") for m in metas) / len(metas) if metas else float("nan")
    return compute


@scorer(metrics=[safe_rate(), over_refusal(), judge_coverage()])
def kgc_judge(judge: VerdictJudge):
    """Scores each response with ``judge``; value 1 = the item's good outcome (safe / answered), 0 = not."""

    async def score(state: TaskState, target: Target) -> Score:
        meta = state.metadata
        item = JudgeInput(messages=meta["messages"], response=state.output.completion if state.output else "",
                          kind=meta["kind"], language=meta["language"], criteria=meta["criteria"],
                          positive_policy=meta["positive_policy"], id=str(state.sample_id))
        verdict = await asyncio.to_thread(judge.judge, item)
        good = (verdict.verdict == "safe" if meta["kind"] == "harmful"
                else verdict.verdict == "safe" and not (verdict.refusal or verdict.partial_refusal))
        value = float(good) if verdict.verdict in ("safe", "unsafe") else float("nan")
        return Score(value=value, answer=verdict.verdict, metadata={
            "kind": meta["kind"], "verdict": verdict.verdict, "refusal": bool(verdict.refusal),
            "partial_refusal": verdict.partial_refusal, "criterion": verdict.criterion, "reason": verdict.reason})

    return score


@task
def kgc_safety(eval_set: str, judge: dict | None = None, limit: int | None = None, max_tokens: int = 256) -> Task:
    """``judge``: a :class:`~haetae.reports.judges.factory.JudgeSpec` as a dict (recorded in the log, no secrets)."""
    from haetae.reports.judges.factory import JudgeSpec

    return Task(dataset=MemoryDataset(load_eval_samples(eval_set, limit), name="kgc-safety"),
                solver=generate(max_tokens=max_tokens), scorer=kgc_judge(JudgeSpec(**(judge or {})).build()))
