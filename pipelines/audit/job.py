"""The data-audit job: read, score, decide, deduplicate, redact, write the ledger, validate, report.

Steps (each a small named PTransform or DoFn):

    Read -> DetectLanguage -> ScoreQuality -> ScorePii -> ScoreRights -> PreDecide -> SketchForDedup
         --(id, source, offset, sketch)--> GroupClaims -> FirstClaims --(undecided)--> DeduplicateSketches
         --(id, record)------------------------------------------------------------> JoinDuplicates
         -> FinalDecide (duplicate ids, dedup rules, redaction + re-scan, ids that hold PII hashed)
         -> kept/ shards, ledger/ Parquet, quarantine/ JSONL, _aggregates/ partial summaries
    reader's and duplicate-id quarantine rows -> ScanQuarantine (ids hashed, raw scanned) -> ledger/
    every quarantine row -> StoreQuarantine (raw kept, redacted or encrypted) -> quarantine/ (0700, 0600)

Everything up to ``SketchForDedup`` is one fused stage per input range, so each record's text is parsed,
scored and sketched where it was read. Only the small claims (id, where the record was read, MinHash sketch)
are shuffled for duplicate ids and dedup; the full record is shuffled once, into the final join.

After the Beam job the driver merges the partial aggregates into ``aggregates.json``, runs the Great
Expectations suite (``validation.json``) and writes ``report.html``.

``haetae audit``'s default runner, ``local`` (:mod:`haetae.pipelines.runners.local`), runs these same DoFns
outside Beam in three phases with bounded memory (score and spill per range, dedup on compact claims in the
driver, decide per range), with identical results; :func:`build_pipeline` is the job on every Beam runner
except Dask, which runs those three phases as Beam pipelines (:mod:`haetae.pipelines.runners.dask_phases`) unless
``--beam-graph`` is given.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import apache_beam as beam

from haetae.pipelines.audit.ledger import decided_row, ledger_schema, quarantined_row
from haetae.pipelines.audit.quarantine import (
    RAW_SPANS,
    QuarantineCipher,
    ScanQuarantine,
    StoreQuarantine,
    make_private_dir,
    protect_file,
    quarantine_cipher,
    quarantine_pii_fields,
    raw_mode,
)
from haetae.pipelines.dedup.transforms import DeduplicateSketches, document_sketch
from haetae.pipelines.io import records as R
from haetae.pipelines.io.beam_io import (
    QUARANTINE_TAG,
    NumberLines,
    ProgressLog,
    ReadRecords,
    RecordFileFaults,
    WriteShards,
    duplicate_id_row,
    expand_inputs,
    input_order,
    raise_for_file_faults,
)
from haetae.pipelines.pii.fields import (
    FieldSelection,
    IdHasher,
    PublicIds,
    id_hasher,
    pii_field_labels,
    redact_fields,
)
from haetae.pipelines.policy.rules import Verdict, final_verdict, pre_dedup_verdict, spans_to_redact
from haetae.pipelines.policy.schema import Policy, load_policy
from haetae.pipelines.steps import Step, counter_key

if TYPE_CHECKING:
    from haetae.pipelines.pii.pseudonyms import PiiKey
    from haetae.pipelines.pii.scanner import SharedScanner
    from haetae.pipelines.rights.registry_settings import RegistrySettings

log = logging.getLogger(__name__)

DEDUP_TAG = "dedup"
EXAMPLES_PER_RULE = 3
EXAMPLE_CHARS = 240


# ------------------------------------------------------------------------------------------------- steps


class DetectLanguage(Step):
    """Add ``lang`` and ``lang_score``; counters (namespace "lang"): records per language."""

    NAMESPACE = "lang"

    def setup(self):
        from haetae.pipelines.detectors.language import LanguageIdentifier

        self._langid = LanguageIdentifier()
        self._progress = ProgressLog("score")

    def process(self, rec: R.Record):
        self._progress.tick()
        lang, score = self._langid.detect(rec["text"])
        self.count(lang)
        yield {**rec, "lang": lang, "lang_score": score}


def score_quality(rec: R.Record) -> R.Record:
    from haetae.pipelines.detectors.quality import quality_signals

    return {**rec, "quality": quality_signals(rec["text"])}


class PreDecide(Step):
    """Apply the rules that do not need dedup: a record they decide carries its verdict from here on."""

    def __init__(self, policy: Policy):
        self.policy = policy

    def process(self, rec):
        verdict = pre_dedup_verdict(self.policy, rec)
        yield rec if verdict is None else _with_verdict(rec, verdict)


class SketchForDedup(Step):
    """record -> (id key, record) for the final join, and on ``dedup`` the record's claim on its id:
    (id key, (source, offset, sketch)), with the MinHash sketch of an undecided record and None for a decided
    one. Keys are ``id_key`` (the id as JSON text), so ids ``123`` and ``"123"`` are different records.
    """

    def __init__(self, policy: Policy):
        self.params = policy.dedup_params

    def setup(self):
        from haetae.pipelines.dedup.minhash import MinHasher

        self._hasher = MinHasher(self.params)

    def process(self, rec):
        sketch = None if "decision" in rec else document_sketch(self._hasher, rec["text"])
        yield beam.pvalue.TaggedOutput(DEDUP_TAG, (rec["id_key"], (rec["source"], rec["offset"], sketch)))
        yield rec["id_key"], rec


def first_claims(element):
    """(id, claims) -> (id, sketch) when the id's first record (by source, offset) is undecided.

    Later records of the id are quarantined by :class:`FinalDecide` with the same order, so dedup sees each
    id once, and only for the record that keeps it.
    """
    doc_id, claims = element
    _, _, sketch = min(claims, key=lambda c: c[:2])  # (source, offset): the order of input_order
    if sketch is not None:
        yield doc_id, sketch


class FinalDecide(Step):
    """Join the records of an id with the duplicate info: later records of the id are quarantined (on the
    ``quarantine`` output), the first is decided (dedup rules), redacted and re-scanned, and its id replaced
    by a keyed hash when it holds PII. Counters: records per rule (namespace "decide"), and the later records
    as ``read.duplicate_ids``."""

    NAMESPACE = "decide"

    def __init__(self, policy: Policy, scanner: SharedScanner, hasher: IdHasher | None = None,
                 pii_key: PiiKey | None = None):
        self.policy, self.shared_scanner, self.hasher, self.pii_key = policy, scanner, hasher, pii_key

    def setup(self):
        self._scanner = self.shared_scanner.acquire()
        self._operators = self.policy.operators()
        self._progress = ProgressLog("decide")
        self._public_ids = PublicIds(self._scanner, self.policy, self.hasher)

    def duplicate_id(self, later: R.Record, first: R.Record) -> R.QuarantineRow:
        """The quarantine row of a later record of an id (counted as ``read.duplicate_ids``): also what the
        local runner calls, which finds the first record of each id itself."""
        self.count("duplicate_ids", namespace="read")
        return duplicate_id_row(later, first)

    def look_up_ids(self, ids) -> None:
        """Settle the public form of these ids ahead (remembered): the local runner asks for a batch's ids
        together, which keeps the scanner's code and tables in the CPU caches between them."""
        for value in ids:
            self._public_ids(value)

    def process(self, element):
        _, joined = element
        recs = sorted(joined["rec"], key=input_order)
        if not recs:  # dedup results exist only for ids that were read
            return
        first = recs[0]
        for later in recs[1:]:
            yield beam.pvalue.TaggedOutput(QUARANTINE_TAG, self.duplicate_id(later, first))
        self._progress.tick()
        doc_id, hashed = self._public_ids(first["id"])
        dup = next(iter(joined["dup"]), None)
        if dup is not None:  # a cluster is named by its representative's id
            dup = {**dup, "cluster": self._public_ids(R.id_value(dup["cluster"]))[0]}
        out = first if "decision" in first else self._decide(first, dup)
        if hashed:
            out = {**out, "id": doc_id, "id_key": R.id_key(doc_id), "id_hashed": True}
        self.count(out["rule"])
        yield out

    def _decide(self, rec: dict[str, Any], dup: dict[str, Any] | None) -> dict[str, Any]:
        verdict = final_verdict(self.policy, rec, dup)
        out = _with_verdict(rec, verdict, dup)
        if verdict.decision == R.REDACT:
            from haetae.pipelines.pii.pseudonyms import Pseudonymizer
            from haetae.pipelines.pii.scanner import PiiSpan

            pseudonyms = Pseudonymizer(self.pii_key)  # one per document: its text, then its other fields
            spans = [PiiSpan(**s) for s in spans_to_redact(self.policy, rec["pii_spans"])]
            if spans:  # the text (a record whose PII is all in other fields keeps its text as it is)
                redacted = self._scanner.redact(rec["text"], spans, self._operators, pseudonyms)
                residual = self._scanner.scan(redacted, rec.get("lang"))
                out["text"] = redacted
                out["text_spans"] = [s.to_dict() for s in residual]  # spans of the text as it now is
                out["redactions"] = len(spans)
                out["residual_pii"] = len(spans_to_redact(self.policy, [s.to_dict() for s in residual]))
            out["fields"], redactions, residual_pii = redact_fields(self._scanner, self.policy, self._operators, rec,
                                                                    pseudonyms)
            out["redactions"] += redactions
            out["residual_pii"] += residual_pii
        return out


