"""The audit job: its Beam graph and decision steps, the ledger, the quarantine at rest and the
Great Expectations validation of what it wrote."""

from haetae.lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "run_audit": "job",
    "build_pipeline": "job",
    "AuditSummary": "job",
    "DetectLanguage": "job",
    "PreDecide": "job",
    "FinalDecide": "job",
    "LedgerRow": "ledger",
    "ledger_schema": "ledger",
    "LEDGER_COLUMNS": "ledger",
    "validate_audit": "validation",
    "read_ledger": "validation",
    "read_quarantine": "quarantine",
    "StoreQuarantine": "quarantine",
    "ScanQuarantine": "quarantine",
})
