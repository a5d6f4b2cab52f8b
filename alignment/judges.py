"""The one interface every preference / safety judge implements, and the rule-based judge that ships now.

A ``Judge`` scores one response to one prompt in [0, 1], or returns ``None`` when it cannot (a failed check, a
judge model that errored): ``None`` is excluded from advantages and counted, never read as 0. ``**ctx`` carries the
dataset row's other fields (e.g. ``required`` / ``forbidden`` phrases). Trained and LLM judges plug in behind the
same ``score`` method; ``judge_reward_func`` turns any judge into a TRL reward function.

``RuleBasedJudge()`` scores with the safety rubric of ``safety_rules`` (a weak, phrase-based judge: a response
earns credit by refusing a harmful request with a reason and safe help, or by answering a harmless one; empty,
punctuation-only and echoed responses score 0). ``RuleBasedJudge(checks)`` scores the fraction of the given
checks a response passes, for tasks with their own rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from haetae.alignment.safety_rules import is_degenerate, safety_score

Check = Callable[[str, str, Mapping[str, Any]], bool]
TRL_CONTROL_KWARGS = ("trainer_state", "log_extra", "log_metric", "environments", "completion_ids")


@runtime_checkable
class Judge(Protocol):
    def score(self, prompt: str, response: str, **ctx: Any) -> float | None: ...


def not_empty(prompt: str, response: str, ctx: Mapping[str, Any]) -> bool:
    """At least one letter or digit: whitespace and punctuation alone are empty."""
    return any(ch.isalnum() for ch in response)


def within_length(prompt: str, response: str, ctx: Mapping[str, Any]) -> bool:
    return len(response) <= int(ctx.get("max_chars", 2000))


def not_degenerate(prompt: str, response: str, ctx: Mapping[str, Any]) -> bool:
    """Not a repetition loop (``safety_rules.is_degenerate``: a word repeated, or few distinct character triples)."""
    return not is_degenerate(response)


def has_required_phrases(prompt: str, response: str, ctx: Mapping[str, Any]) -> bool:
    return all(phrase in response for phrase in ctx.get("required", ()))


def avoids_forbidden_phrases(prompt: str, response: str, ctx: Mapping[str, Any]) -> bool:
    return not any(phrase in response for phrase in ctx.get("forbidden", ()))


# Generic checks for ``RuleBasedJudge(DEFAULT_CHECKS)`` (the fraction passed); the default judge is the rubric.
DEFAULT_CHECKS: dict[str, Check] = {
    "not_empty": not_empty,
    "within_length": within_length,
    "not_degenerate": not_degenerate,
    "required_phrases": has_required_phrases,
    "forbidden_phrases": avoids_forbidden_phrases,
}


@dataclass
class RuleBasedJudge:
    """The safety rubric (``checks=None``), or the fraction of ``checks`` a response passes.

    A check or rubric that raises makes the score ``None`` (counted in ``failures``), never a silent 0 or 1.
    """

    checks: Mapping[str, Check] | None = None
    failures: int = 0

    def score(self, prompt: str, response: str, **ctx: Any) -> float | None:
        try:
            if self.checks is None:
                return safety_score(prompt, response, ctx)
            passed = [bool(check(prompt, response, ctx)) for check in self.checks.values()]
        except Exception:  # a broken check must not become a silent 0 or 1
            self.failures += 1
            return None
        return sum(passed) / len(passed)


def judge_reward_func(judge: Judge, name: str = "judge") -> Callable[..., list[float | None]]:
    """A TRL reward function (``prompts``, ``completions``, row columns as lists) that asks ``judge``."""

    def reward(prompts: list[str], completions: list[str], **columns: Any) -> list[float | None]:
        rows = {k: v for k, v in columns.items() if k not in TRL_CONTROL_KWARGS and isinstance(v, list)}
        return [
            judge.score(prompt, completion, **{k: v[i] for k, v in rows.items()})
            for i, (prompt, completion) in enumerate(zip(prompts, completions, strict=True))
        ]

    reward.__name__ = name
    return reward
