"""Presidio recognisers, one class each, registered by name and switched per language
by policies/pii_recognizers.yaml."""

from haetae.lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "RECOGNIZERS": "catalogue",
    "register": "base",
    "RecognizerSpec": "base",
    "ClassPatternRecognizer": "base",
    "KoreanPersonNameRecognizer": "korea_names",
    "KoreanAddressRecognizer": "korea_addresses",
    "EnglishPersonNerRecognizer": "english_names",
})
