"""Cheap text-quality signals recorded in the ledger and used by the policy's ``quality`` limits."""

from __future__ import annotations

import functools
import re

import numpy as np

from haetae.pipelines.detectors.chars import code_point_table, code_points

_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_SPACE = re.compile(r"\s")
_CLASSES = ((1, _LETTER), (2, _DIGIT), (3, _SPACE))  # disjoint: a code point has at most one of them


@functools.cache
def _class_table() -> np.ndarray:
    return code_point_table(_CLASSES)


def char_class_counts(text: str) -> tuple[int, int, int]:
    """(letters, digits, whitespace) of ``text``: the matches of ``[^\\W\\d_]``, ``\\d`` and ``\\s``."""
    counts = np.bincount(_class_table()[code_points(text)], minlength=len(_CLASSES) + 1)
    letters, digits, spaces = counts[1:].tolist()
    return letters, digits, spaces


def quality_signals(text: str) -> dict[str, float]:
    """Character, word and line statistics of a text (one table lookup for the character classes)."""
    chars = len(text)
    letters, digits, spaces = char_class_counts(text)
    symbols = chars - letters - digits - spaces
    words = text.split()
    lines = [ln for ln in map(str.strip, text.splitlines()) if ln]
    repeated = len(lines) - len(set(lines))
    return {
        "chars": float(chars),
        "words": float(len(words)),
        "mean_word_chars": round((chars - spaces) / len(words), 3) if words else 0.0,
        "symbol_ratio": round(symbols / chars, 4) if chars else 0.0,
        "digit_ratio": round(digits / chars, 4) if chars else 0.0,
        "repeated_line_ratio": round(repeated / len(lines), 4) if lines else 0.0,
    }
