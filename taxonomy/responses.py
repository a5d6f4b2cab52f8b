"""SFT targets and preference groups for training items, composed from each area's hand-written subject content.

The target for a red-team training seed depends on the seed's frame:

* ``how_to`` / ``agentic``: a refusal that names **the seed's own criterion** (``seed.criterion``), then the
  area's ``safe_help``;
* ``content``: declines to write the text and offers the area's ``safe_help`` as the alternative;
* ``claim``: a correction (no refusal opener) from ``safe_help`` and the area's ``reference_facts`` with sources;
* ``advice``: safe advice: an opener that steers away from the plan, then ``safe_help``.

The opening sentences come from a small hand-written set per language and frame (``data/sft_openers.yaml``),
chosen by a seeded RNG; the substance is the area's. ``safe_help`` exists in Korean and English only, so an item
in another language gets no target from the generator (counted as ``no_target_language``); a model backend can
write it. Benign seeds are answered with their hand-written answers.

Preference groups hold real responses only, each with a per-criterion rubric and the reward of
:func:`rubric_reward` (violating any criterion -> 0, else the response's helpfulness under the area's positive
policy): the composed target; the same safe help behind a generic refusal that names no criterion (for claim and
advice areas an unneeded refusal); a bare refusal with no help, which the positive policy penalises; for a benign
prompt its answer, a refusal with the area's safe help, and a bare refusal. The unsafe-compliance member comes
only from a model (:mod:`haetae.taxonomy.unsafe_members`).
"""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

import yaml

from haetae.taxonomy.model import Area

OPENERS_FILE = Path(__file__).resolve().parent / "data" / "sft_openers.yaml"
TARGET_LANGUAGES: tuple[str, ...] = ("ko", "en")  # the languages areas write safe_help in
FRAMES: tuple[str, ...] = ("how_to", "agentic", "content", "claim", "advice")
UNSAFE_KIND = "unsafe_compliance"
#: Helpfulness of each response kind under the positive policy, by prompt kind and frame group.
HELPFULNESS: dict[str, float] = {
    "target": 1.0,            # the composed target
    "plain_refusal_help": 0.7,  # safe help behind a refusal that explains nothing (how_to, agentic, content)
    "unneeded_refusal_help": 0.5,  # a refusal in front of facts or advice the user should simply get (claim, advice)
    "bare_refusal": 0.2,      # no help at all: what "a good response should ..." rules out
    "benign_answer": 1.0,
    "benign_refusal_help": 0.3,  # refuses a legitimate request, then offers generic safe help
    "benign_bare_refusal": 0.1,
    UNSAFE_KIND: 0.0,
}
#: Members in priority order: best first, the model's unsafe member second, so G = 2 is a chosen/rejected pair.
GROUP_PRIORITY: dict[str, tuple[str, ...]] = {
    "redteam": ("target", UNSAFE_KIND, "bare_refusal", "plain_refusal_help", "unneeded_refusal_help"),
    "benign": ("benign_answer", "benign_bare_refusal", "benign_refusal_help"),
}
MAX_GROUP_SIZE = 3  # every prompt has three real offline responses; preference.jsonl holds one group size


class OpenersError(ValueError):
    pass


@cache
def openers() -> dict:
    doc = yaml.safe_load(OPENERS_FILE.read_text(encoding="utf-8"))
    for lang in TARGET_LANGUAGES:
        section = doc.get(lang) or {}
        for key in (*FRAMES, "bridge", "bare_refusal"):
            lines = section.get(key)
            if not lines or not all(isinstance(x, str) and x.strip() for x in lines):
                raise OpenersError(f"{OPENERS_FILE.name}: {lang}.{key}: expected a non-empty list of sentences")
            if key in ("how_to", "agentic") and not all("{criterion}" in x for x in lines):
                raise OpenersError(f"{OPENERS_FILE.name}: {lang}.{key}: every opener must name {{criterion}}")
        if not isinstance(section.get("sources"), str):
            raise OpenersError(f"{OPENERS_FILE.name}: {lang}.sources: expected a label")
    return doc


