"""PII detection quality: precision, recall, F1 per entity type, Haetae vs stock Presidio vs Korean PII packages.

Usage: python bench/pii_detection.py [--baseline-python PATH] [--fills 8] [--seed 14] [--json OUT]
       [--sets ko ko-holdout en] [--ner]

Two sets, every system on both in the same run:
- (a) English: bench/data/en_pii_presidio_evaluator.jsonl, 1,000 sentences generated with presidio-evaluator's
  templates and its fake-value generators (``PresidioSentenceFaker("en_US", lower_case_ratio=0.05,
  random_seed=42)``; regenerate with ``--regenerate-en``, which needs presidio-evaluator in the baseline
  Python). Scored types: the PII ones (PERSON, STREET_ADDRESS, PHONE_NUMBER, EMAIL_ADDRESS, CREDIT_CARD,
  IP_ADDRESS, IBAN_CODE, US_SSN, US_DRIVER_LICENSE); its GPE, ORGANIZATION, DATE_TIME, TITLE ... spans are not
  scored, and predictions of types outside the scored set are ignored.
- (b) Korean: built here from bench/data/ko_pii_bench.yaml, hand-written templates filled ``--fills`` times
  each with hand-written names and addresses (none from the detectors' lists) and identifiers drawn with a
  fixed seed (valid checksums), plus sentences without PII. "ko" is the part seen while the detectors were
  tuned; "ko-holdout" was written afterwards and is scored apart.

Systems: Haetae (``PiiScanner`` with the bundled recognisers; language ko for the Korean set, en for the
English one); with ``--ner`` also "haetae+ner", the same with the optional spaCy recogniser ``en_person_ner`` on
(pipelines/pii/recognizers/english_names.py; needs ``pip install 'haetae[ner]'``); stock Presidio (its predefined recognisers for en and ko plus its five Korean ones, no_op NLP
engine, as in bench/audit_throughput.py; the union of its ko and en results, so each of its pattern
recognisers gets its chance); and the Korean packages of PyPI (ko-pii, maskingtape) run by
bench/pii_baseline_worker.py in the interpreter given by ``--baseline-python`` (a throwaway virtualenv: they
are not project dependencies), skipped with a note when it is not given. Each system's labels are mapped to the
benchmark's types (:data:`LABELS`); labels with no counterpart are ignored.

A prediction counts when its type matches and its span is the gold span exactly ("exact"), or overlaps it
("overlap", the second table); each gold span is matched at most once. Throughput: texts/s over both sets.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

KO_TYPES = ("PERSON", "KR_ADDRESS", "PHONE_NUMBER", "EMAIL_ADDRESS", "KR_RRN", "KR_FRN", "CREDIT_CARD", "KR_PASSPORT",
            "KR_DRIVER_LICENSE", "KR_BANK_ACCOUNT", "KR_HEALTH_INSURANCE", "KR_BRN", "IP_ADDRESS")
EN_TYPES = ("PERSON", "STREET_ADDRESS", "PHONE_NUMBER", "EMAIL_ADDRESS", "CREDIT_CARD", "IP_ADDRESS", "IBAN_CODE",
            "US_SSN", "US_DRIVER_LICENSE")
ADDRESS = "ADDRESS"
"""Stands for the set's address type: KR_ADDRESS in the Korean set, STREET_ADDRESS in the English one."""
LABELS = {
    "haetae": {"KR_ADDRESS": ADDRESS},
    "haetae+ner": {"KR_ADDRESS": ADDRESS},
    "presidio": {"LOCATION": ADDRESS, "US_DRIVER_LICENSE": "US_DRIVER_LICENSE"},
    "ko-pii": {"PERSON": "PERSON", "ADDRESS": ADDRESS, "PHONE": "PHONE_NUMBER", "EMAIL": "EMAIL_ADDRESS",
               "RRN": "KR_RRN", "FRN": "KR_FRN", "CARD": "CREDIT_CARD", "PASSPORT": "KR_PASSPORT",
               "DRIVER_LICENSE": "KR_DRIVER_LICENSE", "ACCOUNT": "KR_BANK_ACCOUNT",
               "MEDICAL_INSURANCE": "KR_HEALTH_INSURANCE", "BUSINESS_REG": "KR_BRN", "IP": "IP_ADDRESS"},
    "maskingtape": {"name": "PERSON", "address": ADDRESS, "phone": "PHONE_NUMBER", "email": "EMAIL_ADDRESS",
                    "rrn": "KR_RRN", "frn": "KR_FRN", "card": "CREDIT_CARD", "passport": "KR_PASSPORT",
                    "driver_license": "KR_DRIVER_LICENSE", "account": "KR_BANK_ACCOUNT", "biz_reg": "KR_BRN",
                    "health_insurance": "KR_HEALTH_INSURANCE", "ip": "IP_ADDRESS"},
}
"""System label -> benchmark type; a system's own label that is already a benchmark type maps to itself."""


