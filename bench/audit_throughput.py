"""Throughput of the full audit job against a naive single-process loop, measured in the same run.

Corpus: ``haetae.pipelines.io.samples.synthetic_corpus`` (mixed Korean/English, ~1 KB documents, planted PII,
copyright footers and near duplicates), 20,000 documents by default.

- haetae: ``haetae audit`` end to end (DirectRunner, multi-processing, one worker per core): read, language,
  quality, PII, rights, dedup (MinHash LSH as Beam data), policy, redaction + re-scan, ledger, kept shards,
  Great Expectations and the HTML report.
- naive (the baseline of the target): one Python loop per record: ``json.loads``, stock Presidio
  ``AnalyzerEngine.analyze`` (its predefined recognisers plus its Korean ones, no_op NLP engine), a datasketch
  ``MinHash`` over character 5-grams (``update_batch``) and a ``MinHashLSH`` query + insert. It does less
  than the audit (no language id, rights, ledger, redaction or validation). It runs over the first
  ``--naive-docs`` documents and its rate is compared.
- naive, Haetae recognisers: the same loop with Haetae's PII scanner (``PiiScanner.scan``: the recogniser
  set and the entity gates the audit runs): a stronger reference that shows what the pipeline itself costs.

Start-up (Beam workers, imports, Great Expectations, report) costs a few seconds whatever the size, so the
audit is also run at twice the documents: (MB(2N) - MB(N)) / (T(2N) - T(N)) is the steady-state throughput.
Each audit runs ``--repeat`` times; the median run is reported (all runs are printed).

    python bench/audit_throughput.py [--docs 20000] [--naive-docs 1000] [--repeat 3] [--no-marginal]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def stock_analyzer():
    """Presidio as it comes: its predefined recognisers for en plus its Korean ones, no_op NLP engine."""
    import tldextract
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        KrBrnRecognizer,
        KrDriverLicenseRecognizer,
        KrFrnRecognizer,
        KrPassportRecognizer,
        KrRrnRecognizer,
    )

    # Presidio's e-mail and URL recognisers call tldextract.extract, which fetches the public-suffix list by
    # default: give it the bundled snapshot so no network is tried.
    tldextract.extract = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)
    registry = RecognizerRegistry(supported_languages=["ko", "en"])
    registry.load_predefined_recognizers(languages=["ko", "en"])
    registry.remove_recognizer("SpacyRecognizer")  # needs a spaCy model; there is none here
    for korean in (KrRrnRecognizer, KrFrnRecognizer, KrBrnRecognizer, KrPassportRecognizer, KrDriverLicenseRecognizer):
        registry.add_recognizer(korean(supported_language="ko"))  # off by default in Presidio
    nlp_engine = NoOpNlpEngine(models=[{"lang_code": lang, "model_name": "no_op"} for lang in ("ko", "en")])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["ko", "en"])


def naive_loop(lines: list[str], scan) -> float:
    """Seconds for the naive per-record loop over ``lines``; ``scan(text, language)`` finds the PII."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.7, num_perm=128)
    started = time.perf_counter()
    for line in lines:
        doc = json.loads(line)
        text = doc["text"]
        lang = "ko" if sum("\uac00" <= c <= "\ud7a3" for c in text[:200]) > 20 else "en"
        scan(text, lang)
        stream = "".join(text.split()).lower()
        mh = MinHash(num_perm=128)
        mh.update_batch([stream[i:i + 5].encode("utf-8") for i in range(max(1, len(stream) - 4))])
        lsh.query(mh)
        lsh.insert(doc["id"], mh)
    return time.perf_counter() - started


