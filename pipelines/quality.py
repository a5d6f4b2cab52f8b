"""Cheap text-quality signals recorded in the ledger and used by the policy's ``quality`` limits."""

from __future__ import annotations

import re

_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_SPACE = re.compile(r"\s")


def quality_signals(text: str) -> dict[str, float]:
    """Character, word and line statistics of a text (regex counts, so C speed)."""
    chars = len(text)
    letters = len(_LETTER.findall(text))
    digits = len(_DIGIT.findall(text))
    spaces = len(_SPACE.findall(text))
    symbols = chars - letters - digits - spaces
    words = text.split()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    repeated = len(lines) - len(set(lines))
    return {
        "chars": float(chars),
        "words": float(len(words)),
        "mean_word_chars": round((chars - spaces) / len(words), 3) if words else 0.0,
        "symbol_ratio": round(symbols / chars, 4) if chars else 0.0,
        "digit_ratio": round(digits / chars, 4) if chars else 0.0,
        "repeated_line_ratio": round(repeated / len(lines), 4) if lines else 0.0,
    }
