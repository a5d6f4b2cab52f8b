"""Exact and near-duplicate detection as Beam data: ``Deduplicate`` plus the pure API of :mod:`.minhash`.

Input: PCollection[(id, text)] with unique ids (PCollection[(id, sketch)] for ``DeduplicateSketches``).
Output: exactly one (id, result) per input id, where result is
{"cluster": representative id, "cluster_size": int, "kind": "unique" | "representative" | "exact" | "near",
"similarity": estimated Jaccard similarity to the representative (1.0 for exact duplicates and itself)}.

Steps (each a named Beam stage; no in-memory index over the corpus anywhere):

0. Sketch (``Deduplicate`` only): each document's exact key (sha256 of the normalised text) and MinHash
   signature (permutations built once per worker in ``setup()``). ``DeduplicateSketches`` starts after it,
   for jobs that sketch their documents in an earlier fused stage, so texts are never shuffled.
1. ExactGroups: group the signatures by exact key; the smallest id represents the group and carries its
   signature on.
2. LSH: each representative has one bucket key per band (:func:`~.minhash.band_hashes`, a 64-bit hash of
   the band index and rows); the keys are hashed and batched per bundle by partition (key mod
   ``DedupParams.lsh_partitions``), grouped by partition, and each partition's buckets are found with one
   sort; ``bucket_pairs`` turns a bucket into candidate pairs (an oversized bucket gives a star plus a
   chain, 2n pairs, counted), sent to both ends.
3. Verify: one join on id gives each representative its partners and its sketch (signature, or shingle hash
   set with ``verify="shingles"``); each sketch goes to the larger partners, so each pair meets once, at its
   larger id, in one GroupByKey; a similarity >= threshold makes a verified edge, anything below is a
   rejected pair (both counted).
4. Components, two strategies with the same exact result (representative = the component's smallest id):
   - default (``DedupParams.star_rounds=0``): the verified edges are grouped under one key and a union-find
     runs over them on one worker, which emits (node, representative) one by one. That worker holds one
     map entry per document *that has a near duplicate* (never the corpus, never texts or signatures): one
     shuffle of the small edge list, fastest on one machine and for the usual duplicate graphs. Its limit
     is a duplicate graph that does not fit one worker's memory (order 10^8 near-duplicated documents).
   - ``star_rounds=k``: :class:`StarComponents`, k rounds of large-star/small-star as Beam stages, then a
     label check whose leftovers (components that needed more rounds) go to a union-find over labels only.
     No worker holds the graph, at the price of 2k + 4 shuffles of the edge list. Beam has no loops, so
     the round count is fixed when the pipeline is built; the leftover union-find keeps it exact.
5. Assign: join each exact group with its component representative (the component's smallest id); a group
   without near duplicates is a whole cluster and is emitted at once, the others are grouped by
   representative. Every member is emitted by :func:`~.minhash.cluster_assignments`, exactly as the
   in-memory reference :func:`~.minhash.dedup_assignments` does, so both paths give identical results.

Counters (namespace "dedup"): documents, exact_duplicates, lsh_buckets_oversized, candidate_pairs,
verified_edges, rejected_pairs, near_duplicate_clusters, near_duplicates.
"""

from __future__ import annotations

import apache_beam as beam
import numpy as np

from haetae.pipelines.dedup.minhash import (
    DEDUP_PARAMS_SCHEMA,
    EMPTY_SIGNATURE_VALUE,
    DedupParams,
    MinHasher,
    UnionFind,
    band_hashes,
    bucket_pairs,
    cluster_assignments,
    dedup_assignments,
    estimate_jaccard,
    exact_key,
    large_star,
    minhash_signature,
    near_duplicate_clusters,
    normalize_text,
    shingles,
    small_star,
    verify_similarity,
)
from haetae.pipelines.steps import Step

__all__ = [
    "DEDUP_PARAMS_SCHEMA",
    "DedupParams",
    "Deduplicate",
    "DeduplicateSketches",
    "SketchDocuments",
    "document_sketch",
    "StarComponents",
    "MinHasher",
    "dedup_assignments",
    "estimate_jaccard",
    "exact_key",
    "minhash_signature",
    "near_duplicate_clusters",
    "normalize_text",
    "shingles",
]

NAMESPACE = "dedup"


class _DedupStep(Step):
    """A stage of dedup: its counters are in the "dedup" namespace."""

    NAMESPACE = NAMESPACE


def _sig(raw: bytes) -> np.ndarray:
    """A signature from its bytes (signatures travel between stages as bytes)."""
    return np.frombuffer(raw, dtype=np.uint32)


Sketch = tuple[str, bytes, bytes]  # (exact key, MinHash signature bytes, verification bytes or b"")


