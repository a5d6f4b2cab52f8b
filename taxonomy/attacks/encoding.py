"""Encodings and ciphers: Base64, ROT13, and a Caesar shift over Latin letters, Hangul syllables and kana.

Each has a decoder so tests can check the round trip; the model is told the scheme (and the shift) in the
user's language, as in the Wei et al. and SORRY-Bench encoding attacks.
"""

from __future__ import annotations

import base64
import codecs
import unicodedata

from .hangul import SYLLABLE_FIRST, SYLLABLE_LAST
from .phrases import languages_with, pick
from .registry import Context, Message, fill, register, user

# (first code point, size) of each alphabet the cipher shifts within.
_BLOCKS = ((ord("a"), 26), (ord("A"), 26), (SYLLABLE_FIRST, SYLLABLE_LAST - SYLLABLE_FIRST + 1),
           (0x3041, 0x3096 - 0x3041 + 1), (0x30A1, 0x30F6 - 0x30A1 + 1))


def b64_encode(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def b64_decode(payload: str) -> str:
    return base64.b64decode(payload).decode("utf-8")


def _shift_char(char: str, shift: int) -> str:
    code = ord(char)
    for first, size in _BLOCKS:
        if first <= code < first + size:
            return chr(first + (code - first + shift) % size)
    return char


def caesar_encode(text: str, shift: int) -> str:
    """Shift letters; accented Latin letters are decomposed first so the base letter shifts and the accent stays."""
    source = unicodedata.normalize("NFD", text) if _safe_to_decompose(text) else text
    return "".join(_shift_char(c, shift) for c in source)


def caesar_decode(text: str, shift: int) -> str:
    return unicodedata.normalize("NFC", "".join(_shift_char(c, -shift) for c in text))


def _safe_to_decompose(text: str) -> bool:
    """NFD would split Hangul syllables into conjoining jamo, so decompose only text without Hangul or kana."""
    return not any(SYLLABLE_FIRST <= ord(c) <= SYLLABLE_LAST or 0x3041 <= ord(c) <= 0x30FF for c in text)


def rot13(text: str) -> str:
    return codecs.encode(text, "rot13")


@register("base64", "encoding", languages_with("base64"), "the prompt Base64-encoded (UTF-8), with a decode instruction")
def base64_mutation(prompt: str, ctx: Context) -> list[Message]:
    return user(fill(pick(ctx, "base64"), payload=b64_encode(prompt)))


@register("caesar", "encoding", languages_with("caesar"),
          "Caesar shift of 1-25 over Latin letters, Hangul syllables and kana, shift stated")
def caesar_mutation(prompt: str, ctx: Context) -> list[Message]:
    shift = ctx.rng.choice([k for k in range(1, 26) if k != 13])
    return user(fill(pick(ctx, "caesar"), payload=caesar_encode(prompt, shift), shift=str(shift)))


@register("rot13", "encoding", languages_with("rot13"),
          "ROT13 of the Latin letters (Latin-script languages only)")
def rot13_mutation(prompt: str, ctx: Context) -> list[Message]:
    return user(fill(pick(ctx, "rot13"), payload=rot13(prompt)))
