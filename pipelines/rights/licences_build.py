"""Build ``pipelines/data/licences/licensedcode.npz``, the reference index of :mod:`haetae.pipelines.rights.licences`.

The source is the registry package ``licensedcode-data`` (ScanCode's licence and rule texts as data, licensed
CC-BY-4.0 by nexB Inc. and others). It is not a dependency of haetae: install it in a throwaway environment and
point this script at its data folder::

    python3 -m venv /tmp/lcd && /tmp/lcd/bin/pip install licensedcode-data==32.1.0
    .venv/bin/python -m haetae.pipelines.rights.licences_build \\
        /tmp/lcd/lib/python3.11/site-packages/licensedcode/data

What is kept, per reference text: its tokens (the matcher's own tokenisation, see ``licences.tokenize``), its
licence expression already in SPDX form (ScanCode keys mapped through each licence's ``spdx_license_key``; a
key with no SPDX id becomes ``LicenseRef-scancode-KEY``), its kind (text, notice, reference, tag, intro, clue),
relevance, minimum coverage and required phrases (``{{...}}``: a match must contain them). False-positive, deprecated and empty rules are dropped, and so are exact
duplicates (same tokens, same expression). No copyright lines or other fields are kept.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
import yaml

from haetae.pipelines.rights.licences import DATA_FILE, tokenize

KINDS = ("text", "notice", "reference", "tag", "intro", "clue")
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+\-_]*")
_OPERATORS = {"and": "AND", "or": "OR", "with": "WITH"}


def _split(text: str) -> tuple[dict, str]:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    for i in range(1, len(lines)):
        if lines[i].rstrip() == "---":
            return yaml.safe_load("\n".join(lines[1:i])) or {}, "\n".join(lines[i + 1 :])
    return yaml.safe_load("\n".join(lines[1:])) or {}, ""


def tokens_and_required(body: str) -> tuple[list[str], list[list[int]]]:
    """Tokens of a rule text and its required phrases (``{{...}}`` in ScanCode rules) as [start, end) offsets."""
    tokens: list[str] = []
    required: list[list[int]] = []
    inside = False
    for piece in re.split(r"(\{\{|\}\})", body):
        if piece == "{{":
            inside, begin = True, len(tokens)
        elif piece == "}}":
            if inside and len(tokens) > begin:
                required.append([begin, len(tokens)])
            inside = False
        else:
            tokens.extend(tokenize(piece))
    return tokens, required


def spdx_expression(expression: str, spdx_of: dict[str, str]) -> str:
    """``gpl-2.0-plus WITH classpath-exception-2.0`` -> ``GPL-2.0-or-later WITH Classpath-exception-2.0``."""

    def repl(m: re.Match) -> str:
        word = m.group(0)
        if word.lower() in _OPERATORS:
            return _OPERATORS[word.lower()]
        return spdx_of.get(word, f"LicenseRef-scancode-{word}")

    return _KEY.sub(repl, expression)


def build(source: Path) -> dict:
    spdx_of: dict[str, str] = {}
    refs: list[tuple] = []  # (name, expression, kind, relevance, min coverage, tokens, required phrases)
    for path in sorted((source / "licenses").glob("*.LICENSE")):
        meta, body = _split(path.read_text(encoding="utf-8"))
        key = meta["key"]
        spdx_of[key] = meta.get("spdx_license_key") or f"LicenseRef-scancode-{key}"
        if meta.get("is_deprecated") or meta.get("is_unknown") or meta.get("is_generic"):
            continue
        tokens = tokenize(body)
        if tokens:
            refs.append((path.stem, key, "text", 100, 0, tokens, []))
    for path in sorted((source / "rules").glob("*.RULE")):
        meta, body = _split(path.read_text(encoding="utf-8"))
        if meta.get("is_false_positive") or meta.get("is_deprecated") or not meta.get("license_expression"):
            continue
        kind = next((k for k in KINDS if meta.get(f"is_license_{k}")), "notice")
        tokens, required = tokens_and_required(body)
        if tokens:
            refs.append((path.stem, meta["license_expression"], kind, int(meta.get("relevance", 100)),
                         int(meta.get("minimum_coverage", 0) or 0), tokens, required))

    vocab: dict[str, int] = {}
    seen: set[tuple] = set()
    flat: list[int] = []
    starts = [0]
    meta_out = []
    for name, expression, kind, relevance, min_cov, tokens, required in refs:
        spdx = spdx_expression(expression, spdx_of)
        ids = tuple(vocab.setdefault(t, len(vocab)) for t in tokens)
        if (ids, spdx) in seen:
            continue
        seen.add((ids, spdx))
        flat.extend(ids)
        starts.append(len(flat))
        meta_out.append([spdx, KINDS.index(kind), relevance, min_cov, name, required])
    words = sorted(vocab, key=vocab.get)
    return {
        "vocab": np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8),
        "tokens": np.asarray(flat, dtype=np.uint16 if len(words) < 65536 else np.uint32),
        "starts": np.asarray(starts, dtype=np.uint32),
        "meta": np.frombuffer(json.dumps(meta_out, separators=(",", ":")).encode("utf-8"), dtype=np.uint8),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="licensedcode/data folder of the licensedcode-data package")
    parser.add_argument("--out", type=Path, default=DATA_FILE)
    args = parser.parse_args(argv)
    arrays = build(args.source)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    n = len(arrays["starts"]) - 1
    print(f"{args.out}: {n} reference texts, {len(arrays['tokens'])} tokens, "
          f"{args.out.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
