"""Near-duplicate removal for generated items with the project's MinHash dedup (haetae.pipelines.dedup.minhash).

Signatures are computed once per text and shared by both steps:

* :func:`duplicates_within_groups`: inside each (split, area, language) group, an item that is an exact or
  near duplicate (estimated Jaccard >= threshold) of an earlier kept item (id order) is dropped. Templated
  prompts of *different* areas share scaffolding and differ in the topic, which is the substance, so the
  comparison is scoped to one area and language.
* :func:`cross_split_leaks`: every training item that is an exact or near duplicate of any evaluation item
  is a leak; LSH band keys find the candidates, the estimated Jaccard verifies them. Every verified
  train/eval pair is found (a superset of the edges ``near_duplicate_clusters`` would verify), so after
  dropping the leaks no near-duplicate cluster mixes train and eval.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np

from haetae.pipelines.dedup.minhash import (
    DedupParams,
    MinHasher,
    band_keys,
    estimate_jaccard,
    exact_key,
    is_empty_signature,
)


class Signatures:
    """MinHash signature and exact key of each (id, text), computed once."""

    def __init__(self, items: Iterable[tuple[str, str]], params: DedupParams | None = None) -> None:
        self.params = params or DedupParams()
        hasher = MinHasher(self.params)
        self.sig: dict[str, np.ndarray] = {}
        self.key: dict[str, str] = {}
        by_text: dict[str, str] = {}
        for item_id, text in items:
            if item_id in self.sig:
                raise ValueError(f"duplicate id {item_id!r}")
            first = by_text.get(text)
            self.sig[item_id] = self.sig[first] if first else hasher.signature(text)
            self.key[item_id] = self.key[first] if first else exact_key(text)
            by_text.setdefault(text, item_id)

    def similar(self, a: str, b: str) -> float:
        """1.0 for exact duplicates, else the estimated Jaccard similarity of the shingle sets."""
        if self.key[a] == self.key[b]:
            return 1.0
        sa, sb = self.sig[a], self.sig[b]
        if is_empty_signature(sa) or is_empty_signature(sb):
            return 0.0
        return estimate_jaccard(sa, sb)


def duplicates_within_groups(groups: Iterable[list[str]], sigs: Signatures) -> dict[str, tuple[str, float]]:
    """Dropped id -> (kept id it duplicates, similarity); each group is compared pairwise in id order."""
    threshold = sigs.params.threshold
    dropped: dict[str, tuple[str, float]] = {}
    for group in groups:
        kept: list[str] = []
        for item_id in sorted(group):
            match = next(((k, s) for k in kept if (s := sigs.similar(item_id, k)) >= threshold), None)
            if match:
                dropped[item_id] = match
            else:
                kept.append(item_id)
    return dropped


def cross_split_leaks(train_ids: Iterable[str], eval_ids: Iterable[str], sigs: Signatures) -> dict[str, tuple[str, float]]:
    """Train id -> (most similar eval id, similarity) for every train item that near-duplicates an eval item."""
    params = sigs.params
    buckets: dict[tuple[int, bytes], list[str]] = defaultdict(list)
    by_key: dict[str, str] = {}
    for e in sorted(eval_ids):
        by_key.setdefault(sigs.key[e], e)
        for bk in band_keys(sigs.sig[e], params):
            buckets[bk].append(e)
    leaks: dict[str, tuple[str, float]] = {}
    for t in sorted(train_ids):
        if sigs.key[t] in by_key:
            leaks[t] = (by_key[sigs.key[t]], 1.0)
            continue
        candidates: set[str] = set()
        for bk in band_keys(sigs.sig[t], params):
            candidates.update(buckets.get(bk, ()))
        best = max(((sigs.similar(t, e), e) for e in candidates), default=(0.0, ""))
        if best[0] >= params.threshold:
            leaks[t] = (best[1], best[0])
    return leaks
