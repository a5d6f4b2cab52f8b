"""SPDX identification of licence texts, headers, pointers and notices, in English and Korean.

``detect_licences(text) -> [(spdx_expression, score), ...]`` finds every licence a document states, strongest
evidence first; ``licence_expression(found)`` joins them into one SPDX expression (``None`` when none is found).

How it matches
--------------
Reference texts are ScanCode's licence and rule texts (the registry package ``licensedcode-data`` 32.1.0,
CC-BY-4.0), compiled by :mod:`haetae.pipelines.rights.licences_build` into ``data/licences/licensedcode.npz`` (3 MB):
35,566 full texts, notices ("either version 3 of the License, or (at your option) any later version"),
references ("Licensed under the MIT license") and tags, each with its SPDX expression, relevance, minimum
coverage and required phrases. The index arrays derived from it (about 1.7 s of CPU) are built once per machine
and kept in the array cache (:mod:`haetae.pipelines.io.array_cache`, keyed by the SHA-256 of the data file and
of this module, checksums verified); a process then loads the index in about 0.15 s.

1. *Explicit identifiers*: ``SPDX-License-Identifier:`` lines are parsed as SPDX expressions (score 1); they
   win over everything else in the text, unless they name only ``LicenseRef-`` ids and the text names a
   listed licence.
2. *Korean notices*: 공공누리 (KOGL) types 1-4 by number or by their conditions (출처표시, 상업적 이용금지,
   변경금지), and Creative Commons by Korean name (저작자표시-비영리-변경금지 ...). SPDX has no KOGL id; they are
   reported as ``LicenseRef-KOGL-Type1`` .. ``LicenseRef-KOGL-Type4``.
3. *Retrieval*: the text is tokenised like the references (lower-case words, a trailing ``+`` kept:
   ``GPL-2.0+`` -> gpl 2 0+) and hashed into overlapping 4-token shingles. One table of distinct shingle hashes
   lists the references holding each: every shingle of the short references (up to 24), one in four (by hash)
   of the long ones, and a shingle found in more than 64 long references (boilerplate such as "in no event
   shall") only for the licences' own texts and for notices: full-text variants are found by their own wording. The share of a reference's indexed shingles found in the text estimates its containment;
   references above their threshold, best two per expression, are the candidates. References shorter than 4
   tokens are looked up as exact token runs.
4. *Alignment*: the best eight candidates are verified on all their shingles (one vectorised search), and a
   greedy cover then takes, repeatedly, the reference explaining the most still-unexplained tokens (the densest
   run of its matched shingles x containment), if its containment there reaches its threshold (the rule's own
   ``minimum_coverage``, else 100% below 12 tokens, 90% below 40, 80% below 200, 70% above), its required
   phrases are present, and, for an unversioned name ("GNU General Public License"), no version follows. A full
   text therefore wins over the notices it contains (the GPL's "How to apply" appendix is not a pointer), a
   BSD-3-Clause text over the BSD-2-Clause text it contains, and an ``or any later version`` notice over the
   ``version 2`` notice it contains; a licence's own text wins a near tie against a rule copying it. While many
   tokens stay unexplained (a second licence further on), retrieval runs again on them (up to three rounds).
5. *Expression*: a short title that heads a text of the same family ("The BSD License" over a two-clause text)
   is dropped; licences named near a choice phrase ("dual-licensed", "either of", "at your option") become one
   ``OR`` expression. Then distinct expressions in order of strength; an ``-only`` full text next to an
   ``-or-later`` notice of the same licence is dropped (the notice says which), and so is a single id that is
   an operand of an ``OR`` expression found too. The rest are joined with ``AND``, as ScanCode does.

Scores are containment x the reference's relevance (0-1).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice, repeat
from pathlib import Path

import numpy as np

DATA_FILE = Path(__file__).parents[1] / "data" / "licences" / "licensedcode.npz"
K = 4  # shingle length in tokens
KINDS = ("text", "notice", "reference", "tag", "intro", "clue")
_TOKEN = re.compile(r"[^_\W]+\+?[^_\W]*")
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplying by it is a bijection of 64-bit codes
_H40 = np.uint64((1 << 40) - 1)
_MAX_CANDIDATES = 48
_RETRIEVED = 8  # references verified per text, best retrieval estimate first
_PER_EXPRESSION = 2  # candidates kept per SPDX expression
_ROUNDS = 3  # at most this many rounds of retrieval on the unexplained shingles ...
_REST_MIN = 24  # ... each while at least this many tokens are unexplained
_SAMPLE = 4  # retrieval looks at one shingle in _SAMPLE (by hash) of references with more than _SMALL
_SMALL = 24
_DF_CAP = 64
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
    a = a.copy()
    a.sort()
    if len(a) < 2:
        return a
    keep = np.empty(len(a), dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def index_cache_key(path: Path = DATA_FILE) -> str:
    """What the index arrays are built from: the SHA-256 of the data file and of this module's code."""
    from haetae.pipelines.io.array_cache import cache_key

    return cache_key(hashlib.sha256(Path(path).read_bytes()).hexdigest(),
                     hashlib.sha256(Path(__file__).read_bytes()).hexdigest())


