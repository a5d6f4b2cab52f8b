"""`haetae dedup IN... --out DIR`: exact and near-duplicate clusters of JSONL records as a Beam job.

Writes DIR/clusters.jsonl, one line {"id", "cluster", "kind", "cluster_size", "similarity"} per readable input
record (cluster = the representative id), DIR/quarantine.jsonl for lines that could not be used (with the
reason), and DIR/dedup_summary.json (counts and the parameters used). Parameters come from the policy's
``dedup.minhash`` section when ``--policy`` is given, else :class:`~haetae.pipelines.minhash.DedupParams`
defaults.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from haetae.pipelines.minhash import DedupParams


class DedupJobError(ValueError):
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


def parse_line(source: str, line_no: int, line: str, text_field: str, id_field: str) -> tuple[str, Any]:
    """("ok", (id, text)) for a usable JSONL line, else ("quarantine", row with the reason)."""

    def bad(reason: str) -> tuple[str, dict]:
        return "quarantine", {"source": source, "line": line_no, "reason": reason, "raw": line[:10000]}

    try:
        obj = json.loads(line)
    except ValueError:
        return bad("malformed_json")
    if not isinstance(obj, dict):
        return bad("not_an_object")
    doc_id, text = obj.get(id_field), obj.get(text_field)
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int) or doc_id == "":
        return bad("missing_id" if doc_id is None else "invalid_id")
    if not isinstance(text, str):
        return bad("missing_text" if text is None else "non_string_text")
    return "ok", (str(doc_id), text)


def _read_lines(readable_file):
    """(source, line number, line) for each non-blank line of a matched file (compression by extension)."""
    import io

    source = readable_file.metadata.path
    with readable_file.open() as raw:
        stream = io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
        for line_no, line in enumerate(stream, start=1):
            line = line.rstrip("\r\n")
            if line.strip():
                yield source, line_no, line


def _first_by_position(element):
    """(id, [(source, line, text)...]) -> ("ok", (id, text)) for the first occurrence, quarantine the rest."""
    doc_id, occurrences = element
    first, *rest = sorted(occurrences)
    yield "ok", (doc_id, first[2])
    for source, line_no, _ in rest:
        yield "quarantine", {"source": source, "line": line_no, "reason": "duplicate_id", "raw": "", "id": doc_id}


def _check_inputs(patterns: list[str]) -> None:
    from apache_beam.io.filesystems import FileSystems

    for pattern in patterns:
        try:
            found = FileSystems.match([pattern])[0].metadata_list
        except Exception as exc:  # Beam raises BeamIOError / ValueError for unknown schemes
            raise DedupJobError(f"cannot read input {pattern}: {exc}") from exc
        if not found:
            raise DedupJobError(f"no input file matches {pattern}")


def _pipeline_options(runner: str, extra_beam_args: list[str]):
    from apache_beam.options.pipeline_options import PipelineOptions

    args = ["--runner", runner, *extra_beam_args]
    if runner == "DirectRunner" and not any(a.startswith("--direct_running_mode") for a in extra_beam_args):
        args += ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    return PipelineOptions(args)


def run_dedup(args, extra_beam_args: list[str]) -> int:
    """Run the dedup stage for parsed CLI ``args``; returns the process exit code."""
    try:
        return _run(args, list(extra_beam_args or []))
    except DedupJobError as exc:
        print(f"haetae dedup: error: {exc}", file=sys.stderr)
        return 2


def _run(args, extra_beam_args: list[str]) -> int:
    import apache_beam as beam
    from apache_beam.io import fileio

    from haetae.pipelines.dedup import NAMESPACE, Deduplicate

    patterns = list(getattr(args, "inputs", None) or [args.input])
    text_field = getattr(args, "text_field", "text") or "text"
    id_field = getattr(args, "id_field", "id") or "id"
    params = load_dedup_params(getattr(args, "policy", None))
    _check_inputs(patterns)
    out_dir = args.out
    os.makedirs(out_dir, exist_ok=True)
    runner = getattr(args, "runner", None) or "DirectRunner"

    def to_json(obj) -> str:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

    pipeline = beam.Pipeline(options=_pipeline_options(runner, extra_beam_args))
    lines = (
        pipeline
        | "Patterns" >> beam.Create(patterns)
        | "Match" >> fileio.MatchAll()
        | "Open" >> fileio.ReadMatches()
        | "Lines" >> beam.FlatMap(_read_lines)
    )
    parsed = lines | "Parse" >> beam.MapTuple(
        lambda source, n, line: (source, n, *parse_line(source, n, line, text_field, id_field)))
    # Ids must be unique: keep the first occurrence by (source, line), quarantine the others.
    by_id = (
        parsed
        | "Usable" >> beam.Filter(lambda t: t[2] == "ok")
        | "KeyById" >> beam.MapTuple(lambda source, n, _, doc: (doc[0], (source, n, doc[1])))
        | "GroupIds" >> beam.GroupByKey()
        | "FirstById" >> beam.FlatMap(_first_by_position)
    )
    unique = by_id | "UniqueIds" >> beam.Filter(lambda kv: kv[0] == "ok") | "Docs" >> beam.Values()
    quarantine = (
        (parsed | "BadLines" >> beam.Filter(lambda t: t[2] == "quarantine") | "BadRows" >> beam.Map(lambda t: t[3]),
         by_id | "DuplicateIds" >> beam.Filter(lambda kv: kv[0] == "quarantine") | "DupRows" >> beam.Values())
        | "AllQuarantine" >> beam.Flatten()
    )
    clusters = unique | "Deduplicate" >> Deduplicate(params)
    (
        clusters
        | "ClusterLines" >> beam.MapTuple(lambda doc_id, r: to_json({"id": doc_id, **r}))
        | "WriteClusters" >> beam.io.WriteToText(
            os.path.join(out_dir, "clusters"), file_name_suffix=".jsonl", num_shards=1, shard_name_template="")
    )
    (
        quarantine
        | "QuarantineLines" >> beam.Map(to_json)
        | "WriteQuarantine" >> beam.io.WriteToText(
            os.path.join(out_dir, "quarantine"), file_name_suffix=".jsonl", num_shards=1, shard_name_template="")
    )
    result = pipeline.run()
    result.wait_until_finish()
    summary = _summary(result, NAMESPACE, out_dir, params)
    with open(os.path.join(out_dir, "dedup_summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2, ensure_ascii=False)
    counts = summary["counts"]
    print(
        f"haetae dedup: {counts['lines']} input lines: {counts['clustered']} clustered, "
        f"{counts['quarantined']} quarantined; "
        f"{counts['clusters']} clusters ({counts['exact_duplicates']} exact and {counts['near_duplicates']} near "
        f"duplicates) -> {os.path.join(out_dir, 'clusters.jsonl')}",
        file=sys.stderr,
    )
    return 0


def _summary(result, namespace: str, out_dir: str, params: DedupParams) -> dict:
    """Counts from the written files (authoritative) plus the dedup counters (when the runner reports them)."""
    counters: dict[str, int] = {}
    try:
        from apache_beam.metrics.metric import MetricsFilter

        for c in result.metrics().query(MetricsFilter().with_namespace(namespace))["counters"]:
            counters[c.key.metric.name] = counters.get(c.key.metric.name, 0) + int(c.committed or c.attempted or 0)
    except Exception:  # some runners do not report metrics; the file counts below still reconcile
        counters = {}
    kinds: dict[str, int] = {}
    representatives = set()
    with open(os.path.join(out_dir, "clusters.jsonl"), encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
            representatives.add(row["cluster"])
    with open(os.path.join(out_dir, "quarantine.jsonl"), encoding="utf-8") as f:
        quarantined = sum(1 for _ in f)
    clustered = sum(kinds.values())
    return {
        "counts": {
            "lines": clustered + quarantined,
            "clustered": clustered,
            "quarantined": quarantined,
            "clusters": len(representatives),
            "exact_duplicates": kinds.get("exact", 0),
            "near_duplicates": kinds.get("near", 0),
            "kinds": kinds,
        },
        "counters": counters,
        "params": params.to_dict(),
    }
