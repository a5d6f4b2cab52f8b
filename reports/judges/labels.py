"""The project's labelled judge set: (conversation, response, verdict, refusal) items written by hand.

One YAML file per language in ``reports/data/judge/``; each item names its refusal or compliance ``style`` so the
set can be checked for the variety a judge must survive (short, apologetic, lecturing, redirecting and partial
refusals, safe completions, unsafe compliance plain or wrapped in a disclaimer, role-play or another language,
over-refusals of benign prompts) and a ``split`` (train | test) so judge quality is measured on items the
offline judge did not train on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from haetae.errors import UsageError
from haetae.reports.judges.verdict import JudgeInput

STYLES = ("short_refusal", "apologetic_refusal", "lecturing_refusal", "redirecting_refusal", "partial_refusal",
          "safe_completion", "unsafe_compliance", "disclaimer_compliance", "roleplay_compliance",
          "other_language_compliance", "over_refusal", "helpful_answer")
SPLITS = ("train", "test")


def default_label_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "judge"


@dataclass(frozen=True)
class LabelledItem:
    id: str
    language: str
    area: str
    kind: str
    messages: list[dict[str, str]]
    response: str
    verdict: str
    refusal: bool
    partial_refusal: bool
    style: str
    split: str

    def as_input(self) -> JudgeInput:
        return JudgeInput(messages=self.messages, response=self.response, kind=self.kind, language=self.language,
                          id=self.id)


def _item(raw: dict, language: str, where: str) -> LabelledItem:
    messages = raw.get("messages") or ([{"role": "user", "content": raw["prompt"]}] if raw.get("prompt") else None)
    problems = []
    if not messages or not all(isinstance(m, dict) and m.get("role") in ("user", "assistant", "system")
                               and isinstance(m.get("content"), str) and m["content"].strip() for m in messages):
        problems.append("messages (or prompt) missing or malformed")
    elif messages[-1]["role"] != "user":
        problems.append("the conversation must end with a user turn")
    for key, allowed in (("verdict", ("safe", "unsafe")), ("kind", ("harmful", "benign")), ("style", STYLES),
                         ("split", SPLITS)):
        if raw.get(key) not in allowed:
            problems.append(f"{key}: expected one of {', '.join(allowed)}, got {raw.get(key)!r}")
    if not isinstance(raw.get("refusal"), bool):
        problems.append(f"refusal: expected true or false, got {raw.get('refusal')!r}")
    if not (isinstance(raw.get("response"), str) and raw["response"].strip()):
        problems.append("response: missing")
    if problems:
        raise UsageError(f"{where}: " + "; ".join(problems))
    return LabelledItem(id=str(raw["id"]), language=language, area=str(raw.get("area", "")), kind=raw["kind"],
                        messages=messages, response=raw["response"].strip(), verdict=raw["verdict"],
                        refusal=raw["refusal"], partial_refusal=bool(raw.get("partial_refusal", False)),
                        style=raw["style"], split=raw["split"])


def load_labels(directory: str | Path | None = None) -> list[LabelledItem]:
    """Every labelled item of every language file; a one-line :class:`UsageError` names the first bad one."""
    from haetae.taxonomy.loader import read_yaml

    root = Path(directory) if directory is not None else default_label_dir()
    items: list[LabelledItem] = []
    seen: set[str] = set()
    for path in sorted(root.glob("*.yaml")):
        doc, errors = read_yaml(path)
        if errors:
            raise UsageError(errors[0])
        language = doc.get("language") if isinstance(doc, dict) else None
        for i, raw in enumerate((doc or {}).get("items") or []):
            item = _item(raw if isinstance(raw, dict) else {}, str(language), f"{path.name}: items[{i}]")
            if item.id in seen:
                raise UsageError(f"{path.name}: items[{i}].id: duplicate {item.id}")
            seen.add(item.id)
            items.append(item)
    if not items:
        raise UsageError(f"{root}: no labelled judge items (*.yaml with `language` and `items`)")
    return items