def _with_verdict(rec: R.Record, verdict: Verdict, dup: R.DupResult | None = None) -> R.Record:
    return {**rec, "decision": verdict.decision, "rule": verdict.rule, "reasons": list(verdict.reasons),
            "dup": dup, "redactions": 0, "residual_pii": 0}


def ledger_row(rec: R.Record, policy: Policy, text_field: str = "text", id_field: str = "id") -> dict[str, Any]:
    """The ledger row of a decided record (:func:`~haetae.pipelines.audit.ledger.decided_row`), with the fields that
    hold PII the policy acts on."""
    return decided_row(rec, policy=policy.name, policy_sha256=policy.sha256,
                       pii_fields=pii_field_labels(rec, policy, text_field, id_field))


def quarantine_ledger_row(q: R.QuarantineRow, policy: Policy, id_field: str = "id") -> dict[str, Any]:
    """The ledger row of a reader's or duplicate-id quarantine row after :class:`ScanQuarantine`
    (:func:`~haetae.pipelines.audit.ledger.quarantined_row`)."""
    fields = quarantine_pii_fields(q, policy, id_field) if RAW_SPANS in q else []
    return quarantined_row(q, policy=policy.name, policy_sha256=policy.sha256, pii_fields=fields)


def kept_line(rec: dict[str, Any], text_field: str, id_field: str) -> str:
    """The output record: the input object with its (possibly redacted) text and its id of the input's type."""
    return R.to_json_line({id_field: R.id_value(rec["id_key"]), text_field: rec["text"], **rec["fields"]})


