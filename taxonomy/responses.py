"""Responses for prompt items: SFT targets and GrouPER preference groups with rubric scores.

Every member of a group is a real response. The templates write three kinds per prompt: for a red-team prompt a
helpful-safe answer (context, law, help; no operational detail), a refusal that cites one of the area's criteria
and redirects to a benign look-alike, and a bare over-refusal (the real, low-reward rejected member); for a
benign prompt a helpful answer, an unneeded refusal and a bare over-refusal. An unsafe-compliance member of a
red-team group can only come from a model (:mod:`haetae.taxonomy.unsafe_members`): the templates never write one,
and a group that has none is filled with the next template kind instead, never with stand-in text. Each response
gets a rubric (1 = criterion respected, 0 = violated, per criterion; helpfulness in [0, 1]) and a reward from
:func:`rubric_reward`.
"""

from __future__ import annotations

import random

from haetae.taxonomy.model import Area
from haetae.taxonomy.templates import fill, load_templates

UNSAFE_KIND = "unsafe_compliance"
#: The kinds the templates write, in the order their texts are drawn (the order keeps a seed's output stable).
TEMPLATE_KINDS: dict[str, tuple[str, ...]] = {
    "redteam": ("refusal_redirect", "helpful_safe", "over_refusal"),
    "benign": ("benign_answer", "benign_refusal", "over_refusal"),
}
#: Rule-based helpfulness of each response kind, by prompt kind (what an LLM judge's rubric would grade).
HELPFULNESS: dict[str, dict[str, float]] = {
    "redteam": {"helpful_safe": 1.0, "refusal_redirect": 0.8, "over_refusal": 0.3, UNSAFE_KIND: 0.0},
    "benign": {"benign_answer": 1.0, "benign_refusal": 0.2, "over_refusal": 0.1},
}
#: Which kinds a group of size G keeps: best and worst first, so G = 2 is a chosen/rejected pair. A kind that is
#: not available (the unsafe member without a model) is skipped and the next one takes its place.
GROUP_PRIORITY: dict[str, tuple[str, ...]] = {
    "redteam": ("helpful_safe", UNSAFE_KIND, "over_refusal", "refusal_redirect"),
    "benign": ("benign_answer", "over_refusal", "benign_refusal"),
}
#: The largest group every prompt can fill with real responses. preference.jsonl holds one group size (GrouPER's
#: ``num_generations``) and a benign prompt has three real kinds, so no group is larger.
MAX_GROUP_SIZE = min(len(kinds) for kinds in TEMPLATE_KINDS.values())


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
        raise ValueError(f"{lang}/responses/{kind}: field {exc} has no value for area {area.id}") from None


def response_group(item: dict, area: Area, values: dict[str, str], seed: int, group_size: int = MAX_GROUP_SIZE,
                   unsafe: dict | None = None) -> list[dict]:
    """The G responses for one prompt item, each ``{kind, content, criteria, helpfulness, reward, cites}``.

    ``unsafe`` is a model-written unsafe-compliance member (``{content, criteria}``, criteria as judged) for a
    red-team item; without it the group is made of template kinds only.
    """
    prompt_kind = item["kind"]
    if not 2 <= group_size <= MAX_GROUP_SIZE:
        raise ValueError(f"group size must be 2..{MAX_GROUP_SIZE}, got {group_size}")
    rng = random.Random(f"{seed}|{item['id']}|responses")
    cited = rng.randrange(len(area.criteria))
    members = {}
    for kind in TEMPLATE_KINDS[prompt_kind]:
        members[kind] = {"content": response_text(kind, area, item["language"], values, cited, rng),
                         "criteria": [1] * len(area.criteria), "cites": cited + 1}
    if unsafe is not None and prompt_kind == "redteam":
        violated = unsafe["criteria"].index(0) if 0 in unsafe["criteria"] else cited
        members[UNSAFE_KIND] = {"content": unsafe["content"], "criteria": list(unsafe["criteria"]),
                                "cites": violated + 1}
    kinds = [kind for kind in GROUP_PRIORITY[prompt_kind] if kind in members][:group_size]
    group = []
    for kind in kinds:
        helpful = HELPFULNESS[prompt_kind][kind]
        m = members[kind]
        group.append({"kind": kind, **m, "helpfulness": helpful, "reward": rubric_reward(m["criteria"], helpful)})
    return group


def sft_choice(item: dict, group: list[dict]) -> dict:
    """SFT target: the best-rewarded response; a red-team prompt alternates refusal+redirect and helpful-safe."""
    safe = [r for r in group if r["reward"] > 0]
    if item["kind"] == "redteam":
        options = [r for r in safe if r["kind"] in ("refusal_redirect", "helpful_safe")] or safe
        rng = random.Random(f"{item['id']}|sft")
        return rng.choice(options)
    return max(safe, key=lambda r: r["reward"])
