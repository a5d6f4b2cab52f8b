"""Responses for prompt items: SFT targets and GrouPER preference groups with rubric scores.

A red-team prompt's group holds, in this order: a refusal that cites one of the area's criteria and redirects
to a benign look-alike, a helpful-safe answer (context, law, help; no operational detail), a bare
over-refusal, and an unsafe-compliance placeholder that names the criterion it would violate WITHOUT any harmful
content. A benign prompt's group holds a helpful answer, an unneeded refusal, a bare over-refusal and the
placeholder. Each response gets a rubric (1 = criterion respected, 0 = violated, per criterion; helpfulness
in [0, 1]) and a reward from :func:`rubric_reward`.
"""

from __future__ import annotations

import random

from haetae.taxonomy.model import Area
from haetae.taxonomy.templates import fill, load_templates

REDTEAM_KINDS: tuple[str, ...] = ("refusal_redirect", "helpful_safe", "over_refusal", "unsafe_placeholder")
BENIGN_KINDS: tuple[str, ...] = ("benign_answer", "benign_refusal", "over_refusal", "unsafe_placeholder")
#: Rule-based helpfulness of each response kind, by prompt kind (what an LLM judge's rubric would grade).
HELPFULNESS: dict[str, dict[str, float]] = {
    "redteam": {"helpful_safe": 1.0, "refusal_redirect": 0.8, "over_refusal": 0.3, "unsafe_placeholder": 0.0},
    "benign": {"benign_answer": 1.0, "benign_refusal": 0.2, "over_refusal": 0.1, "unsafe_placeholder": 0.0},
}
#: Which kinds a group of size G keeps: best and worst first, so G = 2 is a chosen/rejected pair.
GROUP_PRIORITY: dict[str, tuple[str, ...]] = {
    "redteam": ("helpful_safe", "unsafe_placeholder", "refusal_redirect", "over_refusal"),
    "benign": ("benign_answer", "unsafe_placeholder", "benign_refusal", "over_refusal"),
}
UNSAFE_TAG = "[UNSAFE-PLACEHOLDER]"


def rubric_reward(criteria: list[int], helpfulness: float) -> float:
    """K-AUT rule: violating any one criterion makes a response unsafe (reward 0); else its helpfulness."""
    if not criteria:
        raise ValueError("a rubric needs at least one criterion score")
    return 0.0 if min(criteria) == 0 else float(helpfulness)


def _criterion(area: Area, k: int, lang: str) -> str | None:
    text = area.criteria[k].get(lang)
    return text.strip().rstrip(".。") if text else None


def response_text(kind: str, area: Area, lang: str, values: dict[str, str], k: int, rng: random.Random) -> str:
    """One response of ``kind`` in ``lang``; ``k`` (0-based) is the criterion it cites or violates."""
    templates = load_templates(lang).responses[kind]
    template = rng.choice(templates)
    vals = {**values, "k": str(k + 1)}
    criterion = _criterion(area, k, lang)
    if criterion is not None:
        vals["criterion"] = criterion
    try:
        return fill(template, vals, lang)
    except KeyError as exc:
        raise ValueError(f"{lang}/responses/{kind}: placeholder {exc} has no value for area {area.id}") from None


def response_group(item: dict, area: Area, values: dict[str, str], seed: int, group_size: int = 4) -> list[dict]:
    """The G responses for one prompt item, each ``{kind, content, criteria, helpfulness, reward, cites}``."""
    prompt_kind = item["kind"]
    kinds = REDTEAM_KINDS if prompt_kind == "redteam" else BENIGN_KINDS
    if not 2 <= group_size <= len(kinds):
        raise ValueError(f"group size must be 2..{len(kinds)}, got {group_size}")
    keep = set(GROUP_PRIORITY[prompt_kind][:group_size])
    rng = random.Random(f"{seed}|{item['id']}|responses")
    cited = rng.randrange(len(area.criteria))
    group = []
    for kind in kinds:
        text = response_text(kind, area, item["language"], values, cited, rng)
        if kind not in keep:
            continue
        scores = [1] * len(area.criteria)
        if kind == "unsafe_placeholder":
            scores[cited] = 0
        helpful = HELPFULNESS[prompt_kind][kind]
        group.append({
            "kind": kind, "content": text, "criteria": scores, "helpfulness": helpful,
            "reward": rubric_reward(scores, helpful), "cites": cited + 1,
        })
    return group


def sft_choice(item: dict, group: list[dict]) -> dict:
    """SFT target: the best-rewarded response; a red-team prompt alternates refusal+redirect and helpful-safe."""
    safe = [r for r in group if r["reward"] > 0]
    if item["kind"] == "redteam":
        options = [r for r in safe if r["kind"] in ("refusal_redirect", "helpful_safe")] or safe
        rng = random.Random(f"{item['id']}|sft")
        return rng.choice(options)
    return max(safe, key=lambda r: r["reward"])