def policy_quarantine_row(rec: dict[str, Any], text_field: str, id_field: str) -> dict[str, Any]:
    """A record the policy sent to quarantine (held for review), with its reasons."""
    row = R.quarantine_row(rec["source"], rec["line"], rec["offset"], f"policy:{rec['rule']}",
                           kept_line(rec, text_field, id_field), "; ".join(rec["reasons"]), rec["id"],
                           record_id_key=rec["id_key"])
    return row


# ----------------------------------------------------------------------------------------- aggregates


def mask_text(text: str, spans: list[dict[str, Any]], limit: int = EXAMPLE_CHARS,
              hide: list[str] | tuple[str, ...] = ()) -> str:
    """Mask every detected PII span as <TYPE>, every string of ``hide`` (names of personal copyright holders
    and reporters) as <HOLDER>, and any remaining run of 4+ digits; cut to ``limit`` chars."""
    import re

    out, last = [], 0
    for s in sorted(spans, key=lambda s: s["start"]):
        if s["start"] < last:
            continue
        out.append(text[last:s["start"]])
        out.append(f"<{s['type']}>")
        last = s["end"]
    out.append(text[last:])
    masked = "".join(out)
    for name in sorted(set(hide), key=len, reverse=True):
        masked = masked.replace(name, "<HOLDER>")
    masked = re.sub(r"\d[\d\- ]{3,}\d", lambda m: "#" * len(m.group()), masked)
    masked = re.sub(r"[\w.+-]+@[\w-]+\.[\w.]+", "<EMAIL>", masked)
    return masked[:limit] + ("…" if len(masked) > limit else "")


class PartialAggregates(Step):
    """Summarise ledger rows per bundle (a map-side combine that works on every runner)."""

    def start_bundle(self):
        self._agg = new_aggregates()

    def process(self, item):
        row, text, spans = item
        add_row(self._agg, row, text, spans)

    def finish_bundle(self):
        if self._agg["rows"]:
            yield self.bundle_output(json.dumps(self._agg, ensure_ascii=False))


REGISTRY_BUCKETS = ((0.0, "0"), (0.1, "<= 0.1"), (0.5, "<= 0.5"), (0.9, "<= 0.9"), (1.0, "<= 1"))
"""Bands of ``registry_fraction`` in the aggregates: the upper bound (inclusive) and its label."""


def new_aggregates() -> dict[str, Any]:
    return {"rows": 0, "decisions": {}, "rules": {}, "quarantine_reasons": {}, "pii_docs": {}, "pii_spans": {},
            "licences": {}, "licence_expressions": {}, "licence_docs": 0, "copyright": {}, "copyright_docs": 0,
            "copyright_holders": {}, "registry_checked": 0, "registry_matched": 0, "registry_fractions": {},
            "languages": {}, "cluster_sizes": {}, "dup_kinds": {},
            "bytes_in": 0, "bytes_kept": 0, "redactions": 0, "residual_pii": 0, "quarantine_with_pii": 0,
            "examples": {}}


def _registry_band(fraction: float) -> str:
    return next(label for bound, label in REGISTRY_BUCKETS if fraction <= bound)


def _bump(d: dict[str, int], key: Any, n: int = 1) -> None:
    key = str(key)
    d[key] = d.get(key, 0) + n


