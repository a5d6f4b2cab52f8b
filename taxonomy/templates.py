"""Prompt and response templates in six languages (package data ``data/templates/<lang>.yaml``).

Each language file holds, per attack style, ``train`` templates (training data) and ``eval`` templates (held
out for the evaluation split), benign look-alike prompt templates, and response templates (refusal with
redirect, helpful-safe, over-refusal, benign answer, ...). Loading validates every ``{field}`` a template
names, so a typo fails at start-up, not half-way through a run.
"""

from __future__ import annotations

import base64
import functools
import re
import string
from dataclasses import dataclass
from pathlib import Path

import yaml

from haetae.errors import UsageError

STYLES: tuple[str, ...] = (
    "direct",
    "role_play",
    "fiction",
    "authority",
    "multi_turn",
    "obfuscation",
    "injection",
)
ENCODINGS: tuple[str, ...] = ("base64", "reversed", "spaced")
RESPONSE_KINDS: tuple[str, ...] = (
    "bridge",
    "refusal_redirect",
    "helpful_safe",
    "over_refusal",
    "benign_answer",
    "benign_refusal",
)
FIELDS = {"topic", "benign", "persona", "genre", "payload", "bridge", "criterion", "k"}
TEMPLATE_DIR = Path(__file__).resolve().parent / "data" / "templates"


class TemplateError(UsageError):
    pass


@dataclass(frozen=True)
class PromptTemplate:
    """One template: ``turns`` are user/assistant/user... texts (one turn for single-turn styles)."""

    key: str  # e.g. "ko/direct/train/1": stable, recorded on every item
    turns: tuple[str, ...]
    encoding: str | None = None


@dataclass(frozen=True)
class LanguageTemplates:
    language: str
    slots: dict[str, tuple[str, ...]]
    redteam: dict[str, dict[str, tuple[PromptTemplate, ...]]]  # style -> split -> templates
    payload: str
    benign: dict[str, tuple[PromptTemplate, ...]]  # split -> templates
    responses: dict[str, tuple[str, ...]]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _check_fields(text: str, where: str) -> None:
    try:
        names = _fields(text)
    except ValueError as exc:
        raise TemplateError(f"{where}: malformed template ({exc}): {text!r}") from None
    unknown = names - FIELDS
    if unknown:
        raise TemplateError(f"{where}: unknown field(s) {sorted(unknown)} in {text!r}")


def _prompt_templates(raw, where: str, style: str) -> tuple[PromptTemplate, ...]:
    if not isinstance(raw, list) or not raw:
        raise TemplateError(f"{where}: expected a non-empty list of templates")
    out = []
    for i, item in enumerate(raw):
        key = f"{where}/{i}"
        encoding = None
        if style == "obfuscation":
            if not isinstance(item, dict) or item.get("encoding") not in ENCODINGS or "text" not in item:
                raise TemplateError(f"{key}: expected {{encoding: {'|'.join(ENCODINGS)}, text: ...}}")
            encoding, turns = item["encoding"], (item["text"],)
        elif style == "multi_turn":
            if not isinstance(item, list) or len(item) < 3 or len(item) % 2 == 0:
                raise TemplateError(f"{key}: expected an odd list of >= 3 turns (user, assistant, user, ...)")
            turns = tuple(item)
        else:
            if not isinstance(item, str):
                raise TemplateError(f"{key}: expected a string")
            turns = (item,)
        for t in turns:
            _check_fields(t, key)
        out.append(PromptTemplate(key=key, turns=turns, encoding=encoding))
    return tuple(out)