def document_sketch(hasher: MinHasher, text: str) -> Sketch:
    """What dedup needs of one document: its exact key, its signature and, with ``verify="shingles"``, its
    shingle hashes (else b""). Signatures travel between stages as bytes, which Beam encodes natively."""
    key, sig, verify_by = hasher.keyed_sketch(text)
    extra = verify_by.tobytes() if hasher.params.verify == "shingles" else b""
    return key, sig.tobytes(), extra


class SketchDocuments(_DedupStep):
    """(id, text) -> (id, sketch); the permutations are built once per worker, in ``setup()``."""

    def __init__(self, params: DedupParams) -> None:
        self.params = params
        self.hasher: MinHasher | None = None

    def setup(self) -> None:
        self.hasher = MinHasher(self.params)

    def process(self, element):
        doc_id, text = element
        yield doc_id, document_sketch(self.hasher, text)


class _KeyByExactKey(_DedupStep):
    def process(self, element):
        doc_id, (key, sig, extra) = element
        self.count("documents")
        yield key, (doc_id, sig, extra)


class _ExactGroups(_DedupStep):
    """(exact key, [(id, signature, verification bytes)...]) -> (representative, (sorted members, signature,
    verification bytes)) with the representative's (smallest id's) sketch."""

    def process(self, element):
        _, docs = element
        members, rep, rep_sig, rep_extra = [], None, b"", b""
        for doc_id, sig, extra in docs:  # only ids are kept: an exact group can be very large
            members.append(doc_id)
            if rep is None or doc_id < rep:
                rep, rep_sig, rep_extra = doc_id, sig, extra
        members.sort()
        self.count("exact_duplicates", len(members) - 1)
        yield rep, (members, rep_sig, rep_extra)


class _BatchBandKeys(_DedupStep):
    """(group rep, (members, signature, _)) -> (partition, (band keys as uint64 bytes, reps)), batched.

    One shuffle element per (batch, partition) instead of one per (document, band): the LSH stage is the
    largest shuffle of the job, and per-element cost dominates it. The band keys of a whole batch are hashed
    in one vectorised call and split by partition (key mod ``lsh_partitions``) with one sort.
    """

    MAX_BATCH = 1 << 16  # documents per batch: bounds a worker's memory on runners with huge bundles

    def __init__(self, params: DedupParams) -> None:
        self.params = params

    def start_bundle(self) -> None:
        self._reps: list[str] = []
        self._sigs: list[bytes] = []

    def process(self, element):
        rep, (_, sig, _) = element
        self._reps.append(rep)
        self._sigs.append(sig)
        if len(self._reps) >= self.MAX_BATCH:
            yield from self._flush()

    def finish_bundle(self):
        for item in self._flush():
            yield self.bundle_output(item)

    def _flush(self):
        p = self.params
        sigs = np.frombuffer(b"".join(self._sigs), dtype=np.uint32).reshape(len(self._sigs), p.num_perm)
        reps = np.array(self._reps, dtype=object)
        self._reps, self._sigs = [], []
        keep = ~np.all(sigs == EMPTY_SIGNATURE_VALUE, axis=1)  # no shingles: no near duplicates
        keys = band_hashes(sigs[keep], p).ravel()
        owners = np.repeat(reps[keep], p.bands)
        parts = keys % np.uint64(p.lsh_partitions)
        order = np.argsort(parts, kind="stable")
        bounds = np.flatnonzero(np.diff(parts[order])) + 1
        for chunk in np.split(order, bounds) if len(order) else []:
            yield int(parts[chunk[0]]), (keys[chunk].tobytes(), owners[chunk].tolist())


class _BucketCandidatePairs(_DedupStep):
    """(partition, [(band keys, reps)...]) -> candidate pairs of every bucket of the partition, as (a, b) and
    (b, a): each end of a pair learns its partner (a pair that met in several bands comes several times)."""

    def __init__(self, max_bucket_size: int) -> None:
        self.max_bucket_size = max_bucket_size

    def process(self, element):
        _, batches = element
        batches = list(batches)
        keys = np.concatenate([np.frombuffer(k, dtype=np.uint64) for k, _ in batches])
        reps = [rep for _, owners in batches for rep in owners]
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        ends = np.r_[starts[1:], len(ordered)]
        for start, end in zip(starts[ends - starts > 1].tolist(), ends[ends - starts > 1].tolist()):
            pairs, oversized = bucket_pairs([reps[i] for i in order[start:end].tolist()], self.max_bucket_size)
            if oversized:
                self.count("lsh_buckets_oversized")
            for a, b in pairs:
                yield a, b
                yield b, a