def add_row(agg: dict[str, Any], row: dict[str, Any], text: str | None = None, spans=None) -> None:
    """Count one ledger row; keep it as a masked example if its id is among the smallest of its rule."""
    agg["rows"] += 1
    _bump(agg["decisions"], row["decision"])
    _bump(agg["rules"], row["rule"])
    if row["decision"] == R.QUARANTINE:
        _bump(agg["quarantine_reasons"], row["rule"])
        agg["quarantine_with_pii"] += bool(row.get("pii_fields"))
    for c in row["pii_counts"]:
        _bump(agg["pii_docs"], c["type"])
        _bump(agg["pii_spans"], c["type"], c["count"])
    for lic in row["licences"]:
        _bump(agg["licences"], lic)
    if row["licence"]:
        agg["licence_docs"] += 1
        _bump(agg["licence_expressions"], row["licence"])
    for kind in row["copyright_signals"]:
        _bump(agg["copyright"], kind)
    agg["copyright_docs"] += bool(row["copyright_signals"])
    for holder in row["copyright_holders"]:  # organisations by name, others as <HOLDER> (rights.py)
        _bump(agg["copyright_holders"], holder)
    if row["registry_fraction"] is not None:
        agg["registry_checked"] += 1
        agg["registry_matched"] += row["registry_fraction"] > 0
        _bump(agg["registry_fractions"], _registry_band(row["registry_fraction"]))
    if row["lang"]:
        _bump(agg["languages"], row["lang"])
    if row["dup_kind"]:
        _bump(agg["dup_kinds"], row["dup_kind"])
        if row["dup_kind"] == "representative":
            _bump(agg["cluster_sizes"], row["dup_cluster_size"])
    agg["bytes_in"] += row["bytes"] or 0
    if row["decision"] in (R.KEEP, R.REDACT):
        agg["bytes_kept"] += row["bytes"] or 0
    agg["redactions"] += row["redactions"]
    agg["residual_pii"] += row["residual_pii"]
    examples = agg["examples"].setdefault(row["rule"], [])
    if text is not None and (len(examples) < EXAMPLES_PER_RULE or str(row["id"]) < examples[-1]["id"]):
        from haetae.pipelines.rights.copyright import personal_names

        examples.append({"id": str(row["id"]), "decision": row["decision"], "reasons": row["reasons"],
                         "text": mask_text(text, spans or [], hide=personal_names(text))})  # masked only when kept
        examples.sort(key=lambda e: e["id"])
        del examples[EXAMPLES_PER_RULE:]


def merge_aggregates(parts: list[dict[str, Any]]) -> dict[str, Any]:
    total = new_aggregates()
    for part in parts:
        for key, value in part.items():
            if key == "examples":  # the smallest ids of each rule: the same whatever the bundles were
                for rule, items in value.items():
                    slot = total["examples"].setdefault(rule, [])
                    slot.extend(items)
                    slot.sort(key=lambda e: e["id"])
                    del slot[EXAMPLES_PER_RULE:]
            elif isinstance(value, dict):
                for k, n in value.items():
                    _bump(total[key], k, n)
            else:
                total[key] += value
    return total


# ---------------------------------------------------------------------------------------------- the job


@dataclass
class AuditSummary:
    out_dir: str
    counts: dict[str, int]
    aggregates: dict[str, Any]
    validation: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    memory: dict[str, int] = field(default_factory=dict)  # local runner: workers, peak RSS and PSS of the tree
    counters: dict[str, int] = field(default_factory=dict)  # per-step counts (see runner_counters)

    @property
    def ok(self) -> bool:
        return bool(self.validation.get("success", True))


@dataclass(frozen=True)
class AuditSecrets:
    """The keys the audit's workers need: the id hasher (None when the policy keeps ids), the quarantine
    cipher (None unless ``quarantine.raw: encrypt``) and the key of keyed operators (None when none is set).
    No repr shows a key."""

    id_hasher: IdHasher | None
    quarantine_cipher: QuarantineCipher | None
    pii_key: PiiKey | None = None


def audit_secrets(policy: Policy) -> AuditSecrets:
    """Resolve the keys from the environment or the policy's key files; a missing or unusable key is a
    UsageError, so call it before any output is touched."""
    cipher = quarantine_cipher(policy) if raw_mode(policy) == "encrypt" else None
    return AuditSecrets(id_hasher(policy), cipher, policy.redaction_key())


