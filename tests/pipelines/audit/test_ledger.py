"""The ledger's columns come from LedgerRow alone: the Parquet schema, the rows of decided and of quarantined
records, and the columns validation reads all agree with it, and the schema is the one earlier audits wrote."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pytest

from haetae.pipelines.audit.ledger import (
    LEDGER_COLUMNS,
    LedgerRow,
    decided_row,
    ledger_schema,
    quarantined_row,
)
from haetae.pipelines.io import records as R

# The ledger's schema as audits before LedgerRow wrote it: a column moved, renamed or retyped breaks readers.
WRITTEN_SCHEMA = pa.schema([
    ("key", pa.string()), ("id", pa.string()), ("id_key", pa.string()), ("source", pa.string()),
    ("line", pa.int64()), ("offset", pa.int64()), ("sha256", pa.string()), ("bytes", pa.int64()),
    ("lang", pa.string()), ("lang_score", pa.float64()),
    ("pii_counts", pa.list_(pa.struct([("type", pa.string()), ("count", pa.int64())]))),
    ("pii_total", pa.int64()), ("pii_fields", pa.list_(pa.string())),
    ("copyright_signals", pa.list_(pa.string())), ("copyright_holders", pa.list_(pa.string())),
    ("licence", pa.string()), ("licences", pa.list_(pa.string())), ("licence_score", pa.float64()),
    ("registry_fraction", pa.float64()), ("registry_shingles", pa.int64()),
    ("dup_cluster", pa.string()), ("dup_kind", pa.string()), ("dup_cluster_size", pa.int64()),
    ("dup_similarity", pa.float64()),
    ("chars", pa.int64()), ("symbol_ratio", pa.float64()), ("repeated_line_ratio", pa.float64()),
    ("decision", pa.string()), ("rule", pa.string()), ("reasons", pa.list_(pa.string())),
    ("redactions", pa.int64()), ("residual_pii", pa.int64()),
    ("policy", pa.string()), ("policy_sha256", pa.string()),
])

ARROW_OF_HINT = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "list[str]": pa.list_(pa.string())}


def test_schema_is_the_field_list_in_order():
    fields = dataclasses.fields(LedgerRow)
    schema = ledger_schema()
    assert schema.names == [f.name for f in fields] == list(LEDGER_COLUMNS)
    for f in fields:
        hint = f.type.removesuffix(" | None")
        if hint in ARROW_OF_HINT:  # the Python hint and the Arrow type say the same
            assert schema.field(f.name).type == ARROW_OF_HINT[hint], f.name
        assert f.metadata["help"], f.name


def test_schema_is_the_one_audits_wrote():
    assert ledger_schema().equals(WRITTEN_SCHEMA)


def _record() -> R.Record:
    return {
        "id": "7", "id_key": "7", "text": "hello", "source": "in.jsonl", "line": 3, "offset": 40, "bytes": 5,
        "sha256": "ab", "fields": {}, "lang": "en", "lang_score": 0.9,
        "quality": {"chars": 5.0, "symbol_ratio": 0.0, "repeated_line_ratio": 0.0},
        "pii_counts": {"PHONE_NUMBER": 1, "EMAIL_ADDRESS": 2}, "copyright_signals": ("copyright_statement",),
        "copyright_holders": [], "licence": "MIT", "licences": ["MIT"], "licence_score": 1.0,
        "registry_fraction": None, "registry_shingles": None, "decision": R.REDACT, "rule": "pii.redact",
        "reasons": ["3 x PII"], "dup": {"cluster": 7, "cluster_size": 2, "kind": "representative", "similarity": 1.0},
        "redactions": 3, "residual_pii": 0,
    }


def test_a_decided_records_row():
    row = decided_row(_record(), policy="default", policy_sha256="cd", pii_fields=["text"])
    assert tuple(row) == LEDGER_COLUMNS and LedgerRow(**row).dup_kind == "representative"
    assert row["key"] == "in.jsonl@40" and row["chars"] == 5 and isinstance(row["chars"], int)
    assert row["pii_counts"] == [{"type": "EMAIL_ADDRESS", "count": 2}, {"type": "PHONE_NUMBER", "count": 1}]
    assert row["pii_total"] == 3 and row["copyright_signals"] == ["copyright_statement"]
    assert row["dup_cluster"] == "7" and row["dup_cluster_size"] == 2
    table = pa.Table.from_pylist([row], schema=ledger_schema())
    assert table.to_pylist() == [row]


def test_a_quarantine_rows_row_has_nothing_scored():
    q = R.quarantine_row("in.jsonl", 9, 80, R.MALFORMED_JSON, "{oops", "Expecting value")
    q["raw_spans"] = [{"start": 0, "end": 1, "type": "PHONE_NUMBER", "score": 1.0}]
    row = quarantined_row(q, policy="default", policy_sha256="cd", pii_fields=["raw"])
    assert tuple(row) == LEDGER_COLUMNS and LedgerRow(**row).pii_fields == ["raw"]
    assert row["decision"] == R.QUARANTINE and row["rule"] == "input.malformed_json"
    assert row["reasons"] == ["malformed_json: Expecting value"] and row["pii_total"] == 1
    assert row["licences"] == [] and row["licence"] is None and row["chars"] is None
    assert pa.Table.from_pylist([row], schema=ledger_schema()).num_rows == 1


def test_a_row_cannot_leave_a_column_out_or_add_one():
    with pytest.raises(TypeError, match="residual_pii"):
        LedgerRow(**{name: None for name in LEDGER_COLUMNS if name != "residual_pii"})
    with pytest.raises(TypeError, match="extra"):
        LedgerRow(**dict.fromkeys(LEDGER_COLUMNS), extra=1)


def test_validation_reads_ledger_columns():
    from haetae.pipelines.audit.validation import VALIDATED_COLUMNS

    assert set(VALIDATED_COLUMNS) <= set(LEDGER_COLUMNS)
