"""Does a change to the licence detector change any output, and how much faster is it? Both in one run.

    .venv/bin/python bench/licence_identity.py --against REV [--docs 3000] [--passes 3]

``REV`` (a commit, branch or tag) is checked out with ``git worktree add`` into a temporary folder and its
``pipelines/rights/licences.py`` (with that tree's ``pipelines/data/licences``) is imported beside this tree's. Both
run ``detect_licences`` and ``find_matches`` on the same texts: the labelled licence texts of
``bench/licence_detection.py`` and ``--docs`` audit documents (``samples.synthetic_corpus``, the texts the
audit's rights step sees). Printed: how many outputs differ (must be 0; the first few are shown) and the
speed ratio, CPU seconds of ``detect_licences`` alone, indexes built beforehand, the fastest of ``--passes``
passes of each tree, the trees alternating so that a change in the machine's load hits both. Exit status 1
when any output differs.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))


def load_detector(tree: Path, name: str) -> ModuleType:
    """``tree/pipelines/licences.py`` as module ``name`` (registered, so its dataclasses work)."""
    path = next(p for p in (tree / "pipelines" / "rights" / "licences.py", tree / "pipelines" / "licences.py")
                if p.exists())  # the role-folder layout, or the flat one of revisions before it
    for old, new in (("haetae.pipelines.array_cache", "haetae.pipelines.io.array_cache"),):
        sys.modules.setdefault(old, importlib.import_module(new))  # what a flat-layout licences.py imports
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def texts_to_check(n_docs: int) -> tuple[list[str], int]:
    """The labelled licence texts (those present on this machine) and ``n_docs`` audit documents."""
    from licence_detection import load_set

    from haetae.pipelines.io.samples import synthetic_corpus

    rows, _ = load_set()
    docs = [json.loads(line)["text"] for line in synthetic_corpus(n_docs, seed=1)]
    return [r["text"] for r in rows] + docs, len(rows)


def outputs(module: ModuleType, index, texts: list[str]) -> list[tuple]:
    return [(module.detect_licences(t, index), [dataclasses.astuple(m) for m in module.find_matches(t, index)])
            for t in texts]


def detect_seconds(module: ModuleType, index, texts: list[str]) -> float:
    t0 = time.process_time()
    for t in texts:
        module.detect_licences(t, index)
    return time.process_time() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", required=True, metavar="REV", help="git revision to compare this tree with")
    ap.add_argument("--docs", type=int, default=3000, help="audit documents (synthetic_corpus, seed 1)")
    ap.add_argument("--passes", type=int, default=3, help="timed passes per tree; the fastest counts")
    args = ap.parse_args(argv)

    texts, n_labelled = texts_to_check(args.docs)
    with tempfile.TemporaryDirectory(prefix="licence-identity-") as tmp:
        other = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(other), args.against],
                       check=True)
        try:
            rev = subprocess.run(["git", "-C", str(other), "rev-parse", "--short", "HEAD"], check=True,
                                 capture_output=True, text=True).stdout.strip()
            trees = {"this tree": load_detector(ROOT, "licences_this_tree"),
                     f"{args.against} ({rev})": load_detector(other, "licences_at_rev")}
            indexes = {}
            for label, module in trees.items():
                t0 = time.perf_counter()
                indexes[label] = module.LicenceIndex()
                print(f"{label}: index {time.perf_counter() - t0:.2f} s wall")
            (here, new), (there, old) = trees.items()
            mine, theirs = outputs(new, indexes[here], texts), outputs(old, indexes[there], texts)
            differ = [i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b]
            subsets = {"labelled": texts[:n_labelled], "audit documents": texts[n_labelled:]}
            best = {(label, s): float("inf") for label in trees for s in subsets}
            for _ in range(args.passes):
                for label, module in trees.items():
                    for s, part in subsets.items():
                        best[label, s] = min(best[label, s], detect_seconds(module, indexes[label], part))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)], check=False)

    print(f"texts: {len(texts)} ({n_labelled} labelled licence texts, {args.docs} audit documents)")
    for i in differ[:5]:
        print(f"  differs: text {i}: this tree {mine[i][0]!r}, {there} {theirs[i][0]!r}")
    print(f"outputs that differ: {len(differ)}")
    for s, part in subsets.items():
        for label in trees:
            secs = best[label, s]
            print(f"{s}, {label}: {secs:.3f} CPU s per pass ({len(part) / secs:.0f} texts per CPU s)")
        print(f"{s}: speed ratio (this tree / {there}): {best[there, s] / best[here, s]:.2f}x")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
