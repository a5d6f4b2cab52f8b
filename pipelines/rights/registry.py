"""Protected-works registry: texts a user must not train on, kept as long shingles in a Bloom filter.

A registry answers one question per document: what fraction of its text occurs verbatim in the registered
works? It holds no text. Each registered work is normalised (NFKC, case-folded, letters and digits only: the
char-unit stream of :func:`~haetae.pipelines.dedup.minhash.shingle_text`, so spacing, punctuation and case changes do
not hide a copy), cut into overlapping windows of ``ngram`` characters (default 50; or ``ngram`` words with
``unit="word"``), and each window's 64-bit hash is added to a *split block Bloom filter*: the design of Apache
Parquet's bloom filter spec (also Impala's and Arrow's). A key picks one 256-bit block (eight 32-bit words)
and sets one bit in each word, the bit of word ``i`` taken from ``(key * SALT[i]) >> 27``. A lookup reads one
block, 32 bytes, instead of k scattered bits, and vectorises in numpy as one row gather per key.

Sizing: the false-positive rate of a split block filter holding ``n`` keys in ``b`` blocks is
``sum_j Poisson(j; n/b) * (1 - (31/32)**j) ** 8`` (the load of a block is Poisson; each of its words then has
``j`` random bits set). :func:`blocks_for` finds the least ``b`` that meets the configured rate for the number
of distinct shingles actually registered (counted exactly before the filter is sized, or given as
``capacity``). At a 0.1 % rate this is about 16.6 bits per shingle: 10 M shingles in ~21 MB.

The file (:meth:`Registry.save`): 8-byte magic ``HTREGSB1``, a little-endian uint32 header length, a JSON header
(format, version, filter geometry, hash scheme and seed, unit, ngram, normalisation, counts, target and expected
false-positive rate; no text and no source names), zero padding to a 64-byte boundary, then the blocks as
little-endian uint32 words. Loading memory-maps the words.

:meth:`Registry.match` scores a document: ``shingles`` (its windows, repeats included), ``found`` (windows in
the filter) and ``fraction = found / shingles`` (0.0 for a text shorter than one window). A verbatim copy scores
~1.0, unrelated text ~the false-positive rate, an edited copy in between (a 50-character window survives only
if none of its characters changed).
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import math
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from haetae.errors import UsageError, one_line
from haetae.pipelines.dedup.minhash import distinct, normalize_text, shingle_text

MAGIC = b"HTREGSB1"
FORMAT_VERSION = 1
BLOCK_WORDS = 8  # 8 x 32-bit words = one 256-bit block
SALTS = np.array([0x47B6137B, 0x44974D91, 0x8824AD5B, 0xA2B7289D, 0x705495C7, 0x2DF1424B, 0x9EFC4947, 0x5C6BFB31],
                 dtype=np.uint32)
"""The eight odd multipliers of the Parquet split block Bloom filter spec (one per word of a block)."""
DEFAULT_FPR = 0.001
DEFAULT_NGRAM = {"char": 50, "word": 13}
DEFAULT_SEED = 0x5EED_0F_4E6157  # mixed into every shingle hash; stored in the header
CHUNK = 1 << 16  # keys per vectorised lookup/insert step (keeps the temporaries in cache)
NORMALISATION = {
    "char": "NFKC, casefold, letters and digits only (minhash.shingle_text, no particle folding)",
    "word": "NFKC, casefold, \\w+ tokens (blake2b-64 each)",
}
_HEADER_ALIGN = 64

_POLY_BASE = np.uint64(0x100000001B3)
_M1, _M2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)
_S33, _S32, _S27 = np.uint64(33), np.uint64(32), np.uint32(27)
_WORD = re.compile(r"\w+")


class RegistryError(UsageError):
    """A registry file that cannot be used, or an unusable build input (exit 2, one line naming the path)."""


# ---------------------------------------------------------------------------------------------- hashing


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, in place on a uint64 array (returns it)."""
    h ^= h >> _S33
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    return h