def build_pipeline(
    p: beam.Pipeline, inputs: list[str], out_dir: str, policy: Policy, *, text_field: str = "text",
    id_field: str = "id", bundle_sinks: bool = False, secrets: AuditSecrets | None = None,
    registry: RegistrySettings | None = None,
) -> None:
    """Add the audit steps to ``p`` (``secrets`` default: :func:`audit_secrets` of the policy; ``registry``: the
    protected-works registry to check, from :func:`~haetae.pipelines.rights.registry_settings.resolve_registry`)."""
    secrets = secrets or audit_secrets(policy)
    pii_config = policy.resolve(policy.section("pii").get("recognizers", "pii_recognizers.yaml"))
    rights_config = policy.resolve(policy.section("rights").get("detectors", "rights_detectors.yaml"))
    from haetae.pipelines.pii.scanner import ScorePii, SharedScanner
    from haetae.pipelines.rights.score import ScoreRights

    scanner = SharedScanner(pii_config)  # one per worker process, for scoring and for the re-scan

    max_bytes = policy.section("limits").get("max_bytes")
    read = p | "Read" >> ReadRecords(inputs, text_field=text_field, id_field=id_field, max_bytes=max_bytes)
    keyed = (
        read.records
        | "DetectLanguage" >> beam.ParDo(DetectLanguage())
        | "ScoreQuality" >> beam.Map(score_quality)
        | "ScorePii" >> beam.ParDo(ScorePii(scanner=scanner, fields=FieldSelection.from_policy(policy)))
        | "ScoreRights" >> beam.ParDo(ScoreRights(rights_config, registry=registry))
        | "PreDecide" >> beam.ParDo(PreDecide(policy))
        | "SketchForDedup" >> beam.ParDo(SketchForDedup(policy)).with_outputs(DEDUP_TAG, main="records")
    )
    dups = (
        keyed[DEDUP_TAG]
        | "GroupClaims" >> beam.GroupByKey()
        | "FirstClaims" >> beam.FlatMap(first_claims)
        | "Deduplicate" >> DeduplicateSketches(policy.dedup_params)
    )
    final = (
        {"rec": keyed.records, "dup": dups}
        | "JoinDuplicates" >> beam.CoGroupByKey()
        | "FinalDecide" >> beam.ParDo(FinalDecide(policy, scanner, secrets.id_hasher, secrets.pii_key)).with_outputs(
            QUARANTINE_TAG, main="decided")
    )
    decided = final.decided | "NumberDecidedLines" >> NumberLines(read.line_index)
    input_quarantine = (
        (read.quarantine, final[QUARANTINE_TAG])
        | "InputQuarantine" >> beam.Flatten()
        | "NumberQuarantineLines" >> NumberLines(read.line_index)
        | "ScanQuarantine" >> beam.ParDo(ScanQuarantine(policy, scanner, secrets.id_hasher))
    )

    def write(pcoll, directory, prefix="part", fmt="jsonl", schema=None):
        label = f"Write{directory.strip('_').title()}" + (prefix.title() if prefix != "part" else "")
        return pcoll | label >> WriteShards(
            os.path.join(out_dir, directory), prefix, fmt, schema, bundle_sinks=bundle_sinks)

    kept = decided | "Kept" >> beam.Filter(lambda r: r["decision"] in (R.KEEP, R.REDACT))
    write(kept | "KeptLines" >> beam.Map(kept_line, text_field, id_field), "kept")
    held = (
        decided
        | "HeldByPolicy" >> beam.Filter(lambda r: r["decision"] == R.QUARANTINE)
        | "HeldRows" >> beam.Map(policy_quarantine_row, text_field, id_field)
    )
    all_quarantine = (input_quarantine, held) | "AllQuarantine" >> beam.Flatten()
    make_private_dir(os.path.join(out_dir, "quarantine"))  # it holds raw input: see pipelines/audit/quarantine.py
    stored = all_quarantine | "StoreQuarantine" >> beam.ParDo(StoreQuarantine(policy, scanner, secrets.quarantine_cipher))
    shards = write(stored | "QuarantineLines" >> beam.Map(R.to_json_line), "quarantine")
    shards | "ProtectQuarantineShards" >> beam.Map(protect_file)

    def with_example(rec):
        row = ledger_row(rec, policy, text_field, id_field)
        return row, rec["text"], rec.get("text_spans", rec.get("pii_spans"))

    # Ledger rows and partial aggregates are written where they are made (no Flatten: a Flatten of two
    # stages' outputs is one more pass over every row on the local runner); the two halves share a folder.
    for name, rows in (
        ("decided", decided | "LedgerRows" >> beam.Map(with_example)),
        ("quarantined", input_quarantine
         | "QuarantineRows" >> beam.Map(lambda q: (quarantine_ledger_row(q, policy, id_field), None, None))),
    ):
        write(rows | f"{name.title()}RowsOnly" >> beam.Map(lambda item: item[0]), "ledger", name, "parquet",
              ledger_schema())
        write(rows | f"{name.title()}Aggregate" >> beam.ParDo(PartialAggregates()), "_aggregates", name)
    write(read.counts | "CountLines" >> beam.Map(lambda n: json.dumps({"input": n})), "_counts")
    read.file_faults | "RecordFileFaults" >> RecordFileFaults(out_dir, bundle_sinks)  # raise_for_file_faults