def compiled_arrays(path: Path = DATA_FILE) -> dict[str, np.ndarray]:
    """The index arrays of the reference texts at ``path``, from the per-machine array cache when a process
    built them already (each array's checksum verified: a damaged cache is rebuilt, never used)."""
    from haetae.pipelines.io.array_cache import cached_arrays

    return cached_arrays("licence-index", index_cache_key(path), lambda: _compile(path), verify=True)


def _compile(path: Path) -> dict[str, np.ndarray]:
    """Every array of the index (see the module notes), from the reference texts at ``path``."""
    with np.load(path) as data:
        words = data["vocab"].tobytes().decode("utf-8").split("\n")
        tokens = data["tokens"].astype(np.int64)
        starts = data["starts"].astype(np.int64)
        meta = json.loads(data["meta"].tobytes().decode("utf-8"))
    spdx = [m[0] for m in meta]
    kind = [KINDS[m[1]] for m in meta]
    name = [m[4] for m in meta]
    out: dict[str, np.ndarray] = {}
    relevance = out["relevance"] = np.array([m[2] for m in meta], dtype=np.float64) / 100.0
    expr_ids: dict[str, int] = {}
    out["expr_id"] = np.array([expr_ids.setdefault(e, len(expr_ids)) for e in spdx], dtype=np.int64)
    # required phrases: their tokens concatenated, phrase i is required_tokens[bounds[i]:bounds[i+1]] of rule[i]
    spans = [(i, starts[i] + a, starts[i] + b) for i, m in enumerate(meta) for a, b in m[5]]
    out["required_rule"] = np.array([r for r, _, _ in spans], dtype=np.int64)
    out["required_bounds"] = np.concatenate([[0], np.cumsum([b - a for _, a, b in spans])]).astype(np.int64)
    out["required_tokens"] = np.concatenate([np.zeros(0, np.uint16)] + [tokens[a:b].astype(np.uint16)
                                                                        for _, a, b in spans])
    lengths = out["lengths"] = np.diff(starts)
    n_rules = len(meta)
    # thresholds: the rule's own minimum coverage, else by length
    default = np.where(lengths < 12, 1.0, np.where(lengths < 40, 0.9, np.where(lengths < 200, 0.8, 0.7)))
    own = np.array([m[3] for m in meta], dtype=np.float64) / 100.0
    threshold = np.where(own > 0, np.maximum(own, 0.5), default)
    threshold = out["threshold"] = np.where(lengths < 12, 1.0, threshold)
    # shingles of every reference, deduplicated per reference
    hashes = _hash_shingles(tokens)
    rule_of = np.repeat(np.arange(n_rules, dtype=np.int64), lengths)[: len(hashes)]
    valid = np.arange(len(hashes)) + K <= starts[rule_of + 1]
    hashes, rule_of = hashes[valid], rule_of[valid]
    if n_rules >= 1 << 16 or len(words) >= 1 << 16:
        raise ValueError("the licence index packs rule and token ids in 16 bits")
    # sort by (rule, hash) and by (hash, rule) on packed keys (rule ids < 2**16)
    key = _sorted_unique((rule_of.astype(np.uint64) << np.uint64(40)) | hashes)
    rule_hashes = out["rule_hashes"] = key & _H40  # sorted within each rule
    rule_of = (key >> np.uint64(40)).astype(np.int64)
    n_shingles = out["n_shingles"] = np.bincount(rule_of, minlength=n_rules)
    out["rule_start"] = np.concatenate([[0], np.cumsum(n_shingles)])
    # retrieval index: the long references by a sample of their shingles (hash mod _SAMPLE == 0, the same
    # sample on the query side, so the share found estimates containment), the short ones by all of them
    small = n_shingles <= _SMALL
    sampled = (rule_hashes & np.uint64(_SAMPLE - 1)) == 0
    # a shingle that many full-text variants share ("in no event shall") is kept in the sampled index only
    # for the licences' own texts and for notices: the variants are found by their rarer shingles
    by_hash = np.sort(rule_hashes[sampled & ~small[rule_of]])
    first = np.concatenate([[True], by_hash[1:] != by_hash[:-1]]) if len(by_hash) else np.zeros(0, bool)
    distinct = by_hash[first]
    df = np.diff(np.concatenate([np.flatnonzero(first), [len(by_hash)]]))
    at = np.minimum(np.searchsorted(distinct, rule_hashes), max(len(distinct) - 1, 0))
    common = (distinct[at] == rule_hashes) & (df[at] > _DF_CAP)
    canonical = out["canonical"] = np.array([k == "text" and not re.search(r"_\d+$", n)
                                             for n, k in zip(name, kind)])
    exempt = canonical | (np.array(kind) != "text")
    sampled &= ~common | exempt[rule_of]
    keep = (sampled & ~small[rule_of]) | small[rule_of]
    key = np.sort((rule_hashes[keep] << np.uint64(16)) | rule_of[keep].astype(np.uint64))
    out["post_rules"] = (key & np.uint64(0xFFFF)).astype(np.int64)
    hashes = key >> np.uint64(16)
    first = np.concatenate([[True], hashes[1:] != hashes[:-1]]) if len(hashes) else np.zeros(0, bool)
    out["post_hashes"] = hashes[first]  # distinct hashes; postings of the i-th: post_start[i]:post_start[i+1]
    out["post_start"] = np.concatenate([np.flatnonzero(first), [len(hashes)]])
    n_index = out["n_index"] = np.bincount(rule_of[keep], minlength=n_rules)
    out["sample_factor"] = np.where(n_index < n_shingles, _SAMPLE, 1)  # matched size from the sampled hits
    margin = np.where(small, 0.0, 0.12)
    retrieve_at = np.maximum(0.5, threshold - margin)
    out["min_hits"] = np.maximum(1, np.ceil(retrieve_at * n_index - 1e-9)).astype(np.int64)
    # references shorter than K tokens: exact token runs, one table per length (the best rule per run)
    versionish = out["versionish"] = np.zeros(len(words) + 1, dtype=bool)
    versionish[[i for i, w in enumerate(words) if w[:1].isdigit() or w in ("v", "version")]] = True
    by_run: dict[tuple[int, ...], int] = {}
    for r in np.flatnonzero(lengths < K).tolist():
        run = tuple(tokens[starts[r] : starts[r + 1]].tolist())
        if run not in by_run or relevance[r] > relevance[by_run[run]]:
            by_run[run] = r
    out["short_lengths"] = np.array(sorted({len(run) for run in by_run}), dtype=np.int64)
    runs = sorted((_short_code(run), r) for run, r in by_run.items())
    out["short_codes"] = np.array([c for c, _ in runs], dtype=np.uint64)
    out["short_rule"] = np.array([r for _, r in runs], dtype=np.int64)
    # bare ids (relevance 50 in ScanCode: "mpl-2.0") count when they carry a version; "mit" alone does not
    digit_word = np.array([w[:1].isdigit() or "+" in w for w in words] + [False])
    has_digit = np.add.reduceat(digit_word[tokens].astype(np.int64), starts[:-1]) > 0 if len(tokens) else \
        np.zeros(n_rules, bool)
    has_digit &= lengths > 0
    out["short_versioned"] = has_digit
    # an unversioned name right before a version ("GNU General Public License version 3") is not the match
    out["unversioned_name"] = ~has_digit & np.isin(np.array(kind), ["reference", "tag"])
    kinds_ok = np.array([k not in ("intro", "clue") for k in kind])
    short_ok = out["short_ok"] = kinds_ok & ((relevance >= 0.8) | ((relevance >= 0.5) & (lengths >= 2) & has_digit))
    # the first tokens of the usable short runs: a query position holding none of them starts no short match
    usable = [run for run, r in by_run.items() if short_ok[r]]
    out["short_first"] = np.zeros(len(words) + 1, dtype=bool)
    out["short_first"][[run[0] for run in usable]] = True
    return out


