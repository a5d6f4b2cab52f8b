"""`haetae pii scan IN.jsonl --out OUT.jsonl`: PII spans of every record, as a Beam job.

Output: OUT.jsonl, one line ``{"id", "spans": [{"start", "end", "type", "score"}]}`` per readable input
record (character offsets into ``text``, Presidio entity names), **sorted by id** (its JSON text) so that
reruns give identical files. The sort runs in the driver after the job, so it holds the output (ids and
spans, not texts) in memory.

Bad input is never fatal and never silent: lines that cannot be used (malformed JSON, missing or non-string
text, empty text, NUL characters, duplicate ids, ...) go to ``OUT.quarantine.jsonl`` with their line number
and a reason, are counted on stderr, and the job exits 0 (the output is complete for every usable line).
User errors (unreadable input, bad --language, bad PII config) print one line on stderr and exit 2.

``--language auto`` identifies each record's language offline (Hangul share, then py3langid); any other
value is used for every record. Languages the scanner has no recognisers for fall back to its
``fallback_language`` (see policies/pii_recognizers.yaml).
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from typing import Any

import apache_beam as beam

from haetae.errors import UsageError
from haetae.pipelines.steps import Step

NAMESPACE = "pii_scan"


class PiiScanError(UsageError):
    """A user error reported on stderr without a traceback."""


def quarantine_path(out: str) -> str:
    """``OUT.jsonl`` -> ``OUT.quarantine.jsonl``."""
    root, ext = os.path.splitext(out)
    return f"{root}.quarantine{ext or '.jsonl'}"


def output_line(record: dict[str, Any]) -> str:
    """The OUT.jsonl line of one scored record."""
    from haetae.pipelines.io.records import id_value

    return json.dumps(
        {"id": id_value(record["id_key"]), "spans": record["pii_spans"]}, ensure_ascii=False, separators=(",", ":")
    )


class SetLanguage(Step):
    """Add "lang" to each record: detected per record (``"auto"``) or the given code; counted per language
    as ``pii_scan.lang_<code>``."""

    NAMESPACE = NAMESPACE

    def __init__(self, language: str = "auto"):
        self.language = language

    def setup(self) -> None:
        self._detect = None
        if self.language == "auto":
            from haetae.pipelines.detectors.language import LanguageIdentifier

            self._detect = LanguageIdentifier().detect

    def process(self, record: dict):
        lang = self._detect(record["text"])[0] if self._detect else self.language
        self.count(f"lang_{lang}")
        yield {**record, "lang": lang}


def _is_record(row: dict) -> bool:
    return "reason" not in row


def _is_quarantine(row: dict) -> bool:
    return "reason" in row


def build_pipeline(
    pipeline,
    input_pattern: str,
    parts_dir: str,
    *,
    language: str,
    text_field: str,
    id_field: str,
    pii_config=None,
    bundle_sinks: bool = False,
    to_lines: beam.PTransform | None = None,
    scanner=None,
) -> None:
    """Read -> unique ids -> language -> ScorePii -> shards of output lines and quarantine rows in parts_dir.

    ``to_lines`` turns scored records into output lines (default: :func:`output_line`; ``pii redact`` gives
    its redaction step, with the :class:`~haetae.pipelines.pii.scanner.SharedScanner` ``scanner`` it shares)."""
    from haetae.pipelines.io import records as R
    from haetae.pipelines.io.beam_io import (
        QUARANTINE_TAG,
        NumberLines,
        QuarantineDuplicateIds,
        ReadRecords,
        RecordFileFaults,
        WriteShards,
    )
    from haetae.pipelines.pii.scanner import ScorePii

    read = pipeline | "Read" >> ReadRecords([input_pattern], text_field=text_field, id_field=id_field)
    # Beam's DaskRunner (2.77) hands every tagged output of a DoFn to every consumer, so each side of a
    # split is filtered again: records never carry "reason", quarantine rows always do.
    records = read.records | "OnlyRecords" >> beam.Filter(_is_record)
    unique = records | "UniqueIds" >> QuarantineDuplicateIds()
    lines = (
        unique.records
        | "OnlyUniqueRecords" >> beam.Filter(_is_record)
        | "Language" >> beam.ParDo(SetLanguage(language))
        | "ScorePii" >> beam.ParDo(ScorePii(pii_config, scanner=scanner))
        | "OutputLines" >> (to_lines or beam.Map(output_line))
    )
    quarantine = (
        read.quarantine | "OnlyBadLines" >> beam.Filter(_is_quarantine),
        unique[QUARANTINE_TAG] | "OnlyDuplicates" >> beam.Filter(_is_quarantine),
    ) | "Quarantine" >> beam.Flatten()
    lines | "WriteSpans" >> WriteShards(parts_dir, "spans", bundle_sinks=bundle_sinks)
    read.file_faults | "RecordFileFaults" >> RecordFileFaults(parts_dir, bundle_sinks)
    (
        quarantine
        | "NumberLines" >> NumberLines(read.line_index)
        | "QuarantineLines" >> beam.Map(R.to_json_line)
        | "WriteQuarantine" >> WriteShards(parts_dir, "quarantine", bundle_sinks=bundle_sinks)
    )


def run_pii_scan(args, extra_beam_args: list[str]) -> int:
    """Run the stage for parsed CLI ``args`` (input, out, language, text_field, id_field, runner)."""
    from haetae.offline import ensure_offline

    ensure_offline()
    try:
        return _run(args, list(extra_beam_args or []))
    except PiiScanError as exc:
        print(f"haetae pii scan: error: {exc}", file=sys.stderr)
        return 2


def _run(args, extra: list[str], command: str = "pii scan", redaction=None) -> int:
    """The job for ``pii scan``, or for ``pii redact`` with ``redaction``: a callable giving (shared scanner,
    to_lines step, manifest config) that raises a UsageError before anything is touched."""
    from haetae.pipelines.io.beam_io import InputError, expand_inputs, raise_for_file_faults
    from haetae.pipelines.pii.scanner import PiiConfigError, load_config
    from haetae.pipelines.runners.execution import job_output, merge_shards, run_pipeline
    from haetae.pipelines.runners.options import pipeline_options

    language = (getattr(args, "language", None) or "auto").strip().lower()
    if language != "auto" and not language.replace("-", "").isalpha():
        raise PiiScanError(f"--language must be 'auto' or a language code like ko or en, got {language!r}")
    try:
        files = expand_inputs([args.input])
        pii_config, scanner, to_lines, more_config = None, None, None, {}
        if redaction is None:
            pii_config = load_config(getattr(args, "pii_config", None))
        else:
            scanner, to_lines, more_config = redaction()
    except (InputError, PiiConfigError) as exc:
        raise PiiScanError(str(exc)) from None
    options, bundle_sinks = pipeline_options(getattr(args, "runner", None) or "DirectRunner", extra)
    qname = os.path.basename(quarantine_path(args.out))
    config = {"language": language, "runner": getattr(args, "runner", None) or "DirectRunner", **more_config}
    with job_output(command, args.out, entries=(qname,), single_file=True, private=(qname,), inputs=files,
                    config=config) as job:
        pipeline = beam.Pipeline(options=options)
        build_pipeline(
            pipeline,
            args.input,
            job.path("_shards"),
            language=language,
            text_field=getattr(args, "text_field", "text") or "text",
            id_field=getattr(args, "id_field", "id") or "id",
            pii_config=pii_config,
            bundle_sinks=bundle_sinks,
            to_lines=to_lines,
            scanner=scanner,
        )
        run_pipeline(pipeline, out=job.out)
        raise_for_file_faults(job.path("_shards"), None)  # no data policy here: an unreadable file stops the job
        out_name = os.path.basename(job.out)
        shards = job.path("_shards")
        scanned = merge_shards(shards, "spans", job.path(out_name), key=lambda row: json.dumps(row["id"]))
        quarantined = merge_shards(shards, "quarantine", job.path(qname), key=lambda q: (q["source"], q["offset"]))
        job.counts = {"scanned": scanned, "quarantined": quarantined}
    _report(job.out, scanned, quarantine_path(job.out), quarantined, command)
    return 0


def _report(out: str, scanned: int, qpath: str, quarantined: int, command: str = "pii scan") -> None:
    entities: Counter[str] = Counter()
    with_pii = 0
    field, verb = ("spans", "scanned") if command == "pii scan" else ("entities", "redacted")
    with open(out, encoding="utf-8") as f:
        for line in f:
            spans = json.loads(line)[field]
            with_pii += bool(spans)
            entities.update(s["type"] for s in spans)
    summary = ", ".join(f"{t} {n}" for t, n in sorted(entities.items())) or "none"
    print(
        f"haetae {command}: {scanned} records {verb}, {with_pii} with PII ({summary}) -> {out}",
        file=sys.stderr,
    )
    if quarantined:
        reasons: Counter[str] = Counter()
        with open(qpath, encoding="utf-8") as f:
            for line in f:
                reasons[json.loads(line)["reason"]] += 1
        detail = ", ".join(f"{r} {n}" for r, n in sorted(reasons.items()))
        print(
            f"haetae {command}: {quarantined} input lines quarantined ({detail}) -> {qpath}", file=sys.stderr
        )
