"""Sample and benchmark corpora built from bundled public legal text (see ``data/legal/PROVENANCE.md``).

``sample_corpus()`` is the demo corpus (``data/sample_corpus.jsonl``): Korean constitutional articles and bill
paragraphs plus English paragraphs written for Haetae, with planted synthetic PII, copyright footers, licence
notices, exact and near duplicates, and malformed lines. ``synthetic_corpus(n)`` makes an ``n``-document
mixed Korean/English corpus of ~1 KB documents for benchmarks. Both are deterministic for a seed.

    python -m haetae.pipelines.io.samples --out pipelines/data/sample_corpus.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
LEGAL = DATA / "legal"

ENGLISH = [
    "Data governance teams keep a record of every dataset that enters training, who approved it and why.",
    "A dataset card states where the text came from, which licence applies and what was removed before use.",
    "Personal data found in a training document is either removed, masked, or the document is excluded.",
    "Near-duplicate documents inflate the weight of a few sources and make evaluation results look better.",
    "The committee reviews the audit report before a model release and signs off on the residual risks.",
    "Public legislative documents are not protected works, so they can be used as sample text.",
    "An audit ledger has one row per input record, with the decision taken and the rule that fired.",
    "Language identification runs offline on every worker, so no text ever leaves the cluster.",
    "Quarantined records keep their raw line and a reason, so nothing is lost and counts reconcile.",
    "A policy file declares what happens to each kind of personal data, licence and duplicate.",
    "Reviewers read masked examples only: the report never shows raw personal data.",
    "Great Expectations checks that ids are unique and that every input record has a decision.",
    "Minhash signatures let the pipeline find documents that differ only by spacing or a footer.",
    "Training on licensed text requires tracing the redistribution chain of each dataset.",
    "The audit job runs locally by default and on a cluster through the same Beam pipeline.",
    "Safety data is generated from the risk taxonomy and passes through the same audit before use.",
]
PII_KO = [
    "담당자 김민수 연락처 010-{a:04d}-{b:04d}",
    "문의는 이메일 minsu.kim{a}@example.kr 로 보내 주십시오.",
    "접속 기록: 192.168.{c}.{d} 에서 로그인",
    "대표전화 02-{c:03d}-{b:04d}로 연락 바랍니다.",
]
PII_EN = [
    "Contact Jane Doe at jane.doe{a}@example.com for the dataset request.",
    "Call our desk on +82-10-{a:04d}-{b:04d} during office hours.",
    "The login came from 10.0.{c}.{d} at 09:14.",
]
PII_DROP = [
    "주민등록번호 900101-1234568 확인 요청",
    "결제 카드 4111 1111 1111 1111 승인 완료",
]
COPYRIGHT = [
    "ⓒ 한빛법률신문 무단 전재 및 재배포 금지",
    "저작권자 ⓒ 가람뉴스, 무단전재-재배포 금지",
    "Copyright 2024 Example Press. All rights reserved.",
]
LICENCE_OK = [
    "SPDX-License-Identifier: CC-BY-4.0",
    "이 저작물은 공공누리 제1유형(출처표시) 조건에 따라 이용할 수 있습니다.",
]
LICENCE_DENIED = ["This text is licensed under a Creative Commons Attribution-NonCommercial 4.0 International License."]


def constitution_articles() -> list[str]:
    """Articles of the Constitution, one string each (joined lines)."""
    text = (LEGAL / "ko_constitution.txt").read_text(encoding="utf-8")
    parts = re.split(r"\n\s*(?=제\d+조)", text)
    return [re.sub(r"\s+", " ", p).strip() for p in parts[1:] if p.strip()]


def bill_paragraphs(min_chars: int = 80) -> list[str]:
    """Prose paragraphs of the bundled bills."""
    out = []
    for path in sorted((LEGAL / "ko_bills").glob("*.txt")):
        for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
            para = re.sub(r"\s+", " ", block).strip()
            if len(para) >= min_chars and "---" not in para:
                out.append(para)
    return out


def _respace(text: str, rng: random.Random) -> str:
    """Change Korean spacing: drop some spaces, add a few inside words."""
    words = text.split(" ")
    out = []
    for w in words:
        out.append(w)
        out.append("" if rng.random() < 0.25 else " ")
    return "".join(out).strip()


def _particles(text: str) -> str:
    swaps = {"은 ": "는 ", "는 ": "은 ", "이 ": "가 ", "을 ": "를 ", "를 ": "을 "}
    for a, b in list(swaps.items())[:3]:
        text = text.replace(a, b, 1)
    return text


def _fill(template: str, rng: random.Random) -> str:
    return template.format(a=rng.randint(1000, 9999), b=rng.randint(1000, 9999), c=rng.randint(1, 254),
                           d=rng.randint(1, 254))


def sample_corpus(seed: int = 7) -> list[str]:
    """The demo corpus as JSONL lines (a few are deliberately malformed)."""
    rng = random.Random(seed)
    docs: list[dict] = []
    for i, art in enumerate(constitution_articles()):
        docs.append({"id": f"const-{i:03d}", "text": art, "source": "ko_constitution"})
    for i, para in enumerate(bill_paragraphs()):
        docs.append({"id": f"bill-{i:03d}", "text": para, "source": "ko_bills"})
    for i in range(12):
        body = " ".join(rng.sample(ENGLISH, 4))
        docs.append({"id": f"en-{i:03d}", "text": body, "source": "haetae_en"})
    order = list(range(len(docs)))
    rng.shuffle(order)
    picks = iter(order)

    def mutate(count: int, prefix: str, change) -> None:
        for k in range(count):
            doc = docs[next(picks)]
            doc["text"] = change(doc, k)
            doc["planted"] = prefix

    mutate(24, "pii", lambda d, k: d["text"] + " " + _fill(
        rng.choice(PII_KO if d["source"] != "haetae_en" else PII_EN), rng))
    mutate(4, "pii_drop", lambda d, k: d["text"] + " " + PII_DROP[k % 2])
    mutate(6, "copyright", lambda d, k: d["text"] + "\n" + COPYRIGHT[k % 3])
    mutate(4, "licence", lambda d, k: (LICENCE_OK[k % 2] if k < 3 else LICENCE_DENIED[0]) + "\n" + d["text"])
    untouched = [docs[i] for i in picks if len(docs[i]["text"]) > 150]
    planted: list[dict] = []
    for i, doc in enumerate(untouched[:16]):  # exact and near duplicates
        kind = i % 4
        text = {0: doc["text"], 1: _respace(doc["text"], rng), 2: _particles(doc["text"]),
                3: doc["text"] + " (출처: 국회 의안정보시스템)"}[kind]
        planted.append({**doc, "id": f"dup-{i:03d}", "text": text, "planted": "duplicate"})
    base = docs
    lines = [json.dumps(d, ensure_ascii=False) for d in base + planted]
    bad = [
        '{"id": "bad-000", "text": "unterminated',
        '["not", "an", "object"]',
        '{"id": "bad-002", "text": null}',
        '{"id": "bad-003"}',
        '{"id": "bad-004", "text": "\\ud800 lone surrogate"}',
        '{"id": "const-000", "text": "제1조 ① 대한민국은 민주공화국이다. (duplicate id)"}',
    ]
    for i, line in enumerate(bad):
        lines.insert(25 + i * 30, line)
    return lines


_STDLIB_MODULES = (
    "argparse", "collections", "json", "logging", "os", "pathlib", "re", "subprocess", "functools", "itertools",
    "email.message", "http.client", "urllib.parse", "csv", "datetime", "decimal", "statistics", "textwrap",
    "threading", "asyncio", "shutil", "tempfile", "zipfile", "tarfile", "sqlite3", "unittest", "typing",
    "dataclasses", "enum", "heapq", "random", "string", "socket", "hashlib", "pickle", "copy", "inspect", "ast",
    "codecs", "calendar", "queue", "contextlib", "abc", "operator", "traceback", "warnings", "difflib",
    "configparser", "glob", "io", "time",
)


def english_sentences() -> list[str]:
    """Real English sentences from the docstrings of Python's standard library (varied, offline, ~1,500).

    The docstrings are read from the modules' source files with ``ast``, not from live objects, so the set
    is the same in every process whatever was imported or patched before.
    """
    import ast
    import importlib.util

    found: set[str] = set()
    for name in _STDLIB_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            continue  # built-in or compiled module: no source
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
        nodes = [tree, *(n for n in ast.walk(tree)
                         if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))]
        for node in nodes:
            doc = ast.get_docstring(node) or ""
            for sentence in re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", doc)):
                if 40 <= len(sentence) <= 300 and re.match(r"^[A-Z][A-Za-z ,;:()'\"-]+[.!?]$", sentence):
                    found.add(sentence)
    return sorted(found)


def synthetic_corpus(n: int, seed: int = 0, target_bytes: int = 1000) -> list[str]:
    """``n`` mixed Korean/English documents of about ``target_bytes`` each, with planted signals (JSONL).

    Documents are random runs of real sentences (Korean: the bundled legal text; English: Python's standard
    library docstrings, see :func:`english_sentences`), so unrelated documents share little, as in real
    corpora; 8 % are near duplicates (spacing changes) of a recent document.
    """
    rng = random.Random(seed)
    korean = constitution_articles() + bill_paragraphs()
    sentences_ko = sorted({s.strip() + "." for t in korean for s in t.split(".") if len(s.strip()) > 20})
    sentences_en = english_sentences()
    lines = []
    prev: list[str] = []
    for i in range(n):
        roll = rng.random()
        if prev and roll < 0.08:  # near duplicate of a recent document
            text = _respace(rng.choice(prev), rng)
        else:
            pool = sentences_ko if rng.random() < 0.6 else sentences_en
            parts: list[str] = []
            while len(" ".join(parts).encode("utf-8")) < target_bytes:
                parts.append(rng.choice(pool))
            text = " ".join(parts)
            if rng.random() < 0.1:
                text += " " + _fill(rng.choice(PII_KO + PII_EN), rng)
            if rng.random() < 0.03:
                text += "\n" + rng.choice(COPYRIGHT)
        prev = (prev + [text])[-50:]
        lines.append(json.dumps({"id": f"doc-{i:07d}", "text": text}, ensure_ascii=False))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--synthetic", type=int, default=0, help="write a synthetic corpus of N documents instead")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    lines = synthetic_corpus(args.synthetic, args.seed) if args.synthetic else sample_corpus(args.seed)
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} lines to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
