"""Safety judges for evaluation and training: one interface, an LLM judge over an endpoint, an offline judge."""

from haetae.reports.judges.verdict import JudgeInput, Verdict, VerdictJudge, reward_from_verdict

__all__ = ["JudgeInput", "Verdict", "VerdictJudge", "reward_from_verdict"]
