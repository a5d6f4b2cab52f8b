"""Dedup quality on a labelled set built from real text: recall on planted near-duplicates, false merges on
heavily edited non-duplicates, through the Beam path (``Deduplicate``), against a datasketch MinHashLSH
in-memory baseline measured in the same run.

Base documents (mutually distinct: no pair with char-5-gram Jaccard >= 0.3 is kept):
- Korean: paragraph-level chunks (200-600 characters) of the Constitution of the Republic of Korea and ten
  National Assembly bills (pipelines/data/legal/, public legal text, Korean Copyright Act Art. 7);
- English: paragraphs (200-800 characters) of the licence files shipped in the installed packages'
  ``*.dist-info`` folders (read from the virtualenv at run time, not bundled).
Planted near-duplicates per base document (positives; must share the base's cluster):
  spacing (spaces removed/inserted), particles (은/는, 이/가, 을/를, 와/과; English: article/word swaps),
  footer (a source/copyright line appended), word edits (5 % of words replaced/deleted/duplicated), and
  combined (spacing + particles + footer + 3 % word edits).
Planted non-duplicates (negatives; must stay alone): heavy word edits (60 % of words replaced) and rewrite
(first 35 % kept, the rest replaced by other corpus words).

Usage: python bench/dedup_quality.py [--positives-per-doc 3] [--units] [--runner-mode in_memory]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
KO_DIR = HERE.parent / "pipelines" / "data" / "legal"  # bundled with its provenance (PROVENANCE.md)

KO_FOOTERS = [
    "출처: 국가법령정보센터",
    "자료 제공: 국회 의안정보시스템 (무단 전재 및 재배포 금지)",
    "※ 이 자료는 참고용이며 법적 효력이 없습니다.",
    "원문 보기 | 목록으로 돌아가기 | 인쇄",
]
EN_FOOTERS = [
    "Source: project repository. All rights reserved.",
    "-- retrieved from the package metadata",
    "Copyright (c) the contributors. See the NOTICE file.",
    "[back to top] [print] [share]",
]
KO_PARTICLES = [("은", "는"), ("는", "은"), ("이", "가"), ("가", "이"), ("을", "를"), ("를", "을"),
                ("와", "과"), ("과", "와"), ("에서", "에"), ("으로", "로")]
EN_SWAPS = [("the", "a"), ("a", "the"), ("shall", "will"), ("may", "can"), ("any", "every"), ("of", "for")]


# ----------------------------------------------------------------------------------------- base documents

def chunk_lines(text: str, min_chars: int, max_chars: int) -> list[str]:
    """Consecutive non-empty lines joined until min_chars (a paragraph-level document), capped at max_chars."""
    docs, current = [], ""
    for line in text.splitlines():
        line = " ".join(line.split())
        if not line or re.fullmatch(r"[-–—\s\d]+", line):
            continue
        current = f"{current} {line}".strip() if current else line
        if len(current) >= min_chars:
            docs.append(current[:max_chars])
            current = ""
    return docs


def korean_docs() -> list[str]:
    docs = []
    for path in [*sorted(KO_DIR.glob("ko_bills/*.txt")), KO_DIR / "ko_constitution.txt"]:
        docs += chunk_lines(path.read_text(encoding="utf-8"), 200, 600)
    return docs


def english_docs(limit: int) -> list[str]:
    site = sorted(glob.glob(os.path.join(sys.prefix, "lib", "python3*", "site-packages", "*.dist-info")))
    paths = sorted(p for d in site for p in glob.glob(os.path.join(d, "**", "LICEN[CS]E*"), recursive=True)
                   if os.path.isfile(p))
    docs = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for para in re.split(r"\n\s*\n", text):
            para = " ".join(para.split())
            if 200 <= len(para) <= 800 and sum(c.isalpha() for c in para) > 0.6 * len(para):
                docs.append(para)
    return docs[: limit * 20]


def distinct(docs: list[str], max_jaccard: float, limit: int) -> list[str]:
    """Greedy: keep a document only if its char-5-gram Jaccard to every kept one is below max_jaccard."""
    from haetae.pipelines.dedup.minhash import DedupParams, shingles

    params = DedupParams(ngram=5)
    kept, kept_sets = [], []
    for doc in docs:
        s = shingles(doc, params)
        if s and all(len(s & t) / len(s | t) < max_jaccard for t in kept_sets):
            kept.append(doc)
            kept_sets.append(s)
            if len(kept) >= limit:
                break
    return kept


# ----------------------------------------------------------------------------------------- edits

def is_korean(text: str) -> bool:
    return sum("가" <= c <= "힣" for c in text) > 0.2 * len(text)


def edit_spacing(text: str, rng: random.Random) -> str:
    out = []
    for ch in text:
        if ch == " " and rng.random() < 0.3:
            continue  # 띄어쓰기 removed
        out.append(ch)
        if ch.isalpha() and rng.random() < 0.04:
            out.append(" ")  # space inserted inside a word
    return "".join(out)


def edit_particles(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    if is_korean(text):
        for i, w in enumerate(words):
            for a, b in KO_PARTICLES:
                if w.endswith(a) and len(w) > len(a) and rng.random() < 0.5:
                    words[i] = w[: -len(a)] + b
                    break
    else:
        for i, w in enumerate(words):
            for a, b in EN_SWAPS:
                if w.lower() == a and rng.random() < 0.5:
                    words[i] = b
                    break
    return " ".join(words)


def edit_footer(text: str, rng: random.Random) -> str:
    return text + "\n" + rng.choice(KO_FOOTERS if is_korean(text) else EN_FOOTERS)


def edit_words(text: str, rng: random.Random, vocab: list[str], rate: float) -> str:
    out = []
    for w in text.split(" "):
        r = rng.random()
        if r < rate / 3:
            out.append(rng.choice(vocab))  # replaced
        elif r < 2 * rate / 3:
            continue  # deleted
        elif r < rate:
            out += [w, w]  # duplicated
        else:
            out.append(w)
    return " ".join(out)


def replace_words(text: str, rng: random.Random, vocab: list[str], rate: float) -> str:
    return " ".join(rng.choice(vocab) if rng.random() < rate else w for w in text.split(" "))


def rewrite(text: str, rng: random.Random, vocab: list[str]) -> str:
    words = text.split(" ")
    keep = max(1, int(len(words) * 0.35))
    return " ".join(words[:keep] + [rng.choice(vocab) for _ in range(len(words) - keep)])


LIGHT = {
    "spacing": lambda t, rng, v: edit_spacing(t, rng),
    "particles": lambda t, rng, v: edit_particles(t, rng),
    "footer": lambda t, rng, v: edit_footer(t, rng),
    "word_edits_5pct": lambda t, rng, v: edit_words(t, rng, v, 0.05),
    "combined": lambda t, rng, v: edit_footer(edit_particles(edit_spacing(edit_words(t, rng, v, 0.03), rng), rng), rng),
}
HEAVY = {
    "replace_60pct": lambda t, rng, v: replace_words(t, rng, v, 0.6),
    "rewrite_65pct": lambda t, rng, v: rewrite(t, rng, v),
}


def build_labelled_set(positives_per_doc: int, en_limit: int, seed: int = 7):
    """(items [(id, text)], labels {id: (kind, variant, base id)})."""
    rng = random.Random(seed)
    ko = distinct(korean_docs(), 0.3, 10_000)
    en = distinct(english_docs(en_limit), 0.3, en_limit)
    items, labels = [], {}
    vocab = {"ko": sorted({w for d in ko for w in d.split()}), "en": sorted({w for d in en for w in d.split()})}
    light_names, heavy_names = sorted(LIGHT), sorted(HEAVY)
    for lang, docs in (("ko", ko), ("en", en)):
        for i, doc in enumerate(docs):
            base = f"{lang}-{i:04d}"
            items.append((base, doc))
            labels[base] = ("base", "base", base)
            for k in range(positives_per_doc):
                name = light_names[(i + k) % len(light_names)]
                vid = f"{base}-dup{k}-{name}"
                items.append((vid, LIGHT[name](doc, rng, vocab[lang])))
                labels[vid] = ("dup", name, base)
            name = heavy_names[i % len(heavy_names)]
            vid = f"{base}-neg-{name}"
            items.append((vid, HEAVY[name](doc, rng, vocab[lang])))
            labels[vid] = ("nondup", name, base)
    rng.shuffle(items)
    return items, labels, {"ko_base": len(ko), "en_base": len(en)}


def throughput_corpus(items, n_docs: int, dup_fraction: float = 0.2, seed: int = 11) -> list[tuple[str, str]]:
    """n_docs documents: unique ones made of 3-5 random real sentences of the labelled set, plus light-edited
    copies of some of them (dup_fraction), so banding, verification and components all carry load."""
    rng = random.Random(seed)
    sentences = sorted({s for _, t in items for s in re.split(r"(?<=[.!?다])\s+", t) if len(s) > 30})
    vocab = sorted({w for s in sentences for w in s.split()})
    n_unique = int(n_docs * (1 - dup_fraction))
    docs = [(f"u{i:07d}", " ".join(rng.sample(sentences, rng.randint(3, 5)))) for i in range(n_unique)]
    light = sorted(LIGHT)
    for i in range(n_docs - n_unique):
        src_id, src = docs[rng.randrange(n_unique)]
        docs.append((f"{src_id}-c{i:07d}", LIGHT[light[i % len(light)]](src, rng, vocab)))
    rng.shuffle(docs)
    return docs


# ----------------------------------------------------------------------------------------- scoring

def score(clusters: dict[str, str], labels: dict) -> dict:
    """recall: dup in its base's cluster; false merge: non-dup in any cluster of size > 1, or two base
    documents (mutually distinct by construction) in one cluster."""
    sizes: dict[str, int] = {}
    for rep in clusters.values():
        sizes[rep] = sizes.get(rep, 0) + 1
    per_variant: dict[str, list[int]] = {}
    dup_hits = dup_total = neg_merged = neg_total = 0
    base_of_cluster: dict[str, set] = {}
    for doc_id, (kind, variant, base) in labels.items():
        if kind == "dup":
            hit = clusters[doc_id] == clusters[base]
            dup_hits += hit
            dup_total += 1
            per_variant.setdefault(variant, [0, 0])
            per_variant[variant][0] += hit
            per_variant[variant][1] += 1
        elif kind == "nondup":
            merged = sizes[clusters[doc_id]] > 1
            neg_merged += merged
            neg_total += 1
            per_variant.setdefault(variant, [0, 0])
            per_variant[variant][0] += merged
            per_variant[variant][1] += 1
        else:
            base_of_cluster.setdefault(clusters[doc_id], set()).add(doc_id)
    merged_bases = sum(len(b) for b in base_of_cluster.values() if len(b) > 1)
    n_bases = sum(len(b) for b in base_of_cluster.values())
    return {
        "recall": dup_hits / dup_total,
        "false_merge_rate": (neg_merged + merged_bases) / (neg_total + n_bases),
        "nondup_merged": neg_merged,
        "nondup_total": neg_total,
        "base_docs_merged": merged_bases,
        "base_docs": n_bases,
        "dups_found": dup_hits,
        "dups_total": dup_total,
        "per_variant": {k: f"{v[0]}/{v[1]}" for k, v in sorted(per_variant.items())},
    }


def run_beam(items, params, runner_mode: str) -> tuple[dict[str, str], float, dict]:
    """Deduplicate through Beam as a job does: JSONL file -> ReadRecords -> Deduplicate -> JSONL file.

    (beam.Create would pickle and bz2-compress the whole corpus into the pipeline, which is not what a job
    pays.) The time includes reading and writing, not writing the input file.
    """
    import tempfile

    import apache_beam as beam
    from apache_beam.metrics.metric import MetricsFilter
    from apache_beam.options.pipeline_options import PipelineOptions

    from haetae.pipelines.dedup.transforms import NAMESPACE, Deduplicate
    from haetae.pipelines.io.beam_io import ReadRecords

    with tempfile.TemporaryDirectory(prefix="haetae_dedup_bench_") as tmp:
        src = Path(tmp, "in.jsonl")
        with src.open("w", encoding="utf-8") as f:
            for doc_id, text in items:
                f.write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")
        opts = PipelineOptions(["--runner=haetae.pipelines.runners.options.DirectRunner", f"--direct_running_mode={runner_mode}",
                                f"--direct_num_workers={1 if runner_mode == 'in_memory' else 2}"])
        t0 = time.perf_counter()
        p = beam.Pipeline(options=opts)
        records = (p | ReadRecords([str(src)])).records
        _ = (
            records
            | beam.Map(lambda r: (r["id"], r["text"]))
            | Deduplicate(params)
            | beam.MapTuple(lambda i, r: json.dumps([i, r["cluster"]]))
            | beam.io.WriteToText(f"{tmp}/out", num_shards=1, shard_name_template="")
        )
        result = p.run()
        result.wait_until_finish()
        elapsed = time.perf_counter() - t0
        counters = {c.key.metric.name: c.committed for c in
                    result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]}
        clusters = dict(json.loads(line) for line in Path(tmp, "out").read_text(encoding="utf-8").splitlines())
    return clusters, elapsed, counters


def run_local_audit(items, params) -> tuple[dict[str, str], float]:
    """The default runner end to end: ``haetae audit --runner local`` (2 workers) on the labelled set as JSONL,
    with a policy that keeps everything but duplicates, clusters read back from the ledger by input line."""
    import tempfile

    import pyarrow.parquet as pq
    import yaml

    from haetae.pipelines.audit.job import run_audit

    root = Path(__file__).resolve().parents[1]
    policy = yaml.safe_load((root / "policies" / "data_policy.yaml").read_text(encoding="utf-8"))
    policy["pii"].update(default={"action": "keep"}, entities={},
                         recognizers=str(root / "policies" / policy["pii"]["recognizers"]))
    policy["rights"]["detectors"] = str(root / "policies" / policy["rights"]["detectors"])
    policy["pii"].pop("max_redactions", None)
    policy["rights"]["licences"] = {"allow": [], "deny": [], "unknown": "keep"}
    policy["rights"]["copyright"] = {"notice_without_allowed_licence": "keep"}
    policy["quality"] = {"max_symbol_ratio": 1.0, "max_repeated_line_ratio": 1.0}
    policy["validation"] = {"max_duplicate_rate": 1.0, "max_quarantine_rate": 1.0}
    policy["dedup"]["minhash"] = params.to_dict()
    with tempfile.TemporaryDirectory(prefix="haetae_dedup_local_") as tmp:
        src, policy_file = Path(tmp, "in.jsonl"), Path(tmp, "policy.yaml")
        policy_file.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
        with src.open("w", encoding="utf-8") as f:
            for doc_id, text in items:
                f.write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")
        t0 = time.perf_counter()
        run_audit([str(src)], str(Path(tmp, "out")), policy_path=str(policy_file), runner="local", workers=2,
                  report=False, progress=False)
        elapsed = time.perf_counter() - t0
        ids = [doc_id for doc_id, _ in items]
        clusters = {doc_id: doc_id for doc_id in ids}
        for shard in sorted(Path(tmp, "out", "ledger").glob("*.parquet")):
            for row in pq.read_table(shard, columns=["line", "dup_cluster", "decision"]).to_pylist():
                if row["decision"] == "quarantine":
                    raise SystemExit(f"the local audit quarantined line {row['line']}: fix the bench policy")
                if row["dup_cluster"]:
                    clusters[ids[row["line"] - 1]] = row["dup_cluster"]
    return clusters, elapsed


def run_datasketch_lsh(items, params) -> tuple[dict[str, str], float]:
    """Peer: datasketch MinHashLSH in memory (one index over the corpus), same shingles, union-find."""
    from datasketch import MinHash, MinHashLSH

    from haetae.pipelines.dedup.minhash import UnionFind, shingles

    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=params.threshold, num_perm=params.num_perm)
    perms = MinHash(num_perm=params.num_perm, seed=params.seed).permutations
    uf = UnionFind()
    for doc_id, text in items:
        m = MinHash(num_perm=params.num_perm, seed=params.seed, permutations=perms, scheme="affine32")
        m.update_batch([s.encode("utf-8") for s in shingles(text, params)])
        for other in lsh.query(m):
            uf.union(doc_id, other)
        lsh.insert(doc_id, m)
    elapsed = time.perf_counter() - t0
    return {doc_id: uf.find(doc_id) for doc_id, _ in items}, elapsed


def print_throughput(title: str, items, timings: list[tuple[str, float]]) -> None:
    n_chars = sum(len(t) for _, t in items)
    n_bytes = sum(len(t.encode("utf-8")) for _, t in items)
    peer_s = dict(timings)["datasketch MinHashLSH peer"]
    print(f"\nthroughput on the {title} ({n_bytes / 1e6:.1f} MB; shared 2-core machine, compare ratios):")
    for name, secs in timings:
        print(f"  {name:38s} {secs:7.2f} s {len(items) / secs:7.0f} docs/s {n_chars / secs / 1e3:6.0f} kchar/s "
              f"{n_bytes / secs / 1e6:5.2f} MB/s  (x{peer_s / secs:.2f} of the peer)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positives-per-doc", type=int, default=3)
    parser.add_argument("--en-limit", type=int, default=250, help="maximum English base documents")
    parser.add_argument("--runner-mode", default="in_memory", choices=["in_memory", "multi_processing"])
    parser.add_argument("--units", action="store_true", help="also compare shingle units/sizes (in-memory path)")
    parser.add_argument("--throughput-docs", type=int, default=20000,
                        help="size of the synthetic throughput corpus (0: skip)")
    parser.add_argument("--ngram", type=int, help="override DedupParams.ngram")
    parser.add_argument("--threshold", type=float, help="override DedupParams.threshold")
    parser.add_argument("--verify", choices=["signature", "shingles"], help="override DedupParams.verify")
    args = parser.parse_args()

    from haetae.pipelines.dedup.minhash import DedupParams, near_duplicate_clusters

    items, labels, base_counts = build_labelled_set(args.positives_per_doc, args.en_limit)
    n_chars = sum(len(t) for _, t in items)
    print(f"labelled set: {len(items)} documents ({base_counts['ko_base']} Korean and {base_counts['en_base']} "
          f"English base documents), {n_chars / 1e6:.2f} M characters")
    params = DedupParams()
    overrides = {k: v for k, v in (("ngram", args.ngram), ("threshold", args.threshold), ("verify", args.verify))
                 if v is not None}
    params = replace(params, **overrides)
    print(f"params: {params.to_dict()}")

    if args.units:
        print("\nshingle unit comparison (in-memory path, same banding/verification):")
        for unit, ngram, fold in [("char", 3, True), ("char", 4, True), ("char", 5, True), ("char", 6, True),
                                  ("char", 4, False), ("char", 5, False), ("morpheme", 1, False),
                                  ("morpheme", 2, False)]:
            p = replace(params, unit=unit, ngram=ngram, fold_particles=fold)
            t0 = time.perf_counter()
            s = score(near_duplicate_clusters(items, p), labels)
            print(f"  {unit:8s} n={ngram} fold={fold!s:5s}: recall {s['recall']:.4f}  false-merge {s['false_merge_rate']:.4f}  "
                  f"({time.perf_counter() - t0:.1f}s) {s['per_variant']}")

    clusters, beam_s, counters = run_beam(items, params, args.runner_mode)
    beam_score = score(clusters, labels)
    t0 = time.perf_counter()
    mem = near_duplicate_clusters(items, params)
    mem_s = time.perf_counter() - t0
    peer, peer_s = run_datasketch_lsh(items, params)
    peer_score = score(peer, labels)
    local, local_s = run_local_audit(items, params)
    local_score = score(local, labels)

    print(f"\nBeam Deduplicate (DirectRunner {args.runner_mode}):")
    print(f"  recall on planted near-duplicates: {beam_score['recall']:.4f} "
          f"({beam_score['dups_found']}/{beam_score['dups_total']})")
    print(f"  false-merge rate: {beam_score['false_merge_rate']:.4f} (non-duplicates merged "
          f"{beam_score['nondup_merged']}/{beam_score['nondup_total']}, distinct base documents merged "
          f"{beam_score['base_docs_merged']}/{beam_score['base_docs']})")
    print(f"  per variant (dups found / non-dups merged): {beam_score['per_variant']}")
    print(f"  counters: {dict(sorted(counters.items()))}")
    print(f"  identical to the in-memory reference: {clusters == mem}")
    print(f"haetae audit, default local runner (whole audit, {local_s:.1f} s): recall {local_score['recall']:.4f} "
          f"({local_score['dups_found']}/{local_score['dups_total']}), false-merge rate "
          f"{local_score['false_merge_rate']:.4f} (non-duplicates merged {local_score['nondup_merged']}, base "
          f"documents merged {local_score['base_docs_merged']}); per variant {local_score['per_variant']}")
    print(f"peer datasketch MinHashLSH(threshold={params.threshold}) in memory: recall {peer_score['recall']:.4f}, "
          f"false-merge rate {peer_score['false_merge_rate']:.4f}")
    print_throughput(f"labelled set, {len(items)} docs", items,
                     [(f"Beam Deduplicate ({args.runner_mode})", beam_s), ("in-memory reference", mem_s),
                      ("datasketch MinHashLSH peer", peer_s)])
    if args.throughput_docs:
        big = throughput_corpus(items, args.throughput_docs)
        timings = []
        for mode in ("multi_processing", "in_memory"):
            beam_clusters, secs, big_counters = run_beam(big, params, mode)
            timings.append((f"Beam Deduplicate ({mode})", secs))
        star_clusters, secs, _ = run_beam(big, replace(params, star_rounds=3), "in_memory")
        timings.append(("Beam in_memory, StarComponents(3)", secs))
        t0 = time.perf_counter()
        reference = near_duplicate_clusters(big, params)
        timings.append(("in-memory reference", time.perf_counter() - t0))
        print(f"  Beam (union-find), Beam (3 star rounds) and in-memory reference agree: "
              f"{beam_clusters == star_clusters == reference}")
        timings.append(("datasketch MinHashLSH peer", run_datasketch_lsh(big, params)[1]))
        print(f"  counters: {dict(sorted(big_counters.items()))}")
        print_throughput(f"synthetic corpus of real sentences, {len(big)} docs", big, timings)
    ok = all(s["recall"] >= 0.98 and s["false_merge_rate"] <= 0.01 for s in (beam_score, local_score))
    print(f"\ntarget (recall >= 0.98, false merges <= 1%): {'MET' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
