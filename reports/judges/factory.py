"""Judges by name, so an evaluation log can record which judge scored it and a resumed run can rebuild it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from haetae.errors import UsageError
from haetae.reports.judges.verdict import VerdictJudge

JUDGES = ("offline", "llm", "rules")


@dataclass(frozen=True)
class JudgeSpec:
    """Everything needed to build a judge except secrets (the llm judge's key comes from $OPENAI_API_KEY)."""

    name: str = "offline"
    endpoint: str | None = None
    model: str | None = None
    timeout: float = 60.0
    retries: int = 4
    allow_insecure_http: bool = False

    def as_args(self) -> dict:
        return asdict(self)

    def build(self) -> VerdictJudge:
        if self.name == "offline":
            from haetae.reports.judges.offline import OfflineJudge

            return OfflineJudge.train()
        if self.name == "rules":
            from haetae.reports.judges.rules import RulesJudge

            return RulesJudge()
        if self.name != "llm":
            raise UsageError(f"unknown judge {self.name!r} (known: {', '.join(JUDGES)})")
        if not self.endpoint or not self.model:
            raise UsageError("--judge llm needs --judge-endpoint URL and --judge-model NAME")
        from haetae.reports.judges.llm import LLMJudge
        from haetae.taxonomy.backends import ChatBackend

        backend = ChatBackend(base_url=self.endpoint, model=self.model, timeout=self.timeout,
                              max_retries=self.retries, temperature=0.0, max_tokens=200,
                              allow_insecure_http=self.allow_insecure_http)
        return LLMJudge(backend)


def judge_card(spec: JudgeSpec) -> dict:
    """What the report says about the judge: its name and, for the offline judge, its agreement with the
    held-out labelled split (it trains on the train split only), overall and per language."""
    card: dict = {"name": spec.name, "endpoint_model": spec.model if spec.name == "llm" else None}
    if spec.name in ("offline", "rules"):
        from haetae.reports.judges.labels import load_labels
        from haetae.reports.judges.quality import quality_report

        labels = load_labels()
        test = [x for x in labels if x.split == "test"]
        if spec.name == "offline":
            from haetae.reports.judges.offline import OfflineJudge

            judge = OfflineJudge.train(labels)
            card["trained_on"] = judge.trained_on
        else:
            judge = spec.build()
        card["quality"] = quality_report(test, [judge.judge(x.as_input()) for x in test])
        card["quality_split"] = f"test ({len(test)} items the judge did not train on)"
    return card
