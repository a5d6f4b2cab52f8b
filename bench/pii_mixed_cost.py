"""Cost of per-stretch language in the PII scan: the scanner with ``mixed_language_spans`` on and off.

Usage: python bench/pii_mixed_cost.py [--docs 3000] [--repeats 3]

Corpus: ``synthetic_corpus(docs, seed=1)`` (the audit benchmark's documents), each in the language
:class:`~haetae.pipelines.detectors.language.LanguageIdentifier` gives it, as the audit scans them. One process; the two
scanners alternate, each pass timed alone. Prints seconds per pass, ms per KB and the spans each finds, and how
many documents hold a stretch in the other script.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from haetae.pipelines.detectors.language import LanguageIdentifier
    from haetae.pipelines.detectors.script_spans import may_mix, script_spans
    from haetae.pipelines.io.samples import synthetic_corpus
    from haetae.pipelines.pii.scanner import SCRIPT_LANGUAGES, PiiScanner, load_config

    identify = LanguageIdentifier()
    texts = [json.loads(line)["text"] for line in synthetic_corpus(args.docs, seed=1)]
    docs = [(text, identify.detect(text)[0]) for text in texts]
    size_kb = sum(len(t.encode("utf-8")) for t, _ in docs) / 1000
    config = load_config()
    scanners = {"off": PiiScanner.from_config({**config, "mixed_language_spans": False}),
                "on": PiiScanner.from_config({**config, "mixed_language_spans": True})}
    for scanner in scanners.values():  # warm: Kiwi's verdict cache, regex compilation
        for text, lang in docs:
            scanner.scan(text, lang)
    times: dict[str, list[float]] = {name: [] for name in scanners}
    spans: dict[str, int] = {}
    for _ in range(args.repeats):
        for name, scanner in scanners.items():
            started = time.process_time()
            spans[name] = sum(len(scanner.scan(text, lang)) for text, lang in docs)
            times[name].append(time.process_time() - started)
    mixed = 0
    for text, lang in docs:
        own = scanners["on"].resolve_language(lang)
        other = [s for s, language in SCRIPT_LANGUAGES.items() if language != own]
        if any(may_mix(text, s) for s in other) and any(p.script in other for p in script_spans(text)):
            mixed += 1
    languages: dict[str, int] = {}
    for _, lang in docs:
        languages[lang] = languages.get(lang, 0) + 1
    print(f"{len(docs)} docs, {size_kb / 1000:.2f} MB, languages {languages}, {mixed} with a stretch in the "
          f"other script")
    for name, seconds in times.items():
        best = min(seconds)
        print(f"mixed_language_spans {name:3}: CPU s per pass {', '.join(f'{s:.3f}' for s in seconds)}; "
              f"best {best / size_kb * 1000:.4f} ms/KB; spans {spans[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