class _Distinct:
    """A query's distinct shingle hashes (sorted) and, for each shingle position, the index of its hash there."""

    __slots__ = ("values", "all_distinct", "_q")

    def __init__(self, q: np.ndarray):
        self.values = _sorted_unique(q)
        self.all_distinct = len(self.values) == len(q)
        self._q = q

    @property
    def inverse(self) -> np.ndarray:
        return self.values.searchsorted(self._q)


class LicenceIndex:
    """The compiled reference texts with their shingle index.

    The index arrays are derived from the .npz alone (about 1.7 s of CPU); :func:`compiled_arrays` keeps them
    in the per-machine array cache (:mod:`.array_cache`), so after the first process a build is a memory map.
    """

    def __init__(self, path: Path = DATA_FILE, cache: bool = True):
        with np.load(path) as data:
            words = data["vocab"].tobytes().decode("utf-8").split("\n")
            meta = json.loads(data["meta"].tobytes().decode("utf-8"))
        self.vocab = dict(zip(words, range(len(words))))
        self.unknown = len(words)
        self.spdx = [m[0] for m in meta]
        self.kind = [KINDS[m[1]] for m in meta]
        self.name = [m[4] for m in meta]
        arrays = compiled_arrays(path) if cache else _compile(path)
        for field, array in arrays.items():
            setattr(self, field, np.asarray(array))  # a plain view of a memory map: no np.memmap overhead
        self.short_lengths = self.short_lengths.tolist()
        phrases = self.required_tokens.tobytes()
        self.required: dict[int, list[bytes]] = {}
        for r, a, b in zip(self.required_rule.tolist(), self.required_bounds[:-1].tolist(),
                           self.required_bounds[1:].tolist()):
            self.required.setdefault(r, []).append(phrases[2 * a : 2 * b])

    def ids(self, tokens: list[str]) -> np.ndarray:
        return np.fromiter(map(self.vocab.get, tokens, repeat(self.unknown, len(tokens))), dtype=np.int64,
                           count=len(tokens))

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
        found: list[Match] = []
        free = np.ones(len(q), dtype=bool)
        distinct = _Distinct(q)
        rest = free  # after a round: the shingles in long unexplained runs
        # a round: retrieve on the still-free shingles, verify the best candidates, cover greedily; another
        # round only while many tokens are unexplained (a second licence further on) and the last one found some
        for _ in range(_ROUNDS):
            cand = self._retrieve(_sorted_unique(q[free & rest]) if found else distinct.values)
            if found and len(cand):
                seen = {m.spdx for m in found}
                cand = np.array([r for r in cand.tolist() if self.spdx[r] not in seen], dtype=np.int64)
            if not len(cand):
                break
            before = len(found)
            self._greedy(q, ids, covered, free, self._verify(distinct, cand[:_RETRIEVED]), found, distinct)
            if len(found) == before:
                break
            rest = self._long_runs(covered, len(q))
            if not rest.any():
                break
        return found

    @staticmethod
    def _long_runs(covered: np.ndarray, nq: int) -> np.ndarray:
        """Shingle positions inside runs of at least _REST_MIN unexplained tokens (room for another licence)."""
        free = np.zeros(len(covered) + 2, dtype=bool)
        free[1:-1] = ~covered
        edges = (free[1:] != free[:-1]).nonzero()[0]  # where a free run starts, and where it ends
        out = np.zeros(nq, dtype=bool)
        for start, end in zip(edges[::2].tolist(), edges[1::2].tolist()):
            if end - start >= _REST_MIN:
                out[start : max(start, end - K + 1)] = True
        return out

    def _retrieve(self, uq: np.ndarray) -> np.ndarray:
        """Candidate references for the distinct shingles ``uq`` (sorted), best first, at most _PER_EXPRESSION
        per expression."""
        if not len(uq):
            return np.zeros(0, dtype=np.int64)
        # long references are indexed by a sample of their shingles only, so a query shingle outside the sample
        # finds only short ones; both are in one table of distinct hashes
        at = self.post_hashes.searchsorted(uq)
        np.minimum(at, len(self.post_hashes) - 1, out=at)
        at = at[self.post_hashes[at] == uq]
        if not len(at):
            return np.zeros(0, dtype=np.int64)
        left = self.post_start[at]
        counts = self.post_start[at + 1] - left
        total = int(counts.sum())
        offsets = (left - np.concatenate(([0], counts.cumsum()[:-1]))).repeat(counts)
        per_rule = np.bincount(self.post_rules[offsets + np.arange(total)], minlength=len(self.n_index))
        cand = (per_rule >= self.min_hits).nonzero()[0]
        if not len(cand):
            return cand
        hits = per_rule[cand]
        estimate = hits / self.n_index[cand]
        # by estimated matched size x containment; variants of one licence text compete for the same tokens
        value = hits * estimate * self.sample_factor[cand]
        order = (-value).argsort(kind="stable")
        cand, group = cand[order], self.expr_id[cand[order]]
        if len(cand) > _PER_EXPRESSION:
            by_group = group.argsort(kind="stable")
            g = group[by_group]
            rank = np.empty(len(g), dtype=np.int64)
            rank[by_group] = np.arange(len(g)) - g.searchsorted(g, "left")
            cand = cand[rank < _PER_EXPRESSION]
        return cand

    def _verify(self, distinct: _Distinct, cand: np.ndarray) -> dict[int, np.ndarray]:
        """Which query shingle positions are each candidate's shingles (all of them, not only the sampled):
        the distinct query shingles (sorted) searched in each candidate's sorted shingles, spread back to the
        positions."""
        uq = distinct.values
        starts, ends = self.rule_start[cand], self.rule_start[cand + 1]
        at = np.empty((len(cand), len(uq)), dtype=np.int64)
        for i, (start, end) in enumerate(zip(starts.tolist(), ends.tolist())):
            at[i] = self.rule_hashes[start:end].searchsorted(uq)
        at += starts[:, None]
        np.minimum(at, (ends - 1)[:, None], out=at)  # every candidate has shingles: end > start
        matrix = (self.rule_hashes[at] == uq)[:, distinct.inverse]
        n_hit = matrix.sum(axis=1)
        return {int(r): matrix[i] for i, r in enumerate(cand.tolist())
                if n_hit[i] >= self.threshold[r] * self.n_shingles[r]}

    def _greedy(self, q: np.ndarray, ids: np.ndarray, covered: np.ndarray, free: np.ndarray,
                masks: dict[int, np.ndarray], found: list[Match], distinct: _Distinct) -> None:
        """Greedy cover: repeatedly accept the candidate explaining most still-free tokens x containment."""
        scored: dict[int, tuple[float, float, int, int]] = {}
        stale = list(masks)
        matched = {r: mask.nonzero()[0] for r, mask in masks.items()}  # each candidate's matched positions
        while masks:
            for r in stale:  # (re)score the candidates whose tokens changed
                scored.pop(r, None)
                pos = matched[r]
                pos = matched[r] = pos[free[pos]]
                run = self._cluster(pos)
                if run is not None:
                    first, last = run
                    lo, hi = int(pos[first]), int(pos[last]) + 1
                    # distinct shingles matched in the span [lo, hi): its matched positions, unless some repeat
                    n_matched = last + 1 - first if distinct.all_distinct else \
                        len(_sorted_unique(q[pos[first : last + 1]]))
                    cov = n_matched / self.n_shingles[r]
                    # covered tokens only grow, so a reference below its threshold stays below it
                    if cov >= self.threshold[r] and self._has_required(r, ids, lo, hi) and not (
                            self.unversioned_name[r] and self.versionish[ids[hi + K - 1 : hi + K + 2]].any()):
                        scored[r] = ((hi - lo + K - 1) * cov, cov, lo, hi)
                        continue
                del masks[r]
            if not scored:
                break
            # a licence's own text wins a near tie (1%) against a rule that copies it
            best = max(scored, key=lambda r: (scored[r][0] * (1.01 if self.canonical[r] else 1.0), -self.lengths[r]))
            _, cov, lo, hi = scored.pop(best)
            del masks[best]
            covered[lo : hi + K - 1] = True
            free[max(0, lo - K + 1) : hi + K - 1] = False
            found.append(Match(self.spdx[best], self.kind[best], round(float(min(cov, 1.0) * self.relevance[best]), 3),
                               lo, hi + K - 1, self.name[best]))
            a, b = max(0, lo - K + 1), hi + K - 1
            stale = [r for r in masks if masks[r][a:b].any()]

    @staticmethod
    def _cluster(pos: np.ndarray) -> tuple[int, int] | None:
        """The densest run of matched shingle positions ``pos`` (sorted; gaps of at most _GAP): the indexes
        into ``pos`` of its first and last position, or None when there is none."""
        if not len(pos):
            return None
        if pos[-1] - pos[0] <= _GAP:
            return 0, len(pos) - 1
        ends = ((pos[1:] - pos[:-1]) > _GAP).nonzero()[0]  # a run ends at each of these, and at the last
        edges = np.concatenate(([-1], ends, [len(pos) - 1]))
        i = int((edges[1:] - edges[:-1]).argmax())
        return int(edges[i]) + 1, int(edges[i + 1])

    def _match_short(self, ids: np.ndarray, covered: np.ndarray) -> list[Match]:
        """References shorter than K tokens: exact runs, longest first, on tokens no other match explains."""
        n = len(ids)
        # only a position whose token begins some usable run can hold one: pack runs there alone
        starts = self.short_first[ids].nonzero()[0]
        if not len(starts):
            return []
        bands = []
        for length in self.short_lengths:
            pos = starts[: starts.searchsorted(n - length, "right")]
            if len(pos):
                bands.append((length, pos, _pack_at(ids, pos, length) | np.uint64(length << 62)))
        if not bands:
            return []
        codes = np.concatenate([code for _, _, code in bands])
        at = self.short_codes.searchsorted(codes)
        at[at >= len(self.short_codes)] = 0
        hit = self.short_codes[at] == codes
        hit &= self.short_ok[self.short_rule[at]]
        if not hit.any():
            return []
        hits = []  # longest first, then by position
        end = len(codes)
        for length, pos, _ in reversed(bands):
            ok, slots = hit[end - len(pos) : end], at[end - len(pos) : end]
            hits.extend((length, i, slot) for i, slot in zip(pos[ok].tolist(), slots[ok].tolist()))
            end -= len(pos)
        found = []
        for length, i, slot in hits:
            if covered[i : i + length].any():
                continue
            r = int(self.short_rule[slot])
            if not self.short_versioned[r] and self.versionish[ids[i + length : i + length + 3]].any():
                continue  # "Mozilla Public License v. 2.0": the unversioned name is not the licence meant
            covered[i : i + length] = True
            found.append(Match(self.spdx[r], self.kind[r], round(float(self.relevance[r]), 3), i, i + length,
                               self.name[r]))
        return found


