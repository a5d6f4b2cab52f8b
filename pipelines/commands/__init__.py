"""The command lines of the audit part: ``haetae audit``, ``pii scan``/``redact``, ``dedup``,
``license detect``, ``registry``."""

from haetae.lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "register": "cli",
    "run_pii_scan": "pii_scan",
    "run_pii_redact": "pii_redact",
    "run_dedup": "dedup",
})
