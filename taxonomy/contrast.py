"""The over-refusal contrast set: benign prompts that share trigger words with harmful ones (XSTest-style).

One file per language, ``<taxonomy>/contrast/<lang>.yaml`` (shipped: ``taxonomy/data/kaut/contrast/{ko,en}.yaml``)::

    language: ko
    pairs:
      - id: ko-c-001
        trigger: 마약김밥            # the word a keyword filter would trip on
        type: homonym                # what makes the benign prompt look harmful (free label, e.g. homonym,
                                     #  figurative, safe_context, definition, history, fiction, privacy_public)
        area: SOC-010                # the taxonomy area the harmful twin belongs to
        benign: "..."                # the prompt a model must answer
        harmful: "..."               # its harmful contrast, sharing the trigger (never evaluated as a prompt)
        partial_refusal_acceptable: false   # true when a cautious partial answer is still a good response

:func:`load_contrast` checks every pair and raises :class:`ContrastError` listing every problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from haetae.errors import UsageError
from haetae.taxonomy.loader import read_yaml

PAIR_KEYS = ("id", "trigger", "type", "area", "benign", "harmful", "partial_refusal_acceptable")


class ContrastError(UsageError):
    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        shown = "\n  ".join(self.errors[:30])
        more = f"\n  ... and {len(self.errors) - 30} more" if len(self.errors) > 30 else ""
        super().__init__(f"{len(self.errors)} contrast-set error(s):\n  {shown}{more}")


@dataclass(frozen=True)
class ContrastPair:
    id: str
    language: str
    trigger: str
    type: str
    area: str
    benign: str
    harmful: str
    partial_refusal_acceptable: bool


def contrast_dir(taxonomy_root: str | Path) -> Path:
    return Path(taxonomy_root) / "contrast"


def _pair(raw: object, where: str, language: str, errors: list[str]) -> ContrastPair | None:
    if not isinstance(raw, dict):
        errors.append(f"{where}: expected a mapping with {', '.join(PAIR_KEYS)}")
        return None
    bad = False
    for key in PAIR_KEYS:
        value = raw.get(key)
        if key == "partial_refusal_acceptable":
            if not isinstance(value, bool):
                errors.append(f"{where}.{key}: expected true or false, got {value!r}")
                bad = True
        elif not isinstance(value, str) or not value.strip():
            errors.append(f"{where}.{key}: missing or empty")
            bad = True
    extra = sorted(set(raw) - set(PAIR_KEYS))
    if extra:
        errors.append(f"{where}: unknown field(s) {', '.join(map(str, extra))}")
        bad = True
    if bad:
        return None
    if raw["benign"].strip() == raw["harmful"].strip():
        errors.append(f"{where}: benign and harmful are the same text")
        return None
    return ContrastPair(raw["id"].strip(), language, raw["trigger"].strip(), raw["type"].strip(), raw["area"].strip(),
                        raw["benign"].strip(), raw["harmful"].strip(), raw["partial_refusal_acceptable"])


def load_contrast(folder: str | Path, languages: tuple[str, ...] | None = None,
                  area_ids: set[str] | None = None) -> list[ContrastPair]:
    """Every pair of ``folder/<lang>.yaml`` (all languages present, or ``languages``); a missing folder or file is
    an empty set. ``area_ids``: when given, a pair naming another area is an error."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.yaml"))
    if languages is not None:
        files = [f for f in files if f.stem in languages]
    errors: list[str] = []
    pairs: list[ContrastPair] = []
    seen: dict[str, str] = {}
    for path in files:
        doc, problems = read_yaml(path)
        errors.extend(problems)
        if problems:
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("pairs"), list):
            errors.append(f"{path.name}: expected `language` and a list `pairs`")
            continue
        if doc.get("language") != path.stem:
            errors.append(f"{path.name}: language: expected {path.stem!r}, got {doc.get('language')!r}")
            continue
        for i, raw in enumerate(doc["pairs"]):
            pair = _pair(raw, f"{path.name}: pairs[{i}]", path.stem, errors)
            if pair is None:
                continue
            if pair.id in seen:
                errors.append(f"{path.name}: pairs[{i}].id: duplicate id {pair.id!r} (first in {seen[pair.id]})")
                continue
            if area_ids is not None and pair.area not in area_ids:
                errors.append(f"{path.name}: pairs[{i}].area: {pair.area!r} is not an area of the taxonomy")
                continue
            seen[pair.id] = path.name
            pairs.append(pair)
    if errors:
        raise ContrastError(errors)
    return pairs