AUDIT_OUTPUTS = ("kept", "ledger", "quarantine", "aggregates.json", "validation.json", "report.html")
LOCAL_RUNNERS = ("local", "Local", "LocalRunner")
BEAM_PLANS = ("phases", "graph")
SMALL_INPUT_BYTES = 2 << 20  # below this the local runner works in the driver process (no worker start-up)


def local_workers(beam_args, workers: int | None, input_bytes: int) -> int:
    """Worker processes of the local runner: ``workers``, else ``--direct_num_workers=N`` (accepted for the
    Beam DirectRunner's callers; ``--direct_running_mode=in_memory`` means none), else one per core, none for
    an input under ``SMALL_INPUT_BYTES``. Other Beam options belong to a Beam runner: a UsageError."""
    from haetae.errors import UsageError

    for arg in beam_args:
        name, _, value = arg.partition("=")
        if name == "--direct_num_workers" and workers is None:
            workers = int(value)
        elif name == "--direct_running_mode":
            if value in ("in_memory", "multi_threading"):
                workers = 0
        elif name not in ("--direct_num_workers",):
            raise UsageError(f"{arg} is an option of a Beam runner; the local runner takes --workers and "
                             "--memory-budget (give --runner DirectRunner to run the Beam job)")
    if workers is None:
        workers = 0 if input_bytes < SMALL_INPUT_BYTES else (os.cpu_count() or 2)
    if workers < 0:
        raise UsageError(f"--workers must be 0 or more, got {workers}")
    return workers


def local_spec(inputs: list[str], out_dir: str, policy: Policy, *, text_field: str = "text", id_field: str = "id",
               secrets: AuditSecrets | None = None, registry: RegistrySettings | None = None) -> dict[str, Any]:
    """The steps of :func:`build_pipeline` as DoFns for :func:`haetae.pipelines.runners.local.run_local`."""
    from haetae.pipelines.io.beam_io import ReadRanges, auto_split_bytes, split_ranges
    from haetae.pipelines.pii.scanner import ScorePii, SharedScanner
    from haetae.pipelines.rights.score import ScoreRights

    secrets = secrets or audit_secrets(policy)
    pii_config = policy.resolve(policy.section("pii").get("recognizers", "pii_recognizers.yaml"))
    rights_config = policy.resolve(policy.section("rights").get("detectors", "rights_detectors.yaml"))
    scanner = SharedScanner(pii_config)
    files = expand_inputs(inputs)
    split = auto_split_bytes([size for _, size in files])
    ranges = [r for path, size in files for r in split_ranges(path, size, split)]
    make_private_dir(os.path.join(out_dir, "quarantine"))
    return {
        "ranges": ranges, "out_dir": out_dir, "policy": policy, "text_field": text_field, "id_field": id_field,
        "secrets": secrets,
        "reader": ReadRanges(text_field, id_field, policy.section("limits").get("max_bytes")),
        "scorers": [DetectLanguage(), score_quality,
                    ScorePii(scanner=scanner, fields=FieldSelection.from_policy(policy)),
                    ScoreRights(rights_config, registry=registry), PreDecide(policy)],
        "final": FinalDecide(policy, scanner, secrets.id_hasher, secrets.pii_key),
        "scan_quarantine": ScanQuarantine(policy, scanner, secrets.id_hasher),
        "store_quarantine": StoreQuarantine(policy, scanner, secrets.quarantine_cipher),
        "params": policy.dedup_params,
    }


def run_audit(
    inputs: list[str], out_dir: str, *, policy_path: str | None = None, text_field: str = "text",
    id_field: str = "id", runner: str = "local", beam_args: list[str] | tuple[str, ...] = (),
    report: bool = True, progress: bool = True, workers: int | None = None, memory_budget: str | int | None = None,
    registry: str | None = None, beam_plan: str | None = None,
) -> AuditSummary:
    """Run the whole audit and publish every output into ``out_dir`` (see :mod:`haetae.pipelines.runners.execution`:
    inputs and policy are checked before anything is touched, the job runs locked and staged, and the
    previous output stays intact unless the job completes).

    ``runner="local"`` (the default) runs :mod:`haetae.pipelines.runners.local` on this machine in ``workers``
    processes (default: one per core; none for inputs under 2 MiB) within ``memory_budget`` (bytes or a size
    like ``"6GiB"``; default 75 % of the free memory). Any other runner runs the Beam job of
    :func:`build_pipeline` (``DirectRunner``: Beam's FnApiRunner, which holds every shuffle in memory), except
    ``DaskRunner``, which runs the local runner's three phases as Beam pipelines (:mod:`~.beam_phases`: workers
    hold one range at a time; ``memory_budget`` bounds the driver's dedup). ``beam_plan`` chooses for any Beam
    runner: ``"graph"`` (the whole Beam graph) or ``"phases"`` (workers that share the staging filesystem).
    ``registry``: a protected-works registry file (else the policy's ``rights.registry.path``, if any)."""
    from haetae.offline import ensure_offline

    ensure_offline()
    started = time.time()
    validator = _start_validation()
    try:
        return _run_audit(inputs, out_dir, policy_path, text_field, id_field, runner, beam_args, report, progress,
                          workers, memory_budget, started, validator, registry, beam_plan)
    finally:
        if validator is not None:
            validator.close()