# ---------------------------------------------------------------------------------------------- Korean set


class Values:
    """Identifier values drawn from one seeded generator; checksums valid where the identifier has one."""

    DL_REGIONS = ("11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26",
                  "28")
    DL_REGION_NAMES = ("서울", "부산", "경기", "강원", "충북", "충남", "전북", "전남", "경북", "경남", "제주", "대구",
                       "인천", "광주", "대전", "울산")

    def __init__(self, rng: random.Random):
        self.rng = rng

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def _birth(self, years: range) -> str:
        year = self.rng.choice(years)
        return f"{year % 100:02d}{self.rng.randint(1, 12):02d}{self.rng.randint(1, 28):02d}"

    def _checked(self, front: str, offset: int) -> str:
        weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
        return front + str((offset - sum(int(d) * w for d, w in zip(front, weights, strict=True)) % 11) % 10)

    def _dashed(self, number: str) -> str:
        return f"{number[:6]}-{number[6:]}" if self.rng.random() < 0.8 else number

    def rrn(self) -> str:
        birth = self._birth(range(1950, 2006))
        sex = self.rng.choice("12") if int(birth[:2]) >= 50 else self.rng.choice("34")
        return self._dashed(self._checked(birth + sex + self.digits(5), 11))

    def rrn_new(self) -> str:
        """Issued after October 2020: the last six digits are random (no checksum)."""
        return self._dashed(self._birth(range(2021, 2025)) + self.rng.choice("34") + self.digits(6))

    def frn(self) -> str:
        birth = self._birth(range(1960, 2005))
        return self._dashed(self._checked(birth + self.rng.choice("5678") + self.digits(5), 13))

    def card(self) -> str:
        brand = self.rng.choice(["4", "51", "53", "55", "2221", "2720", "34", "37", "3528", "62", "9410", "6011"])
        length = 15 if brand in ("34", "37") else 16
        front = brand + self.digits(length - len(brand) - 1)
        check = next(str(d) for d in range(10) if _luhn(front + str(d)))
        number = front + check
        if length == 15:
            return f"{number[:4]} {number[4:10]} {number[10:]}"
        sep = self.rng.choice(["-", "-", " ", ""])
        return sep.join(number[i:i + 4] for i in range(0, 16, 4))

    def passport(self) -> str:
        return f"{self.rng.choice('MMMSRGD')}{self.digits(3)}{self.rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{self.digits(4)}"

    def passport_old(self) -> str:
        return self.rng.choice("MMS") + self.digits(8)

    def dl(self) -> str:
        return f"{self.rng.choice(self.DL_REGIONS)}-{self.digits(2)}-{self.digits(6)}-{self.digits(2)}"

    def dl_region(self) -> str:
        return f"{self.rng.choice(self.DL_REGION_NAMES)} {self.digits(2)}-{self.digits(6)}-{self.digits(2)}"

    def account(self) -> str:
        form = self.rng.choice([(3, 3, 6), (4, 3, 6), (4, 2, 7), (6, 2, 6), (3, 4, 4, 2), (3, 2, 6), (12,), (13,)])
        return "-".join(self.digits(n) for n in form)

    def health(self) -> str:
        return f"{self.rng.randint(1, 9)}-{self.digits(10)}" if self.rng.random() < 0.6 else self.digits(11)

    def brn(self) -> str:
        while True:
            number = self.digits(10)
            keys = (1, 3, 7, 1, 3, 7, 1, 3, 5)
            total = sum(int(d) * k for d, k in zip(number[:8], keys, strict=False))
            last = int(number[8]) * 5
            if (10 - (total + last // 10 + last) % 10) % 10 == int(number[9]):
                return f"{number[:3]}-{number[3:5]}-{number[5:]}"

    def ip(self) -> str:
        if self.rng.random() < 0.25:
            return f"2001:db8:{self.rng.randint(1, 0xffff):x}::{self.rng.randint(1, 0xffff):x}"
        return ".".join(str(self.rng.randint(1, 254)) for _ in range(4))


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


SLOT_TYPES = {"name": "PERSON", "name2": "PERSON", "address": "KR_ADDRESS", "phone": "PHONE_NUMBER",
              "email": "EMAIL_ADDRESS", "rrn": "KR_RRN", "rrn_new": "KR_RRN", "frn": "KR_FRN", "card": "CREDIT_CARD",
              "passport": "KR_PASSPORT", "passport_old": "KR_PASSPORT", "dl": "KR_DRIVER_LICENSE",
              "dl_region": "KR_DRIVER_LICENSE", "account": "KR_BANK_ACCOUNT", "health": "KR_HEALTH_INSURANCE",
              "brn": "KR_BRN", "ip": "IP_ADDRESS", "bank": None}


def korean_set(path: Path, fills: int, seed: int, part: str = "dev") -> list[dict]:
    """Fill every template ``fills`` times (each negative once); gold spans come from the slots. ``part``:
    "dev" (the sets seen while tuning) or "holdout" (written after, never tuned on; the dev phones, e-mails
    and banks with its own names, addresses and templates)."""
    import re

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if part == "holdout":
        data = {**data, **data["holdout"]}
    rng = random.Random(seed)
    values = Values(rng)
    lists = {"name": data["names"], "address": data["addresses"], "phone": data["phones"], "email": data["emails"],
             "bank": data["banks"]}
    rows = []
    for template in data["templates"]:
        for _ in range(fills):
            chosen: dict[str, str] = {}
            text, spans, position = "", [], 0
            for match in re.finditer(r"\{(\w+)\}", template):
                slot = match.group(1)
                if slot not in chosen:
                    if slot == "name2":
                        chosen[slot] = rng.choice([n for n in lists["name"] if n != chosen.get("name")])
                    elif slot in lists:
                        chosen[slot] = rng.choice(lists[slot])
                    else:
                        chosen[slot] = getattr(values, slot)()
                text += template[position:match.start()]
                if SLOT_TYPES[slot]:
                    spans.append({"start": len(text), "end": len(text) + len(chosen[slot]), "type": SLOT_TYPES[slot]})
                text += chosen[slot]
                position = match.end()
            text += template[position:]
            rows.append({"text": text, "spans": spans})
    rows.extend({"text": negative, "spans": []} for negative in data["negatives"])
    return rows


# ---------------------------------------------------------------------------------------------- systems


def normalise(system: str, spans, address_type: str, types: tuple[str, ...]) -> list[tuple[int, int, str]]:
    mapping = LABELS[system]
    out = []
    for start, end, label in spans:
        kind = mapping.get(label, label)
        kind = address_type if kind == ADDRESS else kind
        if kind in types:
            out.append((start, end, kind))
    return out


def haetae_system(ner: bool = False):
    from haetae.pipelines.pii.scanner import PiiScanner, load_config

    config = load_config()
    if ner:
        config["recognizers"]["en_person_ner"] = {**(config["recognizers"].get("en_person_ner") or {}),
                                                  "enabled": True}
    scanner = PiiScanner.from_config(config)
    return lambda text, lang: [(s.start, s.end, s.type) for s in scanner.scan(text, lang)]


def presidio_system():
    from audit_throughput import stock_analyzer

    analyzer = stock_analyzer()

    def predict(text: str, lang: str):
        found = {(r.start, r.end, r.entity_type) for language in ("ko", "en")
                 for r in analyzer.analyze(text=text, language=language)}
        return sorted(found)

    return predict


def run_baselines(python: str, sets: dict[str, list[dict]]) -> tuple[dict, dict, dict]:
    """Predictions {system: {set: [spans per row]}}, seconds {system: s}, errors {system: message}."""
    predictions: dict[str, dict[str, list]] = {}
    seconds, errors = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        with src.open("w", encoding="utf-8") as out:
            for name, rows in sets.items():
                for i, row in enumerate(rows):
                    out.write(json.dumps({"set": name, "i": i, "text": row["text"]}, ensure_ascii=False) + "\n")
        subprocess.run([python, str(BENCH / "pii_baseline_worker.py"), str(src), str(dst)], check=True)
        for line in dst.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            system = item["system"]
            if "error" in item:
                errors[system] = item["error"]
            elif "seconds" in item:
                seconds[system] = item["seconds"]
            else:
                by_set = predictions.setdefault(system, {name: [None] * len(rows) for name, rows in sets.items()})
                by_set[item["set"]][item["i"]] = item["spans"]
    return predictions, seconds, errors


# ---------------------------------------------------------------------------------------------- scoring


def score(rows: list[dict], predicted: list[list[tuple]], types: tuple[str, ...], overlap: bool) -> dict:
    table = {}
    for entity in (*types, "ALL"):
        tp = fp = fn = 0
        for row, mine in zip(rows, predicted, strict=True):
            gold = [(s["start"], s["end"], s["type"]) for s in row["spans"] if entity in ("ALL", s["type"])]
            mine = [p for p in mine if entity in ("ALL", p[2])]
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
        if tp + fp + fn == 0:
            continue
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table[entity] = {"tp": tp, "fp": fp, "fn": fn, "precision": round(precision, 3), "recall": round(recall, 3),
                         "f1": round(f1, 3)}
    return table


def print_tables(title: str, tables: dict[str, dict], types: tuple[str, ...]) -> None:
    systems = list(tables)
    print(f"\n{title}  (P / R / F1 per system; n = gold spans)")
    print(f"{'entity':20} {'n':>5}  " + "  ".join(f"{s:>20}" for s in systems))
    for entity in (*types, "ALL"):
        first = next((t[entity] for t in tables.values() if entity in t), None)
        if first is None:
            continue
        n = first["tp"] + first["fn"]
        cells = []
        for system in systems:
            row = tables[system].get(entity)
            cells.append(f"{row['precision']:.3f} {row['recall']:.3f} {row['f1']:.3f}" if row else f"{'-':>20}")
        print(f"{entity:20} {n:5d}  " + "  ".join(f"{c:>20}" for c in cells))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-python", help="interpreter that has ko-pii / maskingtape (a throwaway venv)")
    parser.add_argument("--fills", type=int, default=8, help="fills per Korean template")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--json", help="write every table here")
    parser.add_argument("--regenerate-en", type=int, metavar="N",
                        help="regenerate the English set with N sentences (needs presidio-evaluator there)")
    parser.add_argument("--sets", nargs="+", choices=("ko", "ko-holdout", "en"), default=("ko", "ko-holdout", "en"),
                        help="the sets to run (default all three)")
    parser.add_argument("--ner", action="store_true", help="also run Haetae with en_person_ner on")
    parser.add_argument("--show-errors", type=int, default=0, metavar="N",
                        help="print up to N of Haetae's misses and false positives on the Korean set")
    args = parser.parse_args(argv)
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)

    en_path = BENCH / "data" / "en_pii_presidio_evaluator.jsonl"
    if args.regenerate_en:
        if not args.baseline_python:
            parser.error("--regenerate-en needs --baseline-python (an interpreter with presidio-evaluator)")
        subprocess.run([args.baseline_python, str(BENCH / "pii_baseline_worker.py"), "--generate-en",
                        str(args.regenerate_en), "42", str(en_path)], check=True)
    builders = {
        "ko": lambda: korean_set(BENCH / "data" / "ko_pii_bench.yaml", args.fills, args.seed),
        "ko-holdout": lambda: korean_set(BENCH / "data" / "ko_pii_bench.yaml", args.fills, args.seed, "holdout"),
        "en": lambda: [json.loads(line) for line in en_path.read_text(encoding="utf-8").splitlines() if line.strip()],
    }
    sets = {name: build() for name, build in builders.items() if name in args.sets}
    types = {"ko": KO_TYPES, "ko-holdout": KO_TYPES, "en": EN_TYPES}
    address_type = {"ko": "KR_ADDRESS", "ko-holdout": "KR_ADDRESS", "en": "STREET_ADDRESS"}
    language = {"ko": "ko", "ko-holdout": "ko", "en": "en"}
    for name, rows in sets.items():
        counts: dict[str, int] = {}
        for row in rows:
            for span in row["spans"]:
                counts[span["type"]] = counts.get(span["type"], 0) + 1
        print(f"set {name}: {len(rows)} texts, gold spans {dict(sorted(counts.items()))}")

    predictions: dict[str, dict[str, list]] = {}
    seconds: dict[str, float] = {}
    systems = [("haetae", haetae_system), ("presidio", presidio_system)]
    if args.ner:
        systems.insert(1, ("haetae+ner", lambda: haetae_system(ner=True)))
    for system, make in systems:
        predict = make()
        predict("워밍업 010-0000-0000 성명: 홍길동", "ko")
        started = time.perf_counter()
        predictions[system] = {name: [predict(row["text"], language[name]) for row in rows]
                               for name, rows in sets.items()}
        seconds[system] = time.perf_counter() - started
    errors: dict[str, str] = {}
    if args.baseline_python:
        extra, extra_seconds, errors = run_baselines(args.baseline_python, sets)
        predictions.update(extra)
        seconds.update(extra_seconds)
    else:
        print("\nno --baseline-python: the Korean PII packages (ko-pii, maskingtape) are not run")
    for system, message in errors.items():
        print(f"{system}: not run ({message})")

    report: dict = {"sets": {n: len(r) for n, r in sets.items()}, "tables": {}, "texts_per_s": {}}
    total = sum(len(rows) for rows in sets.values())
    for name, rows in sets.items():
        for overlap in (False, True):
            tables = {}
            for system, by_set in predictions.items():
                normalised = [normalise(system, spans, address_type[name], types[name]) for spans in by_set[name]]
                tables[system] = score(rows, normalised, types[name], overlap)
            label = f"{name} {'overlap' if overlap else 'exact'}"
            print_tables(f"set {label}", tables, types[name])
            report["tables"][label] = tables
    print("\nthroughput, texts/s over all sets (" + f"{total} texts): " + ", ".join(
        f"{system} {total / s:,.0f}" for system, s in seconds.items()))
    report["texts_per_s"] = {system: round(total / s, 1) for system, s in seconds.items()}
    if args.show_errors:
        shown = 0
        pairs = [pair for name in ("ko", "ko-holdout") if name in sets
                 for pair in zip(sets[name], predictions["haetae"][name], strict=True)]
        for row, mine in pairs:
            gold = {(s["start"], s["end"], s["type"]) for s in row["spans"]}
            got = set(normalise("haetae", mine, "KR_ADDRESS", KO_TYPES))
            if gold != got and shown < args.show_errors:
                shown += 1
                text = row["text"]
                print(f"- {text!r}\n  missed {[(text[s:e], t) for s, e, t in sorted(gold - got)]}"
                      f"\n  extra  {[(text[s:e], t) for s, e, t in sorted(got - gold)]}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
