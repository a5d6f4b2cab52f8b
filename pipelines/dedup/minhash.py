"""Pure MinHash deduplication logic: parameters, normalisation, shingling, signatures, banding, clustering.

Everything here is a small pure function (or a class with its set-up in ``__init__``) so it can be unit-tested
by hand and shared by the in-memory API (:func:`near_duplicate_clusters`) and the Beam transform
(:class:`haetae.pipelines.dedup.transforms.Deduplicate`). Both paths use the *same* functions for each step, so they
produce the same clusters on the same data.

Shingling is built for Korean: spacing changes (띄어쓰기) and particle swaps (은/는, 이/가) are common between
copies of one text, so the default unit is character n-grams over the normalised text with all whitespace and
punctuation removed (a spacing change then changes no shingle at all; a particle swap changes ``ngram``
shingles), and the alternating particle syllables are folded (``fold_particles``) so 은/는, 이/가, 을/를, 와/과
swaps change no shingle either. ``unit="morpheme"`` uses kiwipiepy morphemes with particles (J*) and
punctuation dropped instead; on bench/dedup_quality.py it loses to characters (recall 0.78-0.80 against 1.00),
because a spacing change alters Kiwi's segmentation, most of all in English and in bill tables.

Defaults (char 5-grams, folding on, 128 permutations as 32 bands x 4 rows, verification at an estimated
Jaccard of 0.5) were chosen on that benchmark: planted light edits keep a char-5-gram Jaccard >= 0.54 with
their source, heavy edits stay <= 0.3 (one degenerate URL-only document at 0.55), and the banding S-curve
1 - (1 - J^4)^32 gives candidates with probability 0.87 at J = 0.5, 0.99 at 0.6 and 0.9998 at 0.7.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields

import numpy as np

from haetae.pipelines.detectors.chars import code_point_table, code_points
from haetae.pipelines.policy.loader import load_schema

UNITS = ("char", "morpheme")
VERIFY_MODES = ("signature", "shingles")

DEDUP_PARAMS_SCHEMA: dict = load_schema("dedup_params")
"""The ``dedup.minhash`` section of a data policy: policies/schemas/dedup_params.schema.json (its ``unit`` and
``verify`` enums are :data:`UNITS` and :data:`VERIFY_MODES`, a test holds them equal)."""


@dataclass(frozen=True)
class DedupParams:
    """Near-duplicate parameters (the ``dedup.minhash`` section of a data policy).

    num_perm: MinHash signature length. bands * rows must equal num_perm.
    bands, rows: LSH banding. Two documents become a candidate pair when all ``rows`` values of at least one
        band agree; the S-curve 1 - (1 - J**rows)**bands puts the 50 % point near (1/bands)**(1/rows).
    ngram: shingle length in ``unit``s.
    unit: "char" (character n-grams over the letters and digits of the normalised text: whitespace,
        punctuation and symbols removed) or "morpheme" (kiwipiepy morphemes, particles and punctuation dropped).
    threshold: a candidate pair is a duplicate edge when its estimated Jaccard similarity is >= threshold.
    seed: seed of the permutations; signatures are only comparable under the same seed and num_perm.
    max_bucket_size: a bucket with more members is "oversized": instead of all n*(n-1)/2 pairs, each member
        is compared with the bucket's smallest id and with its predecessor in id order (2n pairs).
    fold_particles: map the syllables of alternating Korean particle pairs onto one (는->은, 가->이, 를->을,
        과->와) before char shingling, everywhere in the text, so 은/는-style swaps change no shingle. Both
        sides of a comparison are folded alike; unrelated texts gain a little background similarity.
    verify: how a candidate pair is verified: "signature" (estimated Jaccard from the MinHash signatures) or
        "shingles" (exact Jaccard of the shingle hash sets: no estimator noise, larger verification joins).
        The reported ``similarity`` to the representative is the signature estimate in both modes.
    star_rounds: how the Beam path finds connected components (same result either way): 0 = one union-find
        over the verified edges on one worker; k > 0 = k rounds of large-star/small-star as Beam stages, for
        duplicate graphs too large for one worker (see :class:`haetae.pipelines.dedup.transforms.StarComponents`).
    lsh_partitions: the LSH stage shuffles band keys batched per bundle into this many partitions (by bucket
        hash) instead of one element per (document, band): a bundle of B documents sends at most
        min(bands * B, lsh_partitions) elements. A partition holds bands * N / lsh_partitions (bucket, id)
        entries for a corpus of N documents, so raise it with the corpus (e.g. 65,536 for 10^9 documents).
    """

    num_perm: int = 128
    bands: int = 32
    rows: int = 4
    ngram: int = 5
    unit: str = "char"
    threshold: float = 0.5
    seed: int = 42
    max_bucket_size: int = 100
    fold_particles: bool = True
    star_rounds: int = 0
    lsh_partitions: int = 64
    verify: str = "signature"

    def __post_init__(self) -> None:
        for name in ("num_perm", "bands", "rows", "ngram", "seed", "max_bucket_size", "star_rounds", "lsh_partitions"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"dedup parameter {name!r} must be an integer, got {value!r}")
        for name in ("num_perm", "bands", "rows", "ngram"):
            if getattr(self, name) < 1:
                raise ValueError(f"dedup parameter {name!r} must be >= 1, got {getattr(self, name)}")
        if self.bands * self.rows != self.num_perm:
            raise ValueError(
                f"dedup parameters: bands * rows must equal num_perm ({self.bands} * {self.rows} != {self.num_perm})"
            )
        if self.unit not in UNITS:
            raise ValueError(f"dedup parameter 'unit' must be one of {UNITS}, got {self.unit!r}")
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float) \
                or not 0 < self.threshold <= 1:
            raise ValueError(f"dedup parameter 'threshold' must be a number in (0, 1], got {self.threshold!r}")
        if self.seed < 0:
            raise ValueError(f"dedup parameter 'seed' must be >= 0, got {self.seed}")
        if not isinstance(self.fold_particles, bool):
            raise ValueError(f"dedup parameter 'fold_particles' must be true or false, got {self.fold_particles!r}")
        if self.verify not in VERIFY_MODES:
            raise ValueError(f"dedup parameter 'verify' must be one of {VERIFY_MODES}, got {self.verify!r}")
        if self.lsh_partitions < 1:
            raise ValueError(f"dedup parameter 'lsh_partitions' must be >= 1, got {self.lsh_partitions}")
        if not 0 <= self.star_rounds <= 64:
            raise ValueError(f"dedup parameter 'star_rounds' must be in [0, 64], got {self.star_rounds}")
        if self.max_bucket_size < 2:
            raise ValueError(f"dedup parameter 'max_bucket_size' must be >= 2, got {self.max_bucket_size}")

    @classmethod
    def from_dict(cls, d: dict | None) -> DedupParams:
        """Build from a policy mapping; unknown keys are an error naming them and the known ones."""
        if d is None:
            return cls()
        if not isinstance(d, dict):
            raise ValueError(f"dedup parameters must be a mapping, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown dedup parameter(s) {unknown}; known: {sorted(known)}")
        return cls(**d)

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------------------------------------- text


def _nfkc_casefold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def normalize_text(text: str) -> str:
    """NFKC, case-folded, whitespace runs collapsed to one space, stripped. The basis of the exact key."""
    # str.split() splits at exactly the characters regex \s matches (str.isspace): equal to
    # re.sub(r"\s+", " ", ...).strip(), at a fraction of the cost.
    return " ".join(_nfkc_casefold(text).split())


def exact_key_of_normalized(normalized: str) -> str:
    """:func:`exact_key` of a text whose :func:`normalize_text` is ``normalized``."""
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def exact_key(text: str) -> str:
    """sha256 hex digest of the normalised text: equal keys are exact duplicates."""
    return exact_key_of_normalized(normalize_text(text))


_NON_WORD = re.compile(r"[\W_]")  # dropped from the char-unit stream (whitespace, punctuation, symbols, "_")


_PARTICLE_FOLD = (("는", "은"), ("가", "이"), ("를", "을"), ("과", "와"))


@functools.cache
def _word_chars() -> np.ndarray:
    """Boolean table over all code points: True for the characters the char-unit stream keeps."""
    return code_point_table([(1, _NON_WORD)]) == 0


def _stream_code_points(normalized: str, fold_particles: bool) -> np.ndarray:
    """uint32 code points of :func:`shingle_text`, from the normalised text."""
    if fold_particles:  # folding maps letters to letters one by one, so it commutes with the filter below
        for old, new in _PARTICLE_FOLD:  # str.replace is ~30x faster than str.translate on Hangul
            normalized = normalized.replace(old, new)
    cps = code_points(normalized)
    return cps[_word_chars()[cps]]


def shingle_text(text: str, fold_particles: bool = False) -> str:
    """Normalised text without whitespace, punctuation, symbols and control characters (the char-unit stream:
    letters and digits only), with the alternating Korean particle syllables folded onto one of each pair
    when ``fold_particles``."""
    return _stream_code_points(normalize_text(text), fold_particles).tobytes().decode("utf-32-le")


@functools.lru_cache(maxsize=1)
def _kiwi():
    from kiwipiepy import Kiwi

    return Kiwi()


# Kiwi tags dropped from morpheme shingles: particles (J*) and punctuation/symbols; foreign words (SL),
# Hanja (SH), numbers (SN) and web tokens (W_*) stay.
_DROPPED_TAGS = ("J", "SF", "SP", "SS", "SE", "SO", "SW", "SB")


def morphemes(text: str) -> list[str]:
    """kiwipiepy morpheme forms without particles (J*) and punctuation/symbols."""
    return _morphemes_of_normalized(normalize_text(text))


def _morphemes_of_normalized(normalized: str) -> list[str]:
    return [t.form for t in _kiwi().tokenize(normalized) if not t.tag.startswith(_DROPPED_TAGS)]


def _joined_ngrams(units: list[str], n: int) -> set[str]:
    """Space-joined n-grams of ``units``; all units as one shingle when there are fewer than n."""
    if not units:
        return set()
    if len(units) < n:
        return {" ".join(units)}
    return {" ".join(units[i:i + n]) for i in range(len(units) - n + 1)}


def shingles(text: str, params: DedupParams | None = None) -> set[str]:
    """The set of n-gram shingles of ``text``; a non-empty text shorter than ngram is one shingle."""
    params = params or DedupParams()
    n = params.ngram
    if params.unit == "morpheme":
        return _joined_ngrams(morphemes(text), n)
    stream = shingle_text(text, params.fold_particles)
    if not stream:
        return set()
    if len(stream) < n:
        return {stream}
    return {stream[i:i + n] for i in range(len(stream) - n + 1)}


# ---------------------------------------------------------------------------------------------- MinHash

_POLY_BASE = np.uint64(0x100000001B3)  # odd multiplier of the rolling n-gram hash (mod 2**64)
_MIX_1, _MIX_2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)
_S33, _S32 = np.uint64(33), np.uint64(32)


def _ngram_hashes(cps: np.ndarray, n: int) -> np.ndarray:
    """uint32 hash of each character n-gram of the code points ``cps``, in order, repeats included (one hash
    for a shorter, non-empty stream): the vectorised hash of :func:`char_shingle_hashes`."""
    if not len(cps):
        return np.empty(0, dtype=np.uint32)
    n = min(n, len(cps))
    count = len(cps) - n + 1
    h = cps[:count].astype(np.uint64)
    for k in range(1, n):
        h *= _POLY_BASE
        h += cps[k:k + count]
    h ^= h >> _S33
    h *= _MIX_1
    h ^= h >> _S33
    h *= _MIX_2
    h ^= h >> _S33
    return (h >> _S32).astype(np.uint32)


def char_shingle_hashes(stream: str, n: int) -> np.ndarray:
    """Distinct 32-bit hashes of the character n-grams of ``stream`` (one hash for a shorter, non-empty one).

    Vectorised: a polynomial hash of the n code points (mod 2**64) finished with the MurmurHash3 64-bit
    mixer, top 32 bits. Equal n-grams always hash alike, so this hashes exactly the set :func:`shingles`
    returns, at a fraction of the cost of hashing each shingle string.
    """
    return distinct(_ngram_hashes(np.frombuffer(stream.encode("utf-32-le"), dtype=np.uint32), n))


def _identity(value: int) -> int:
    return value


def _sha1_hash32(value: str) -> int:
    return int.from_bytes(hashlib.sha1(value.encode("utf-8")).digest()[:4], "little")


# MurmurHash3's 32-bit finaliser constants: (shift, multiplier, shift, multiplier, shift).
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))


def fmix32(hashes: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser of a uint32 array (new array): datasketch's affine32 pre-mix."""
    s1, m1, s2, m2, s3 = _FMIX32
    h = hashes ^ (hashes >> s1)
    h *= m1
    h ^= h >> s2
    h *= m2
    h ^= h >> s3
    return h