def _short_code(run: tuple[int, ...]) -> int:
    """A run of fewer than K token ids (< 2**16 each) packed with its length in the top two bits."""
    code = 0
    for t in run:
        code = (code << 16) | t
    return code | (len(run) << 62)


def _pack_at(ids: np.ndarray, pos: np.ndarray, length: int) -> np.ndarray:
    """The runs of ``length`` (< K) token ids starting at positions ``pos``, each packed into one integer."""
    code = ids[pos].astype(np.uint64)
    for j in range(1, length):
        code = (code << np.uint64(16)) | ids[pos + j].astype(np.uint64)
    return code


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


_CHOICE = re.compile(
    r"\bdual[- ]?licen[cs]ed\b|\bat\s+(?:your|the\s+licensee'?s?|user'?s?)\s+(?:option|choice)\b"
    r"|\b(?:under|of)\s+(?:the\s+terms\s+of\s+)?\W?either\W?\s+(?:of\s+)?(?:the\s+)?(?:following\s+)?licen[cs]es?\b"
    r"|\bunder\s+either\s+of\b|\byou\s+(?:may|can)\s+choose\b|\bchoice\s+of\s+(?:either|one\s+of)\b",
    re.IGNORECASE,
)


def _names_listed(m: Match) -> bool:
    """Whether an SPDX line names a listed licence (an id that is not ``LicenseRef-``)."""
    return any(not t.startswith("LicenseRef-") for t in _operands(m.spdx))


