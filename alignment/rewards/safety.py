"""Safety reward: any judge's score of the response to the prompt (``alignment/judges.py``'s ``Judge`` protocol).

A judge is any object with ``score(prompt, response, **context) -> float | None`` (rule-based, a trained
classifier, an LLM behind an API). The judge sees the prompt as text (a chat prompt's last user turn) and the
completion's text; ``context`` is the row's dataset columns named in ``context_columns`` (for example the
taxonomy ``area``, the expected behaviour, or the whole conversation kept in a column of its own). A judge that raises, abstains (``None``) or
returns something that is not a finite number leaves the completion unscored (``judge_error``,
``judge_abstained``, ``judge_invalid``): ``None``, counted, never a 0 that would read as "unsafe".
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from haetae.alignment.rewards.base import Reward, Unscored


class ScoresResponses(Protocol):
    """What the safety reward needs of a judge (structurally the same as ``haetae.alignment.judges.Judge``)."""

    def score(self, prompt: str, response: str, **context: Any) -> float | None: ...


class SafetyReward(Reward):
    """The judge's score of each completion."""

    def __init__(self, judge: ScoresResponses, *, context_columns: Sequence[str] = (), name: str = "safety",
                 max_workers: int = 1, max_unscored_fraction: float | None = None) -> None:
        super().__init__(name, max_workers=max_workers, max_unscored_fraction=max_unscored_fraction)
        self.judge = judge
        self.columns = tuple(context_columns)

    def score(self, prompt: str, completion: str, row: Mapping[str, Any]) -> float:
        try:
            value = self.judge.score(prompt, completion, **row)
        except Exception as error:
            raise Unscored("judge_error", type(error).__name__) from error
        if value is None:
            raise Unscored("judge_abstained")
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise Unscored("judge_invalid", f"score {type(value).__name__}")
        return float(value)


def safety_reward(judge: ScoresResponses, **options: Any) -> SafetyReward:
    """A TRL reward function scoring completions with ``judge`` (options as :class:`SafetyReward`)."""
    return SafetyReward(judge, **options)