def affine32_permutations(num_perm: int, seed: int) -> np.ndarray:
    """uint32 array [a, b] (shape (2, num_perm)) of the permutations h -> a * h + b mod 2**32, a odd: the
    same draws from ``np.random.RandomState(seed)`` as datasketch's ``MinHash(num_perm, seed,
    scheme="affine32").permutations`` (vendored: importing datasketch costs ~0.4 s, scipy included)."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return np.array([a, b])


EMPTY_SIGNATURE_VALUE = np.uint32(0xFFFFFFFF)  # every value of the signature of a text without shingles
_BLOCK = 512  # hashes per step of the affine minimum (bounds the (num_perm, _BLOCK) work array)


def distinct(hashes: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a 1-d array: ``np.unique(hashes)``, several times faster on short arrays."""
    ordered = np.sort(hashes)
    keep = np.empty(len(ordered), dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


class MinHasher:
    """Computes datasketch MinHash signatures (scheme "affine32"); the permutations are built once, in
    ``__init__``.

    A signature equals datasketch's ``MinHash(num_perm, seed, hashfunc=identity, scheme="affine32")`` after
    ``update_batch`` of the shingle hashes: char shingles are hashed by :func:`char_shingle_hashes`'s
    vectorised hash, morpheme shingles (strings) with SHA-1 (32 bits), datasketch's default.
    """

    def __init__(self, params: DedupParams | None = None) -> None:
        self.params = params or DedupParams()
        self._permutations = affine32_permutations(self.params.num_perm, self.params.seed)
        # a and b repeated over a block of columns, so the affine step multiplies and adds arrays whose
        # innermost axes are contiguous (a broadcast column a[:, None] is several times slower in numpy).
        self._a_block, self._b_block = (np.repeat(p[:, None], _BLOCK, axis=1) for p in self._permutations)

    def _prepared(self, text: str) -> str:
        """What the shingles of ``text`` are taken from: :func:`normalize_text`, or for char shingles, which
        drop all whitespace, the same text before its whitespace is collapsed (cheaper, same shingles)."""
        return _nfkc_casefold(text) if self.params.unit == "char" else normalize_text(text)

    def _hashes(self, normalized: str) -> np.ndarray:
        """uint32 shingle hashes of the text whose :func:`normalize_text` (or :meth:`_prepared`) is
        ``normalized``; repeats allowed, they change no signature."""
        p = self.params
        if p.unit == "char":
            return _ngram_hashes(_stream_code_points(normalized, p.fold_particles), p.ngram)
        units = _morphemes_of_normalized(normalized)
        return np.array([_sha1_hash32(s) for s in _joined_ngrams(units, p.ngram)], dtype=np.uint32)

    def shingle_hashes(self, text: str) -> np.ndarray:
        """Sorted distinct uint32 hashes of the shingles of ``text``."""
        return distinct(self._hashes(self._prepared(text)))

    def signature(self, text: str, hashes: np.ndarray | None = None) -> np.ndarray:
        """uint32 array of length num_perm; all-max (see :func:`is_empty_signature`) when there is no shingle.
        ``hashes``: this text's :meth:`shingle_hashes`, when already computed."""
        return self._signature_of(self._hashes(self._prepared(text)) if hashes is None else hashes)

    def _signature_of(self, hashes: np.ndarray) -> np.ndarray:
        """Signature of a set of shingle hashes (given as an array, repeats allowed)."""
        if not len(hashes):
            return np.full(self.params.num_perm, EMPTY_SIGNATURE_VALUE, dtype=np.uint32)
        return self._affine_min(fmix32(hashes.astype(np.uint32, copy=False)))

    def _affine_min(self, mixed: np.ndarray) -> np.ndarray:
        """Minimum of a * h + b (mod 2**32) over the pre-mixed hashes h, per permutation, block by block."""
        sig = None
        for start in range(0, len(mixed), _BLOCK):
            block = mixed[start:start + _BLOCK]
            values = np.multiply(self._a_block[:, :len(block)], block)
            values += self._b_block[:, :len(block)]
            block_min = values.min(axis=1)
            sig = block_min if sig is None else np.minimum(sig, block_min, out=sig)
        return sig

    def sketch(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(signature, what verification compares): the signature again, or the shingle hashes when
        ``params.verify == "shingles"``."""
        return self.sketch_normalized(self._prepared(text))

    def sketch_normalized(self, normalized: str) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`sketch` of a text whose :func:`normalize_text` is ``normalized`` (for a caller that also needs
        :func:`exact_key_of_normalized`, so the text is normalised once)."""
        hashes = self._hashes(normalized)
        if self.params.verify == "shingles":
            hashes = distinct(hashes)
            return self._signature_of(hashes), hashes
        sig = self._signature_of(hashes)
        return sig, sig

    def keyed_sketch(self, text: str) -> tuple[str, np.ndarray, np.ndarray]:
        """(:func:`exact_key`, signature, what verification compares) of ``text`` from one normalisation:
        ``(exact_key(text), *self.sketch(text))`` without normalising the text twice."""
        normalized = normalize_text(text)
        return (exact_key_of_normalized(normalized), *self.sketch_normalized(normalized))


def minhash_signature(text: str, params: DedupParams | None = None) -> np.ndarray:
    """One-off signature (builds the permutations each call; use :class:`MinHasher` in loops)."""
    return MinHasher(params).signature(text)


def is_empty_signature(sig: np.ndarray) -> bool:
    """True for the signature of a text without shingles: it takes no part in near-duplicate detection."""
    return bool(np.all(sig == EMPTY_SIGNATURE_VALUE))


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Fraction of equal MinHash values: an unbiased estimate of the shingle-set Jaccard similarity."""
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


def exact_jaccard(hashes_a: np.ndarray, hashes_b: np.ndarray) -> float:
    """Jaccard similarity of two sorted distinct hash arrays (0.0 when both are empty)."""
    inter = len(np.intersect1d(hashes_a, hashes_b, assume_unique=True))
    union = len(hashes_a) + len(hashes_b) - inter
    return inter / union if union else 0.0


def verify_similarity(a: np.ndarray, b: np.ndarray, params: DedupParams) -> float:
    """The similarity a candidate pair is verified with, from the second items of :meth:`MinHasher.sketch`."""
    return exact_jaccard(a, b) if params.verify == "shingles" else estimate_jaccard(a, b)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio: spreads the band indexes


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, elementwise (uint64, wrapping)."""
    h = h ^ (h >> _S33)
    h *= _MIX_1
    h ^= h >> _S33
    h *= _MIX_2
    return h ^ (h >> _S33)


def band_hashes(sigs: np.ndarray, params: DedupParams) -> np.ndarray:
    """LSH bucket keys: a 64-bit hash of (band index, the band's rows) per band, for one signature (shape
    (bands,)) or many (shape (n, bands)), vectorised. Two signatures share a bucket when all rows of one band
    agree; a hash collision (probability ~2^-64 per pair of bands) only adds a candidate pair, which
    verification then rejects."""
    sigs = np.asarray(sigs, dtype=np.uint32)
    rows = sigs.reshape(*sigs.shape[:-1], params.bands, params.rows).astype(np.uint64)
    h = np.broadcast_to(np.arange(1, params.bands + 1, dtype=np.uint64) * _GOLDEN, rows.shape[:-1])
    for j in range(params.rows):
        h = _fmix64(h ^ rows[..., j])
    return h


def band_keys(sig: np.ndarray, params: DedupParams) -> list[int]:
    """The :func:`band_hashes` of one signature as ints; none for an empty signature (no shingles)."""
    return [] if is_empty_signature(sig) else band_hashes(sig, params).tolist()


def bucket_pairs(ids: Iterable[str], max_bucket_size: int) -> tuple[list[tuple[str, str]], bool]:
    """Candidate pairs (a < b) of one LSH bucket and whether the bucket was oversized.

    A bucket of n <= max_bucket_size members yields all pairs. A larger one (usually many near-identical
    boilerplate documents) yields, in id order, (first, x) and (previous, x) for each member x: 2n pairs
    instead of n^2/2. Verified edges still connect true duplicates through the first member or the chain;
    a pair of duplicates that meets only in oversized buckets and is split by a non-duplicate there is missed.
    """
    members = sorted(set(ids))
    n = len(members)
    if n <= max_bucket_size:
        return [(members[i], members[j]) for i in range(n) for j in range(i + 1, n)], False
    pairs = {(members[0], x) for x in members[1:]}
    pairs.update((members[i - 1], members[i]) for i in range(2, n))
    return sorted(pairs), True


# ---------------------------------------------------------------------------------------------- clustering

class UnionFind:
    """Disjoint sets whose root is always the smallest id of its set (deterministic representatives)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:  # path compression
            parent[x], x = root, parent.get(x, x)
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            lo, hi = (ra, rb) if ra < rb else (rb, ra)
            self.parent[hi] = lo
            self.parent.setdefault(lo, lo)

    def mapping(self) -> dict[str, str]:
        """Every id seen (in an edge) -> the smallest id of its component."""
        return {x: self.find(x) for x in list(self.parent)}


def large_star(node: str, neighbours: Iterable[str]) -> list[tuple[str, str]]:
    """Large-star step (Kiveris et al., 2014): link every larger neighbour to the neighbourhood's minimum."""
    neighbours = set(neighbours)
    m = min(neighbours | {node})
    return [(m, v) for v in sorted(neighbours) if v > node and v != m]


def small_star(node: str, neighbours: Iterable[str]) -> list[tuple[str, str]]:
    """Small-star step: link the node and its smaller neighbours to the minimum of those."""
    smaller = {v for v in neighbours if v < node} | {node}
    m = min(smaller)
    return [(m, v) for v in sorted(smaller) if v != m]


def exact_group(ids: Iterable[str]) -> tuple[str, list[str]]:
    """(representative = smallest id, sorted members) of one exact-duplicate group."""
    members = sorted(ids)
    return members[0], members


def cluster_assignments(
    representative: str, groups: Iterable[tuple[str, list[str], np.ndarray]]
) -> Iterator[tuple[str, dict]]:
    """Per-id results of one near-duplicate cluster made of exact groups (group rep, members, signature).

    ``representative`` is the smallest id of the cluster and is itself a group representative. kind is
    "unique" for a cluster of one, "representative" for the cluster's representative, "exact" for an exact
    duplicate of the representative and "near" for everything else; similarity is the estimated Jaccard
    similarity to the representative (1.0 for the representative and its exact duplicates).
    """
    groups = list(groups)
    size = sum(len(members) for _, members, _ in groups)
    rep_sig = next(sig for g, _, sig in groups if g == representative)
    for g, members, sig in groups:
        sim = 1.0 if g == representative else estimate_jaccard(sig, rep_sig)
        for m in members:
            if size == 1:
                kind = "unique"
            elif m == representative:
                kind = "representative"
            elif g == representative:
                kind = "exact"
            else:
                kind = "near"
            yield m, {"cluster": representative, "cluster_size": size, "kind": kind, "similarity": sim}


def dedup_assignments(items: Iterable[tuple[str, str]], params: DedupParams | None = None) -> dict[str, dict]:
    """In-memory reference of :class:`~haetae.pipelines.dedup.transforms.Deduplicate`: id -> result dict.

    Same steps as the Beam path: exact groups by :func:`exact_key`; signature of each group representative;
    LSH buckets per band; candidate pairs by :func:`bucket_pairs`; edges with estimated Jaccard >= threshold;
    connected components with :class:`UnionFind`. Holds everything in memory: for tests, small corpora and
    in-process checks (taxonomy near-duplicates, eval/train leakage), not for the corpus-scale job.
    """
    params = params or DedupParams()
    by_key: dict[str, list[str]] = {}
    normalized: dict[str, str] = {}  # each text is normalised once, for its exact key and its sketch
    for doc_id, text in items:
        if doc_id in normalized:
            raise ValueError(f"duplicate id {doc_id!r} in dedup input")
        normalized[doc_id] = normalize_text(text)
        by_key.setdefault(exact_key_of_normalized(normalized[doc_id]), []).append(doc_id)
    hasher = MinHasher(params)
    groups: dict[str, tuple[list[str], np.ndarray]] = {}
    verify_by: dict[str, np.ndarray] = {}
    for ids in by_key.values():
        rep, members = exact_group(ids)
        sig, verify_by[rep] = hasher.sketch_normalized(normalized[rep])
        groups[rep] = (members, sig)
    buckets: dict[bytes, list[str]] = {}
    for rep, (_, sig) in groups.items():
        for key in band_keys(sig, params):
            buckets.setdefault(key, []).append(rep)
    candidates: set[tuple[str, str]] = set()
    for ids in buckets.values():
        if len(ids) > 1:
            candidates.update(bucket_pairs(ids, params.max_bucket_size)[0])
    uf = UnionFind()
    for a, b in candidates:
        if verify_similarity(verify_by[a], verify_by[b], params) >= params.threshold:
            uf.union(a, b)
    clusters: dict[str, list[str]] = {}
    for rep in groups:
        clusters.setdefault(uf.find(rep), []).append(rep)
    out: dict[str, dict] = {}
    for cluster_rep, reps in clusters.items():
        out.update(cluster_assignments(cluster_rep, ((g, *groups[g]) for g in reps)))
    return out


def near_duplicate_clusters(
    items: Iterable[tuple[str, str]], params: DedupParams | None = None
) -> dict[str, str]:
    """Map every id to its cluster representative (the cluster's smallest id; singletons map to themselves).

    Clusters join exact duplicates (same :func:`exact_key`) and near duplicates (estimated Jaccard of the
    shingle sets >= ``params.threshold``, found by MinHash LSH), transitively. Raises ValueError on a
    repeated id.
    """
    return {doc_id: r["cluster"] for doc_id, r in dedup_assignments(items, params).items()}
