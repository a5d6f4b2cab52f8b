"""Offline language identification: a script check first (Hangul, kana), py3langid's bundled model after."""

from __future__ import annotations

import unicodedata

UNDETERMINED = "und"
_SAMPLE_CHARS = 2000


def script_shares(text: str) -> dict[str, float]:
    """Shares of letters that are Hangul, kana, Han and Latin in ``text``."""
    counts = {"hangul": 0, "kana": 0, "han": 0, "latin": 0}
    letters = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        code = ord(ch)
        if 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
            counts["hangul"] += 1
        elif 0x3040 <= code <= 0x30FF:
            counts["kana"] += 1
        elif 0x4E00 <= code <= 0x9FFF:
            counts["han"] += 1
        elif code < 0x250:
            counts["latin"] += 1
    return {k: (v / letters if letters else 0.0) for k, v in counts.items()}


class LanguageIdentifier:
    """Identifies the main language of a text; build once per worker (it loads a model)."""

    def __init__(self, min_letters: int = 3):
        from py3langid.langid import _load_identifier

        self._langid = _load_identifier(norm_probs=True)
        self.min_letters = min_letters

    def detect(self, text: str) -> tuple[str, float]:
        """Return ``(ISO 639-1 code or "und", confidence)``."""
        sample = unicodedata.normalize("NFC", text[:_SAMPLE_CHARS])
        shares = script_shares(sample)
        if sum(ch.isalpha() for ch in sample) < self.min_letters:
            return UNDETERMINED, 0.0
        if shares["hangul"] >= 0.3:
            return "ko", round(min(1.0, 0.5 + shares["hangul"]), 3)
        if shares["kana"] >= 0.1:
            return "ja", round(min(1.0, 0.5 + shares["kana"]), 3)
        lang, prob = self._langid.classify(sample)
        return lang, round(float(prob), 3)
