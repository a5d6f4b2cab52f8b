"""SPDX identification of licence texts, headers, pointers and notices, in English and Korean.

``detect_licences(text) -> [(spdx_expression, score), ...]`` finds every licence a document states, strongest
evidence first; ``licence_expression(found)`` joins them into one SPDX expression (``None`` when none is found).

How it matches
--------------
Reference texts are ScanCode's licence and rule texts (the registry package ``licensedcode-data``, CC-BY-4.0),
compiled once by :mod:`haetae.pipelines.licences_build` into ``data/licences/licensedcode.npz``: about 30,000
full texts, notices ("either version 3 of the License, or (at your option) any later version"), references
("Licensed under the MIT license") and tags, each with its SPDX expression.

1. *Explicit identifiers* first: ``SPDX-License-Identifier:`` lines are parsed as SPDX expressions (score 1).
2. *Korean notices*: 공공누리 (KOGL) types 1-4 by number or by their conditions (출처표시, 상업적 이용금지,
   변경금지), and Creative Commons by Korean name (저작자표시-비영리-변경금지 ...). SPDX has no KOGL id; they are
   reported as ``LicenseRef-KOGL-Type1`` .. ``LicenseRef-KOGL-Type4``.
3. *Candidate retrieval*: the text is tokenised like the references (lower-case words, a trailing ``+`` kept:
   ``GPL-2.0+`` -> gpl 2 0+), hashed into overlapping 4-token shingles, and looked up in an inverted index
   (a sorted array of (shingle, reference) pairs, searched with numpy); the share of each reference's shingles
   found in the text is its *containment*. References shorter than 4 tokens are looked up as exact token runs.
4. *Alignment*: for the few references with containment >= 0.5, the positions of their shingles in the text
   are found; a greedy cover then takes, repeatedly, the reference that explains the most still-unexplained
   tokens (tokens matched x containment), if its containment among those tokens reaches its threshold (the
   rule's own ``minimum_coverage``, else 100% below 12 tokens, 90% below 40, 80% below 200, 70% above). A full
   text therefore wins over the notices it contains (the GPL's "How to apply" appendix is not a pointer), a
   BSD-3-Clause text over the BSD-2-Clause text it contains, and an ``or any later version`` notice over the
   ``version 2`` notice it contains.
5. *Expression*: distinct expressions in order of strength; an ``-only`` full text next to an ``-or-later``
   notice of the same licence is dropped (the notice says which), and so is a single id that is an operand of
   an ``OR`` expression found too (a dual-licence statement next to one of its texts). The rest are joined with
   ``AND``, as ScanCode does.

Scores are containment x the reference's relevance (0-1).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA_FILE = Path(__file__).parent / "data" / "licences" / "licensedcode.npz"
K = 4  # shingle length in tokens
KINDS = ("text", "notice", "reference", "tag", "intro", "clue")
_TOKEN = re.compile(r"[^_\W]+\+?[^_\W]*")
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplying by it is a bijection of 64-bit codes
_H40 = np.uint64((1 << 40) - 1)
_MAX_CANDIDATES = 48
_GAP = 24  # shingle positions: a longer unmatched stretch splits a reference match in two
_SKIP_KEYS = re.compile(r"LicenseRef-scancode-(?:unknown|free-unknown|generic|proprietary-license|other-)", re.I)


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; a ``+`` right after a word is kept on it (``GPL-2.0+`` -> gpl, 2, 0+)."""
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class Match:
    """One reference found in a text: its SPDX expression, kind, score and token span."""

    spdx: str
    kind: str
    score: float
    start: int
    end: int
    rule: str


# ---------------------------------------------------------------------------------------------- index


