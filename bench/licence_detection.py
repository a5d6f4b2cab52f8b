"""Licence identification benchmark: top-1 SPDX accuracy and texts/s, haetae against ScanCode, in one run.

    .venv/bin/python bench/licence_detection.py [--scancode-python PY] [--results bench/RESULTS.md]

The labelled set (bench/data/licence_detection/labels.jsonl) is real licence texts found on this machine: the
licence files of installed Python packages (``*.dist-info/licenses/**``, ``LICENSE*``) and npm packages, and
the licence headers of installed Python source files. Rows name a file (by source root, relative path and
SHA-256 of its text; no text is copied into the project); a file that is missing or changed here is skipped
and counted. Labels: the package's own metadata where it is unambiguous for that file (``basis: metadata``;
see ``licence_labels.file_label``), else read from the text by hand (``basis: hand: ...``); a header that names
no licence ("See LICENSE") is labelled null, and a detector must then find none.

Scoring: an answer is right when its SPDX expression equals the label after canonicalisation (operands of
AND/OR flattened, deduplicated and sorted; deprecated ids such as ``GPL-2.0`` mapped to ``GPL-2.0-only``).
Speed: texts per CPU second of detection alone (process CPU time, which other jobs on a shared machine
disturb far less than wall time), one process, each tool's index loaded beforehand (load times are reported
apart in wall seconds), the fastest of three passes over the set for each tool. ScanCode runs in its own environment (``scancode-toolkit-mini``, not a haetae
dependency): ``python3 -m venv /tmp/scancode && /tmp/scancode/bin/pip install scancode-toolkit-mini
'pluggy<1.6'``; its per-file result is ``detected_license_expression_spdx`` of ``scancode.api.get_licenses``,
what ``scancode --license`` reports.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from licence_labels import SOURCES, source_header  # noqa: E402

LABELS = HERE / "data" / "licence_detection" / "labels.jsonl"
WORKER = HERE / "licence_scancode_worker.py"
SECTION = "## Licence identification (issue 14)"
PASSES = 3  # each tool runs the set this many times; the fastest pass counts (the machine is shared)


def canonical(expr: str | None) -> str | None:
    """SPDX expression in a canonical form: flattened, deduplicated, sorted operands; None stays None."""
    if not expr or not expr.strip():
        return None
    from haetae.pipelines.rights.licences import normalise_spdx_id

    toks = re.findall(r"\(|\)|[A-Za-z0-9][A-Za-z0-9.+\-:]*", expr)
    pos = 0

    def peek() -> str:
        return toks[pos].upper() if pos < len(toks) else ""

    def parse(level: int):
        nonlocal pos
        if level == 2:  # atom [WITH atom]
            if peek() == "(":
                pos += 1
                node = parse(0)
                pos += 1 if peek() == ")" else 0
            else:
                node = normalise_spdx_id(toks[pos]) if pos < len(toks) else "?"
                pos += 1
            if peek() == "WITH":
                pos += 1
                node = f"{node} WITH {toks[pos] if pos < len(toks) else '?'}"
                pos += 1
            return node
        op = "OR" if level == 0 else "AND"
        items = [parse(level + 1)]
        while peek() == op:
            pos += 1
            items.append(parse(level + 1))
        flat: list = []
        for it in items:
            flat.extend(it[1] if isinstance(it, tuple) and it[0] == op else [it])
        uniq = sorted(set(flat), key=str)
        return uniq[0] if len(uniq) == 1 else (op, tuple(uniq))

    def show(node, top: bool = True) -> str:
        if isinstance(node, str):
            return node
        text = f" {node[0]} ".join(show(x, False) for x in node[1])
        return text if top else f"({text})"

    return show(parse(0))


def lenient(expr: str | None) -> str | None:
    """Canonical expression without ScanCode's 'unknown licence reference' style operands."""
    if expr is None:
        return None
    parts = [p for p in re.split(r" AND ", expr) if not re.search(r"LicenseRef-scancode-(?:unknown|free-unknown)", p)]
    return canonical(" AND ".join(parts)) if parts else None


def load_set() -> tuple[list[dict], int]:
    rows, skipped = [], 0
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        root = SOURCES[row["root"]]
        path = root / row["path"]
        if row["kind"] == "header":
            text = source_header(path)
        else:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = None
        if text is None or hashlib.sha256(text.encode()).hexdigest() != row["sha256"]:
            skipped += 1
            continue
        row["text"] = text
        rows.append(row)
    return rows, skipped


def run_haetae(texts: list[str]) -> tuple[list[str | None], float, float]:
    from haetae.pipelines.rights.licences import LicenceIndex, detect_licences, licence_expression

    t0 = time.perf_counter()
    index = LicenceIndex()
    load = time.perf_counter() - t0
    best = float("inf")
    for _ in range(PASSES):
        t1 = time.process_time()
        out = [licence_expression(detect_licences(t, index)) for t in texts]
        best = min(best, time.process_time() - t1)
    return out, load, best


