"""Offline language identification: a script check first (Hangul, kana), py3langid's bundled model after."""

from __future__ import annotations

import re
import unicodedata

UNDETERMINED = "und"
_SAMPLE_CHARS = 600  # the first 600 characters decide the script; longer samples only cost time
_CLASSIFIER_CHARS = 300  # py3langid's cost grows with the text; 300 characters separate en/es/de/vi/... well


_LETTER = re.compile(r"[^\W\d_]")
_SCRIPTS = {
    "hangul": re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]"),
    "kana": re.compile(r"[\u3040-\u30ff]"),
    "han": re.compile(r"[\u4e00-\u9fff]"),
    "latin": re.compile(r"[A-Za-z\u00c0-\u024f]"),
}


def script_shares(text: str) -> dict[str, float]:
    """Shares of letters that are Hangul, kana, Han and Latin in ``text`` (regex counts, C speed)."""
    letters = len(_LETTER.findall(text))
    return {name: (len(rx.findall(text)) / letters if letters else 0.0) for name, rx in _SCRIPTS.items()}


class LanguageIdentifier:
    """Identifies the main language of a text; build once per worker (it loads a model)."""

    def __init__(self, min_letters: int = 3):
        from py3langid.langid import _load_identifier

        self._langid = _load_identifier(norm_probs=True)
        self.min_letters = min_letters

    def detect(self, text: str) -> tuple[str, float]:
        """Return ``(ISO 639-1 code or "und", confidence)``."""
        sample = unicodedata.normalize("NFC", text[:_SAMPLE_CHARS])
        letters = len(_LETTER.findall(sample))
        if letters < self.min_letters:
            return UNDETERMINED, 0.0
        for lang, script, min_share in (("ko", "hangul", 0.3), ("ja", "kana", 0.1)):
            share = len(_SCRIPTS[script].findall(sample)) / letters
            if share >= min_share:
                return lang, round(min(1.0, 0.5 + share), 3)
        lang, prob = self._langid.classify(sample[:_CLASSIFIER_CHARS])
        return lang, round(float(prob), 3)
