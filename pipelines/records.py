"""Shapes of the data that flows through an audit: record dicts, quarantine rows, decisions and reasons.

A *record* is a plain dict with at least ``id`` (str, unique), ``text`` (str), ``source`` (file path),
``line`` (1-based line number, or None when a file was read in byte ranges), ``offset`` (byte offset of the
line in the decompressed file, or the row index in a Parquet file), ``bytes`` (UTF-8 size of the text),
``sha256`` (of the text) and ``fields`` (the input object's other fields, so kept shards keep them).
Scoring steps add keys; no step removes or renames one.
"""

from __future__ import annotations

import json
from typing import Any

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
QUARANTINE_REASONS = (
    INVALID_UTF8, MALFORMED_JSON, NOT_AN_OBJECT, MISSING_ID, INVALID_ID, MISSING_TEXT, NULL_TEXT,
    NON_STRING_TEXT, NUL_CHARACTER, LONE_SURROGATE, EMPTY_TEXT, TOO_LARGE, DUPLICATE_ID, UNREADABLE_ROW,
)

# Quarantine rows keep at most this many characters of the raw input; the source and offset locate the rest.
MAX_RAW_CHARS = 1 << 20


def record_key(source: str, offset: int) -> str:
    """A key that names one input line or row, unique across the job."""
    return f"{source}@{offset}"


def quarantine_row(
    source: str, line: int | None, offset: int, reason: str, raw: str, detail: str = "", record_id: str | None = None
) -> dict[str, Any]:
    """A quarantine row: the raw input, where it came from and why it could not be processed."""
    truncated = len(raw) > MAX_RAW_CHARS
    return {
        "key": record_key(source, offset),
        "id": record_id,
        "source": source,
        "line": line,
        "offset": offset,
        "reason": reason,
        "detail": detail,
        "raw": raw[:MAX_RAW_CHARS],
        "raw_truncated": truncated,
    }


def to_json_line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=False, separators=(",", ":"))
