"""Korean names and addresses: P/R/F1 per entity and throughput, Haetae's scanner vs stock Presidio.

Usage: python bench/ko_pii.py [bench/data/ko_pii_names_addresses.jsonl]

The labelled set is hand-written (news bylines, forms, delivery messages, chat, court judgements, and
sentences without PII); its names use surnames with invented given names, and the recogniser has no list
of given names. Only PERSON and KR_ADDRESS spans are scored (other PII the scanners find is not labelled
there); stock Presidio's LOCATION counts as KR_ADDRESS. A span counts when type, start and end match
exactly ("exact"), or, in the second table, when it overlaps a labelled span of its type ("overlap").

Throughput: sentences/s over the set, Kiwi loaded beforehand and its candidate cache emptied, so the
number is what a worker sees on fresh text. Then the cost per 1 KB Korean document, with the two new
recognisers switched on and off, on text without names (the constitution) and on text dense with them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

ENTITIES = ("PERSON", "KR_ADDRESS")
STOCK_TYPES = {"PERSON": "PERSON", "LOCATION": "KR_ADDRESS"}
CONSTITUTION = BENCH.parent / "pipelines" / "data" / "legal" / "ko_constitution.txt"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def haetae_predict(scanner):
    def predict(text: str) -> list[tuple[int, int, str]]:
        return [(s.start, s.end, s.type) for s in scanner.scan(text, "ko") if s.type in ENTITIES]

    return predict


def stock_predict(analyzer):
    def predict(text: str) -> list[tuple[int, int, str]]:
        results = analyzer.analyze(text=text, language="ko")
        return [(r.start, r.end, STOCK_TYPES[r.entity_type]) for r in results if r.entity_type in STOCK_TYPES]

    return predict


def score(rows: list[dict], predictions: list[list[tuple[int, int, str]]], overlap: bool) -> dict[str, dict]:
    """Per entity: tp, fp, fn, precision, recall, f1."""
    table = {}
    for entity in (*ENTITIES, "ALL"):
        tp = fp = fn = 0
        for row, predicted in zip(rows, predictions, strict=True):
            gold = [(s["start"], s["end"], s["type"]) for s in row["spans"] if entity in ("ALL", s["type"])]
            mine = [p for p in predicted if entity in ("ALL", p[2])]
            matched = set()
            for p in mine:
                hit = next((g for g in gold if g not in matched and g[2] == p[2] and
                            ((g[0] < p[1] and p[0] < g[1]) if overlap else g[:2] == p[:2])), None)
                if hit is None:
                    fp += 1
                else:
                    matched.add(hit)
                    tp += 1
            fn += len(gold) - len(matched)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table[entity] = {"tp": tp, "fp": fp, "fn": fn, "precision": round(precision, 3), "recall": round(recall, 3),
                         "f1": round(f1, 3)}
    return table


def timed(predict, texts: list[str]) -> tuple[list, float]:
    started = time.perf_counter()
    predictions = [predict(text) for text in texts]
    return predictions, time.perf_counter() - started


def per_kb_ms(scanner, documents: list[str], cold: bool = True) -> float:
    """Milliseconds of ``scanner.scan`` per 1,000 UTF-8 bytes over ``documents`` (Korean); ``cold`` empties
    the cache of Kiwi's verdicts first (a worker's first documents), else it is kept (a worker later on)."""
    from haetae.pipelines.pii.recognizers.korea_names import kiwi_reads_as_name, kiwi_vetoes

    if cold:
        kiwi_vetoes.cache_clear()
        kiwi_reads_as_name.cache_clear()
    size = sum(len(d.encode("utf-8")) for d in documents)
    started = time.perf_counter()
    for document in documents:
        scanner.scan(document, "ko")
    return (time.perf_counter() - started) * 1e3 / (size / 1000)


def chunks_of_1kb(text: str) -> list[str]:
    """Consecutive pieces of about 1,000 UTF-8 bytes (Hangul is 3 bytes a character)."""
    return [text[i : i + 333] for i in range(0, len(text) - 333, 333)]


def print_table(title: str, tables: dict[str, dict]) -> None:
    print(f"\n{title}")
    print(f"{'system':8} {'entity':11} {'P':>6} {'R':>6} {'F1':>6} {'tp':>4} {'fp':>4} {'fn':>4}")
    for system, table in tables.items():
        for entity, row in table.items():
            print(f"{system:8} {entity:11} {row['precision']:6.3f} {row['recall']:6.3f} {row['f1']:6.3f} "
                  f"{row['tp']:4d} {row['fp']:4d} {row['fn']:4d}")


def main(argv: list[str]) -> None:
    from audit_throughput import stock_analyzer

    from haetae.pipelines.pii.recognizers.korea_names import kiwi_reads_as_name, kiwi_vetoes, shared_kiwi
    from haetae.pipelines.pii.scanner import PiiScanner, load_config

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)  # stock: "not added to registry" lines

    rows = load(Path(argv[0]) if argv else BENCH / "data" / "ko_pii_names_addresses.jsonl")
    texts = [row["text"] for row in rows]
    started = time.perf_counter()
    shared_kiwi().analyze("홍길동", top_n=1)  # model load and first-call warm-up, outside the timing
    kiwi_load_s = time.perf_counter() - started
    scanner = PiiScanner.from_config()
    stock = stock_analyzer()
    for predict in (haetae_predict(scanner), stock_predict(stock)):  # warm both (Presidio's lazy parts)
        predict(texts[0])
    kiwi_vetoes.cache_clear()
    kiwi_reads_as_name.cache_clear()
    haetae, haetae_s = timed(haetae_predict(scanner), texts)
    stock_predictions, stock_s = timed(stock_predict(stock), texts)
    n_spans = {e: sum(s["type"] == e for r in rows for s in r["spans"]) for e in ENTITIES}
    print(f"set: {len(rows)} sentences, spans {n_spans}")
    for overlap in (False, True):
        print_table("overlap match" if overlap else "exact match",
                    {"haetae": score(rows, haetae, overlap), "stock": score(rows, stock_predictions, overlap)})
    print(f"\nthroughput (sentences/s): haetae {len(texts) / haetae_s:,.0f}, stock {len(texts) / stock_s:,.0f}"
          f"  (Kiwi load + warm-up once per process: {kiwi_load_s:.1f} s)")

    config = load_config()
    without = {**config, "recognizers": {k: v for k, v in config["recognizers"].items()
                                         if k not in ("kr_person_name", "kr_address")}}
    plain = PiiScanner.from_config(without)
    constitution = chunks_of_1kb(CONSTITUTION.read_text(encoding="utf-8"))
    dense = chunks_of_1kb(" ".join(texts) * 3)
    for name, documents in (("constitution (no names)", constitution), ("bench sentences (dense PII)", dense)):
        cold, off = per_kb_ms(scanner, documents), per_kb_ms(plain, documents)
        warm = per_kb_ms(scanner, documents, cold=False)
        print(f"ms per 1 KB, {name:28} {len(documents):4d} docs: without the two {off:.3f}; with them "
              f"{cold:.3f} (Kiwi cache cold, {cold - off:+.3f}), {warm:.3f} (warm, {warm - off:+.3f})")
    audit_corpus_cost(scanner, plain)


def audit_corpus_cost(scanner, plain, n: int = 3000) -> None:
    """The PII step alone on the audit benchmark's corpus (bench/audit_throughput.py: ~1.1 KB documents, 60 %
    Korean legal text, 40 % English), one process, with and without the two recognisers; Kiwi cache cold."""
    from haetae.pipelines.io.samples import synthetic_corpus
    from haetae.pipelines.pii.recognizers.korea_names import kiwi_reads_as_name, kiwi_vetoes
    from haetae.pipelines.pii.scanner import measure_scan_speed

    records = [json.loads(line) for line in synthetic_corpus(n, seed=1)]
    docs = [(r["text"], "ko" if re.search("[가-힣]", r["text"][:200]) else "en") for r in records]
    kiwi_vetoes.cache_clear()
    kiwi_reads_as_name.cache_clear()
    with_them = measure_scan_speed(docs, scanner)
    without = measure_scan_speed(docs, plain)
    added_ms_per_kb = (with_them["seconds"] - without["seconds"]) * 1e3 / (with_them["bytes"] / 1000)
    print(f"audit corpus, PII step, {len(docs)} docs {with_them['bytes'] / 1e6:.1f} MB: without the two "
          f"{without['mb_per_s']:.2f} MB/s; with them {with_them['mb_per_s']:.2f} MB/s "
          f"({added_ms_per_kb:+.3f} ms per KB); spans {without['spans']} -> {with_them['spans']}")


if __name__ == "__main__":
    main(sys.argv[1:])
