"""Where a text changes script: Hangul-dominant and Latin-dominant stretches, cut at sentence and line ends.

A Korean document may carry an English paragraph and an English one a Korean form line; the PII scanner runs
the recognisers of each stretch's own language there too (:meth:`haetae.pipelines.pii.scanner.PiiScanner.scan`).
Each sentence or line is labelled by the rule that labels whole documents (:mod:`.langid`): Korean when at
least 30 % of its letters are Hangul, Latin when at least half are Latin; a piece with fewer than
:data:`MIN_LETTERS` letters, or of another script, is neutral and joins the stretch before it (the first
stretch, when it leads), so "(415) 555-0132" on its own line stays with the English lines around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from haetae.pipelines.detectors.language import CLASS_BITS, char_classes

MIN_LETTERS = 3
"""Letters a sentence needs to be labelled, as :class:`~haetae.pipelines.detectors.language.LanguageIdentifier` needs for a
document: "SSN: 536-90-4399" on its own line (three letters) is an English line."""
HANGUL, LATIN = "hangul", "latin"
_HANGUL_SHARE = 0.3  # langid.detect's share for Korean
_LATIN_SHARE = 0.5
_BOUNDARY = re.compile(r"[\n.!?。！？](?:(?<=\n)\n*|[\"'”’)\]]*[ \t]+)")
"""Where a piece ends: line breaks, and sentence-final punctuation followed by a space. Led by one character
class (not ``\n+|...``), so ``re`` skips to the candidates: 4x faster on 1 KB texts."""
_MASKS = np.array([CLASS_BITS["letters"], CLASS_BITS[HANGUL], CLASS_BITS[LATIN]], dtype=np.uint8)
_HANGUL_CHAR = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_TWO_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f].*?[A-Za-z\u00c0-\u024f]", re.DOTALL)


@dataclass(frozen=True)
class ScriptSpan:
    """``text[start:end]`` is dominated by ``script`` (:data:`HANGUL` or :data:`LATIN`)."""

    start: int
    end: int
    script: str


def may_mix(text: str, script: str) -> bool:
    """False when ``text`` cannot hold a stretch dominated by ``script``: no Hangul at all, or fewer than two
    Latin letters. A cheap test that lets uniform texts skip :func:`script_spans`."""
    return (_HANGUL_CHAR.search(text) if script == HANGUL else _TWO_LATIN.search(text)) is not None


def script_spans(text: str) -> list[ScriptSpan]:
    """The text's stretches in order, covering all of it; [] when no piece is labelled. Adjacent pieces of one
    script are one stretch."""
    if not text:
        return []
    values = char_classes(text)
    cuts = np.array([0, *(m.end() for m in _BOUNDARY.finditer(text)), len(text)], dtype=np.int64)
    bits = (values[:, None] & _MASKS) > 0  # letters, Hangul, Latin per character
    sums = np.zeros((len(text) + 1, 3), dtype=np.int32)
    np.cumsum(bits, axis=0, out=sums[1:])
    letters, hangul_n, latin_n = (sums[cuts[1:]] - sums[cuts[:-1]]).T
    hangul = (letters >= MIN_LETTERS) & (hangul_n >= _HANGUL_SHARE * letters)
    latin = (letters >= MIN_LETTERS) & ~hangul & (latin_n >= _LATIN_SHARE * letters)
    labelled = np.flatnonzero(hangul | latin)
    labels = [(int(cuts[i]), int(cuts[i + 1]), HANGUL if hangul[i] else LATIN) for i in labelled.tolist()]
    spans: list[ScriptSpan] = []  # neutral pieces join the stretch before them (the first one: the next)
    for start, end, script in labels:
        if spans and spans[-1].script == script:
            spans[-1] = ScriptSpan(spans[-1].start, end, script)
        elif spans:
            spans[-1] = ScriptSpan(spans[-1].start, start, spans[-1].script)
            spans.append(ScriptSpan(start, end, script))
        else:
            spans.append(ScriptSpan(0, end, script))
    if spans:
        spans[-1] = ScriptSpan(spans[-1].start, len(text), spans[-1].script)
    return spans
