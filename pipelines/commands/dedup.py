"""`haetae dedup IN... --out DIR`: exact and near-duplicate clusters of JSONL/Parquet records as a Beam job.

Inputs are read with :class:`~haetae.pipelines.io.beam_io.ReadRecords` (paths or globs on any Beam filesystem).
Writes DIR/clusters.jsonl, one line {"id", "cluster", "kind", "cluster_size", "similarity"} per valid input
record (cluster = the representative id), DIR/quarantine.jsonl with every line or row that could not be used
(the reader's quarantine rows: bad JSON, missing text, repeated id, ...; with the reason), and
DIR/dedup_summary.json (counts that reconcile: records = clustered + quarantined, the dedup counters and the
parameters used). Parameters come from the policy's ``dedup.minhash`` section when ``--policy`` is given,
else :class:`~haetae.pipelines.dedup.minhash.DedupParams` defaults.
"""

from __future__ import annotations

import json
import os
import sys

from haetae.errors import UsageError
from haetae.pipelines.dedup.minhash import DedupParams


class DedupJobError(UsageError):
    """A user error (bad policy, unreadable input): reported on stderr without a traceback."""


def load_dedup_params(policy_path: str | None):
    """The policy (strictly validated, see :func:`~haetae.pipelines.policy.schema.load_policy`) and its
    ``dedup.minhash`` parameters; without ``--policy``: no policy and the :class:`DedupParams` defaults."""
    if not policy_path:
        return None, DedupParams()
    from haetae.pipelines.policy.schema import load_policy

    policy = load_policy(policy_path)
    return policy, policy.dedup_params


def run_dedup(args, extra_beam_args: list[str]) -> int:
    """Run the dedup stage for parsed CLI ``args``; returns the process exit code."""
    try:
        return _run(args, list(extra_beam_args or []))
    except UsageError as exc:  # DedupJobError, and the policy's and input's errors
        print(f"haetae dedup: error: {exc}", file=sys.stderr)
        return 2


DEDUP_OUTPUTS = ("clusters.jsonl", "quarantine.jsonl", "dedup_summary.json")


def _run(args, extra_beam_args: list[str]) -> int:
    import apache_beam as beam

    from haetae.pipelines.dedup.transforms import NAMESPACE, Deduplicate
    from haetae.pipelines.io.beam_io import (
        InputError,
        NumberLines,
        QuarantineDuplicateIds,
        ReadRecords,
        RecordFileFaults,
        WriteShards,
        raise_for_file_faults,
    )
    from haetae.pipelines.io.records import id_value, to_json_line
    from haetae.pipelines.runners.execution import job_output, merge_shards, open_output, run_pipeline
    from haetae.pipelines.runners.options import pipeline_options

    patterns = list(getattr(args, "inputs", None) or [args.input])
    policy, params = load_dedup_params(getattr(args, "policy", None))
    options, bundle_sinks = pipeline_options(getattr(args, "runner", None) or "DirectRunner", extra_beam_args)
    try:
        read = ReadRecords(patterns, text_field=getattr(args, "text_field", None) or "text",
                           id_field=getattr(args, "id_field", None) or "id")
    except InputError as exc:
        raise DedupJobError(str(exc)) from exc
    config = {"params": params.to_dict(), "policy": getattr(args, "policy", None)}
    with job_output("dedup", args.out, entries=DEDUP_OUTPUTS, private=("quarantine.jsonl",), inputs=read.files,
                    config=config) as job:
        shards = job.path("_shards")
        pipeline = beam.Pipeline(options=options)
        result = pipeline | "Read" >> read
        unique = result.records | "UniqueIds" >> QuarantineDuplicateIds()
        clusters = (
            unique.records
            | "IdText" >> beam.Map(lambda r: (r["id_key"], r["text"]))  # ids keep their JSON type
            | "Deduplicate" >> Deduplicate(params)
            | "ClusterLines" >> beam.MapTuple(lambda key, r: to_json_line(
                {"id": id_value(key), **r, "cluster": id_value(r["cluster"])}))
        )
        quarantine = (
            (result.quarantine, unique.quarantine)
            | "AllQuarantine" >> beam.Flatten()
            | "NumberLines" >> NumberLines(result.line_index)
            | "QuarantineLines" >> beam.Map(to_json_line)
        )
        _ = clusters | "WriteClusters" >> WriteShards(shards, "clusters", bundle_sinks=bundle_sinks)
        _ = quarantine | "WriteQuarantine" >> WriteShards(shards, "quarantine", bundle_sinks=bundle_sinks)
        _ = result.file_faults | "RecordFileFaults" >> RecordFileFaults(shards, bundle_sinks)
        run = run_pipeline(pipeline, out=job.out)
        raise_for_file_faults(shards, policy)
        kinds: dict[str, int] = {}

        def count_kind(row: dict) -> None:
            kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1

        merge_shards(shards, "clusters", job.path("clusters.jsonl"), key=lambda r: json.dumps(r["id"]), on_row=count_kind)
        quarantined = merge_shards(shards, "quarantine", job.path("quarantine.jsonl"),
                                   key=lambda q: (q["source"], q["offset"]))
        summary = _summary(run, NAMESPACE, kinds, quarantined, params)
        with open_output(job.path("dedup_summary.json")) as f:
            f.write(json.dumps(summary, indent=2, ensure_ascii=False).encode("utf-8"))
        job.counts = summary["counts"]
    counts = summary["counts"]
    print(
        f"haetae dedup: {counts['records']} input records: {counts['clustered']} clustered, "
        f"{counts['quarantined']} quarantined; {counts['clusters']} clusters ({counts['exact_duplicates']} exact "
        f"and {counts['near_duplicates']} near duplicates) -> {os.path.join(job.out, 'clusters.jsonl')}",
        file=sys.stderr,
    )
    return 0


def _summary(result, namespace: str, kinds: dict[str, int], quarantined: int, params: DedupParams) -> dict:
    """Counts from the written files (authoritative) plus the dedup counters (when the runner reports them)."""
    counters: dict[str, int] = {}
    try:
        from apache_beam.metrics.metric import MetricsFilter

        for c in result.metrics().query(MetricsFilter().with_namespace(namespace))["counters"]:
            counters[c.key.metric.name] = counters.get(c.key.metric.name, 0) + int(c.committed or c.attempted or 0)
    except Exception:  # some runners do not report metrics; the file counts below still reconcile
        counters = {}
    clustered = sum(kinds.values())
    return {
        "counts": {
            "records": clustered + quarantined,
            "clustered": clustered,
            "quarantined": quarantined,
            "clusters": kinds.get("unique", 0) + kinds.get("representative", 0),
            "exact_duplicates": kinds.get("exact", 0),
            "near_duplicates": kinds.get("near", 0),
            "kinds": dict(sorted(kinds.items())),
        },
        "counters": dict(sorted(counters.items())),
        "params": params.to_dict(),
    }