def _evidence(text: str, index: LicenceIndex, listed_line_suffices: bool = False) -> tuple[list[Match], str]:
    """SPDX lines, Korean notices and reference matches; with ``listed_line_suffices``, no reference matching
    after an SPDX line that names a listed licence (:func:`detect_licences` keeps only the lines then)."""
    found: list[Match] = []
    rest = text
    if "spdx" in text or "SPDX" in text or "Spdx" in text:
        for expr, start, end in parse_spdx_lines(text):
            found.append(Match(expr, "spdx", 1.0, start, end, "SPDX-License-Identifier"))
        if found:
            rest = _SPDX_LINE.sub(" ", text)
    for spdx, start, end in korean_notices(text):
        found.append(Match(spdx, "korean", 1.0, start, end, "korean-notice"))
    if listed_line_suffices and any(m.kind == "spdx" and _names_listed(m) for m in found):
        return found, rest
    found.extend(index.match(tokenize(rest)))
    return found, rest


def find_matches(text: str, index: LicenceIndex | None = None) -> list[Match]:
    """Every piece of licence evidence in ``text``: SPDX lines and Korean notices (character offsets) and
    reference matches (token offsets into ``tokenize(text)``, SPDX lines left out)."""
    return _evidence(text, index or default_index())[0]


def _absorb_titles(matches: list[Match]) -> list[Match]:
    """Drop a short reference that is the title of a full text of the same family ("The BSD License" over
    a BSD-2-Clause text is not BSD-3-Clause)."""
    texts = [m for m in matches if m.kind == "text" or (m.kind == "notice" and m.end - m.start >= 40)]
    if not texts:
        return matches
    family = lambda e: re.split(r"[-. ]", e, maxsplit=1)[0].lower()  # noqa: E731
    out = []
    for m in matches:
        if m.kind in ("reference", "tag") and m.end - m.start <= 6 and any(
                t.start - 15 <= m.start <= t.start + 5 and family(t.spdx) == family(m.spdx) for t in texts):
            continue
        out.append(m)
    return out


