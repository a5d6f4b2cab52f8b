"""Code execution reward: the completion's program against the row's unit tests, in a :class:`Sandbox`.

The program is the last fenced code block of the completion (```` ```python ````, ```` ```py ```` or a bare
```` ``` ````), or the whole completion when it has none. Each test is Python source run after the program in its
namespace (``assert add(1, 2) == 3``); the reward is the fraction of tests that pass (``score="fraction"``) or
1/0 for all or not (``score="all"``). A program that does not compile, raises or fails its tests is the model's
failure and scores low; a run the sandbox could not finish (wall-clock timeout, CPU, memory or file-size limit,
a crash) is ``None``, counted by kind; so is a row without tests (``no_tests``).

``None`` gives the completion no advantage, while a wrong program in the same group gets a negative one: a
policy can learn to loop forever when it does not know. Where that shows (``rewards/NAME/unscored/timeout``
rising), set ``limit_reward`` (for example 0.0): a run stopped by a limit (``timeout``, ``cpu_limit``,
``memory_limit``, ``file_size_limit``) then scores that, still counted under ``rewards/NAME/fallback/KIND``.

The default sandbox (:class:`~haetae.alignment.rewards.sandbox.SubprocessSandbox`) is **not a security
boundary**; see :mod:`haetae.alignment.rewards.sandbox` for what it does and does not stop, and how to plug in a
real one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Literal

from haetae.alignment.rewards.base import Reward, Unscored
from haetae.alignment.rewards.sandbox import LIMIT_KINDS, Sandbox, SubprocessSandbox
from haetae.errors import UsageError

_FENCED = re.compile(r"```(?:python|py|python3)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def extract_code(completion: str) -> str:
    """The last fenced code block of ``completion``, or all of it when it has no fence."""
    blocks = _FENCED.findall(completion)
    return blocks[-1] if blocks else completion


class CodeExecutionReward(Reward):
    """Fraction (or all-or-nothing) of the row's tests that the completion's program passes."""

    def __init__(self, *, tests_column: str = "tests", score: Literal["fraction", "all"] = "fraction",
                 sandbox: Sandbox | None = None, limit_reward: float | None = None, max_workers: int | None = None,
                 name: str = "code_tests", max_unscored_fraction: float | None = None) -> None:
        if score not in ("fraction", "all"):
            raise UsageError(f"reward {name}: score={score!r}: use 'fraction' or 'all'")
        workers = max_workers if max_workers is not None else min(4, os.cpu_count() or 1)
        super().__init__(name, max_workers=workers, max_unscored_fraction=max_unscored_fraction)
        self.columns = (tests_column,)
        self.tests_column = tests_column
        self.score_mode = score
        self.limit_reward = limit_reward
        self.sandbox = sandbox if sandbox is not None else SubprocessSandbox()

    def score(self, prompt: str, completion: str, row: Mapping[str, Any]) -> float:
        tests = row[self.tests_column]
        if isinstance(tests, str):
            tests = [tests]
        if not tests or not all(isinstance(t, str) and t.strip() for t in tests):
            raise Unscored("no_tests")
        result = self.sandbox.run(extract_code(completion), tests)
        if result.failure is not None:
            fallback = self.limit_reward if result.failure in LIMIT_KINDS else None
            raise Unscored(result.failure, result.detail, fallback)
        if len(result.passed) != len(tests):
            raise Unscored("sandbox_error", f"{len(result.passed)} results for {len(tests)} tests")
        passed = sum(result.passed)
        if self.score_mode == "all":
            return float(passed == len(tests))
        return passed / len(tests)
