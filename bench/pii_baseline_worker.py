"""Run the Korean PII packages of PyPI on texts, for bench/pii_detection.py; runs in their own virtualenv.

Usage: PYTHON bench/pii_baseline_worker.py IN.jsonl OUT.jsonl

IN has one {"set", "i", "text"} per line. OUT gets one {"system", "set", "i", "spans": [[start, end, label]]}
per text and system, then one {"system", "seconds", "texts"} per system, or {"system", "error"} when the package
does not import. The packages are the ones this interpreter has: ko-pii (``ko_pii.detect_all``) and maskingtape
(``maskingtape.Pipeline().scan``), each with its defaults (rule-based, no model). Standard library only
otherwise: it must run in a virtualenv that has nothing of the project.

Also ``PYTHON bench/pii_baseline_worker.py --generate-en N SEED OUT.jsonl``: the English set, generated with
presidio-evaluator's templates and fake-value generators (``PresidioSentenceFaker``, en_US), one
{"text", "spans": [{"start", "end", "type", "value"}], "template_id"} per line.
"""

from __future__ import annotations

import json
import os
import sys
import time

# bench/ holds ko_pii.py (a benchmark), which would shadow the ko_pii package: drop this folder from the path
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]


def _ko_pii():
    from ko_pii import detect_all

    def predict(text: str) -> list[list]:
        return [[d.start, d.end, d.label] for d in detect_all(text)]

    return predict


def _maskingtape():
    from maskingtape import Pipeline

    pipeline = Pipeline()

    def predict(text: str) -> list[list]:
        return [[d.start, d.end, d.kind] for d in pipeline.scan(text)]

    return predict


SYSTEMS = {"ko-pii": _ko_pii, "maskingtape": _maskingtape}


def run(src: str, dst: str) -> None:
    rows = [json.loads(line) for line in open(src, encoding="utf-8") if line.strip()]
    with open(dst, "w", encoding="utf-8") as out:
        for system, make in SYSTEMS.items():
            try:
                predict = make()
                predict("워밍업 010-0000-0000")
            except Exception as exc:  # noqa: BLE001 - report any import or start-up failure as data
                out.write(json.dumps({"system": system, "error": f"{type(exc).__name__}: {exc}"}) + "\n")
                continue
            started = time.perf_counter()
            predictions = [predict(row["text"]) for row in rows]
            seconds = time.perf_counter() - started
            for row, spans in zip(rows, predictions, strict=True):
                out.write(json.dumps({"system": system, "set": row["set"], "i": row["i"], "spans": spans},
                                     ensure_ascii=False) + "\n")
            out.write(json.dumps({"system": system, "seconds": seconds, "texts": len(rows)}) + "\n")


def generate_en(n: int, seed: int, dst: str) -> None:
    from presidio_evaluator.data_generator import PresidioSentenceFaker

    faker = PresidioSentenceFaker("en_US", lower_case_ratio=0.05, random_seed=seed)
    with open(dst, "w", encoding="utf-8") as out:
        for sample in faker.generate_new_fake_sentences(num_samples=n):
            spans = [{"start": s.start_position, "end": s.end_position, "type": s.entity_type, "value": s.entity_value}
                     for s in sorted(sample.spans, key=lambda s: s.start_position)]
            out.write(json.dumps({"text": sample.full_text, "spans": spans, "template_id": sample.template_id},
                                 ensure_ascii=False) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "--generate-en":
        generate_en(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        run(sys.argv[1], sys.argv[2])
