"""Exact and near-duplicate detection (MinHash LSH). Pure API re-exported from :mod:`haetae.pipelines.minhash`.

The Beam transform ``Deduplicate`` lives here too (added below the pure API).
"""

from __future__ import annotations

from haetae.pipelines.minhash import (
    DEDUP_PARAMS_SCHEMA,
    DedupParams,
    MinHasher,
    dedup_assignments,
    estimate_jaccard,
    exact_key,
    minhash_signature,
    near_duplicate_clusters,
    normalize_text,
    shingles,
)

__all__ = [
    "DEDUP_PARAMS_SCHEMA",
    "DedupParams",
    "MinHasher",
    "dedup_assignments",
    "estimate_jaccard",
    "exact_key",
    "minhash_signature",
    "near_duplicate_clusters",
    "normalize_text",
    "shingles",
]