def _offer_sketch(element):
    """(x, {"sig": [sketch_x], "partner": [y...]}) -> the sketches each candidate pair is verified with, at
    its larger id: (z, (x, sketch_x)) for each partner z > x, and (x, (None, sketch_x)) when x itself has a
    smaller partner (x's own sketch, for the pairs verified at x)."""
    x, joined = element
    partners = set(joined["partner"])
    if not partners:
        return
    sketch = joined["sig"][0]
    if any(y < x for y in partners):
        yield x, (None, sketch)
    for z in partners:
        if z > x:
            yield z, (x, sketch)


class _VerifyPairs(_DedupStep):
    """(b, [(None, sketch_b), (a, sketch_a)...]) -> verified edges (a, b), one check per candidate pair."""

    def __init__(self, params: DedupParams) -> None:
        self.params = params

    def process(self, element):
        b, offers = element
        own, others = None, []
        for a, sketch in offers:
            if a is None:
                own = _sig(sketch)
            else:
                others.append((a, sketch))
        for a, sketch_a in others:
            self.count("candidate_pairs")
            if verify_similarity(_sig(sketch_a), own, self.params) >= self.params.threshold:
                self.count("verified_edges")
                yield a, b
            else:
                self.count("rejected_pairs")


class _ConnectedComponents(_DedupStep):
    """(None, all verified edges) -> (node, smallest id of its component) for every node of an edge.

    The edges arrive as one grouped iterable (streamed by the runner); only the union-find parent map is held.
    """

    def process(self, element):
        _, edges = element
        uf = UnionFind()
        for a, b in edges:
            uf.union(a, b)
        for node in list(uf.parent):
            yield node, uf.find(node)


def _both_directions(edge):
    a, b = edge
    return [(a, b), (b, a)]


def _neighbourhood_min(element):
    node, neighbours = element
    return node, min(min(neighbours), node)


def _label_first_end(element):
    """(a, {"label": [label_a], "edge": [b...]}) -> (b, label_a) per edge."""
    _, joined = element
    label_a = joined["label"][0]
    return [(b, label_a) for b in joined["edge"]]


def _label_disagreements(element):
    """(b, {"label": [label_b], "half": [label_a...]}) -> (label_a, label_b) where the two labels differ."""
    _, joined = element
    label_b = joined["label"][0]
    return [(label_a, label_b) for label_a in joined["half"] if label_a != label_b]


def _final_root(element):
    """(label, {"nodes": [node...], "root": [root?]}) -> (node, root or label)."""
    label, joined = element
    root = joined["root"][0] if joined["root"] else label
    return [(node, root) for node in joined["nodes"]]


class StarComponents(beam.PTransform):
    """Connected components of an edge PCollection without a single-worker graph, in a fixed number of rounds.

    ``rounds`` rounds of large-star then small-star (Kiveris et al., "Connected Components in MapReduce and
    Beyond", 2014), each a GroupByKey over the edge list; both steps keep every component connected and
    converge to one star per component around its smallest id. Each node is then labelled with the
    smallest id of its closed neighbourhood. If every edge joins equal labels, the labels are the components'
    smallest ids. Edges whose ends disagree (components that needed more rounds) go to a union-find over
    *labels* on one key (usually nothing), which relabels them. So the result is exact for any ``rounds``;
    more rounds only move work from the single key to parallel stages. Output: (node, smallest id of its
    component) for every node of an edge.
    """

    def __init__(self, rounds: int = 4, label: str | None = None) -> None:
        super().__init__(label)
        if rounds < 1:
            raise ValueError(f"StarComponents needs at least one round, got {rounds}")
        self.rounds = rounds

    def expand(self, edges):
        for r in range(self.rounds):
            for name, step in (("LargeStar", large_star), ("SmallStar", small_star)):
                edges = (
                    edges
                    | f"{name}{r}Adjacency" >> beam.FlatMap(_both_directions)
                    | f"{name}{r}Group" >> beam.GroupByKey()
                    | f"{name}{r}" >> beam.FlatMapTuple(step)
                    | f"{name}{r}Distinct" >> beam.Distinct()
                )
        labels = (
            edges
            | "LabelAdjacency" >> beam.FlatMap(_both_directions)
            | "LabelGroup" >> beam.GroupByKey()
            | "Label" >> beam.Map(_neighbourhood_min)
        )
        halves = (
            {"label": labels, "edge": edges}
            | "JoinFirstEnd" >> beam.CoGroupByKey()
            | "LabelFirstEnd" >> beam.FlatMap(_label_first_end)
        )
        relabel = (
            {"label": labels, "half": halves}
            | "JoinSecondEnd" >> beam.CoGroupByKey()
            | "Disagreements" >> beam.FlatMap(_label_disagreements)
            | "DisagreementsOneKey" >> beam.Map(lambda pair: (None, pair))
            | "GroupDisagreements" >> beam.GroupByKey()
            | "UnionFindLabels" >> beam.ParDo(_ConnectedComponents())
        )
        return (
            {"nodes": labels | "NodesByLabel" >> beam.MapTuple(lambda node, lab: (lab, node)), "root": relabel}
            | "JoinRoots" >> beam.CoGroupByKey()
            | "FinalRoot" >> beam.FlatMap(_final_root)
        )


