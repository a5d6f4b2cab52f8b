"""Math answer verification with ``math-verify``: the completion's final answer against a gold answer column.

Both sides go through ``math_verify.parse`` (LaTeX with ``\\boxed{}`` first, then plain expressions: ``42``,
``1/2``, ``0.5``, ``\\frac{1}{2}`` are read alike) and ``verify`` compares them symbolically and numerically.
A completion with no readable answer, or a different one, is wrong (``wrong``, 0 by default: the model's
failure). The verifier's own failures are ``None`` and counted: a gold answer that does not parse
(``gold_unparsable``) or is missing (``gold_missing``), a parse or comparison that times out (``timeout``), and
one that raises (``verifier_error``).

A completion whose answer the verifier cannot finish with (``9^{9^{9^9}}``) gets no advantage as ``None`` where
a wrong answer gets a negative one; if a policy learns to write such answers, set ``answer_timeout_reward``
(for example to ``wrong``): a timeout on the completion's side then scores that, counted as a ``timeout``
fallback. A timeout on the gold answer stays ``None``.

math-verify times out with ``signal.alarm``, which only works on the main thread: called from another thread
the reward runs without a timeout (and says so once in the log).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify
from math_verify.errors import TimeoutException

from haetae.alignment.rewards.base import Reward, Unscored, logger

# The gold answer is often a bare "\frac{1}{2}" or "1/2" with no $...$ around it: read LaTeX without delimiters
# too, and a boxed gold answer before anything else in it.
_GOLD_TARGETS = (LatexExtractionConfig(boxed_match_priority=0, try_extract_without_anchor=True),
                 ExprExtractionConfig())
_ANSWER_TARGETS = (LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig())


class MathAnswerReward(Reward):
    """``correct`` when the completion's answer equals the row's gold answer, ``wrong`` when it does not."""

    def __init__(self, *, answer_column: str = "answer", correct: float = 1.0, wrong: float = 0.0,
                 timeout_s: int = 5, answer_timeout_reward: float | None = None, name: str = "math_answer",
                 max_unscored_fraction: float | None = None) -> None:
        super().__init__(name, max_unscored_fraction=max_unscored_fraction)
        self.columns = (answer_column,)
        self.answer_column = answer_column
        self.correct = correct
        self.wrong = wrong
        self.timeout_s = timeout_s
        self.answer_timeout_reward = answer_timeout_reward
        self._warned_no_timeout = False

    def score(self, prompt: str, completion: str, row: Mapping[str, Any]) -> float:
        gold_value = row[self.answer_column]
        if gold_value is None or not str(gold_value).strip():
            raise Unscored("gold_missing")
        timeout = self._timeout()
        try:
            gold = parse(str(gold_value), _GOLD_TARGETS, parsing_timeout=timeout, raise_on_error=True)
        except TimeoutException as error:
            raise Unscored("timeout", "parsing the gold answer") from error
        except Exception as error:
            raise Unscored("gold_unparsable", type(error).__name__) from error
        if not gold:
            raise Unscored("gold_unparsable")
        try:
            answer = parse(completion, _ANSWER_TARGETS, parsing_timeout=timeout, raise_on_error=True)
            if not answer:
                return self.wrong
            matched = verify(gold, answer, timeout_seconds=timeout, raise_on_error=True)
        except TimeoutException as error:
            raise Unscored("timeout", "parsing or comparing the answer", self.answer_timeout_reward) from error
        except Exception as error:
            raise Unscored("verifier_error", type(error).__name__) from error
        return self.correct if matched else self.wrong

    def _timeout(self) -> int | None:
        if threading.current_thread() is threading.main_thread():
            return self.timeout_s
        if not self._warned_no_timeout:
            logger.warning("reward %s: called off the main thread, math-verify runs without a timeout",
                           self.__name__)
            self._warned_no_timeout = True
        return None
