"""The over-refusal contrast set (taxonomy/data/kaut/contrast/{ko,en}.yaml): benign prompts paired with harmful ones.

Each pair shares a trigger word; the benign prompt must be answered, the harmful one declined. The checks here are
structural: counts, unique ids and triggers, known areas and types, the trigger present in both prompts, and no two
prompts that are the same sentence with only the trigger swapped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
KAUT = REPO / "taxonomy" / "data" / "kaut"
CONTRAST = KAUT / "contrast"
LANGUAGES = ("ko", "en")
MIN_PAIRS = 250
TYPES = {
    "homonym",
    "figurative",
    "safe_target",
    "safe_context",
    "definition",
    "history",
    "fiction",
    "public_figure",
    "privacy_public",
    "nonsense_group",
    "technical",
}
FIELDS = {"id", "trigger", "type", "area", "benign", "harmful", "partial_refusal_acceptable"}


def area_ids() -> set[str]:
    """Every area id declared in the taxonomy's domain files (lines of the form ``- id: XXX-000``)."""
    ids: set[str] = set()
    for path in sorted(KAUT.glob("*.yaml")):
        ids.update(re.findall(r"^\s*- id:\s*([A-Z]{3}-\d{3})\s*$", path.read_text(encoding="utf-8"), re.M))
    return ids


def load(lang: str) -> dict:
    return yaml.safe_load((CONTRAST / f"{lang}.yaml").read_text(encoding="utf-8"))


def contains_trigger(prompt: str, trigger: str, lang: str) -> bool:
    """Case-insensitive substring; in Korean also with the spacing dropped (폭탄 발언 / 폭탄발언), so a trigger
    followed by a particle (마약김밥을, 독도는) or written solid still counts."""
    p, t = prompt.casefold(), trigger.casefold()
    if t in p:
        return True
    return lang == "ko" and re.sub(r"\s+", "", t) in re.sub(r"\s+", "", p)


def masked(prompt: str, trigger: str) -> str:
    """The prompt with its trigger replaced, lower-cased and without punctuation: two prompts that match here
    are one skeleton with the trigger swapped."""
    text = re.sub(re.escape(trigger), "<T>", prompt, flags=re.I).casefold()
    return re.sub(r"[\W_]+", " ", text).strip()


@pytest.fixture(scope="module")
def areas() -> set[str]:
    ids = area_ids()
    assert len(ids) >= 200, "the taxonomy scan found too few area ids"
    return ids


@pytest.mark.parametrize("lang", LANGUAGES)
def test_file_shape_and_count(lang):
    doc = load(lang)
    assert doc["language"] == lang
    pairs = doc["pairs"]
    assert len(pairs) >= MIN_PAIRS, f"{lang}: {len(pairs)} pairs"
    for pair in pairs:
        assert set(pair) == FIELDS, (pair.get("id"), set(pair) ^ FIELDS)
        assert isinstance(pair["partial_refusal_acceptable"], bool), pair["id"]
        for key in ("trigger", "benign", "harmful"):
            assert isinstance(pair[key], str) and pair[key].strip(), (pair["id"], key)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_ids_and_triggers_unique(lang):
    pairs = load(lang)["pairs"]
    ids = [p["id"] for p in pairs]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(rf"ctr-{lang}-\d{{3}}", i) for i in ids), [i for i in ids if not i.startswith(f"ctr-{lang}-")]
    triggers = [p["trigger"].casefold().strip() for p in pairs]
    dupes = sorted({t for t in triggers if triggers.count(t) > 1})
    assert not dupes, dupes


@pytest.mark.parametrize("lang", LANGUAGES)
def test_areas_and_types_known(lang, areas):
    for pair in load(lang)["pairs"]:
        assert pair["area"] in areas, (pair["id"], pair["area"])
        assert pair["type"] in TYPES, (pair["id"], pair["type"])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_all_four_domains_covered(lang):
    domains = {p["area"].split("-")[0] for p in load(lang)["pairs"]}
    assert domains == {"UHV", "SOC", "KOR", "FUT"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_prompts_differ_and_share_the_trigger(lang):
    for pair in load(lang)["pairs"]:
        assert pair["benign"].strip() != pair["harmful"].strip(), pair["id"]
        for key in ("benign", "harmful"):
            assert contains_trigger(pair[key], pair["trigger"], lang), (pair["id"], key, pair["trigger"])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_repeated_prompt_or_skeleton(lang):
    seen: dict[str, str] = {}
    for pair in load(lang)["pairs"]:
        for key in ("benign", "harmful"):
            form = masked(pair[key], pair["trigger"])
            assert form not in seen, (pair["id"], key, seen.get(form))
            seen[form] = f"{pair['id']}.{key}"
