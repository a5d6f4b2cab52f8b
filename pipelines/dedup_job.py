"""`haetae dedup IN... --out DIR`: exact and near-duplicate clusters of JSONL/Parquet records as a Beam job.

Inputs are read with :class:`~haetae.pipelines.io.ReadRecords` (paths or globs on any Beam filesystem).
Writes DIR/clusters.jsonl, one line {"id", "cluster", "kind", "cluster_size", "similarity"} per valid input
record (cluster = the representative id), DIR/quarantine.jsonl with every line or row that could not be used
(the reader's quarantine rows: bad JSON, missing text, repeated id, ...; with the reason), and
DIR/dedup_summary.json (counts that reconcile: records = clustered + quarantined, the dedup counters and the
parameters used). Parameters come from the policy's ``dedup.minhash`` section when ``--policy`` is given,
else :class:`~haetae.pipelines.minhash.DedupParams` defaults.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from haetae.errors import UsageError
from haetae.pipelines.minhash import DedupParams


class DedupJobError(UsageError):
    """A user error (bad policy, unreadable input): reported on stderr without a traceback."""


def load_dedup_params(policy_path: str | None) -> DedupParams:
    """DedupParams from a policy YAML's ``dedup.minhash`` mapping (defaults when absent or no policy)."""
    if not policy_path:
        return DedupParams()
    import yaml

    try:
        with open(policy_path, encoding="utf-8") as f:
            policy = yaml.safe_load(f)
    except OSError as exc:
        raise DedupJobError(f"cannot read policy {policy_path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise DedupJobError(f"policy {policy_path} is not valid YAML: {exc}") from exc
    section: Any = ((policy or {}).get("dedup") or {}) if isinstance(policy, dict) else None
    if not isinstance(section, dict):
        raise DedupJobError(f"policy {policy_path}: 'dedup' must be a mapping")
    try:
        return DedupParams.from_dict(section.get("minhash"))
    except (TypeError, ValueError) as exc:
        raise DedupJobError(f"policy {policy_path}: dedup.minhash: {exc}") from exc


def _concat_shards(out_dir: str, prefix: str, target: str, on_line=None) -> int:
    """Concatenate DIR/PREFIX-*.jsonl shards into DIR/TARGET, delete them, return the line count; ``on_line``
    sees each line (bytes)."""
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    pattern = FileSystems.join(out_dir, f"{prefix}-*.jsonl")
    shards = sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)
    lines = 0
    with FileSystems.create(FileSystems.join(out_dir, target)) as out:
        for shard in shards:
            with FileSystems.open(shard, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
                for line in handle:
                    if line.strip():
                        out.write(line if line.endswith(b"\n") else line + b"\n")
                        lines += 1
                        if on_line is not None:
                            on_line(line)
    FileSystems.delete(shards)
    return lines


def run_dedup(args, extra_beam_args: list[str]) -> int:
    """Run the dedup stage for parsed CLI ``args``; returns the process exit code."""
    try:
        return _run(args, list(extra_beam_args or []))
    except DedupJobError as exc:
        print(f"haetae dedup: error: {exc}", file=sys.stderr)
        return 2


def _run(args, extra_beam_args: list[str]) -> int:
    import apache_beam as beam
    from apache_beam.io.filesystems import FileSystems

    from haetae.pipelines.dedup import NAMESPACE, Deduplicate
    from haetae.pipelines.io import InputError, NumberLines, QuarantineDuplicateIds, ReadRecords, WriteShards
    from haetae.pipelines.records import to_json_line

    patterns = list(getattr(args, "inputs", None) or [args.input])
    params = load_dedup_params(getattr(args, "policy", None))
    from haetae.pipelines.runners import pipeline_options

    options, bundle_sinks = pipeline_options(getattr(args, "runner", None) or "DirectRunner", extra_beam_args)
    try:
        read = ReadRecords(patterns, text_field=getattr(args, "text_field", None) or "text",
                           id_field=getattr(args, "id_field", None) or "id")
    except InputError as exc:
        raise DedupJobError(str(exc)) from exc
    out_dir = args.out
    if not FileSystems.exists(out_dir):
        FileSystems.mkdirs(out_dir)

    pipeline = beam.Pipeline(options=options)
    result = pipeline | "Read" >> read
    unique = result.records | "UniqueIds" >> QuarantineDuplicateIds()
    clusters = (
        unique.records
        | "IdText" >> beam.Map(lambda r: (r["id"], r["text"]))
        | "Deduplicate" >> Deduplicate(params)
        | "ClusterLines" >> beam.MapTuple(lambda doc_id, r: to_json_line({"id": doc_id, **r}))
    )
    quarantine = (
        (result.quarantine, unique.quarantine)
        | "AllQuarantine" >> beam.Flatten()
        | "NumberLines" >> NumberLines(result.line_index)
        | "QuarantineLines" >> beam.Map(to_json_line)
    )
    _ = clusters | "WriteClusters" >> WriteShards(out_dir, "clusters-part", bundle_sinks=bundle_sinks)
    _ = quarantine | "WriteQuarantine" >> WriteShards(out_dir, "quarantine-part", bundle_sinks=bundle_sinks)
    run = pipeline.run()
    run.wait_until_finish()
    kinds: dict[str, int] = {}

    def count_kind(line: bytes) -> None:
        kind = json.loads(line)["kind"]
        kinds[kind] = kinds.get(kind, 0) + 1

    _concat_shards(out_dir, "clusters-part", "clusters.jsonl", count_kind)
    quarantined = _concat_shards(out_dir, "quarantine-part", "quarantine.jsonl")
    summary = _summary(run, NAMESPACE, kinds, quarantined, params)
    with FileSystems.create(FileSystems.join(out_dir, "dedup_summary.json")) as f:
        f.write(json.dumps(summary, indent=2, ensure_ascii=False).encode("utf-8"))
    counts = summary["counts"]
    print(
        f"haetae dedup: {counts['records']} input records: {counts['clustered']} clustered, "
        f"{counts['quarantined']} quarantined; {counts['clusters']} clusters ({counts['exact_duplicates']} exact "
        f"and {counts['near_duplicates']} near duplicates) -> {FileSystems.join(out_dir, 'clusters.jsonl')}",
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
