"""Protected-works registry benchmark: build time, size on disk, lookup throughput, false-positive rate.

    .venv/bin/python bench/registry.py            # 1M and 10M shingles (about 2-3 minutes, ~1 GB peak)
    .venv/bin/python bench/registry.py --quick    # 100k shingles, a smoke run

Works: ~1 KB documents of words drawn at random from the bundled public legal text (Korean) and the licence
files of the installed packages (English), 60 % Korean, written to a JSONL file that ``build_registry`` (the
code of ``haetae registry build``) reads, so build time includes reading and normalising. Random word order
makes every 50-character window new, so the registered shingle count is what the levels say. Queries are
documents made the same way from another seed: none of their windows was registered (a 50-character window of
random words recurs by chance with negligible probability), so every hit is a false positive, and the measured
rate over their windows is compared with the configured one and the filter's expected one. A second measure
draws uniform random 64-bit keys. Lookup throughput is ``Registry.match`` per document (normalise, hash,
probe), and ``SplitBlockBloom.contains`` alone on random keys.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from haetae.pipelines.rights.registry import (  # noqa: E402
    Registry,
    build_registry,
)


def vocabularies() -> tuple[list[str], list[str]]:
    legal = ROOT / "pipelines" / "data" / "legal"
    ko_text = " ".join(Path(p).read_text(encoding="utf-8") for p in glob.glob(str(legal / "**/*.txt"), recursive=True))
    ko = sorted({w for w in ko_text.split() if any("가" <= c <= "힣" for c in w)})
    en_words: set[str] = set()
    for p in glob.glob(str(ROOT / ".venv/lib/python3*/site-packages/*.dist-info/**/LICENSE*"), recursive=True):
        if os.path.isfile(p):
            en_words.update(w for w in Path(p).read_text(encoding="utf-8", errors="replace").split() if w.isalpha())
    return ko, sorted(en_words)


def documents(n_bytes: int, seed: int, ko: list[str], en: list[str], doc_bytes: int = 1000):
    """Yield ~doc_bytes-byte documents until n_bytes of UTF-8 are produced."""
    rng = np.random.default_rng(seed)
    ko_arr, en_arr = np.array(ko, dtype=object), np.array(en, dtype=object)
    produced = 0
    while produced < n_bytes:
        korean = rng.random() < 0.6
        vocab = ko_arr if korean else en_arr
        words = vocab[rng.integers(0, len(vocab), 200 if korean else 180)]
        text = ""
        for w in words:
            text += w + " "
            if len(text.encode("utf-8")) >= doc_bytes:
                break
        produced += len(text.encode("utf-8"))
        yield text.strip()


def write_works(path: str, target_shingles: int, ko: list[str], en: list[str], seed: int) -> int:
    """Write documents until their windows reach target_shingles; returns the number of documents."""
    from haetae.pipelines.dedup.minhash import shingle_text

    windows = docs = 0
    with open(path, "w", encoding="utf-8") as fh:
        for text in documents(1 << 40, seed, ko, en):
            fh.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
            windows += max(0, len(shingle_text(text)) - 49)
            docs += 1
            if windows >= target_shingles:
                break
    return docs


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_level(target: int, fpr: float, ko: list[str], en: list[str], tmp: str, queries: list[str]) -> dict:
    works = os.path.join(tmp, f"works-{target}.jsonl")
    docs = write_works(works, target, ko, en, seed=target)
    reg_path = os.path.join(tmp, f"works-{target}-{fpr}.reg")
    t0, c0 = time.perf_counter(), time.process_time()
    built = build_registry([works], reg_path, fpr=fpr)
    build_s, build_cpu = time.perf_counter() - t0, time.process_time() - c0
    size = os.path.getsize(reg_path)
    works_mb = os.path.getsize(works) / 1e6
    os.unlink(works)

    t0 = time.perf_counter()
    reg = Registry.load(reg_path)
    load_s = time.perf_counter() - t0
    # lookups: whole documents
    query_bytes = sum(len(q.encode("utf-8")) for q in queries)
    t0, c0 = time.perf_counter(), time.process_time()
    matches = [reg.match(q) for q in queries]
    look_s, look_cpu = time.perf_counter() - t0, time.process_time() - c0
    windows = sum(m.shingles for m in matches)
    found = sum(m.found for m in matches)
    # raw probes on random keys
    keys = np.random.default_rng(99).integers(0, 2**64 - 1, 4_000_000, dtype=np.uint64)
    t0 = time.perf_counter()
    hits = int(np.count_nonzero(reg.bloom.contains(keys)))
    probe_s = time.perf_counter() - t0
    h = built.header
    os.unlink(reg_path)
    return {
        "target": target, "fpr": fpr, "documents": docs, "works_mb": round(works_mb, 1),
        "shingles": h["shingles"], "windows": h["windows"], "build_s": round(build_s, 2),
        "build_cpu_s": round(build_cpu, 2), "build_shingles_per_s": round(h["shingles"] / build_s),
        "file_bytes": size, "bits_per_shingle": round(size * 8 / h["shingles"], 2), "load_s": round(load_s, 4),
        "fpr_expected": h["fpr_expected"], "query_docs": len(queries), "query_windows": windows,
        "fpr_measured_docs": found / windows, "fpr_measured_keys": hits / len(keys),
        "lookup_docs_per_s": round(len(queries) / look_s), "lookup_mb_per_s": round(query_bytes / 1e6 / look_s, 2),
        "lookup_cpu_ms_per_kb": round(look_cpu * 1000 / (query_bytes / 1000), 4),
        "lookup_windows_per_s": round(windows / look_s), "probe_keys_per_s": round(len(keys) / probe_s),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100k shingles only")
    ap.add_argument("--query-mb", type=float, default=4.0, help="MB of query documents (default 4)")
    ap.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = ap.parse_args()
    ko, en = vocabularies()
    print(f"vocabulary: {len(ko)} Korean, {len(en)} English words", file=sys.stderr)
    queries = list(documents(int(args.query_mb * 1e6), seed=424242, ko=ko, en=en))
    levels = [(100_000, 0.001)] if args.quick else [
        (1_000_000, 0.01), (1_000_000, 0.001), (1_000_000, 0.0001), (10_000_000, 0.001)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="haetae-registry-bench-") as tmp:
        for target, fpr in levels:
            row = run_level(target, fpr, ko, en, tmp, queries)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    print("| shingles | fpr target | expected | measured (doc windows) | measured (random keys) | build s (CPU s) "
          "| shingles/s built | file MB | bits/shingle | load s | lookup docs/s (1 KB) | lookup MB/s "
          "| CPU ms per KB | probe keys/s |")
    print("|" + "---|" * 14)
    for r in rows:
        print(f"| {r['shingles']:,} | {r['fpr']:g} | {r['fpr_expected']:.2e} | {r['fpr_measured_docs']:.2e} "
              f"({r['query_windows']:,} windows) | {r['fpr_measured_keys']:.2e} | {r['build_s']} ({r['build_cpu_s']}) "
              f"| {r['build_shingles_per_s']:,} | {r['file_bytes'] / 1e6:.2f} | {r['bits_per_shingle']} "
              f"| {r['load_s']} | {r['lookup_docs_per_s']:,} | {r['lookup_mb_per_s']} | {r['lookup_cpu_ms_per_kb']} "
              f"| {r['probe_keys_per_s']:,} |")
    print(f"peak RSS {max(r['peak_rss_mb'] for r in rows)} MB; query set {len(queries)} documents, "
          f"{sum(len(q.encode('utf-8')) for q in queries) / 1e6:.1f} MB")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