def _cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) of this process (the Beam driver) and of its finished children (workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"driver": me.ru_utime + me.ru_stime, "workers": kids.ru_utime + kids.ru_stime}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--naive-docs", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--repeat", type=int, default=3, help="audit runs per size; the median is reported")
    parser.add_argument("--no-marginal", dest="marginal", action="store_false",
                        help="skip the second run at 2x docs that measures steady-state throughput")
    args = parser.parse_args()

    from haetae.pipelines.audit.job import run_audit
    from haetae.pipelines.io.samples import synthetic_corpus

    def timed_audit(corpus_lines: list[str]):
        size = sum(len(line.encode("utf-8")) for line in corpus_lines) / 1e6
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "corpus.jsonl"
            corpus.write_text("\n".join(corpus_lines) + "\n", encoding="utf-8")
            cpu_before = _cpu_seconds()
            started = time.perf_counter()
            result = run_audit([str(corpus)], str(Path(tmp) / "out"), progress=False,
                               beam_args=["--direct_running_mode=multi_processing",
                                          f"--direct_num_workers={args.workers}"])
            seconds = time.perf_counter() - started
            cpu = {k: round(v - cpu_before[k], 1) for k, v in _cpu_seconds().items()}
            print(f"  audit of {len(corpus_lines)} docs: {seconds:.1f} s, phases {result.phases}, cpu s {cpu}",
                  file=sys.stderr, flush=True)
            return size, seconds, result

    def median_audit(corpus_lines: list[str]):
        runs = sorted((timed_audit(corpus_lines) for _ in range(max(1, args.repeat))), key=lambda r: r[1])
        return runs[len(runs) // 2], [round(r[1], 1) for r in runs]

    lines = synthetic_corpus(args.docs, seed=1)
    (mb, audit_s, summary), audit_runs = median_audit(lines)
    marginal = None
    if args.marginal:
        (mb2, audit_s2, _), _ = median_audit(synthetic_corpus(2 * args.docs, seed=1))
        marginal = (mb2 - mb) / (audit_s2 - audit_s)
    naive_lines = lines[: args.naive_docs]
    naive_mb = sum(len(line.encode("utf-8")) for line in naive_lines) / 1e6
    stock = stock_analyzer()
    naive_s = naive_loop(naive_lines, lambda text, lang: stock.analyze(text=text, language=lang))
    from haetae.pipelines.pii.scanner import PiiScanner

    tuned_s = naive_loop(lines[: args.naive_docs * 4], PiiScanner.from_config().scan)

    audit_rate, naive_rate = args.docs / audit_s, len(naive_lines) / naive_s
    tuned_rate = min(len(lines), args.naive_docs * 4) / tuned_s
    result = {
        "docs": args.docs, "mb": round(mb, 2), "cores": os.cpu_count(), "workers": args.workers,
        "audit_seconds": round(audit_s, 1), "audit_runs_seconds": audit_runs,
        "audit_phases": summary.phases, "audit_records_per_s": round(audit_rate, 1),
        "audit_mb_per_s": round(mb / audit_s, 3), "audit_mb_per_s_per_core": round(mb / audit_s / (os.cpu_count() or 1), 3),
        "naive_docs": len(naive_lines), "naive_seconds": round(naive_s, 1),
        "naive_records_per_s": round(naive_rate, 1), "naive_mb_per_s": round(naive_mb / naive_s, 3),
        "speedup_vs_naive": round(audit_rate / naive_rate, 2),
        "naive_seconds_per_record_ms": round(naive_s / len(naive_lines) * 1e3, 3),
        "steady_state_mb_per_s": round(marginal, 3) if marginal else None,
        "steady_state_mb_per_s_per_core": round(marginal / (os.cpu_count() or 1), 3) if marginal else None,
        "naive_haetae_recognisers_records_per_s": round(tuned_rate, 1),
        "speedup_vs_naive_haetae_recognisers": round(audit_rate / tuned_rate, 2),
        "decisions": {k: v for k, v in summary.counts.items()}, "validation_ok": summary.ok,
    }
    print(json.dumps(result, indent=1))
    if marginal:
        print(f"steady state (2x docs minus 1x docs, start-up excluded): {marginal:.3f} MB/s "
              f"({marginal / (os.cpu_count() or 1):.3f} MB/s per core)")
    print(f"audit: {result['audit_mb_per_s']:.3f} MB/s ({result['audit_mb_per_s_per_core']:.3f} MB/s per core), "
          f"{audit_rate:.0f} records/s; naive loop: {naive_rate:.0f} records/s; ratio {result['speedup_vs_naive']:.2f}x; "
          f"naive loop with Haetae's recognisers: {tuned_rate:.0f} records/s, ratio "
          f"{result['speedup_vs_naive_haetae_recognisers']:.2f}x")
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