def _start_validation():
    """A :class:`~haetae.pipelines.audit.validation.ValidationProcess` importing Great Expectations while the job runs,
    or None where this process has imported it already (then it validates in process)."""
    if "great_expectations" in sys.modules or os.environ.get("HAETAE_VALIDATE_IN_PROCESS") == "1":
        return None
    from haetae.pipelines.audit.validation import ValidationProcess

    try:
        return ValidationProcess()
    except OSError:
        return None


def beam_plan_for(runner: str, plan: str | None) -> str:
    """``phases`` (the default on Dask) or ``graph`` (the default on every other Beam runner)."""
    from haetae.errors import UsageError
    from haetae.pipelines.runners.options import RUNNER_ALIASES, resolve_runner

    if plan is None:
        return "phases" if resolve_runner(runner) == RUNNER_ALIASES["DaskRunner"] else "graph"
    if plan not in BEAM_PLANS:
        raise UsageError(f"beam plan {plan!r}: give one of {', '.join(BEAM_PLANS)}")
    return plan


def _phase_args(runner: str, beam_args) -> list[str]:
    """On Dask, one byte range per bag partition unless given: each task scores or decides one range."""
    from haetae.pipelines.runners.options import RUNNER_ALIASES, resolve_runner

    if resolve_runner(runner) != RUNNER_ALIASES["DaskRunner"] or any(a.startswith(("--dask_partition_size", "--dask_npartitions")) for a in beam_args):
        return list(beam_args)
    return [*beam_args, "--dask_partition_size=1"]


