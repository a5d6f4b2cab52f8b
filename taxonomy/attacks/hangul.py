"""Hangul arithmetic: syllable <-> jamo, 초성, and Revised Romanisation of Korean.

Korean attacks rewrite text at the jamo level (초성 only, 자모 분리, romanisation), so they all share one
decomposition: a precomposed syllable U+AC00 + (initial * 21 + medial) * 28 + final.
"""

from __future__ import annotations

SYLLABLE_FIRST = 0xAC00
SYLLABLE_LAST = 0xD7A3

# Compatibility jamo (what people type): 19 initials, 21 medials, 27 finals (index 0 = no final).
INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
MEDIALS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
FINALS = ("", "ㄱ", "ㄲ", "ㄳ", "ㄴ", "ㄵ", "ㄶ", "ㄷ", "ㄹ", "ㄺ", "ㄻ", "ㄼ", "ㄽ", "ㄾ", "ㄿ", "ㅀ", "ㅁ", "ㅂ",
          "ㅄ", "ㅅ", "ㅆ", "ㅇ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ")
# Compound finals typed as two letters in 자모 분리 (ㄳ -> ㄱㅅ).
COMPOUND_FINALS = {"ㄳ": "ㄱㅅ", "ㄵ": "ㄴㅈ", "ㄶ": "ㄴㅎ", "ㄺ": "ㄹㄱ", "ㄻ": "ㄹㅁ", "ㄼ": "ㄹㅂ", "ㄽ": "ㄹㅅ",
                   "ㄾ": "ㄹㅌ", "ㄿ": "ㄹㅍ", "ㅀ": "ㄹㅎ", "ㅄ": "ㅂㅅ"}


def is_syllable(char: str) -> bool:
    return SYLLABLE_FIRST <= ord(char) <= SYLLABLE_LAST


def decompose(char: str) -> tuple[int, int, int]:
    """(initial, medial, final) indices of a precomposed syllable."""
    code = ord(char) - SYLLABLE_FIRST
    return code // 588, (code % 588) // 28, code % 28


def compose(initial: int, medial: int, final: int = 0) -> str:
    return chr(SYLLABLE_FIRST + (initial * 21 + medial) * 28 + final)


def chosung(text: str) -> str:
    """초성 only: 폭탄 -> ㅍㅌ; anything that is not a syllable stays."""
    return "".join(INITIALS[decompose(c)[0]] if is_syllable(c) else c for c in text)


def jamo_split(text: str) -> str:
    """자모 분리: 폭탄 -> ㅍㅗㄱㅌㅏㄴ. Compound vowels stay one letter (ㅘ); compound finals split (ㄳ -> ㄱㅅ)."""
    out = []
    for c in text:
        if not is_syllable(c):
            out.append(c)
            continue
        initial, medial, final = decompose(c)
        out.append(INITIALS[initial] + MEDIALS[medial] + COMPOUND_FINALS.get(FINALS[final], FINALS[final]))
    return "".join(out)


# --- Revised Romanisation (문화체육관광부 고시 제2000-8호) ---------------------------------------------
RR_INITIALS = ("g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h")
RR_MEDIALS = ("a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we", "wi",
              "yu", "eu", "ui", "i")
# Final as pronounced before a consonant or at the end of a word (7 representative sounds).
RR_FINAL_CODA = {"": "", "ㄱ": "k", "ㄲ": "k", "ㄳ": "k", "ㄴ": "n", "ㄵ": "n", "ㄶ": "n", "ㄷ": "t", "ㄹ": "l",
                 "ㄺ": "k", "ㄻ": "m", "ㄼ": "l", "ㄽ": "l", "ㄾ": "l", "ㄿ": "p", "ㅀ": "l", "ㅁ": "m", "ㅂ": "p",
                 "ㅄ": "p", "ㅅ": "t", "ㅆ": "t", "ㅇ": "ng", "ㅈ": "t", "ㅊ": "t", "ㅋ": "k", "ㅌ": "t", "ㅍ": "p",
                 "ㅎ": "t"}
# Before a vowel (next initial ㅇ) the final is carried over (연음): (what stays, what moves as the next onset).
RR_FINAL_LINKED = {"ㄱ": ("", "g"), "ㄲ": ("", "kk"), "ㄳ": ("k", "s"), "ㄴ": ("", "n"), "ㄵ": ("n", "j"),
                   "ㄶ": ("", "n"), "ㄷ": ("", "d"), "ㄹ": ("", "r"), "ㄺ": ("l", "g"), "ㄻ": ("l", "m"),
                   "ㄼ": ("l", "b"), "ㄽ": ("l", "s"), "ㄾ": ("l", "t"), "ㄿ": ("l", "p"), "ㅀ": ("", "r"),
                   "ㅁ": ("", "m"), "ㅂ": ("", "b"), "ㅄ": ("p", "s"), "ㅅ": ("", "s"), "ㅆ": ("", "ss"),
                   "ㅇ": ("ng", ""), "ㅈ": ("", "j"), "ㅊ": ("", "ch"), "ㅋ": ("", "k"), "ㅌ": ("", "t"),
                   "ㅍ": ("", "p"), "ㅎ": ("", "")}
_NASAL_OF = {"k": "ng", "t": "n", "p": "m"}  # 비음화 before ㄴ/ㅁ: 국물 -> gungmul, 합니다 -> hamnida


def _join(coda: str, next_initial: int) -> tuple[str, str]:
    """Sound changes at a syllable boundary inside a word: returns (coda, onset)."""
    onset = RR_INITIALS[next_initial]
    nxt = INITIALS[next_initial]
    if nxt == "ㄹ":
        if coda in ("l", "n"):
            return "l", "l"  # 유음화: 신라 -> silla, 설날 -> seollal
        if coda in ("ng", "m"):
            return coda, "n"  # ㄹ after ㅇ/ㅁ: 종로 -> jongno
        if coda in _NASAL_OF:
            return _NASAL_OF[coda], "n"  # 백로 -> baengno
    if nxt == "ㄴ" and coda == "l":
        return "l", "l"  # 칼날 -> kallal
    if nxt in ("ㄴ", "ㅁ") and coda in _NASAL_OF:
        return _NASAL_OF[coda], onset
    return coda, onset


def romanise(text: str) -> str:
    """Revised Romanisation with linking, nasalisation and liquid assimilation inside a word.

    한국 -> hanguk, 신라 -> silla, 종로 -> jongno, 국물 -> gungmul, 한국어 -> hangugeo. Not handled: aspiration
    across ㅎ (좋고 -> joko: here jotgo), tensing (not written in RR anyway), ㄴ-insertion (담요), and
    palatalisation (같이 -> gachi: here gati). Word-initial ㄹ is written r (라면 -> ramyeon).
    """
    out: list[str] = []
    chars = list(text)
    carried: str | None = None  # onset moved over from the previous syllable's final
    for i, c in enumerate(chars):
        if not is_syllable(c):
            out.append(c)
            carried = None
            continue
        initial, medial, final = decompose(c)
        onset = carried if carried is not None else RR_INITIALS[initial]
        carried = None
        final_jamo = FINALS[final]
        nxt = chars[i + 1] if i + 1 < len(chars) else ""
        coda = RR_FINAL_CODA[final_jamo]
        if nxt and is_syllable(nxt) and final_jamo:
            next_initial = decompose(nxt)[0]
            if INITIALS[next_initial] == "ㅇ":
                coda, carried = RR_FINAL_LINKED[final_jamo]
            else:
                coda, carried = _join(coda, next_initial)
        out.append(onset + RR_MEDIALS[medial] + coda)
    return "".join(out)
