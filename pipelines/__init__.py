"""Batch data-audit pipelines (Apache Beam): read, score (language, quality, PII, rights), deduplicate,
decide from policy, validate, write the ledger. Role folders: ``io``, ``detectors``, ``pii``, ``rights``,
``dedup``, ``policy``, ``audit``, ``runners``, ``commands``."""

from haetae.lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "run_audit": "audit.job",
    "build_pipeline": "audit.job",
    "AuditSummary": "audit.job",
    "ReadRecords": "io.beam_io",
    "QuarantineDuplicateIds": "io.beam_io",
    "WriteShards": "io.beam_io",
    "DetectLanguage": "audit.job",
    "ScorePii": "pii.scanner",
    "ScoreRights": "rights.score",
    "PreDecide": "audit.job",
    "Deduplicate": "dedup.transforms",
    "FinalDecide": "audit.job",
    "PiiScanner": "pii.scanner",
    "load_policy": "policy.schema",
    "Policy": "policy.schema",
    "run_local": "runners.local",
    "validate_audit": "audit.validation",
    "Step": "steps",
    "LedgerRow": "audit.ledger",
})
