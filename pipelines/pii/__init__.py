"""Personal data: the Presidio scanner and its Beam step, recognisers by country, fields beside the
text, redaction operators (placeholders, masks, pseudonyms, keyed hashes)."""

from haetae.lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "PiiScanner": "scanner",
    "SharedScanner": "scanner",
    "ScorePii": "scanner",
    "PiiSpan": "scanner",
    "load_config": "scanner",
    "redact": "scanner",
    "PiiConfigError": "scanner",
    "FieldSelection": "fields",
    "redact_fields": "fields",
    "PiiKey": "pseudonyms",
    "Pseudonymizer": "pseudonyms",
    "load_key": "pseudonyms",
})