def _choices(matches: list[Match], rest: str) -> list[Match]:
    """Licences offered as alternatives ("dual-licensed under the ISC and MIT licenses", "either of ... at
    your option"): the single ids named near a choice phrase become one ``OR`` expression."""
    if len({m.spdx for m in matches if m.kind not in ("spdx", "korean")}) < 2:
        return []  # one licence named: nothing to choose between
    low = rest.lower()
    if not any(w in low for w in ("dual", "option", "either", "choose", "choice")):
        return []
    phrases = [m.start() for m in _CHOICE.finditer(rest)]
    if not phrases:
        return []
    last = max((m.start for m in matches if m.kind not in ("spdx", "korean")), default=-1)
    starts = [m.start() for m in islice(_TOKEN.finditer(low), last + 1)]  # token offsets up to the last needed
    near: list[Match] = []
    for m in matches:
        if m.kind in ("spdx", "korean") or " " in m.spdx or m.start >= len(starts) or _SKIP_KEYS.search(m.spdx):
            continue
        at = starts[m.start]
        if any(c - 300 <= at <= c + 400 for c in phrases):
            near.append(m)
    names = list(dict.fromkeys(m.spdx for m in sorted(near, key=lambda m: m.start)))
    if len(names) < 2:
        return []
    score = min(m.score for m in near)
    return [Match(" OR ".join(names), "notice", score, near[0].start, near[-1].end, "choice")]


