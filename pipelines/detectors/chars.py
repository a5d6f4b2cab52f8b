"""Code-point lookup tables: count or filter character classes of a text with one numpy lookup.

A table is built once per process from the single-character regexes that define the classes, so
``table[code_points(text)]`` gives exactly what ``findall`` / ``sub`` with those regexes would, at a fraction
of their per-character cost. :mod:`.quality`, :mod:`.langid` and :mod:`.minhash` use it.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterable

import numpy as np

from haetae.pipelines.io.array_cache import cache_key, cached_arrays


def code_points(text: str) -> np.ndarray:
    """uint32 code points of ``text`` (lone surrogates included, as the regexes see them)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def code_point_table(classes: Iterable[tuple[int, re.Pattern[str]]]) -> np.ndarray:
    """uint8 table over every code point: the sum of the values of the ``classes`` whose pattern matches it.

    Each pattern must match exactly one character (a character class). The table is built by running the
    patterns themselves over a string of all code points (20-70 ms), so ``table[code_points(t)]`` agrees with
    the regexes by construction; give disjoint classes or distinct bits as values. A table is built once per
    machine (:mod:`.array_cache`), keyed by the patterns, the Unicode database and the Python version.
    """
    classes = list(classes)
    key = cache_key([(value, p.pattern, int(p.flags)) for value, p in classes], sys.maxunicode,
                    unicodedata.unidata_version, sys.version_info[:2])
    return cached_arrays("code-point-table", key, lambda: {"table": _build_table(classes)})["table"]


def _build_table(classes: list[tuple[int, re.Pattern[str]]]) -> np.ndarray:
    table = np.zeros(sys.maxunicode + 1, dtype=np.uint8)
    everything = np.arange(sys.maxunicode + 1, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    for value, pattern in classes:
        for run in re.finditer(f"(?:{pattern.pattern})+", everything, pattern.flags):
            table[run.start():run.end()] += value
    return table
