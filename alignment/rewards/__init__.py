"""Reward functions for TRL's GRPO-style trainers: math answers, code against tests, constraints, safety.

Each reward is a callable ``f(prompts, completions, **columns) -> list[float | None]`` that TRL's
``GRPOTrainer(reward_funcs=[...])`` takes as is. A completion that could not be scored is ``None`` (TRL leaves
it out of the baseline and the means), counted by kind in the reward's ``stats`` and logged, never a silent 0.
"""

from haetae.alignment.rewards.base import Reward, RewardStats, Unscored
from haetae.alignment.rewards.code_execution import CodeExecutionReward, extract_code
from haetae.alignment.rewards.constraints import Constraint, ConstraintReward, parse_constraints
from haetae.alignment.rewards.math_answer import MathAnswerReward
from haetae.alignment.rewards.safety import SafetyReward, safety_reward
from haetae.alignment.rewards.sandbox import ExecutionLimits, Sandbox, SandboxResult, SubprocessSandbox

__all__ = [
    "CodeExecutionReward", "Constraint", "ConstraintReward", "ExecutionLimits", "MathAnswerReward", "Reward",
    "RewardStats", "Sandbox", "SandboxResult", "SafetyReward", "SubprocessSandbox", "Unscored", "extract_code",
    "parse_constraints", "safety_reward",
]