def detect_licences(text: str, index: LicenceIndex | None = None) -> list[tuple[str, float]]:
    """SPDX expressions of the licences ``text`` states, strongest first: ``[(spdx, score), ...]``.

    An explicit ``SPDX-License-Identifier`` wins over everything else in the same text, unless it names only
    ``LicenseRef-`` ids and the text names a listed licence.
    """
    matches, rest = _evidence(text, index or default_index(), listed_line_suffices=True)
    spdx = [m for m in matches if m.kind == "spdx"]
    listed = [m for m in spdx if _names_listed(m)]
    if listed or (spdx and not any(m.kind not in ("spdx", "korean") for m in matches)):
        matches = spdx + [m for m in matches if m.kind == "korean"]
    elif spdx:
        matches = [m for m in matches if m.kind != "spdx"]
    matches = _absorb_titles(matches)
    matches = _choices(matches, rest) + matches
    order = {"spdx": 0, "korean": 1, "text": 2, "notice": 3, "reference": 4, "tag": 5, "intro": 6, "clue": 7}
    ranked = sorted(matches, key=lambda m: (order[m.kind], -(m.end - m.start) * m.score))
    return _simplify([(m.spdx, m.score, m.kind) for m in ranked])


# ---------------------------------------------------------------------------------------------- command


