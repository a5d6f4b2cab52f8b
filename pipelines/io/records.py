"""Shapes of the data that flows through an audit: record dicts, quarantine rows, decisions and reasons.

A *record* is a plain dict (:class:`Record`): the reader's keys (:class:`ReadRecord`) are always there, and
each scoring step adds its own; no step removes or renames one. A reader's *quarantine row* is a
:class:`QuarantineRow`. The ledger's columns are :class:`haetae.pipelines.audit.ledger.LedgerRow`, not these.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypedDict


class PiiSpanDict(TypedDict):
    """One PII span as records carry it (``PiiSpan.to_dict``): character offsets into its string."""

    start: int
    end: int
    type: str
    score: float


class DupResult(TypedDict):
    """The dedup result of one record (:mod:`haetae.pipelines.dedup.transforms`); ``cluster`` names the representative."""

    cluster: str
    cluster_size: int
    kind: str  # "unique" | "representative" | "exact" | "near"
    similarity: float


class ReadRecord(TypedDict):
    """What the reader makes of one input line or row (:func:`haetae.pipelines.io.beam_io.parse_object`)."""

    id: str  # the id as a display string
    id_key: str  # the id as JSON text, unique: ids 123 and "123" are different records (see id_key)
    text: str
    source: str  # the input file's path
    line: int | None  # 1-based line number; None until NumberLines sets it for a file read in byte ranges
    offset: int  # byte offset of the line in the decompressed file, or the row index in a Parquet file
    bytes: int  # UTF-8 size of the text
    sha256: str  # of the text
    fields: dict[str, Any]  # the input object's other fields, so kept shards keep them


class Record(ReadRecord, total=False):
    """A record as the audit's steps pass it on: every key a step may add, by the step that adds it."""

    range_line: list[int]  # reader, split files only: [range start, line in range] (io.RANGE_LINE)
    # DetectLanguage
    lang: str
    lang_score: float
    # score_quality: haetae.pipelines.detectors.quality.quality_signals
    quality: dict[str, float]
    # ScorePii
    pii_spans: list[PiiSpanDict]  # of the text
    pii_counts: dict[str, int]  # entity type -> spans, in the text and every scanned field
    field_spans: list[list[Any]]  # [path, spans] of each other field holding PII (with a field selection)
    # ScoreRights
    copyright_signals: list[str]
    copyright_holders: list[str]
    licence: str | None
    licences: list[str]
    licence_score: float | None
    registry_fraction: float | None
    registry_shingles: int | None
    # PreDecide (records it decides) and FinalDecide (all others)
    decision: str  # one of DECISIONS
    rule: str
    reasons: list[str]
    dup: DupResult | None
    redactions: int
    residual_pii: int
    # FinalDecide, redacted records and hashed ids
    text_spans: list[PiiSpanDict]  # spans of the redacted text, from its re-scan
    id_hashed: bool


class QuarantineRow(TypedDict, total=False):
    """An input the audit could not process, or a record held by the policy (:func:`quarantine_row`)."""

    key: str
    id: str | None
    id_key: str | None
    source: str
    line: int | None
    offset: int
    reason: str  # one of QUARANTINE_REASONS, or "policy:<rule>"
    detail: str
    raw: str  # cut to MAX_RAW_CHARS
    raw_truncated: bool
    bytes: int  # of the whole input as read
    sha256: str | None
    range_line: list[int]
    raw_spans: list[PiiSpanDict]  # ScanQuarantine, inside the job only
    id_hashed: bool  # ScanQuarantine, inside the job only
    raw_at_rest: str  # StoreQuarantine: "keep", "redacted" or "fernet"


# Decisions, in the order the policy engine considers them.
QUARANTINE = "quarantine"
DROP = "drop"
REDACT = "redact"
KEEP = "keep"
DECISIONS = (KEEP, REDACT, DROP, QUARANTINE)

# Quarantine reasons (input that could not be processed).
INVALID_UTF8 = "invalid_utf8"
MALFORMED_JSON = "malformed_json"
NOT_AN_OBJECT = "not_an_object"
MISSING_ID = "missing_id"
INVALID_ID = "invalid_id"
MISSING_TEXT = "missing_text"
NULL_TEXT = "null_text"
NON_STRING_TEXT = "non_string_text"
NUL_CHARACTER = "nul_character"
LONE_SURROGATE = "lone_surrogate"
EMPTY_TEXT = "empty_text"
TOO_LARGE = "too_large"
DUPLICATE_ID = "duplicate_id"
UNREADABLE_ROW = "unreadable_row"
# File-level reasons: one row for a whole file (what was read before the fault is kept as usual); with policy
# ``inputs.on_corrupt_file: fail`` the job stops instead (io.raise_for_file_faults).
CORRUPT_FILE = "corrupt_file"  # truncated or corrupt compressed stream, unreadable Parquet
CR_LINE_ENDINGS = "cr_line_endings"  # lines end in CR only: the file would be read as one line
FILE_REASONS = (CORRUPT_FILE, CR_LINE_ENDINGS)
QUARANTINE_REASONS = (
    INVALID_UTF8, MALFORMED_JSON, NOT_AN_OBJECT, MISSING_ID, INVALID_ID, MISSING_TEXT, NULL_TEXT,
    NON_STRING_TEXT, NUL_CHARACTER, LONE_SURROGATE, EMPTY_TEXT, TOO_LARGE, DUPLICATE_ID, UNREADABLE_ROW,
    *FILE_REASONS,
)

# Quarantine rows keep at most this many characters of the raw input; the source and offset locate the rest.
MAX_RAW_CHARS = 1 << 20


def record_key(source: str, offset: int) -> str:
    """A key that names one input line or row, unique across the job."""
    return f"{source}@{offset}"


def id_key(value: str | int) -> str:
    """The id as JSON text (``123`` -> ``'123'``, ``"123"`` -> ``'"123"'``): what every duplicate check and
    grouping keys on, so ids of different JSON types never collide, and what the original id is read back from
    (:func:`id_value`)."""
    return json.dumps(value, ensure_ascii=False)


def id_value(key: str) -> str | int:
    """The id with its JSON type, from :func:`id_key`."""
    return json.loads(key)


def quarantine_row(
    source: str, line: int | None, offset: int, reason: str, raw: str, detail: str = "", record_id: str | None = None,
    *, record_id_key: str | None = None, raw_bytes: bytes | None = None,
) -> QuarantineRow:
    """A quarantine row: the raw input, where it came from and why it could not be processed. ``bytes`` and
    ``sha256`` describe the whole input (``raw_bytes`` when given, as read, else ``raw``), also when ``raw``
    is stored cut to ``MAX_RAW_CHARS``."""
    data = raw_bytes if raw_bytes is not None else raw.encode("utf-8", errors="surrogatepass")
    return {
        "key": record_key(source, offset),
        "id": record_id,
        "id_key": record_id_key,
        "source": source,
        "line": line,
        "offset": offset,
        "reason": reason,
        "detail": detail,
        "raw": raw[:MAX_RAW_CHARS],
        "raw_truncated": len(raw) > MAX_RAW_CHARS,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def file_fault_row(source: str, reason: str, detail: str, *, offset: int, unread_bytes: int) -> QuarantineRow:
    """The quarantine row of a whole file that could not be read to its end: ``offset`` is where reading
    stopped, ``bytes`` the file's (compressed) bytes not read, and there is no raw line (``sha256`` None)."""
    row = quarantine_row(source, None, offset, reason, "", detail)
    row["bytes"], row["sha256"] = unread_bytes, None
    return row


def to_json_line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=False, separators=(",", ":"))