@functools.cache
def load_templates(language: str, template_dir: str | None = None) -> LanguageTemplates:
    path = Path(template_dir or TEMPLATE_DIR) / f"{language}.yaml"
    if not path.exists():
        have = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise TemplateError(f"no templates for language {language!r} (have: {', '.join(have)})")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if doc.get("language") != language:
        raise TemplateError(f"{path.name}: language: expected {language!r}, got {doc.get('language')!r}")
    redteam = {}
    for style in STYLES:
        splits = doc.get("redteam", {}).get(style)
        if not isinstance(splits, dict):
            raise TemplateError(f"{path.name}: redteam.{style}: missing")
        redteam[style] = {
            split: _prompt_templates(splits.get(split), f"{language}/{style}/{split}", style) for split in ("train", "eval")
        }
    benign = {split: _prompt_templates(doc.get("benign", {}).get(split), f"{language}/benign/{split}", "benign")
              for split in ("train", "eval")}
    responses = {}
    for kind in RESPONSE_KINDS:
        texts = doc.get("responses", {}).get(kind)
        if not isinstance(texts, list) or not texts:
            raise TemplateError(f"{path.name}: responses.{kind}: expected a non-empty list")
        for i, t in enumerate(texts):
            _check_fields(t, f"{language}/responses/{kind}/{i}")
        responses[kind] = tuple(texts)
    payload = doc.get("payload")
    if not isinstance(payload, str) or "{topic}" not in payload:
        raise TemplateError(f"{path.name}: payload: expected a string containing {{topic}}")
    slots = {k: tuple(v) for k, v in (doc.get("slots") or {}).items()}
    for name in ("persona", "genre"):
        if not slots.get(name):
            raise TemplateError(f"{path.name}: slots.{name}: expected a non-empty list")
    return LanguageTemplates(language, slots, redteam, payload, benign, responses)


def available_languages(template_dir: str | None = None) -> list[str]:
    return sorted(p.stem for p in Path(template_dir or TEMPLATE_DIR).glob("*.yaml"))


# ---------------------------------------------------------------------------------------------- filling

_KO_PARTICLE = re.compile(r"(을\(를\)|이\(가\)|은\(는\)|과\(와\)|\(으\)로)")
_KO_CHOICE = {"을(를)": ("을", "를"), "이(가)": ("이", "가"), "은(는)": ("은", "는"), "과(와)": ("과", "와")}
_CLOSERS = {")": "(", "）": "（", "]": "[", "』": "『", "」": "「", "》": "《", "〉": "〈"}
# Final sound of Latin letters and digits as read in Korean (엘, 엠, 엔, 알; 영, 일, 삼, 육, 칠, 팔): 8 = ㄹ, 1 = other batchim.
_READ_FINAL = {**{c: 0 for c in "abcdefghijkopqstuvwxyz"}, "l": 8, "m": 1, "n": 1, "r": 8,
               "0": 1, "1": 8, "2": 0, "3": 1, "4": 0, "5": 0, "6": 1, "7": 8, "8": 8, "9": 0}


def _final_sound(before: str) -> int | None:
    """Final consonant of the word ending ``before`` (0 none, 8 ㄹ, else another batchim); None if unknown.
    A closing parenthesis is skipped with its content: the particle agrees with the word before it."""
    text = before.rstrip()
    while text and text[-1] in _CLOSERS:
        opener = text.rfind(_CLOSERS[text[-1]])
        if opener < 0:
            return None
        text = text[:opener].rstrip()
    if not text:
        return None
    ch = text[-1]
    if "\uac00" <= ch <= "\ud7a3":
        return (ord(ch) - 0xAC00) % 28
    return _READ_FINAL.get(ch.lower())


def resolve_korean_particles(text: str) -> str:
    """Pick 을/를, 이/가, 은/는, 과/와, 으로/로 from the preceding word; leave the '을(를)' form when unsure."""
    out, last = [], 0
    for match in _KO_PARTICLE.finditer(text):
        particle = match.group(1)
        final = _final_sound(text[:match.start()])
        out.append(text[last:match.start()])
        if final is None:
            out.append(particle)
        elif particle == "(으)로":
            out.append("으로" if final not in (0, 8) else "로")
        else:
            with_final, without = _KO_CHOICE[particle]
            out.append(with_final if final else without)
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def fill(template: str, values: dict[str, str], language: str) -> str:
    text = template.format_map(values)
    return resolve_korean_particles(text) if language == "ko" else text


def encode_payload(text: str, encoding: str) -> str:
    """Obfuscate a request the way jailbreak prompts do; every encoding is reversible by the model."""
    if encoding == "base64":
        return base64.b64encode(text.encode("utf-8")).decode("ascii")
    if encoding == "reversed":
        return text[::-1]
    if encoding == "spaced":
        return "-".join(ch for ch in text if not ch.isspace())
    raise TemplateError(f"unknown encoding {encoding!r} (known: {', '.join(ENCODINGS)})")
