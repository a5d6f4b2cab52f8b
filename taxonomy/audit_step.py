"""The audit step of safety-data generation: PII, rights and exact duplicates before anything is written.

``mode="pipeline"`` (default) runs the data-audit job itself (``haetae.pipelines.audit.job.run_audit``, Apache
Beam) over one document per item with the generated-data policy ``data/generated_data_policy.yaml`` and
reads each item's decision back from the audit ledger. ``mode="inline"`` applies the same PII rules and
exact-duplicate rule in-process, the policy's own :class:`~haetae.pipelines.policy.rules.Rule` objects over
``PiiScanner`` counts and ``exact_key`` (seconds instead of a Beam start-up; for small runs and tests).
Anything the audit does not ``keep`` is not written as training data.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

GENERATED_DATA_POLICY = Path(__file__).resolve().parent / "data" / "generated_data_policy.yaml"
AUDIT_MODES = ("pipeline", "inline", "off")


@dataclass
class AuditResult:
    mode: str
    decisions: dict[str, tuple[str, str, list[str]]] = field(default_factory=dict)  # id -> (decision, rule, reasons)
    seconds: float = 0.0
    report: str | None = None

    def counts(self) -> dict:
        by_decision: dict[str, int] = {}
        by_rule: dict[str, int] = {}
        for decision, rule, _ in self.decisions.values():
            by_decision[decision] = by_decision.get(decision, 0) + 1
            by_rule[rule] = by_rule.get(rule, 0) + 1
        return {"mode": self.mode, "documents": len(self.decisions), "decisions": by_decision, "rules": by_rule,
                "seconds": round(self.seconds, 2), "policy": str(GENERATED_DATA_POLICY.name), "report": self.report}


def audit_documents(docs: list[dict], work_dir: str | Path, mode: str = "pipeline") -> AuditResult:
    """Audit ``docs`` (dicts with id, text, lang); every id gets a decision or a RuntimeError is raised."""
    if mode not in AUDIT_MODES:
        raise ValueError(f"unknown audit mode {mode!r} (known: {', '.join(AUDIT_MODES)})")
    started = time.time()
    if mode == "off":
        result = AuditResult(mode, {d["id"]: ("keep", "audit.off", []) for d in docs})
    elif mode == "inline":
        result = _inline(docs)
    else:
        result = _pipeline(docs, Path(work_dir))
    missing = [d["id"] for d in docs if d["id"] not in result.decisions]
    if missing:
        raise RuntimeError(f"audit returned no decision for {len(missing)} document(s), e.g. {missing[:3]}")
    result.seconds = time.time() - started
    return result


def _pipeline(docs: list[dict], work_dir: Path) -> AuditResult:
    import pyarrow.parquet as pq

    from haetae.pipelines.audit.job import run_audit

    work_dir.mkdir(parents=True, exist_ok=True)
    source = work_dir / "audit_input.jsonl"
    with source.open("w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"id": d["id"], "text": d["text"]}, ensure_ascii=False) + "\n")
    out = work_dir / "audit"
    run_audit([str(source)], str(out), policy_path=str(GENERATED_DATA_POLICY), report=True, progress=False)
    # Rows are matched by input line, not by id: the audit replaces an id that looks like personal data (a hex
    # digest can read as a phone or card number) with a keyed hash in its ledger.
    decisions: dict[str, tuple[str, str, list[str]]] = {}
    for part in sorted((out / "ledger").glob("*.parquet")):
        table = pq.read_table(part, columns=["line", "decision", "rule", "reasons"])
        for row in table.to_pylist():
            if isinstance(row["line"], int) and 1 <= row["line"] <= len(docs):
                decisions[docs[row["line"] - 1]["id"]] = (row["decision"], row["rule"], list(row["reasons"] or []))
    report = out / "report.html"
    return AuditResult("pipeline", decisions, report=str(report) if report.exists() else None)


def _inline(docs: list[dict]) -> AuditResult:
    """The policy's own PII rules, then its exact-duplicate rule among the documents they left undecided (as the
    pipeline's dedup sees only those), then redaction and keep: the audit's rule list, less the rules whose
    signals (quality, licences, registry) are not computed here."""
    from haetae.pipelines.dedup.minhash import exact_key
    from haetae.pipelines.pii.scanner import PiiScanner, count_by_type
    from haetae.pipelines.policy.rules import PRE_DEDUP, first_verdict, rules_named
    from haetae.pipelines.policy.schema import load_policy

    policy = load_policy(GENERATED_DATA_POLICY)
    pii = policy.section("pii")
    scanner = PiiScanner.from_config(str(policy.resolve(pii.get("recognizers", "pii_recognizers.yaml"))))
    rules = rules_named("pii.", "dedup.exact", "default.keep")
    before_dedup = [r for r in rules if r.phase == PRE_DEDUP]
    after_dedup = [r for r in rules if r.phase != PRE_DEDUP]
    seen: dict[str, str] = {}
    decisions: dict[str, tuple[str, str, list[str]]] = {}
    for d in sorted(docs, key=lambda d: d["id"]):  # representative = smallest id, as in the pipeline
        rec = {**d, "pii_counts": count_by_type(scanner.scan(d["text"], d.get("lang")))}
        verdict = first_verdict(before_dedup, policy, rec)
        if verdict is None:
            key = exact_key(d["text"])
            dup = {"kind": "exact", "cluster": seen[key]} if key in seen else None
            seen.setdefault(key, d["id"])
            verdict = first_verdict(after_dedup, policy, rec, dup)
        decisions[d["id"]] = (verdict.decision, verdict.rule, list(verdict.reasons))
    return AuditResult("inline", decisions)