def detect_row(row: object, text_field: str = "text", id_field: str = "id",
               index: LicenceIndex | None = None) -> dict:
    """One output row ``{"id", "spdx", "score"}`` for one input row; an unusable row gets ``"error"``."""
    if not isinstance(row, dict):
        return {"id": None, "spdx": None, "score": None, "error": "row is not a JSON object"}
    rid = row.get(id_field)
    text = row.get(text_field)
    if not isinstance(text, str):
        what = "missing" if text is None else f"not a string ({type(text).__name__})"
        return {"id": rid, "spdx": None, "score": None, "error": f"field {text_field!r} is {what}"}
    found = detect_licences(text, index)
    return {"id": rid, "spdx": licence_expression(found),
            "score": round(min(s for _, s in found), 3) if found else None}


def run_detect(input_path: str, out_path: str, text_field: str = "text", id_field: str = "id",
               err=None) -> int:
    """`haetae license detect IN.jsonl --out OUT.jsonl`: one output line per input line, in input order.

    A line that is not JSON, not an object or has no string text gets an error row (``"error"`` says why,
    ``"line"`` its line number); nothing is skipped. Exit status 0, or 2 when the input cannot be read.
    """
    import gzip
    import sys

    err = err or sys.stderr
    opener = gzip.open if str(input_path).endswith(".gz") else open
    counts = {"rows": 0, "licensed": 0, "errors": 0}
    try:
        src = opener(input_path, "rt", encoding="utf-8", errors="replace")
    except OSError as exc:
        print(f"haetae license detect: error: cannot read {input_path}: {exc.strerror or exc}", file=err)
        return 2
    index = default_index()
    out_dir = Path(out_path).parent
    out_dir.mkdir(parents=True, exist_ok=True)
    with src, open(out_path, "w", encoding="utf-8") as out:
        for number, line in enumerate(src, 1):
            if not line.strip():
                continue
            counts["rows"] += 1
            try:
                row = json.loads(line)
            except ValueError as exc:
                res = {"id": None, "spdx": None, "score": None, "error": f"invalid JSON: {exc.msg}"}
            else:
                res = detect_row(row, text_field, id_field, index)
            if "error" in res:
                res["line"] = number
                counts["errors"] += 1
            elif res["spdx"]:
                counts["licensed"] += 1
            out.write(json.dumps(res, ensure_ascii=False) + "\n")
    print(f"haetae license detect: {counts['rows']} rows, {counts['licensed']} with a licence, "
          f"{counts['errors']} error rows -> {out_path}", file=err)
    return 0