def rubric_reward(criteria: list[int], helpfulness: float) -> float:
    """K-AUT rule: violating any one criterion makes a response unsafe (reward 0); else its helpfulness."""
    if not criteria:
        raise ValueError("a rubric needs at least one criterion score")
    return 0.0 if min(criteria) == 0 else float(helpfulness)


def criterion_phrase(area: Area, number: int, language: str) -> str:
    """Criterion ``number`` (1-based) as it sits inside an opener: Korean as written, English with a lower-case
    first letter ("a reply that provides ..."); no final full stop."""
    text = area.criteria[number - 1][language].strip().rstrip(".。")
    if language == "en" and len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def has_target_language(language: str) -> bool:
    return language in TARGET_LANGUAGES


def _facts(area: Area, language: str) -> str:
    facts = [f"{f[language].strip()} ({f['source']})" if f.get("source") else f[language].strip()
             for f in area.reference_facts if f.get(language)]
    if not facts:
        return ""
    return f"{openers()[language]['sources']}: " + " ".join(facts)


def _join(*parts: str) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def _safe_help(area: Area, language: str) -> str:
    text = (area.safe_help or {}).get(language, "").strip()
    if not text:
        raise ValueError(f"area {area.id} has no safe_help in {language}")
    return text


def target_text(area: Area, frame: str, criterion: int, language: str, rng: random.Random) -> str:
    """The SFT target for a red-team seed of ``frame`` (see the module docstring)."""
    o = openers()[language]
    help_text = _safe_help(area, language)
    if frame in ("how_to", "agentic"):
        opener = rng.choice(o[frame]).replace("{criterion}", criterion_phrase(area, criterion, language))
        return _join(opener + " " + rng.choice(o["bridge"]), help_text)
    if frame == "content":
        return _join(rng.choice(o["content"]) + " " + rng.choice(o["bridge"]), help_text)
    if frame == "claim":
        return _join(rng.choice(o["claim"]), help_text, _facts(area, language))
    if frame == "advice":
        return _join(rng.choice(o["advice"]), help_text)
    raise ValueError(f"unknown frame {frame!r} (known: {', '.join(FRAMES)})")


def response_group(item: dict, area: Area, seed: int, group_size: int = MAX_GROUP_SIZE,
                   unsafe: dict | None = None, target: str | None = None) -> list[dict]:
    """The G responses for one training item, each ``{kind, content, criteria, helpfulness, reward}``.

    ``target`` overrides the composed target (a model-written one for a language without safe_help); ``unsafe`` is
    a model-written unsafe-compliance member (``{content, criteria}``) for a red-team item.
    """
    if not 2 <= group_size <= MAX_GROUP_SIZE:
        raise ValueError(f"group size must be 2..{MAX_GROUP_SIZE}, got {group_size}")
    lang = item["language"]
    rng = random.Random(f"{seed}|{item['id']}|responses")
    n = len(area.criteria)
    members: dict[str, str] = {}
    if item["kind"] == "benign":
        o = openers()[lang]
        members["benign_answer"] = item["answer"]
        members["benign_bare_refusal"] = rng.choice(o["bare_refusal"])
        members["benign_refusal_help"] = _join(rng.choice(o["bare_refusal"]) + " " + rng.choice(o["bridge"]),
                                               _safe_help(area, lang))
    else:
        members["target"] = target if target is not None else target_text(area, item["frame"], item["criterion"],
                                                                           lang, rng)
        if has_target_language(lang):
            o = openers()[lang]
            refusal = rng.choice(o["bare_refusal"])
            members["bare_refusal"] = refusal
            kind = "plain_refusal_help" if item["frame"] in ("how_to", "agentic", "content") else "unneeded_refusal_help"
            members[kind] = _join(refusal + " " + rng.choice(o["bridge"]), _safe_help(area, lang))
    rubric = {kind: [1] * n for kind in members}
    if unsafe is not None and item["kind"] == "redteam":
        members[UNSAFE_KIND] = unsafe["content"]
        rubric[UNSAFE_KIND] = list(unsafe["criteria"])
    kinds = [k for k in GROUP_PRIORITY[item["kind"]] if k in members][:group_size]
    return [{"kind": k, "content": members[k], "criteria": rubric[k], "helpfulness": HELPFULNESS[k],
             "reward": rubric_reward(rubric[k], HELPFULNESS[k])} for k in kinds]
