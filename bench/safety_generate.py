"""Benchmark `haetae safety generate` on the shipped taxonomy and its seeds (6 languages).

Prints the wall time of the whole run and of each step against the issue's 10-minute budget, and, measured in
the same run, the generator's leakage steps (MinHash signatures computed once, in-area pairwise checks, LSH probe
of train against eval) against the baseline of clustering every train and eval prompt with the generic
``near_duplicate_clusters`` and dropping train items in mixed clusters. Both must find zero leakage afterwards.

    .venv/bin/python bench/safety_generate.py [--audit pipeline|inline|off] [--taxonomy DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

BUDGET_S = 600.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audit", default="pipeline", choices=("pipeline", "inline", "off"))
    parser.add_argument("--taxonomy", default=None, help="taxonomy folder (default: the shipped one)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from haetae.offline import ensure_offline

    ensure_offline()
    from haetae.pipelines.dedup.transforms import DedupParams, near_duplicate_clusters
    from haetae.taxonomy.checks import clusters_from_mapping
    from haetae.taxonomy.generate import GenerateConfig, generate
    from haetae.taxonomy.items import ItemConfig, build_items, request_text
    from haetae.taxonomy.leakage import Signatures, cross_split_leaks, duplicates_within_groups
    from haetae.taxonomy.loader import load_taxonomy
    from haetae.taxonomy.seeds import load_seeds

    taxonomy = load_taxonomy(args.taxonomy)
    seeds = load_seeds(taxonomy)
    cfg = GenerateConfig(items=ItemConfig(seed=args.seed), audit=args.audit)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        manifest = generate(taxonomy, Path(tmp) / "out", cfg, log=lambda msg: None)
        total = time.perf_counter() - start
    print(f"full run: {len(taxonomy.areas)} areas ({len(seeds)} with seeds) x 6 languages, audit {args.audit}: "
          f"{total:.1f} s wall = {total / BUDGET_S:.2f} x the 600 s budget")
    print("  steps: " + ", ".join(f"{k} {v['seconds']:.1f}s" for k, v in manifest["steps"].items()))
    print("  counts: " + json.dumps(manifest["counts"]))

    # leakage: generator steps vs generic clustering, on the same prompts
    s = build_items(taxonomy, seeds, cfg.items)
    train, evals = s.train_redteam + s.train_benign, s.eval
    texts = [(i["id"], request_text(i)) for i in train + evals]
    eval_ids = {i["id"] for i in evals}

    start = time.perf_counter()
    sigs = Signatures(texts, DedupParams())
    groups: dict[tuple, list[str]] = {}
    for i in (i for i in train + evals if i["mutation"] == "none"):
        groups.setdefault((i["split"], i["kind"], i["area"], i["language"]), []).append(i["id"])
    dup = duplicates_within_groups(groups.values(), sigs)
    leaks = cross_split_leaks([i["id"] for i in train if i["id"] not in dup], [e for e in eval_ids if e not in dup], sigs)
    ours = time.perf_counter() - start

    start = time.perf_counter()
    mapping = near_duplicate_clusters(texts, DedupParams())
    mixed = [c for c in clusters_from_mapping(mapping) if any(i in eval_ids for i in c) and any(i not in eval_ids for i in c)]
    baseline_drop = {i for c in mixed for i in c if i not in eval_ids}
    baseline = time.perf_counter() - start
    print(f"leakage steps on {len(texts)} prompts: generator {ours:.1f} s ({len(dup)} in-area duplicates, "
          f"{len(leaks)} leaks); baseline near_duplicate_clusters {baseline:.1f} s ({len(mixed)} mixed clusters, "
          f"{len(baseline_drop)} train items it would drop); speed-up {baseline / ours:.2f}x")


if __name__ == "__main__":
    main()
