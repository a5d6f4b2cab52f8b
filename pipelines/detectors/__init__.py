"""Cheap per-document signals: language, script stretches, text quality, character classes."""

from haetae.lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "LanguageIdentifier": "language",
    "quality_signals": "quality",
    "script_spans": "script_spans",
    "ScriptSpan": "script_spans",
    "code_points": "chars",
    "code_point_table": "chars",
})
