"""Hand-written seed requests, one file per area (``seeds/<AREA-ID>.yaml`` beside the manifest).

Seeds replace slot-filled templates: each is a request a real user might send, tagged with the criterion a full
answer would violate, the frame it takes and its register; translations name their source with ``of`` and
inherit its criterion, frame and split, so splitting by seed keeps a translated evaluation seed out of training.
Benign seeds carry the helpful answer a good assistant gives. Every problem is collected and raised together.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from haetae.taxonomy.model import CRITERIA_PER_AREA, GENERATION_LANGUAGES, HARM_TYPES, Taxonomy

SEED_DIR = "seeds"
ORIGINAL_LANGUAGES = ("ko", "en")  # written directly; the other languages are translations of eval seeds
SPLITS = ("train", "eval")
REGISTERS = {
    "ko": ("jondaetmal", "banmal", "typos", "code_mixed"),
    "en": ("formal", "casual", "typos", "code_mixed"),
}
#: What every area needs (issue-11 contract): per original language one seed per criterion, 2 of them held out.
PER_LANGUAGE = CRITERIA_PER_AREA
EVAL_PER_LANGUAGE = 2
TRANSLATIONS_PER_LANGUAGE = 2
BENIGN_PER_LANGUAGE = 2
SEED_ID = re.compile(r"^(?P<area>[A-Z]{2,4}-\d{3})-(?P<lang>[a-z]{2})-(?P<benign>b)?\d+$")


@dataclass(frozen=True)
class Seed:
    id: str
    area: str
    language: str
    text: str
    criterion: int  # 1-based index into the area's criteria
    frame: str
    register: str | None
    split: str
    of: str | None = None  # source seed of a translation


@dataclass(frozen=True)
class BenignSeed:
    id: str
    area: str
    language: str
    text: str
    answer: str


@dataclass(frozen=True)
class AreaSeeds:
    area_id: str
    seeds: tuple[Seed, ...]
    benign: tuple[BenignSeed, ...]

    def by_split(self, split: str) -> list[Seed]:
        return [s for s in self.seeds if s.split == split]


class SeedError(Exception):
    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        shown = "\n  ".join(errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{len(errors)} seed error(s):\n  {shown}{more}")


def seed_dir(taxonomy: Taxonomy) -> Path:
    return Path(taxonomy.root) / SEED_DIR


def _text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _parse_area(path: Path, area_ids: set[str], errors: list[str]) -> AreaSeeds | None:
    from haetae.taxonomy.loader import read_yaml

    doc, parse_errors = read_yaml(path)
    errors.extend(parse_errors)
    if parse_errors:
        return None
    name = path.name
    if not isinstance(doc, dict) or doc.get("area") != path.stem:
        errors.append(f"{name}: area: expected {path.stem!r} (the file name), got "
                      f"{doc.get('area') if isinstance(doc, dict) else doc!r}")
        return None
    if path.stem not in area_ids:
        errors.append(f"{name}: area: {path.stem} is not an area of this taxonomy")
        return None
    raw_seeds, raw_benign = doc.get("seeds") or [], doc.get("benign") or []
    originals: dict[str, dict] = {}
    for s in raw_seeds:
        if isinstance(s, dict) and "of" not in s and isinstance(s.get("id"), str):
            originals[s["id"]] = s
    seeds, seen = [], set()
    for i, s in enumerate(raw_seeds):
        where = f"{name}: seeds[{i}]"
        if not isinstance(s, dict):
            errors.append(f"{where}: expected a mapping")
            continue
        sid, lang = s.get("id"), s.get("language")
        m = SEED_ID.match(sid) if isinstance(sid, str) else None
        if not m or m["area"] != path.stem or m["benign"] or m["lang"] != lang:
            errors.append(f"{where}.id: expected '{path.stem}-{lang}-<n>', got {sid!r}")
            continue
        if sid in seen:
            errors.append(f"{where}.id: duplicate {sid}")
        seen.add(sid)
        if lang not in GENERATION_LANGUAGES:
            errors.append(f"{where}.language: expected one of {', '.join(GENERATION_LANGUAGES)}, got {lang!r}")
            continue
        if not _text(s.get("text")):
            errors.append(f"{where}.text: missing")
            continue
        if "of" in s:
            src = originals.get(s["of"])
            if src is None:
                errors.append(f"{where}.of: {s['of']!r} is not an original seed of this file")
                continue
            if lang in ORIGINAL_LANGUAGES:
                errors.append(f"{where}.language: {lang} seeds are written directly, not translated")
            if src.get("split") != "eval":
                errors.append(f"{where}.of: translations are made of eval seeds only ({s['of']} is {src.get('split')!r})")
            base, register = src, None
        else:
            if lang not in ORIGINAL_LANGUAGES:
                errors.append(f"{where}: a {lang} seed must be a translation (`of:` an eval seed)")
                continue
            base, register = s, s.get("register")
            if register not in REGISTERS[lang]:
                errors.append(f"{where}.register: expected one of {', '.join(REGISTERS[lang])}, got {register!r}")
        criterion, frame, split = base.get("criterion"), base.get("frame"), base.get("split")
        if not (isinstance(criterion, int) and 1 <= criterion <= CRITERIA_PER_AREA):
            errors.append(f"{where}.criterion: expected 1-{CRITERIA_PER_AREA}, got {criterion!r}")
            continue
        if frame not in HARM_TYPES:
            errors.append(f"{where}.frame: expected one of {', '.join(HARM_TYPES)}, got {frame!r}")
            continue
        if split not in SPLITS:
            errors.append(f"{where}.split: expected train or eval, got {split!r}")
            continue
        seeds.append(Seed(sid, path.stem, lang, s["text"].strip(), criterion, frame, register, split, s.get("of")))
    benign = []
    for i, b in enumerate(raw_benign):
        where = f"{name}: benign[{i}]"
        bid = b.get("id") if isinstance(b, dict) else None
        m = SEED_ID.match(bid) if isinstance(bid, str) else None
        if not m or m["area"] != path.stem or not m["benign"] or m["lang"] != b.get("language"):
            errors.append(f"{where}.id: expected '{path.stem}-<lang>-b<n>', got {bid!r}")
            continue
        if bid in seen:
            errors.append(f"{where}.id: duplicate {bid}")
        seen.add(bid)
        if not (_text(b.get("text")) and _text(b.get("answer"))):
            errors.append(f"{where}: text and answer must both be non-empty")
            continue
        benign.append(BenignSeed(bid, path.stem, b["language"], b["text"].strip(), b["answer"].strip()))
    return AreaSeeds(path.stem, tuple(seeds), tuple(benign))


def coverage_errors(a: AreaSeeds) -> list[str]:
    """What an area's seeds must hold: per ko/en one seed per criterion, 2 eval; 2 translations per other language."""
    errors = []
    name = f"{a.area_id}.yaml"
    for lang in ORIGINAL_LANGUAGES:
        own = [s for s in a.seeds if s.language == lang]
        missing = sorted(set(range(1, CRITERIA_PER_AREA + 1)) - {s.criterion for s in own})
        if len(own) < PER_LANGUAGE or missing:
            errors.append(f"{name}: seeds: {lang} needs {PER_LANGUAGE} seeds covering criteria 1-{CRITERIA_PER_AREA}; "
                          f"has {len(own)}" + (f", criteria {missing} uncovered" if missing else ""))
        n_eval = sum(s.split == "eval" for s in own)
        if n_eval < EVAL_PER_LANGUAGE or len(own) - n_eval < 1:
            errors.append(f"{name}: seeds: {lang} needs at least {EVAL_PER_LANGUAGE} eval and 1 train seed, "
                          f"has {n_eval} eval of {len(own)}")
        if sum(b.language == lang for b in a.benign) < BENIGN_PER_LANGUAGE:
            errors.append(f"{name}: benign: {lang} needs {BENIGN_PER_LANGUAGE} benign prompts with answers")
    counts = Counter(s.language for s in a.seeds if s.of)
    for lang in GENERATION_LANGUAGES:
        if lang not in ORIGINAL_LANGUAGES and counts[lang] < TRANSLATIONS_PER_LANGUAGE:
            errors.append(f"{name}: seeds: {lang} needs {TRANSLATIONS_PER_LANGUAGE} translations of eval seeds, "
                          f"has {counts[lang]}")
    return errors


def load_seeds(taxonomy: Taxonomy, directory: str | Path | None = None, *, strict: bool = False) -> dict[str, AreaSeeds]:
    """``{area id: AreaSeeds}`` for every seed file; an area without a file is simply absent.

    Raises :class:`SeedError` for malformed files; with ``strict`` also for an area without seeds or with
    fewer than the contract asks (what ``haetae taxonomy validate`` enforces on schema_version 2 taxonomies).
    """
    root = Path(directory) if directory is not None else seed_dir(taxonomy)
    area_ids = {a.id for a in taxonomy.areas}
    errors: list[str] = []
    result: dict[str, AreaSeeds] = {}
    for path in sorted(root.glob("*.yaml")) if root.is_dir() else []:
        parsed = _parse_area(path, area_ids, errors)
        if parsed is not None:
            result[parsed.area_id] = parsed
    if strict:
        for area_id in sorted(area_ids - set(result)):
            errors.append(f"{SEED_DIR}/{area_id}.yaml: (file): missing (every area needs hand-written seeds)")
        for a in result.values():
            errors.extend(coverage_errors(a))
    if errors:
        raise SeedError(errors)
    return result