def _hash_shingles(ids: np.ndarray) -> np.ndarray:
    """40-bit hashes of the K-token shingles of ``ids`` (token ids < 2**16, so a shingle packs into 64 bits)."""
    n = len(ids) - K + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    ids = ids.astype(np.uint64)
    code = ids[0:n] << np.uint64(48)
    for j in range(1, K):
        code |= ids[j : j + n] << np.uint64(48 - 16 * j)
    return (code * _MIX) >> np.uint64(24)


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    """``np.unique`` by sort (numpy 2's hash-based unique is far slower on millions of 64-bit keys)."""
    a = np.sort(a)
    if len(a) < 2:
        return a
    keep = np.empty(len(a), dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


class LicenceIndex:
    """The compiled reference texts with their shingle index (built once per process from the .npz)."""

    def __init__(self, path: Path = DATA_FILE):
        with np.load(path) as data:
            words = data["vocab"].tobytes().decode("utf-8").split("\n")
            tokens = data["tokens"].astype(np.int64)
            starts = data["starts"].astype(np.int64)
            meta = json.loads(data["meta"].tobytes().decode("utf-8"))
        self.vocab = {w: i for i, w in enumerate(words)}
        self.unknown = len(words)
        self.spdx = [m[0] for m in meta]
        self.kind = [KINDS[m[1]] for m in meta]
        self.relevance = np.array([m[2] for m in meta], dtype=np.float64) / 100.0
        self.name = [m[4] for m in meta]
        self.required = {i: [tokens[starts[i] + a : starts[i] + b].astype(np.uint16).tobytes() for a, b in m[5]]
                         for i, m in enumerate(meta) if m[5]}
        lengths = np.diff(starts)
        self.lengths = lengths
        n_rules = len(meta)
        # thresholds: the rule's own minimum coverage, else by length
        default = np.where(lengths < 12, 1.0, np.where(lengths < 40, 0.9, np.where(lengths < 200, 0.8, 0.7)))
        own = np.array([m[3] for m in meta], dtype=np.float64) / 100.0
        self.threshold = np.where(own > 0, np.maximum(own, 0.5), default)
        self.threshold = np.where(lengths < 12, 1.0, self.threshold)
        # shingles of every reference, deduplicated per reference
        hashes = _hash_shingles(tokens)
        rule_of = np.repeat(np.arange(n_rules, dtype=np.int64), lengths)[: len(hashes)]
        valid = np.arange(len(hashes)) + K <= starts[rule_of + 1]
        hashes, rule_of = hashes[valid], rule_of[valid]
        if n_rules >= 1 << 16 or self.unknown >= 1 << 16:
            raise ValueError("the licence index packs rule and token ids in 16 bits")
        # sort by (rule, hash) and by (hash, rule) on packed keys (rule ids < 2**16)
        key = _sorted_unique((rule_of.astype(np.uint64) << np.uint64(40)) | hashes)
        self.rule_hashes = key & _H40  # sorted within each rule
        rule_of = (key >> np.uint64(40)).astype(np.int64)
        self.n_shingles = np.bincount(rule_of, minlength=n_rules)
        self.rule_start = np.concatenate([[0], np.cumsum(self.n_shingles)])
        key = np.sort((self.rule_hashes << np.uint64(16)) | rule_of.astype(np.uint64))
        self.sorted_hashes = key >> np.uint64(16)
        self.sorted_rules = (key & np.uint64(0xFFFF)).astype(np.int32)
        # references shorter than K tokens: exact token runs
        self.short: dict[tuple[int, ...], list[int]] = {}
        for r in np.flatnonzero(lengths < K):
            self.short.setdefault(tuple(tokens[starts[r] : starts[r + 1]].tolist()), []).append(int(r))
        self.short_lengths = sorted({len(k) for k in self.short})

    def ids(self, tokens: list[str]) -> np.ndarray:
        get, unknown = self.vocab.get, self.unknown
        return np.fromiter((get(t, unknown) for t in tokens), dtype=np.int64, count=len(tokens))

    def match(self, tokens: list[str]) -> list[Match]:
        """References found in a token list, by greedy cover (see the module notes)."""
        if not tokens:
            return []
        ids = self.ids(tokens)
        n = len(ids)
        covered = np.zeros(n, dtype=bool)
        found: list[Match] = []
        q = _hash_shingles(ids)
        if len(q):
            found.extend(self._match_shingles(q, ids, covered))
        if self.short_lengths:
            found.extend(self._match_short(ids, covered))
        return found

    def _has_required(self, r: int, ids: np.ndarray, lo: int, hi: int) -> bool:
        """Whether every required phrase of reference ``r`` occurs in the query tokens near [lo, hi)."""
        phrases = self.required.get(r)
        if not phrases:
            return True
        window = ids[max(0, lo - 8) : hi + K + 8].astype(np.uint16).tobytes()
        for phrase in phrases:
            at = window.find(phrase)
            while at > 0 and at % 2:
                at = window.find(phrase, at + 1)
            if at < 0:
                return False
        return True

    def _match_shingles(self, q: np.ndarray, ids: np.ndarray, covered: np.ndarray) -> list[Match]:
        uq = _sorted_unique(q)
        left = np.searchsorted(self.sorted_hashes, uq, "left")
        right = np.searchsorted(self.sorted_hashes, uq, "right")
        counts = right - left
        total = int(counts.sum())
        if not total:
            return []
        offsets = np.repeat(left - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        rules = self.sorted_rules[offsets + np.arange(total)]
        hits = np.bincount(rules, minlength=len(self.n_shingles))
        with np.errstate(divide="ignore", invalid="ignore"):
            containment = np.where(self.n_shingles > 0, hits / np.maximum(self.n_shingles, 1), 0.0)
        cand = np.flatnonzero(containment >= 0.5)
        if not len(cand):
            return []
        if len(cand) > _MAX_CANDIDATES:
            value = hits[cand] * containment[cand]
            cand = cand[np.argsort(-value, kind="stable")[:_MAX_CANDIDATES]]
        # per candidate: which query shingle positions are its shingles
        masks = {}
        for r in cand.tolist():
            ref = self.rule_hashes[self.rule_start[r] : self.rule_start[r + 1]]
            pos = np.searchsorted(ref, q)
            pos[pos >= len(ref)] = 0
            masks[r] = ref[pos] == q
        found = []
        nq = len(q)
        while masks:
            free = ~covered[:nq] & ~covered[K - 1 : K - 1 + nq]
            best, best_value, best_cov, best_span = -1, 0.0, 0.0, None
            for r, mask in list(masks.items()):
                span = self._cluster(mask & free)
                if span is None:
                    del masks[r]
                    continue
                lo, hi = span
                m = mask[lo:hi] & free[lo:hi]
                cov = len(_sorted_unique(q[lo:hi][m])) / self.n_shingles[r]
                if cov < self.threshold[r]:
                    if cov < 0.5:
                        del masks[r]
                    continue
                if not self._has_required(r, ids, lo, hi):
                    del masks[r]
                    continue
                value = (hi - lo + K - 1) * cov
                if value > best_value or (value == best_value and self.lengths[r] < self.lengths[best]):
                    best, best_value, best_cov, best_span = r, value, cov, span
            if best < 0:
                break
            del masks[best]
            lo, hi = best_span
            covered[lo : hi + K - 1] = True
            found.append(Match(self.spdx[best], self.kind[best], round(float(min(best_cov, 1.0) * self.relevance[best]), 3),
                               lo, hi + K - 1, self.name[best]))
        return found

    @staticmethod
    def _cluster(mask: np.ndarray) -> tuple[int, int] | None:
        """The densest run of matched shingle positions (gaps of at most _GAP): [lo, hi) or None."""
        pos = np.flatnonzero(mask)
        if not len(pos):
            return None
        if len(pos) == 1 or pos[-1] - pos[0] <= _GAP:
            return int(pos[0]), int(pos[-1]) + 1
        breaks = np.flatnonzero(np.diff(pos) > _GAP)
        bounds = np.concatenate([[0], breaks + 1, [len(pos)]])
        sizes = np.diff(bounds)
        i = int(np.argmax(sizes))
        return int(pos[bounds[i]]), int(pos[bounds[i + 1] - 1]) + 1

    def _match_short(self, ids: np.ndarray, covered: np.ndarray) -> list[Match]:
        found = []
        seq = ids.tolist()
        n = len(seq)
        unknown = self.unknown
        for length in reversed(self.short_lengths):
            for i in range(n - length + 1):
                if seq[i] == unknown:
                    continue
                rules = self.short.get(tuple(seq[i : i + length]))
                if not rules or covered[i : i + length].any():
                    continue
                r = max(rules, key=lambda x: self.relevance[x])
                if self.kind[r] in ("intro", "clue") or self.relevance[r] < 0.8:
                    continue
                covered[i : i + length] = True
                found.append(Match(self.spdx[r], self.kind[r], round(float(self.relevance[r]), 3), i, i + length,
                                   self.name[r]))
        return found


@lru_cache(maxsize=1)
def default_index() -> LicenceIndex:
    return LicenceIndex(DATA_FILE)


# ---------------------------------------------------------------------------------------------- SPDX lines

_SPDX_LINE = re.compile(r"SPDX-License-Identifier\s*:\s*([^\n\r]*)", re.IGNORECASE)
_SPDX_TOKEN = re.compile(r"\(|\)|[A-Za-z0-9][A-Za-z0-9.+\-:]*")
_DEPRECATED = {
    "GPL-1.0": "GPL-1.0-only", "GPL-2.0": "GPL-2.0-only", "GPL-3.0": "GPL-3.0-only",
    "LGPL-2.0": "LGPL-2.0-only", "LGPL-2.1": "LGPL-2.1-only", "LGPL-3.0": "LGPL-3.0-only",
    "AGPL-1.0": "AGPL-1.0-only", "AGPL-3.0": "AGPL-3.0-only", "GFDL-1.1": "GFDL-1.1-only",
    "GFDL-1.2": "GFDL-1.2-only", "GFDL-1.3": "GFDL-1.3-only",
}


def normalise_spdx_id(token: str) -> str:
    """``GPL-2.0+`` -> ``GPL-2.0-or-later``; ``GPL-2.0`` -> ``GPL-2.0-only``; other ids unchanged."""
    if token.endswith("+") and token[:-1] in _DEPRECATED:
        return _DEPRECATED[token[:-1]].replace("-only", "-or-later")
    return _DEPRECATED.get(token, token)


def parse_spdx_lines(text: str) -> list[tuple[str, int, int]]:
    """Expressions of ``SPDX-License-Identifier:`` lines: (expression, start, end) character offsets."""
    out = []
    for m in _SPDX_LINE.finditer(text):
        raw = re.split(r"\*/|-->|\s#|\s//|\"|'", m.group(1))[0]
        parts, depth = [], 0
        for tok in _SPDX_TOKEN.finditer(raw):
            t = tok.group(0)
            up = t.upper()
            if t == "(":
                depth += 1
            elif t == ")":
                if depth == 0:
                    break
                depth -= 1
            if up in ("AND", "OR", "WITH"):
                if not parts or parts[-1] in ("AND", "OR", "WITH", "("):
                    break
                parts.append(up)
            elif t in "()":
                parts.append(t)
            else:
                if parts and parts[-1] not in ("AND", "OR", "WITH", "("):
                    break  # two ids in a row: the expression ended
                parts.append(normalise_spdx_id(t.rstrip(".,;")))
        while parts and parts[-1] in ("AND", "OR", "WITH", "("):
            parts.pop()
        parts += [")"] * (parts.count("(") - parts.count(")"))
        if parts:
            expr = " ".join(parts).replace("( ", "(").replace(" )", ")")
            out.append((expr, m.start(), m.end()))
    return out


# ---------------------------------------------------------------------------------------------- Korean

_KOGL_TYPED = re.compile(
    r"(?:공공누리|KOGL|공공저작물\s*자유\s*이용\s*허락)[^\n]{0,30}?(?:제\s*)?([1-4])\s*(?:유형|type)"
    r"|KOGL[\s\-_]*(?:Type|유형)[\s\-_]*([1-4])",
    re.IGNORECASE,
)
_KOGL_COND = re.compile(
    r"(?:공공누리|KOGL|공공저작물)[^\n]{0,60}?출처\s*표시((?:\s*[+,·ㆍ/\-]?\s*(?:상업적\s*이용\s*금지|변경\s*금지))*)",
    re.IGNORECASE,
)
_CC_KO = re.compile(
    r"저작자\s*표시((?:\s*[-·ㆍ,+/]?\s*(?:비\s*영리|동일\s*조건\s*변경\s*허락|변경\s*금지))*)"
    r"(?:\s*(?:라이선스|라이센스|이용\s*허락))?(?:\s*(\d\.\d))?"
)
_CC_CONTEXT = re.compile(r"크리에이티브\s*커먼즈|creative\s*commons|\bCCL\b|\bCC\b|라이선스|라이센스|이용\s*허락",
                         re.IGNORECASE)


def _cc_id(parts: set[str], version: str) -> str:
    order = [p for p in ("NC", "SA", "ND") if p in parts]
    if "SA" in order and "ND" in order:
        order.remove("SA")  # not a real combination; ND is the stricter reading
    return "-".join(["CC", "BY", *order, version])


def korean_notices(text: str) -> list[tuple[str, int, int]]:
    """KOGL types and Korean-named Creative Commons licences: (spdx, start, end)."""
    found = []
    if "공공누리" in text or "KOGL" in text.upper() or "공공저작물" in text:
        for m in _KOGL_TYPED.finditer(text):
            found.append((f"LicenseRef-KOGL-Type{m.group(1) or m.group(2)}", m.start(), m.end()))
        if not found:
            for m in _KOGL_COND.finditer(text):
                tail = re.sub(r"\s+", "", m.group(1))
                kogl_type = 1 + (1 if "상업적이용금지" in tail else 0) + (2 if "변경금지" in tail else 0)
                found.append((f"LicenseRef-KOGL-Type{kogl_type}", m.start(), m.end()))
    if "저작자" in text:
        for m in _CC_KO.finditer(text):
            tail = re.sub(r"\s+", "", m.group(1))
            version = m.group(2)
            window = text[max(0, m.start() - 60) : m.end() + 40]
            if not version and not tail and not _CC_CONTEXT.search(window):
                continue  # "저작자 표시" alone (e.g. "저작자 표시를 해 주세요") is no licence
            if not version and not _CC_CONTEXT.search(window) and "-" not in m.group(0):
                continue
            parts = {abbr for word, abbr in (("비영리", "NC"), ("동일조건변경허락", "SA"), ("변경금지", "ND"))
                     if word in tail}
            found.append((_cc_id(parts, version or "4.0"), m.start(), m.end()))
    return found


# ---------------------------------------------------------------------------------------------- expressions

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+\-:]*")


def _operands(expr: str) -> set[str]:
    return {t for t in _ID.findall(expr) if t not in ("AND", "OR", "WITH")}


def licence_expression(found: list[tuple[str, float]]) -> str | None:
    """One SPDX expression for what :func:`detect_licences` found (``AND`` of the parts), ``None`` if empty."""
    if not found:
        return None
    parts = [f"({e})" if (" OR " in e or " AND " in e) and len(found) > 1 else e for e, _ in found]
    return " AND ".join(parts)


def _simplify(matches: list[tuple[str, float, str]]) -> list[tuple[str, float]]:
    """Distinct expressions, best score each; drop the redundant ones (see the module notes)."""
    best: dict[str, float] = {}
    kinds: dict[str, set[str]] = {}
    for expr, score, kind in matches:
        if _SKIP_KEYS.search(expr):
            continue
        best[expr] = max(best.get(expr, 0.0), score)
        kinds.setdefault(expr, set()).add(kind)
    exprs = list(best)
    drop = set()
    for e in exprs:
        if e.endswith("-only") and " " not in e and kinds[e] == {"text"}:
            later = e[: -len("-only")] + "-or-later"
            if any(later in _operands(o) for o in exprs if o != e):
                drop.add(e)
        if " " not in e and any(" OR " in o and e in _operands(o) for o in exprs if o != e):
            drop.add(e)
    return [(e, round(best[e], 3)) for e in exprs if e not in drop]


def find_matches(text: str, index: LicenceIndex | None = None) -> list[Match]:
    """Every piece of licence evidence in ``text``: SPDX lines, Korean notices and reference matches."""
    index = index or default_index()
    found: list[Match] = []
    rest = text
    for expr, start, end in parse_spdx_lines(text):
        found.append(Match(expr, "spdx", 1.0, start, end, "SPDX-License-Identifier"))
    if found:
        rest = _SPDX_LINE.sub(" ", text)
    for spdx, start, end in korean_notices(text):
        found.append(Match(spdx, "korean", 1.0, start, end, "korean-notice"))
    found.extend(index.match(tokenize(rest)))
    return found


def detect_licences(text: str, index: LicenceIndex | None = None) -> list[tuple[str, float]]:
    """SPDX expressions of the licences ``text`` states, strongest first: ``[(spdx, score), ...]``.

    An explicit ``SPDX-License-Identifier`` wins over everything else in the same text.
    """
    matches = find_matches(text, index)
    spdx = [m for m in matches if m.kind == "spdx"]
    if spdx:
        matches = spdx + [m for m in matches if m.kind == "korean"]
    order = {"spdx": 0, "korean": 1, "text": 2, "notice": 3, "reference": 4, "tag": 5, "intro": 6, "clue": 7}
    ranked = sorted(matches, key=lambda m: (order[m.kind], -(m.end - m.start) * m.score))
    return _simplify([(m.spdx, m.score, m.kind) for m in ranked])
