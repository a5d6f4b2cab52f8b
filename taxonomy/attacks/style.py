"""Writing-style mutations: typos, slang, an uncommon dialect (Jeju, Scots, Kansai, Rioplatense, Bavarian, Southern
Vietnamese). Word tables live with the language's phrases; each mutation also adds a frame in that register."""

from __future__ import annotations

import re
import unicodedata

from .hangul import MEDIALS, compose, decompose, is_syllable
from .phrases import languages_with, module, pick
from .registry import LANGUAGES, Context, Message, MutationNotApplicable, fill, register, user

_SPACED = {"en", "es", "de", "vi"}  # word-boundary matching; ko and ja tables match substrings (endings, particles)


def substitute_words(text: str, table: dict[str, str], language: str) -> tuple[str, int]:
    """Replace table entries, longest first; returns the text and how many replacements were made."""
    count = 0
    for source in sorted(table, key=len, reverse=True):
        if language in _SPACED:
            pattern = re.compile(rf"(?<!\w){re.escape(source)}(?!\w)", re.IGNORECASE)
        else:
            pattern = re.compile(re.escape(source))
        text, n = pattern.subn(lambda m, target=table[source]: _match_case(m.group(0), target), text)
        count += n
    return text, count


def _match_case(found: str, target: str) -> str:
    """Keep a capitalised sentence start capitalised (Dime -> Decime)."""
    return target[:1].upper() + target[1:] if found[:1].isupper() and target[:1].islower() else target


# --- misspellings --------------------------------------------------------------------------------------------
_VOWEL_CONFUSIONS = {"ㅐ": "ㅔ", "ㅔ": "ㅐ", "ㅚ": "ㅙ", "ㅙ": "ㅚ", "ㅞ": "ㅙ", "ㅒ": "ㅖ", "ㅖ": "ㅒ"}


def _hangul_typo(char: str, rng) -> str:
    """A plausible Korean typo on one syllable: ㅐ/ㅔ confusion, or a dropped final consonant."""
    initial, medial, final = decompose(char)
    vowel = MEDIALS[medial]
    if vowel in _VOWEL_CONFUSIONS and (final == 0 or rng.random() < 0.5):
        return compose(initial, MEDIALS.index(_VOWEL_CONFUSIONS[vowel]), final)
    if final:
        return compose(initial, medial, 0)
    return char + char  # doubled syllable (키보드 중복 입력)


def _strip_tone(word: str) -> str:
    """Vietnamese typed without diacritics (không -> khong); đ stays, as on a phone keyboard without Telex."""
    decomposed = unicodedata.normalize("NFD", word)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def _latin_typo(word: str, rng) -> str:
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice(("swap", "drop", "double"))
    if op == "swap" and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == "drop":
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def misspell(text: str, language: str, rng) -> str:
    """About one typo per five words (at least one); raises MutationNotApplicable when nothing can be misspelt."""
    if language == "ja":
        positions = [i for i, c in enumerate(text[:-1]) if "\u3041" <= c <= "\u30ff" and "\u3041" <= text[i + 1] <= "\u30ff"]
        if not positions:
            raise MutationNotApplicable("misspellings: no kana pair to swap")
        chars = list(text)
        for i in sorted(rng.sample(positions, max(1, min(len(positions), len(text) // 15)))):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        result = "".join(chars)
        if result == text:
            raise MutationNotApplicable("misspellings: swaps left the text unchanged")
        return result
    tokens = re.split(r"(\s+)", text)
    candidates = [i for i, tok in enumerate(tokens) if (language == "ko" and any(is_syllable(c) for c in tok))
                  or (language != "ko" and len(tok) >= 4 and tok.isalpha())]
    if not candidates:
        raise MutationNotApplicable("misspellings: no word long enough to misspell")
    for i in rng.sample(candidates, max(1, len(candidates) // 5)):
        tok = tokens[i]
        if language == "ko":
            spots = [j for j, c in enumerate(tok) if is_syllable(c)]
            j = rng.choice(spots)
            tokens[i] = tok[:j] + _hangul_typo(tok[j], rng) + tok[j + 1:]
        elif language == "vi" and _strip_tone(tok) != tok and rng.random() < 0.5:
            tokens[i] = _strip_tone(tok)
        else:
            tokens[i] = _latin_typo(tok, rng)
    result = "".join(tokens)
    if result == text:
        raise MutationNotApplicable("misspellings: the typos left the text unchanged")
    return result


@register("misspellings", "writing_style", LANGUAGES, "typos a hurried user makes (swaps, drops, ㅐ/ㅔ, missing tones)")
def misspellings(prompt: str, ctx: Context) -> list[Message]:
    return user(misspell(prompt, ctx.language, ctx.rng))


def _register_rewrite(name: str, table_attr: str, description: str) -> None:
    @register(name, "writing_style", languages_with(name), description)
    def mutate(prompt: str, ctx: Context) -> list[Message]:
        rewritten, _ = substitute_words(prompt, getattr(module(ctx.language), table_attr), ctx.language)
        return user(fill(pick(ctx, name), prompt=rewritten))


_register_rewrite("slang", "SLANG_WORDS", "internet slang and abbreviations (ㄹㅇ, ngl, マジで, porfa, Digga, ko/đc)")
_register_rewrite("uncommon_dialect", "DIALECT_WORDS",
                  "a regional dialect: Jeju, Scots, Kansai, Rioplatense, Bavarian, Southern Vietnamese")