def window_hashes(units: np.ndarray, n: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """uint64 hash of every window of ``n`` consecutive ``units`` (code points or token hashes), in order.

    The window value is the polynomial ``sum_j units[i+j] * B**(n-1-j)`` mod 2**64, built by doubling (the value
    of a window of a+b units is that of its first a units times B**b plus that of its last b), so a window costs
    O(log n) vector operations instead of n; it is then xor-ed with ``seed`` and mixed with fmix64. Empty when
    there are fewer than ``n`` units.
    """
    units = np.asarray(units).astype(np.uint64, copy=False)
    total = len(units)
    if n < 1:
        raise ValueError("n must be >= 1")
    if total < n:
        return np.empty(0, dtype=np.uint64)
    with np.errstate(over="ignore"):
        result: np.ndarray | None = None
        result_len = 0
        cur, cur_len = units, 1
        remaining = n
        while True:
            if remaining & 1:
                if result is None:
                    result, result_len = cur.copy(), cur_len
                else:
                    count = total - (result_len + cur_len) + 1
                    result = result[:count] * (_POLY_BASE ** np.uint64(cur_len)) + cur[result_len:result_len + count]
                    result_len += cur_len
            remaining >>= 1
            if not remaining:
                break
            count = total - 2 * cur_len + 1
            cur = cur[:count] * (_POLY_BASE ** np.uint64(cur_len)) + cur[cur_len:cur_len + count]
            cur_len *= 2
        assert result is not None and result_len == n
        result ^= np.uint64(seed)
        return _fmix64(result)


def _token_hash(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")


def shingle_hashes(text: str, unit: str = "char", n: int | None = None, seed: int = DEFAULT_SEED) -> np.ndarray:
    """uint64 hashes of the ``n``-unit windows of ``text`` after normalisation, in text order, repeats kept."""
    n = n or DEFAULT_NGRAM[unit]
    if unit == "char":
        stream = shingle_text(text)
        units = np.frombuffer(stream.encode("utf-32-le"), dtype=np.uint32)
    elif unit == "word":
        units = np.fromiter((_token_hash(t) for t in _WORD.findall(normalize_text(text))), dtype=np.uint64)
    else:
        raise ValueError(f"unit must be 'char' or 'word', not {unit!r}")
    return window_hashes(units, n, seed)


# ---------------------------------------------------------------------------------------------- filter


def expected_fpr(keys: int, blocks: int) -> float:
    """False-positive rate of a split block Bloom filter of ``blocks`` 256-bit blocks holding ``keys`` keys."""
    if keys <= 0:
        return 0.0
    lam = keys / blocks
    # Poisson terms around the mean; beyond +-12 sigma (and at least 0..60) they no longer count.
    lo = max(0, int(lam - 12 * math.sqrt(lam) - 1))
    hi = int(lam + 12 * math.sqrt(lam) + 60)
    j = np.arange(lo, hi + 1, dtype=np.float64)
    log_pois = j * math.log(lam) - lam - np.array([math.lgamma(x + 1) for x in j])
    per_load = (1.0 - (31.0 / 32.0) ** j) ** BLOCK_WORDS
    return float(np.sum(np.exp(log_pois) * per_load))


def blocks_for(keys: int, fpr: float) -> int:
    """The least number of blocks whose :func:`expected_fpr` for ``keys`` keys is at most ``fpr``."""
    if not 0.0 < fpr < 1.0:
        raise ValueError(f"false-positive rate must be in (0, 1), not {fpr}")
    if keys <= 0:
        return 1
    lo, hi = 1, max(1, keys)
    while expected_fpr(keys, hi) > fpr:
        hi *= 2
    while lo < hi:  # expected_fpr falls as blocks grow
        mid = (lo + hi) // 2
        if expected_fpr(keys, mid) <= fpr:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _block_index(keys: np.ndarray, blocks: int) -> np.ndarray:
    """Block of each key: ((key >> 32) * blocks) >> 32 (Lemire's multiply-shift range reduction)."""
    with np.errstate(over="ignore"):
        return (((keys >> _S32) * np.uint64(blocks)) >> _S32).astype(np.intp)


def _bit_masks(keys: np.ndarray) -> np.ndarray:
    """(len(keys), 8) uint32: word i of a key's block must have bit (low32(key) * SALT[i]) >> 27 set."""
    with np.errstate(over="ignore"):
        low = keys.astype(np.uint32)[:, None] * SALTS[None, :]
    return np.left_shift(np.uint32(1), low >> _S27)


class SplitBlockBloom:
    """A split block Bloom filter over uint64 keys: ``words`` is a (blocks, 8) uint32 array."""

    def __init__(self, words: np.ndarray):
        if words.ndim != 2 or words.shape[1] != BLOCK_WORDS or words.dtype != np.uint32:
            raise ValueError("words must be a (blocks, 8) uint32 array")
        self.words = words

    @classmethod
    def empty(cls, blocks: int) -> SplitBlockBloom:
        return cls(np.zeros((blocks, BLOCK_WORDS), dtype=np.uint32))

    @property
    def blocks(self) -> int:
        return self.words.shape[0]

    @property
    def nbytes(self) -> int:
        return self.words.nbytes

    def add(self, keys: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.uint64)
        flat = self.words.reshape(-1)
        for start in range(0, len(keys), CHUNK):
            part = keys[start:start + CHUNK]
            rows = _block_index(part, self.blocks)
            idx = (rows[:, None] * BLOCK_WORDS + np.arange(BLOCK_WORDS)[None, :]).reshape(-1)
            np.bitwise_or.at(flat, idx, _bit_masks(part).reshape(-1))  # .at: repeated words keep every bit

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Boolean array: True where a key may be in the filter (never False for a key that was added)."""
        keys = np.asarray(keys, dtype=np.uint64)
        out = np.empty(len(keys), dtype=bool)
        for start in range(0, len(keys), CHUNK):
            part = keys[start:start + CHUNK]
            masks = _bit_masks(part)
            missing = (masks & ~self.words[_block_index(part, self.blocks)]).view(np.uint64)  # (n, 4)
            np.equal(missing[:, 0] | missing[:, 1] | missing[:, 2] | missing[:, 3], 0,
                     out=out[start:start + len(part)])
        return out

    def fill_ratio(self) -> float:
        """Share of the filter's bits that are set (about 1 - exp(-keys / (32 * blocks)) when healthy)."""
        return float(np.unpackbits(self.words.view(np.uint8)).mean()) if self.blocks else 0.0


# ---------------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class RegistryMatch:
    """A document against the registry: its windows, those found, and found / shingles (0.0 when none)."""

    shingles: int
    found: int

    @property
    def fraction(self) -> float:
        return self.found / self.shingles if self.shingles else 0.0


class Registry:
    """A loaded (or freshly built) registry: the filter plus the shingling that built it."""

    def __init__(self, bloom: SplitBlockBloom, header: dict[str, Any]):
        self.bloom = bloom
        self.header = header
        self.unit: str = header["unit"]
        self.ngram: int = int(header["ngram"])
        self.seed: int = int(header["seed"])

    # -- scoring
    def hashes(self, text: str) -> np.ndarray:
        return shingle_hashes(text, self.unit, self.ngram, self.seed)

    def match(self, text: str) -> RegistryMatch:
        keys = self.hashes(text)
        if not len(keys):
            return RegistryMatch(0, 0)
        return RegistryMatch(len(keys), int(np.count_nonzero(self.bloom.contains(keys))))

    def fraction(self, text: str) -> float:
        """Share of the text's shingle windows found in the registry (0.0 for a text shorter than one)."""
        return self.match(text).fraction

    # -- file
    def save(self, path: str | os.PathLike) -> int:
        """Write the registry to ``path`` (atomically: a temporary file renamed); returns the file size."""
        header = json.dumps(self.header, sort_keys=True, ensure_ascii=True).encode("ascii")
        head = MAGIC + len(header).to_bytes(4, "little") + header
        head += b"\0" * (-len(head) % _HEADER_ALIGN)
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        with open(tmp, "wb") as fh:
            fh.write(head)
            fh.write(self.bloom.words.astype("<u4", copy=False).tobytes())
        os.replace(tmp, path)
        return path.stat().st_size

    @classmethod
    def load(cls, path: str | os.PathLike, mmap: bool = True) -> Registry:
        """Read a registry written by :meth:`save`; a wrong or damaged file raises :class:`RegistryError`."""
        path = str(path)
        try:
            with open(path, "rb") as fh:
                magic = fh.read(len(MAGIC))
                if magic != MAGIC:
                    raise RegistryError(f"{path}: not a haetae registry (build one with `haetae registry build`)")
                size = int.from_bytes(fh.read(4), "little")
                raw = fh.read(size)
            header = json.loads(raw.decode("ascii"))
        except FileNotFoundError:
            raise RegistryError(f"{path}: no such registry file") from None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise RegistryError(f"{path}: damaged registry header") from None
        if header.get("version") != FORMAT_VERSION or header.get("filter") != "split-block-bloom-256":
            raise RegistryError(f"{path}: registry format {header.get('filter')!r} v{header.get('version')} "
                                f"is not supported (this haetae reads split-block-bloom-256 v{FORMAT_VERSION})")
        offset = len(MAGIC) + 4 + size
        offset += -offset % _HEADER_ALIGN
        blocks = int(header["blocks"])
        expected = offset + blocks * BLOCK_WORDS * 4
        actual = os.path.getsize(path)
        if actual != expected:
            raise RegistryError(f"{path}: truncated or damaged registry ({actual} bytes, header says {expected})")
        if mmap and blocks:
            words = np.memmap(path, dtype="<u4", mode="r", offset=offset, shape=(blocks, BLOCK_WORDS))
        else:
            words = np.fromfile(path, dtype="<u4", offset=offset).reshape(blocks, BLOCK_WORDS)
        return cls(SplitBlockBloom(words.view(np.uint32)), header)


class RegistryBuilder:
    """Collects shingle hashes of the works, then sizes the filter for the distinct count and fills it.

    Without ``capacity`` the distinct hashes are held in memory (8 bytes each, compacted as they come) so the
    filter is sized exactly; with ``capacity`` the filter is sized up front and filled as texts arrive (for
    registries too large to hold the hashes; the header records the real count and the rate it implies).
    """

    def __init__(self, fpr: float = DEFAULT_FPR, unit: str = "char", ngram: int | None = None,
                 seed: int = DEFAULT_SEED, capacity: int | None = None):
        if unit not in DEFAULT_NGRAM:
            raise ValueError(f"unit must be 'char' or 'word', not {unit!r}")
        blocks_for(1, fpr)  # validates the rate
        self.fpr, self.unit, self.seed = fpr, unit, seed
        self.ngram = ngram or DEFAULT_NGRAM[unit]
        if self.ngram < 1:
            raise ValueError("ngram must be >= 1")
        self.capacity = capacity
        self.documents = 0
        self.short_documents = 0  # shorter than one window: nothing registered
        self.windows = 0
        self._parts: list[np.ndarray] = []
        self._pending = 0
        self._distinct: np.ndarray = np.empty(0, dtype=np.uint64)
        self._bloom = SplitBlockBloom.empty(blocks_for(capacity, fpr)) if capacity else None
        self._added = 0

    def add_text(self, text: str) -> int:
        """Register one work; returns its number of windows."""
        keys = shingle_hashes(text, self.unit, self.ngram, self.seed)
        self.add_hashes(keys)
        if not len(keys):
            self.short_documents += 1
        return len(keys)

    def add_hashes(self, keys: np.ndarray) -> None:
        self.documents += 1
        self.windows += len(keys)
        if self._bloom is not None:
            self._bloom.add(keys)
            self._added += len(keys)
            return
        self._parts.append(keys)
        self._pending += len(keys)
        if self._pending >= max(1 << 22, len(self._distinct)):  # amortised: each compaction at least doubles
            self._compact()

    def _compact(self) -> None:
        if self._parts:
            # sort-based (minhash.distinct): numpy 2.4's hash-based np.unique took 47 s on 10 M uint64 here
            self._distinct = distinct(np.concatenate([self._distinct, *self._parts]))
            self._parts, self._pending = [], 0

    def build(self) -> Registry:
        if self._bloom is None:
            self._compact()
            keys = len(self._distinct)
            bloom = SplitBlockBloom.empty(blocks_for(keys, self.fpr))
            bloom.add(self._distinct)
            self._distinct = np.empty(0, dtype=np.uint64)
            counted = "exact"
        else:
            bloom, keys, counted = self._bloom, self._added, "windows (capacity given; repeats counted)"
        header = {
            "format": "haetae protected-works registry",
            "filter": "split-block-bloom-256",
            "version": FORMAT_VERSION,
            "blocks": bloom.blocks,
            "block_words": BLOCK_WORDS,
            "salts": [int(s) for s in SALTS],
            "hash": "polynomial-mod-2^64(B=0x100000001B3) ^ seed, fmix64",
            "seed": self.seed,
            "unit": self.unit,
            "ngram": self.ngram,
            "normalisation": NORMALISATION[self.unit],
            "documents": self.documents,
            "short_documents": self.short_documents,
            "windows": self.windows,
            "shingles": keys,
            "shingles_counted": counted,
            "capacity": self.capacity,
            "fpr_target": self.fpr,
            "fpr_expected": expected_fpr(keys, bloom.blocks),
            "bytes": bloom.nbytes,
            "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        }
        return Registry(bloom, header)


# ---------------------------------------------------------------------------------------------- inputs

_JSONL_SUFFIXES = (".jsonl", ".ndjson")
_PARQUET_SUFFIXES = (".parquet", ".pq")


def _open_maybe_compressed(path: str) -> io.BufferedIOBase:
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    if path.endswith(".zst"):
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)
    return open(path, "rb")


def _strip_codec(path: str) -> str:
    return re.sub(r"\.(?:gz|zst)$", "", path)


def _expand(paths: Iterable[str]) -> list[str]:
    files: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files.extend(os.path.join(root, n) for n in sorted(names) if not n.startswith("."))
        elif os.path.exists(p):
            files.append(p)
        else:
            raise RegistryError(f"{p}: no such file or directory")
    return files


def iter_works(paths: Iterable[str], text_field: str = "text") -> Iterator[str]:
    """Texts of the works under ``paths``: each line's ``text_field`` of JSONL (.jsonl/.ndjson, optionally
    .gz/.zst) and Parquet files; every other file is one work, read whole as UTF-8. Directories are walked
    (hidden entries skipped). An unreadable file raises :class:`RegistryError` naming it."""
    for path in _expand(paths):
        base = _strip_codec(path).lower()
        try:
            if base.endswith(_PARQUET_SUFFIXES):
                import pyarrow.parquet as pq

                table = pq.read_table(path, columns=[text_field])
                for value in table.column(text_field).to_pylist():
                    if isinstance(value, str):
                        yield value
            elif base.endswith(_JSONL_SUFFIXES):
                with _open_maybe_compressed(path) as fh:
                    for lineno, line in enumerate(io.TextIOWrapper(fh, encoding="utf-8"), 1):
                        if not line.strip():
                            continue
                        try:
                            row = json.loads(line)
                        except json.JSONDecodeError:
                            raise RegistryError(f"{path}:{lineno}: not a JSON line") from None
                        value = row.get(text_field) if isinstance(row, dict) else None
                        if not isinstance(value, str):
                            raise RegistryError(f"{path}:{lineno}: no string field {text_field!r}")
                        yield value
            else:
                with _open_maybe_compressed(path) as fh:
                    yield fh.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RegistryError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except (OSError, EOFError) as exc:
            raise RegistryError(f"{path}: cannot read ({one_line(exc)})") from None
        except Exception as exc:  # zstandard.ZstdError, pyarrow's ArrowInvalid: a damaged file
            if isinstance(exc, RegistryError):
                raise
            raise RegistryError(f"{path}: cannot read ({type(exc).__name__}: {one_line(exc)})") from None


def build_registry(paths: Iterable[str], out: str, fpr: float = DEFAULT_FPR, unit: str = "char",
                   ngram: int | None = None, text_field: str = "text", capacity: int | None = None) -> Registry:
    """Register every work under ``paths`` and write the registry file ``out``."""
    builder = RegistryBuilder(fpr=fpr, unit=unit, ngram=ngram, capacity=capacity)
    for text in iter_works(paths, text_field):
        builder.add_text(text)
    registry = builder.build()
    registry.save(out)
    return registry


# ---------------------------------------------------------------------------------------------- commands


def check_rows(registry: Registry, lines: Iterable[str], text_field: str = "text",
               id_field: str = "id") -> Iterator[dict[str, Any]]:
    """One output row per input line: ``{"id", "registry_fraction", "shingles", "found"}``, or, for a line
    that is not a JSON object with a string text, ``{"id", "line", "error"}`` (never skipped). Blank lines
    are not records."""
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield {"id": None, "line": lineno, "error": f"not JSON ({exc.msg})"}
            continue
        if not isinstance(row, dict):
            yield {"id": None, "line": lineno, "error": "not a JSON object"}
            continue
        text = row.get(text_field)
        if not isinstance(text, str):
            yield {"id": row.get(id_field), "line": lineno, "error": f"field {text_field!r} is not a string"}
            continue
        m = registry.match(text)
        yield {"id": row.get(id_field), "registry_fraction": round(m.fraction, 6), "shingles": m.shingles,
               "found": m.found}


def build_command(args, extra: list[str] | None = None) -> int:
    try:
        registry = build_registry(args.paths, args.out, fpr=args.fpr, unit=args.unit, ngram=args.ngram,
                                  text_field=args.text_field, capacity=args.capacity)
    except ValueError as exc:  # RegistryError is one too
        print(f"haetae registry build: error: {exc}", file=sys.stderr)
        return 2
    h = registry.header
    print(f"{args.out}: {h['documents']} works, {h['shingles']} shingles ({h['unit']} {h['ngram']}-grams), "
          f"{os.path.getsize(args.out)} bytes, expected false-positive rate {h['fpr_expected']:.2e}"
          + (f"; {h['short_documents']} works shorter than one window were not registered"
             if h["short_documents"] else ""), file=sys.stderr)
    return 0


def check_command(args, extra: list[str] | None = None) -> int:
    try:
        registry = Registry.load(args.registry)
        src = open(args.input, encoding="utf-8")  # noqa: SIM115 (closed below)
    except RegistryError as exc:
        print(f"haetae registry check: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"haetae registry check: error: {args.input}: cannot read ({exc.strerror})", file=sys.stderr)
        return 2
    rows = errors = 0
    tmp = f"{args.out}.tmp-{os.getpid()}"
    try:
        with src, open(tmp, "w", encoding="utf-8") as dst:
            for row in check_rows(registry, src, args.text_field, args.id_field):
                rows += 1
                errors += "error" in row
                dst.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(tmp, args.out)
    except UnicodeDecodeError as exc:
        os.unlink(tmp)
        print(f"haetae registry check: error: {args.input}: not UTF-8 ({exc.reason})", file=sys.stderr)
        return 2
    print(f"{args.out}: {rows} rows" + (f", {errors} error rows" if errors else ""), file=sys.stderr)
    return 0


def info_command(args, extra: list[str] | None = None) -> int:
    try:
        registry = Registry.load(args.registry)
    except RegistryError as exc:
        print(f"haetae registry info: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(registry.header, indent=2, sort_keys=True))
    return 0
