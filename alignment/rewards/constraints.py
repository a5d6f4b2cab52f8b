"""Instruction-following reward: checks of a few well-defined constraints, given per sample in a dataset column.

A row's constraints are a list of ``{"type": ..., "value": ...}`` (or that list as a JSON string):

| type               | value          | met when                                                              |
|--------------------|----------------|-----------------------------------------------------------------------|
| ``max_words``      | int            | at most ``value`` whitespace-separated words (eojeol for Korean)      |
| ``min_words``      | int            | at least ``value`` words                                              |
| ``include_keywords`` | list of str  | every keyword occurs (case-insensitive)                               |
| ``exclude_keywords`` | list of str  | no keyword occurs (case-insensitive)                                  |
| ``language``       | ``ko``/``en``  | more than half the letters are Hangul / Latin (``script_shares``)     |
| ``json``           | (none)         | the response, less a ```` ```json ```` fence, parses as JSON          |
| ``bullet_points``  | int            | exactly ``value`` lines start with ``-``, ``*`` or ``•`` and a space  |
| ``ends_with``      | str            | the response, stripped, ends with ``value``                           |

The reward is the fraction of a row's constraints met (``score="fraction"``) or 1/0 for all or not
(``score="all"``). A row whose constraints are malformed (unknown type, wrong value) is ``None`` and counted
(``bad_constraint``); :func:`parse_constraints` checks a dataset's column before training.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from haetae.alignment.rewards.base import Reward, Unscored
from haetae.errors import UsageError
from haetae.pipelines.detectors.language import script_shares

_BULLET = re.compile(r"^\s*[-*•]\s+\S", re.MULTILINE)
_JSON_FENCE = re.compile(r"^\s*```(?:json)?\s*\n?(.*?)\n?```\s*$", re.DOTALL | re.IGNORECASE)
_LANGUAGE_SCRIPTS = {"ko": "hangul", "en": "latin"}


def _words(text: str) -> int:
    return len(text.split())


def _contains(text: str, keyword: str) -> bool:
    return keyword.casefold() in text.casefold()


def _is_json(text: str) -> bool:
    fenced = _JSON_FENCE.match(text)
    try:
        json.loads(fenced.group(1) if fenced else text)
    except ValueError:
        return False
    return True


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _keywords(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(k, str) and k for k in value)


# type -> (what a valid value is, described for the error; the value check; the constraint check)
_CHECKS: dict[str, tuple[str, Callable[[Any], bool], Callable[[str, Any], bool]]] = {
    "max_words": ("a non-negative int", _count, lambda text, n: _words(text) <= n),
    "min_words": ("a non-negative int", _count, lambda text, n: _words(text) >= n),
    "include_keywords": ("a list of strings", _keywords, lambda text, ks: all(_contains(text, k) for k in ks)),
    "exclude_keywords": ("a list of strings", _keywords, lambda text, ks: not any(_contains(text, k) for k in ks)),
    "language": ("'ko' or 'en'", lambda v: v in _LANGUAGE_SCRIPTS,
                 lambda text, lang: script_shares(text)[_LANGUAGE_SCRIPTS[lang]] > 0.5),
    "json": ("anything (ignored)", lambda v: True, lambda text, _: _is_json(text)),
    "bullet_points": ("a non-negative int", _count, lambda text, n: len(_BULLET.findall(text)) == n),
    "ends_with": ("a non-empty string", lambda v: isinstance(v, str) and bool(v.strip()),
                  lambda text, phrase: text.strip().endswith(phrase.strip())),
}


@dataclass(frozen=True)
class Constraint:
    """One checked constraint: ``type`` is a key of the module's table, ``value`` its argument."""

    type: str
    value: Any = None

    def met_by(self, text: str) -> bool:
        return bool(_CHECKS[self.type][2](text, self.value))


def parse_constraints(spec: Any) -> list[Constraint]:
    """A row's constraints from a list of ``{"type", "value"}`` mappings or its JSON; UsageError naming the fault."""
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except ValueError as error:
            raise UsageError(f"constraints are not valid JSON ({error}); give a list of {{type, value}}") from None
    if not isinstance(spec, list) or not spec:
        raise UsageError(f"constraints must be a non-empty list of {{type, value}}, got {type(spec).__name__}")
    constraints = []
    for item in spec:
        kind = item.get("type") if isinstance(item, Mapping) else None
        if kind not in _CHECKS:
            raise UsageError(f"constraint {item!r}: unknown type; use one of {', '.join(_CHECKS)}")
        described, valid, _ = _CHECKS[kind]
        if not valid(item.get("value")):
            raise UsageError(f"constraint {kind}: value {item.get('value')!r} must be {described}")
        constraints.append(Constraint(kind, item.get("value")))
    return constraints


class ConstraintReward(Reward):
    """Fraction (or all-or-nothing) of the row's constraints that the completion meets."""

    def __init__(self, *, constraints_column: str = "constraints", score: Literal["fraction", "all"] = "fraction",
                 name: str = "constraints", max_unscored_fraction: float | None = None) -> None:
        if score not in ("fraction", "all"):
            raise UsageError(f"reward {name}: score={score!r}: use 'fraction' or 'all'")
        super().__init__(name, max_unscored_fraction=max_unscored_fraction)
        self.columns = (constraints_column,)
        self.constraints_column = constraints_column
        self.score_mode = score

    def score(self, prompt: str, completion: str, row: Mapping[str, Any]) -> float:
        try:
            constraints = parse_constraints(row[self.constraints_column])
        except UsageError as error:
            raise Unscored("bad_constraint", str(error)) from None
        met = sum(c.met_by(completion) for c in constraints)
        if self.score_mode == "all":
            return float(met == len(constraints))
        return met / len(constraints)