def run_scancode(python: str, texts: list[str]) -> tuple[list[str | None], float, float]:
    with tempfile.TemporaryDirectory(prefix="licbench-") as tmp:
        paths = []
        for i, text in enumerate(texts):
            p = Path(tmp) / f"{i:05d}.txt"
            p.write_text(text, encoding="utf-8")
            paths.append(str(p))
        proc = subprocess.run([python, str(WORKER), str(PASSES)], input=json.dumps(paths), capture_output=True,
                              text=True, check=True)
    res = json.loads(proc.stdout)
    return res["spdx"], res["load_s"], res["detect_s"]


def score(rows: list[dict], answers: list[str | None], fold=canonical) -> dict:
    right = [fold(canonical(a)) == canonical(r["spdx"]) for r, a in zip(rows, answers)]
    by = Counter()
    total = Counter()
    for r, ok in zip(rows, right):
        for key in (r["kind"], "hand" if r["basis"].startswith("hand") else "metadata"):
            total[key] += 1
            by[key] += ok
    return {"top1": sum(right) / len(rows), "right": right,
            "by": {k: (by[k], total[k]) for k in sorted(total)}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scancode-python", default=os.environ.get("SCANCODE_PYTHON", "/tmp/scancode/bin/python"),
                    help="Python of an environment with scancode-toolkit-mini (default: $SCANCODE_PYTHON or "
                         "/tmp/scancode/bin/python); 'none' skips ScanCode")
    ap.add_argument("--results", default=None, help="write the results section into this markdown file")
    ap.add_argument("--errors", default=None, help="write the texts each tool got wrong to this JSONL file")
    args = ap.parse_args(argv)

    rows, skipped = load_set()
    texts = [r["text"] for r in rows]
    kinds = Counter(r["kind"] for r in rows)
    print(f"labelled set: {len(rows)} texts ({kinds['file']} licence files, {kinds['header']} source headers), "
          f"{skipped} skipped (missing or changed on this machine)")
    mine, mine_load, mine_s = run_haetae(texts)
    ours = score(rows, mine)
    results = {"haetae": (ours, mine_load, mine_s, score(rows, mine, lenient))}
    if args.scancode_python != "none":
        if not Path(args.scancode_python).exists():
            print(f"no ScanCode at {args.scancode_python}: see this script's notes, or pass --scancode-python none",
                  file=sys.stderr)
            return 2
        theirs_out, sc_load, sc_s = run_scancode(args.scancode_python, texts)
        results["ScanCode"] = (score(rows, theirs_out), sc_load, sc_s, score(rows, theirs_out, lenient))
    else:
        theirs_out = None

    lines = ["| tool | top-1 | top-1, unknown-reference parts ignored | files | headers | metadata labels | "
             "hand labels | texts per CPU s | index load s |", "|---|---|---|---|---|---|---|---|---|"]
    for name, (sc, load, secs, len_sc) in results.items():
        def cell(k: str, b: dict = sc["by"]) -> str:
            return f"{b[k][0]}/{b[k][1]}" if k in b else "-"

        lines.append(f"| {name} | {sc['top1']:.3f} | {len_sc['top1']:.3f} | {cell('file')} | {cell('header')} | "
                     f"{cell('metadata')} | {cell('hand')} | {len(rows) / secs:.1f} | {load:.1f} |")
    table = "\n".join(lines)
    print(table)
    if "ScanCode" in results:
        ratio = (len(rows) / mine_s) / (len(rows) / results["ScanCode"][2])
        print(f"speed ratio haetae/ScanCode: {ratio:.0f}x")
    if args.errors:
        with open(args.errors, "w", encoding="utf-8") as fh:
            for i, r in enumerate(rows):
                row = {"path": r["path"], "label": r["spdx"], "haetae": mine[i],
                       "scancode": theirs_out[i] if theirs_out else None}
                if not ours["right"][i] or (theirs_out and not results["ScanCode"][0]["right"][i]):
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    if args.results:
        ratio_line = f"Speed ratio haetae/ScanCode: **{ratio:.0f}x**." if "ScanCode" in results else ""
        body = (f"{SECTION}\n\n`bench/licence_detection.py` on {len(rows)} real licence texts found on this "
                f"machine ({kinds['file']} licence files of installed Python and npm packages, {kinds['header']} "
                f"licence headers of installed Python sources; labels in bench/data/licence_detection/labels.jsonl). "
                f"Top-1: the SPDX expression equals the label (canonicalised). Texts/s: detection alone, one "
                f"CPU second (process time), one process, index loaded, fastest of {PASSES} passes.\n\n{table}\n\n{ratio_line}\n")
        path = Path(args.results)
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if SECTION in old:
            start = old.index(SECTION)
            nxt = old.find("\n## ", start + len(SECTION))
            new = old[:start] + body + (old[nxt + 1 :] if nxt >= 0 else "")
        else:
            new = old.rstrip() + "\n\n" + body
        path.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