CLUSTERED = "clustered"


def _route_group(element):
    """(group rep, {"group": [(members, sig)], "component": [rep?]}) -> results of a group that is a whole
    cluster (no near duplicate: no further shuffle), or (cluster rep, (g, members, sig)) on ``CLUSTERED``."""
    g, joined = element
    (members, sig, _), = joined["group"]
    component = joined["component"]
    if component:
        yield beam.pvalue.TaggedOutput(CLUSTERED, (component[0], (g, members, sig)))
    else:
        yield from cluster_assignments(g, [(g, members, _sig(sig))])


class _AssignMembers(_DedupStep):
    def process(self, element):
        rep, groups = element
        groups = list(groups)
        self.count("near_duplicate_clusters")
        self.count("near_duplicates", len(groups) - 1)
        yield from cluster_assignments(rep, [(g, members, _sig(sig)) for g, members, sig in groups])


class DeduplicateSketches(beam.PTransform):
    """PCollection[(id, sketch)] -> PCollection[(id, result dict)], one per input id (see the module docstring).

    The sketches come from :func:`document_sketch`, so a job that already holds its documents in a fused
    stage (the audit) computes them there and only ids, keys and signatures are shuffled, never texts.
    """

    def __init__(self, params: DedupParams | None = None, label: str | None = None) -> None:
        """``params.star_rounds`` = 0: components by one union-find over all verified edges (one worker holds
        the duplicate graph); > 0: :class:`StarComponents` with that many rounds (no worker holds the graph)."""
        super().__init__(label)
        self.params = params or DedupParams()

    def expand(self, sketches):
        p = self.params
        groups = (
            sketches
            | "KeyByExactKey" >> beam.ParDo(_KeyByExactKey())
            | "GroupExact" >> beam.GroupByKey()
            | "ExactGroups" >> beam.ParDo(_ExactGroups())
        )
        verify_by = groups | "VerificationSketches" >> beam.MapTuple(lambda g, v: (g, v[2] or v[1]))
        partners = (
            groups
            | "BandKeys" >> beam.ParDo(_BatchBandKeys(p))
            | "GroupPartitions" >> beam.GroupByKey()
            | "CandidatePairs" >> beam.ParDo(_BucketCandidatePairs(p.max_bucket_size))
        )
        verified = (
            {"sig": verify_by, "partner": partners}
            | "JoinSketches" >> beam.CoGroupByKey()
            | "OfferSketches" >> beam.FlatMap(_offer_sketch)
            | "GroupOffers" >> beam.GroupByKey()
            | "Verify" >> beam.ParDo(_VerifyPairs(p))
        )
        if p.star_rounds:
            components = verified | "StarComponents" >> StarComponents(p.star_rounds)
        else:
            components = (
                verified
                | "OneKey" >> beam.Map(lambda edge: (None, edge))
                | "GroupEdges" >> beam.GroupByKey()
                | "UnionFind" >> beam.ParDo(_ConnectedComponents())
            )
        routed = (
            {"group": groups, "component": components}
            | "JoinComponents" >> beam.CoGroupByKey()
            | "RouteToCluster" >> beam.FlatMap(_route_group).with_outputs(CLUSTERED, main="alone")
        )
        clustered = (
            routed[CLUSTERED]
            | "GroupClusters" >> beam.GroupByKey()
            | "AssignMembers" >> beam.ParDo(_AssignMembers())
        )
        return (routed.alone, clustered) | "AllResults" >> beam.Flatten()

class Deduplicate(beam.PTransform):
    """PCollection[(id, text)] -> PCollection[(id, result dict)], one per input id: :class:`SketchDocuments`
    then :class:`DeduplicateSketches`."""

    def __init__(self, params: DedupParams | None = None, label: str | None = None) -> None:
        super().__init__(label)
        self.params = params or DedupParams()

    def expand(self, docs):
        return (
            docs
            | "Sketch" >> beam.ParDo(SketchDocuments(self.params))
            | "DeduplicateSketches" >> DeduplicateSketches(self.params)
        )