def _run_audit(inputs, out_dir, policy_path, text_field, id_field, runner, beam_args, report, progress, workers,
               memory_budget, started, validator, registry_path, beam_plan=None) -> AuditSummary:
    from haetae.pipelines.rights.registry_settings import resolve_registry
    from haetae.pipelines.runners.execution import job_output, read_shard_rows, run_pipeline

    policy = load_policy(policy_path)
    registry = resolve_registry(policy, registry_path)  # a missing or damaged file: one line, nothing touched
    files = expand_inputs(inputs)
    secrets = audit_secrets(policy)  # a missing or bad key file is an error before anything is touched
    local = runner in LOCAL_RUNNERS
    from haetae.pipelines.runners.local import parse_size

    budget = parse_size(memory_budget)
    if local:
        workers = local_workers(beam_args, workers, sum(size for _, size in files))
        runner_name, plan = "local", "phases"
    else:
        # imported for Beam runners only: it imports Dask (~0.3-0.8 s), which a local run never needs
        from haetae.pipelines.runners.options import pipeline_options, resolve_runner

        plan = beam_plan_for(runner, beam_plan)
        options, bundle_sinks = pipeline_options(runner, _phase_args(runner, beam_args) if plan == "phases" else beam_args)
        runner_name = resolve_runner(runner)
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    config = {"policy": {"name": policy.name, "path": policy.path, "sha256": policy.sha256},
              "runner": runner_name, "text_field": text_field, "id_field": id_field,
              "registry": registry.manifest() if registry is not None else None}
    if secrets.pii_key is not None:  # its source and fingerprint only
        config["pii_key"] = secrets.pii_key.describe()
    if not local:
        config["beam_plan"] = plan
    with job_output("audit", out_dir, entries=AUDIT_OUTPUTS, private=("quarantine",), inputs=files,
                    config=config) as job:  # its notices (work of an interrupted run removed) show even --quiet
        # Import Great Expectations while the workers run (the driver mostly waits on them): ~2 s less after.
        warm_up = threading.Thread(target=_import_validation_libraries if validator is None else (lambda: None),
                                   name="haetae-gx-import", daemon=True)
        if local:
            from haetae.pipelines.runners.local import run_local

            spec = local_spec([path for path, _ in files], job.dir, policy, text_field=text_field,
                              id_field=id_field, secrets=secrets, registry=registry)
            say(f"haetae audit: policy {policy.label}, runner local ({workers} worker process"
                f"{'es' if workers != 1 else ''}), output {job.out}")
            beam_started = time.time()
            result = run_local(spec, workers=workers, memory_budget=budget, progress=progress, say=say,
                               on_started=warm_up.start)
        elif plan == "phases":
            from haetae.pipelines.runners.dask_phases import run_phases

            spec = local_spec([path for path, _ in files], job.dir, policy, text_field=text_field,
                              id_field=id_field, secrets=secrets, registry=registry)
            say(f"haetae audit: policy {policy.label}, runner {runner_name} (three phases), output {job.out}")
            beam_started = time.time()
            warm_up.start()
            result = run_phases(spec, options, memory_budget=budget, out=job.out, say=say)
        else:
            pipeline = beam.Pipeline(options=options)
            build_pipeline(pipeline, [path for path, _ in files], job.dir, policy, text_field=text_field,
                           id_field=id_field, bundle_sinks=bundle_sinks, secrets=secrets, registry=registry)
            say(f"haetae audit: policy {policy.label}, runner {runner_name}, output {job.out}")
            beam_started = time.time()
            warm_up.start()
            result = run_pipeline(pipeline, out=job.out)
        faults = raise_for_file_faults(job.dir, policy)  # inputs.on_corrupt_file: fail stops here (exit 2)
        beam_seconds = time.time() - beam_started
        if warm_up.ident is not None:
            warm_up.join()
        counters = runner_counters(result)
        _print_counters(counters, say)
        aggregates = merge_aggregates(read_shard_rows(job.path("_aggregates")))
        aggregates["input"] = sum(c["input"] for c in read_shard_rows(job.path("_counts")))
        aggregates["policy"] = config["policy"]
        aggregates["registry"] = config["registry"]
        aggregates["inputs"] = [path for path, _ in files]
        counts = {d: aggregates["decisions"].get(d, 0) for d in R.DECISIONS}
        counts["input"] = aggregates["input"]
        summary = AuditSummary(job.out, counts, aggregates, counters=counters)
        with open(job.path("aggregates.json"), "w", encoding="utf-8") as fh:
            json.dump(aggregates, fh, ensure_ascii=False, indent=1, sort_keys=True)
        from haetae.pipelines.audit.validation import validate_audit

        say(f"haetae audit: job done in {beam_seconds:.1f} s; validating with Great Expectations")
        validation_started = time.time()
        summary.validation = (validator.validate(job.dir, aggregates, policy) if validator is not None
                              else validate_audit(job.dir, aggregates, policy))
        summary.seconds = round(time.time() - started, 2)
        summary.phases = {"setup": round(beam_started - started, 2), "beam": round(beam_seconds, 2),
                          "validation": round(time.time() - validation_started, 2)}
        if plan == "phases":
            summary.phases.update(result.phases)
        if local:
            summary.memory = {"workers": result.workers, "peak_rss": result.peak_rss, "peak_pss": result.peak_pss}
        if report:
            from haetae.reports.audit_report import write_audit_report

            write_audit_report(job.dir, aggregates, summary.validation, seconds=summary.seconds)
        job.counts = {**counts, "unreadable_files": len(faults)}
        if "read.records" in counters:  # what the reader counted: records + quarantined = input
            job.counts.update({"records_read": counters["read.records"],
                               "lines_quarantined_by_reader": counters.get("read.quarantined", 0)})
        job.exit_code = 0 if summary.ok else 1
    from haetae.pipelines.audit.quarantine import quarantine_warning

    warning = quarantine_warning(aggregates, policy)
    if warning:  # shown even with --quiet: the published quarantine holds raw personal data
        print(f"haetae audit: {warning}", file=sys.stderr, flush=True)
    say(f"haetae audit: {counts['input']} records: " + ", ".join(f"{d} {counts[d]}" for d in R.DECISIONS)
        + f" ({summary.seconds:.1f} s)")
    return summary


def _import_validation_libraries() -> None:
    """Import Great Expectations before the validation step needs it, on a background thread at the lowest
    CPU priority (per thread on Linux), so it uses the CPU the Beam workers leave idle."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # not Linux: the thread runs at normal priority
        pass
    try:
        import great_expectations  # noqa: F401
        import pandas  # noqa: F401

        from haetae.pipelines.audit.validation import _context  # noqa: F401
    except Exception:  # the validation step itself reports any import problem
        pass


def runner_counters(result) -> dict[str, int]:
    """Per-step counts: the local or phased runner's (summed from its tasks), else Beam's metrics where the
    runner reports them (the Dask graph does not: empty)."""
    totals: Counter[str] = Counter()
    if hasattr(result, "counters"):
        totals.update(result.counters)
    else:
        try:
            counters = result.metrics().query()["counters"]
        except Exception:  # DaskRunner has no metrics
            return {}
        for c in counters:
            totals[counter_key(c.key.metric.namespace, c.key.metric.name)] += c.committed or c.attempted or 0
    return dict(totals)


def _print_counters(totals: dict[str, int], say) -> None:
    if totals:
        say("haetae audit: counts per step")
    for name in sorted(totals):
        say(f"  {name}: {totals[name]}")
