"""Exact and near-duplicate detection: MinHash LSH as pure functions and as Beam transforms."""

from haetae.lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "Deduplicate": "transforms",
    "DedupParams": "minhash",
    "MinHasher": "minhash",
    "near_duplicate_clusters": "minhash",
})
