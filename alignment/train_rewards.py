"""The reward functions a recipe names in ``agapo.rewards``, and the judges ``grouper.judge`` names.

Each name builds a fresh ``haetae.alignment.rewards`` instance (a TRL reward function that returns ``None`` for
a completion it could not score, counted in its ``stats``). New rewards are added here, by name.
"""

from __future__ import annotations

from collections.abc import Callable

from haetae.alignment.judges import Judge, RuleBasedJudge
from haetae.alignment.rewards import ConstraintReward, MathAnswerReward, Reward, SafetyReward
from haetae.errors import UsageError


def offline_judge() -> Judge:
    """The evaluation's offline judge (``haetae.reports.judges.offline``), trained on the labelled set: the same
    verdicts that score ``haetae safety eval`` shape the policy (harmful: 1 safe / 0 unsafe; benign: 1 answered,
    0.5 partial refusal, 0.2 refusal; abstain: ``None``, left out of the advantages and counted)."""
    from haetae.reports.judges.offline import OfflineJudge

    return OfflineJudge.train()


REWARD_BUILDERS: dict[str, Callable[[], Reward]] = {
    "math_answer": lambda: MathAnswerReward(answer_column="answer"),
    "safety": lambda: SafetyReward(RuleBasedJudge()),
    "safety_offline_judge": lambda: SafetyReward(offline_judge(), name="safety_offline_judge"),
    "constraints": lambda: ConstraintReward(constraints_column="constraints"),
}
REWARD_NAMES = tuple(REWARD_BUILDERS)
JUDGE_BUILDERS: dict[str, Callable[[], Judge]] = {"rule_based": RuleBasedJudge, "offline": offline_judge}


def build_rewards(names: list[str]) -> list[Reward]:
    unknown = [n for n in names if n not in REWARD_BUILDERS]
    if unknown:
        raise UsageError(f"agapo.rewards: unknown {', '.join(unknown)}; choose from {', '.join(REWARD_NAMES)}")
    return [REWARD_BUILDERS[n]() for n in names]


def build_judge(name: str) -> Judge:
    if name not in JUDGE_BUILDERS:
        raise UsageError(f"grouper.judge={name!r}: choose one of {', '.join(JUDGE_BUILDERS)}")
    return JUDGE_BUILDERS[name]()
