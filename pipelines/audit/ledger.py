"""The audit's ledger: one row per input record, and the one place its columns are listed.

:class:`LedgerRow` names every column, in the order of the Parquet files, with its Arrow type in the field's
metadata; :func:`ledger_schema` is derived from it. Rows are made only by :func:`decided_row` (a decided
record) and :func:`quarantined_row` (an input the audit could not process), as plain dicts keyed by
LedgerRow's fields in order: building a frozen instance per record would cost twice as much (16 us of ~1.5 ms
per record), so ``tests/pipelines/audit/test_ledger.py`` checks both against LedgerRow (``LedgerRow(**row)`` fails
on a missing or unknown column) instead of every record at run time.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from typing import Any, TypedDict

from haetae.pipelines.io import records as R

# Arrow types of the ledger's columns, by the name used in each field's metadata.
STRING, INT64, FLOAT64, STRINGS, PII_COUNTS = "string", "int64", "float64", "list<string>", "pii_counts"


def _arrow_type(kind: str):
    import pyarrow as pa

    if kind == PII_COUNTS:
        return pa.list_(pa.struct([("type", pa.string()), ("count", pa.int64())]))
    return {STRING: pa.string(), INT64: pa.int64(), FLOAT64: pa.float64(), STRINGS: pa.list_(pa.string())}[kind]


def column(kind: str, help: str):
    """A ledger column: its Arrow type (one of the kinds above) and what it holds."""
    return dataclasses.field(metadata={"arrow": kind, "help": help})


class PiiCount(TypedDict):
    type: str
    count: int


@dataclass(frozen=True)
class LedgerRow:
    """One ledger row (``ledger/*.parquet``); quarantined inputs have nulls where nothing was scored.
    ``LedgerRow(**row)`` checks a row dict (a missing or unknown column is a TypeError) and types it."""

    key: str = column(STRING, "source@offset: names one input line or row, unique across the job")
    id: str | None = column(STRING, "the id as a display string (a keyed hash when it holds PII)")
    id_key: str | None = column(STRING, "the id as JSON text, unique among decided records")
    source: str = column(STRING, "the input file")
    line: int | None = column(INT64, "1-based line number (row number in Parquet)")
    offset: int = column(INT64, "byte offset of the line in the decompressed file (row index in Parquet)")
    sha256: str | None = column(STRING, "of the text; of the input as read for a quarantine row")
    bytes: int = column(INT64, "UTF-8 size of the text; of the input as read for a quarantine row")
    lang: str | None = column(STRING, "detected language")
    lang_score: float | None = column(FLOAT64, "confidence of the language")
    pii_counts: list[PiiCount] = column(PII_COUNTS, "spans per entity type, in the text and every scanned field")
    pii_total: int = column(INT64, "sum of pii_counts")
    pii_fields: list[str] = column(STRINGS, "fields holding PII the policy acts on (text, a.b[0], id, raw)")
    copyright_signals: list[str] = column(STRINGS, "copyright notice kinds")
    copyright_holders: list[str] = column(STRINGS, "organisations by name, any other holder <HOLDER>")
    licence: str | None = column(STRING, "one SPDX expression: the AND of licences")
    licences: list[str] = column(STRINGS, "SPDX expressions found, strongest first")
    licence_score: float | None = column(FLOAT64, "the weakest evidence among licences")
    registry_fraction: float | None = column(FLOAT64, "share of the text found in the protected-works registry")
    registry_shingles: int | None = column(INT64, "shingles looked up in the registry")
    dup_cluster: str | None = column(STRING, "id of the duplicate cluster's representative")
    dup_kind: str | None = column(STRING, "unique, representative, exact or near")
    dup_cluster_size: int | None = column(INT64, "documents in the cluster")
    dup_similarity: float | None = column(FLOAT64, "estimated Jaccard similarity to the representative")
    chars: int | None = column(INT64, "characters of the text")
    symbol_ratio: float | None = column(FLOAT64, "share of characters that are neither letters, digits nor spaces")
    repeated_line_ratio: float | None = column(FLOAT64, "share of non-blank lines that repeat an earlier one")
    decision: str = column(STRING, "keep, redact, drop or quarantine")
    rule: str = column(STRING, "the policy rule that decided")
    reasons: list[str] = column(STRINGS, "why, in words")
    redactions: int = column(INT64, "spans redacted, in the text and its other fields")
    residual_pii: int = column(INT64, "redact-class spans the re-scan found after redaction")
    policy: str = column(STRING, "the policy's name")
    policy_sha256: str = column(STRING, "the policy file's hash")


LEDGER_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(LedgerRow))
"""The ledger's column names, in order."""


def decided_row(rec: R.Record, *, policy: str, policy_sha256: str, pii_fields: list[str]) -> dict[str, Any]:
    """A decided record's row (``dup_cluster`` as a display string; ``pii_counts`` sorted by type)."""
    dup = rec.get("dup") or {}
    cluster = dup.get("cluster")
    quality = rec.get("quality") or {}
    counts = rec.get("pii_counts") or {}
    return {
        "key": R.record_key(rec["source"], rec["offset"]), "id": rec["id"], "id_key": rec["id_key"],
        "source": rec["source"], "line": rec["line"], "offset": rec["offset"], "sha256": rec["sha256"],
        "bytes": rec["bytes"], "lang": rec.get("lang"), "lang_score": rec.get("lang_score"),
        "pii_counts": [{"type": t, "count": n} for t, n in sorted(counts.items())],
        "pii_total": sum(counts.values()), "pii_fields": pii_fields,
        "copyright_signals": list(rec.get("copyright_signals") or []),
        "copyright_holders": list(rec.get("copyright_holders") or []),
        "licence": rec.get("licence"), "licences": list(rec.get("licences") or []),
        "licence_score": rec.get("licence_score"), "registry_fraction": rec.get("registry_fraction"),
        "registry_shingles": rec.get("registry_shingles"),
        "dup_cluster": None if cluster is None else str(cluster), "dup_kind": dup.get("kind"),
        "dup_cluster_size": dup.get("cluster_size"), "dup_similarity": dup.get("similarity"),
        "chars": int(quality.get("chars", len(rec["text"]))), "symbol_ratio": quality.get("symbol_ratio"),
        "repeated_line_ratio": quality.get("repeated_line_ratio"),
        "decision": rec["decision"], "rule": rec["rule"], "reasons": rec["reasons"],
        "redactions": rec.get("redactions", 0), "residual_pii": rec.get("residual_pii", 0),
        "policy": policy, "policy_sha256": policy_sha256,
    }


def _unscored_row() -> dict[str, Any]:
    """Every column, in order, as nothing scored: an empty list for list columns, else None."""
    return {f.name: [] if f.metadata["arrow"] == STRINGS else None for f in dataclasses.fields(LedgerRow)}


def quarantined_row(q: R.QuarantineRow, *, policy: str, policy_sha256: str, pii_fields: list[str]) -> dict[str, Any]:
    """A reader's or duplicate-id quarantine row's row (after ``ScanQuarantine``): ``sha256`` and ``bytes`` of
    the input as read (a file-level row: the file's bytes not read, no sha256), PII counts of its raw line,
    nothing scored."""
    counts = Counter(s["type"] for s in q.get("raw_spans") or [])
    row = _unscored_row()
    row.update(
        key=q["key"], id=q.get("id"), id_key=q.get("id_key"), source=q["source"], line=q["line"],
        offset=q["offset"], sha256=q["sha256"], bytes=q["bytes"],
        pii_counts=[{"type": t, "count": n} for t, n in sorted(counts.items())], pii_total=counts.total(),
        pii_fields=pii_fields, decision=R.QUARANTINE, rule=f"input.{q['reason']}",
        reasons=[q["reason"] + (f": {q['detail']}" if q.get("detail") else "")],
        redactions=0, residual_pii=0, policy=policy, policy_sha256=policy_sha256,
    )
    return row


def ledger_schema():
    """The Arrow schema of the ledger's Parquet files, from :class:`LedgerRow`'s fields."""
    import pyarrow as pa

    return pa.schema([(f.name, _arrow_type(f.metadata["arrow"])) for f in dataclasses.fields(LedgerRow)])
