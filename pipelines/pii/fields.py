"""PII outside the text field: which other fields of a record the audit scans and redacts, and ids that hold
PII replaced by a keyed hash.

The policy's ``pii.fields`` section chooses (see ``policies/data_policy.yaml``):

- ``scan``: ``all_strings`` (default) scans every string of the record's other fields, nested strings in
  objects and lists too; a list of field names scans only those fields (and the strings nested in them).
  The text field is always scanned; ``scan: [text]`` scans nothing else. Object keys are not scanned.
- ``ids``: ``hash`` (default) replaces an id that holds PII the policy does not ``keep`` with
  ``pii-hmac:`` + the first 32 hex digits of HMAC-SHA256(key, id) in every output; ``keep`` leaves ids as read.

The key comes from ``$HAETAE_ID_HASH_KEY``, else from the file named by ``pii.fields.id_hash_key_file``
(relative to the policy), else it is drawn at random for the run, so hashes of one run cannot be linked with
another's. The key travels to the job's workers inside the pipeline definition; it is never logged or written.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from haetae.pipelines.policy.loader import read_key_file

if TYPE_CHECKING:
    from haetae.pipelines.pii.pseudonyms import Pseudonymizer
    from haetae.pipelines.pii.scanner import PiiScanner
    from haetae.pipelines.policy.schema import Policy

SCAN_ALL = "all_strings"
ID_HASH_PREFIX = "pii-hmac:"
ID_HASH_HEX_DIGITS = 32
ID_HASH_KEY_ENV = "HAETAE_ID_HASH_KEY"

FieldPath = tuple[str | int, ...]  # keys and list indexes from the record's top level down to one string


@dataclass(frozen=True)
class FieldSelection:
    """The fields besides the text that are scanned: every one (``names`` None) or the named ones."""

    names: frozenset[str] | None = None

    @classmethod
    def from_policy(cls, policy: Policy) -> FieldSelection:
        scan = (policy.section("pii").get("fields") or {}).get("scan", SCAN_ALL)
        return cls(None if scan == SCAN_ALL else frozenset(scan))

    def string_leaves(self, fields: dict[str, Any]) -> Iterator[tuple[FieldPath, str]]:
        """(path, string) of every selected string, depth first in the record's order (no recursion, so a
        deeply nested object cannot overflow the stack)."""
        stack: list[tuple[FieldPath, Any]] = [
            ((name,), value) for name, value in reversed(fields.items()) if self.names is None or name in self.names
        ]
        while stack:
            path, value = stack.pop()
            if isinstance(value, str):
                yield path, value
            elif isinstance(value, dict):
                stack.extend((path + (key,), item) for key, item in reversed(value.items()))
            elif isinstance(value, list | tuple):
                stack.extend((path + (i,), item) for i, item in reversed(list(enumerate(value))))


def field_label(path: FieldPath) -> str:
    """``("author", "phones", 0)`` -> ``"author.phones[0]"`` (for the ledger's ``pii_fields``)."""
    label = ""
    for part in path:
        label += f"[{part}]" if isinstance(part, int) else (f".{part}" if label else str(part))
    return label


def leaf(fields: dict[str, Any], path: FieldPath) -> Any:
    value: Any = fields
    for part in path:
        value = value[part]
    return value


def with_leaves_replaced(fields: dict[str, Any], replacements: dict[FieldPath, str]) -> dict[str, Any]:
    """A copy of ``fields`` with the strings at ``replacements``' paths replaced (containers on a path are
    copied, the input is left as it was)."""
    out = dict(fields)
    for path, value in replacements.items():
        parent: Any = out
        for part in path[:-1]:
            child = parent[part]
            parent[part] = child = dict(child) if isinstance(child, dict) else list(child)
            parent = child
        parent[path[-1]] = value
    return out


# ---------------------------------------------------------------------------------------------- ids


class IdHasher:
    """HMAC-SHA256 of an id under the run's key; ``source`` says where the key came from (never the key)."""

    def __init__(self, key: bytes, source: str):
        self._key, self.source = key, source

    def __repr__(self) -> str:  # Beam and tracebacks print objects: keep the key out of them
        return f"IdHasher(key from {self.source})"

    def digest(self, value: str) -> str:
        mac = hmac.new(self._key, value.encode("utf-8", errors="surrogatepass"), hashlib.sha256)
        return ID_HASH_PREFIX + mac.hexdigest()[:ID_HASH_HEX_DIGITS]


def id_hasher(policy: Policy) -> IdHasher | None:
    """The run's id hasher (None when the policy keeps ids); a named key file that cannot be used is an error."""
    fields = policy.section("pii").get("fields") or {}
    if fields.get("ids", "hash") == "keep":
        return None
    key = os.environ.get(ID_HASH_KEY_ENV, "")
    if key:
        return IdHasher(key.encode("utf-8"), f"${ID_HASH_KEY_ENV}")
    if fields.get("id_hash_key_file"):
        key_bytes = read_key_file(policy.resolve(fields["id_hash_key_file"]), "pii.fields.id_hash_key_file")
        return IdHasher(key_bytes, "pii.fields.id_hash_key_file")
    return IdHasher(secrets.token_bytes(32), "a random key for this run")


def holds_pii(scanner: PiiScanner, policy: Policy, value: str) -> bool:
    """Whether ``value`` holds an entity the policy does not ``keep``, in any of the scanner's languages (so
    an id gets the same answer wherever it is met: a record, its duplicate, a quarantine row)."""
    return any(policy.entity_rule(s.type)["action"] != "keep" for s in scanner.scan_all_languages(value))


def public_id(scanner: PiiScanner, policy: Policy, hasher: IdHasher | None, value: Any) -> tuple[Any, bool]:
    """(the id as outputs show it, whether it was hashed)."""
    if hasher is None or value is None or not holds_pii(scanner, policy, str(value)):
        return value, False
    return hasher.digest(str(value)), True


class PublicIds:
    """:func:`public_id` for one worker, remembered: an id with a run of digits costs a Presidio call per
    language (about 0.1 ms each), and the final step asks for a record's id and then for the cluster its
    dedup result names, which is the record's own id for every unique document."""

    def __init__(self, scanner: PiiScanner, policy: Policy, hasher: IdHasher | None, size: int = 1 << 16):
        self.scanner, self.policy, self.hasher, self.size = scanner, policy, hasher, size
        self._memo: dict[tuple[type, Any], tuple[Any, bool]] = {}

    def __call__(self, value: Any) -> tuple[Any, bool]:
        if self.hasher is None or value is None:
            return value, False
        key = (type(value), value)  # 123 and "123" are different ids
        if key not in self._memo:
            if len(self._memo) >= self.size:
                self._memo.clear()
            self._memo[key] = public_id(self.scanner, self.policy, self.hasher, value)
        return self._memo[key]


# ---------------------------------------------------------------------------------------------- decisions


def actionable(policy: Policy, spans: list[dict[str, Any]]) -> bool:
    return any(policy.entity_rule(s["type"])["action"] != "keep" for s in spans)


def pii_field_labels(rec: dict[str, Any], policy: Policy, text_field: str, id_field: str) -> list[str]:
    """Fields of a decided record that held PII the policy acts on (redact or drop), for the ledger."""
    labels = [id_field] if rec.get("id_hashed") else []
    if actionable(policy, rec.get("pii_spans") or []):
        labels.append(text_field)
    labels += [field_label(tuple(path)) for path, spans in rec.get("field_spans") or [] if actionable(policy, spans)]
    return labels


def redact_fields(
    scanner: PiiScanner, policy: Policy, operators: dict[str, dict], rec: dict[str, Any],
    pseudonyms: Pseudonymizer | None = None,
) -> tuple[dict[str, Any], int, int]:
    """Redact the ``redact``-class spans of the record's scanned fields with the policy's operators and
    re-scan each redacted string: (fields, redactions, residual redact-class spans). ``pseudonyms`` is the
    document's (shared with its text, so a name has one pseudonym in every field); fields are redacted in
    the order they were scanned."""
    from haetae.pipelines.pii.scanner import PiiSpan
    from haetae.pipelines.policy.rules import spans_to_redact

    replacements: dict[FieldPath, str] = {}
    redactions = residual = 0
    for path, spans in rec.get("field_spans") or []:
        todo = [PiiSpan(**s) for s in spans_to_redact(policy, spans)]
        if not todo:
            continue
        path = tuple(path)
        redacted = scanner.redact(leaf(rec["fields"], path), todo, operators, pseudonyms)
        replacements[path] = redacted
        redactions += len(todo)
        left = [s.to_dict() for s in scanner.scan(redacted, rec.get("lang"))]
        residual += len(spans_to_redact(policy, left))
    fields = with_leaves_replaced(rec["fields"], replacements) if replacements else rec["fields"]
    return fields, redactions, residual
