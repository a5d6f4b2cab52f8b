"""Consistent pseudonyms and keyed hashes for redaction, as presidio-anonymizer operators.

``pseudonym`` replaces an entity by a stable stand-in instead of a bare ``<TYPE>``, so a redacted text still
says that the same person (e-mail, phone...) occurs twice:

- numbered (default): ``<PERSON_1>``, ``<PERSON_2>``... numbered per entity type in order of first appearance
  in one document (its text first, then its other scanned fields); the numbering restarts with each document.
- keyed (``keyed: true``): ``<PERSON_`` + the first ``length`` hex digits of HMAC-SHA256(key,
  ``TYPE|normalised value``), written with the letters a-p for 0-f, + ``>``: the same value gets the same
  pseudonym in every document and run under one key, and nothing without the key links it back to the value.
  Letters, because the audit re-scans redacted text: a run of decimal digits in a hex pseudonym next to a
  context word reads as a bank account (in 3.4 % of 6,000 scans of texts with six of them), which would
  fail its residual-PII check.

``hash`` with ``keyed: true`` is the full HMAC (``hash_type`` sha256 or sha512) of the normalised value under
the same key, instead of Presidio's salted hash.

Values are normalised first (:func:`normalise`), so ``Hong@Ex.KR`` and ``hong@ex.kr`` or ``010-1234-5678`` and
``+82 10 1234 5678`` get one pseudonym. The key is read from the environment variable or key file the policy
names in ``pii.key`` (:func:`load_key`); only its fingerprint (first 8 hex digits of its SHA-256) is ever
written, in the job manifest.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata
from typing import Any

from presidio_anonymizer.entities import InvalidParamError
from presidio_anonymizer.operators import Operator, OperatorType

from haetae.pipelines.policy.loader import ConfigError, read_key_file

PSEUDONYM = "pseudonym"
KEYED_HASH = "haetae_keyed_hash"  # the operator a policy's {type: hash, keyed: true} runs as
STATE = "haetae_pseudonyms"  # the params key holding the document's Pseudonymizer
KEY_ENV = "HAETAE_PII_KEY"
DEFAULT_LENGTH = 12  # 48 bits: two values of one type share a pseudonym with odds ~n^2/2^49 for n values
MIN_LENGTH, MAX_LENGTH = 6, 64
_HEX_AS_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")
FINGERPRINT_HEX_DIGITS = 8

_DIGITS_ONLY = {"PHONE_NUMBER", "KR_RRN", "KR_FRN", "KR_BRN", "KR_HEALTH_INSURANCE", "KR_BANK_ACCOUNT",
                "CREDIT_CARD", "US_SSN"}
_ALNUM_UPPER = {"KR_PASSPORT", "IBAN_CODE", "MAC_ADDRESS"}
_NO_SPACE_CASEFOLD = {"EMAIL_ADDRESS", "URL", "IP_ADDRESS"}
_NO_SPACE = {"CRYPTO"}  # base58 and bech32 addresses: case is part of the value


class PiiKeyError(ConfigError):
    """Keyed redaction is asked for and the key is missing or unusable (exit 2, before the job starts)."""


def normalise(entity_type: str, value: str) -> str:
    """The form two mentions of one value share: NFKC, then by type digits only (phones, ids; a Korean
    ``+82`` prefix becomes ``0``), letters and digits upper-cased (passports, IBANs, MAC addresses), no spaces
    and case-folded (e-mail, URL, IP), or spaces collapsed and case-folded (names, addresses, the rest)."""
    value = unicodedata.normalize("NFKC", value)
    if entity_type in _DIGITS_ONLY:
        digits = re.sub(r"\D", "", value)
        if entity_type == "PHONE_NUMBER" and value.lstrip().startswith("+82"):
            digits = "0" + digits[2:].lstrip("0")
        return digits
    if entity_type == "KR_DRIVER_LICENSE":  # the printed form's region name is part of the number
        return re.sub(r"[^0-9가-힣]", "", value)
    if entity_type in _ALNUM_UPPER:
        return re.sub(r"[\W_]", "", value).upper()
    if entity_type in _NO_SPACE_CASEFOLD:
        return re.sub(r"\s", "", value).casefold()
    if entity_type in _NO_SPACE:
        return re.sub(r"\s", "", value)
    return " ".join(value.split()).casefold()


class PiiKey:
    """The user's redaction key; ``source`` says where it came from. Neither repr nor str shows the key."""

    def __init__(self, key: bytes, source: str):
        self._key, self.source = key, source

    def __repr__(self) -> str:  # Beam and tracebacks print objects
        return f"PiiKey(from {self.source}, fingerprint {self.fingerprint})"

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self._key).hexdigest()[:FINGERPRINT_HEX_DIGITS]

    def mac(self, message: str, hash_type: str = "sha256") -> str:
        return hmac.new(self._key, message.encode("utf-8", errors="surrogatepass"), hash_type).hexdigest()

    def describe(self) -> dict[str, str]:
        """What a manifest may record about the key."""
        return {"source": self.source, "fingerprint": self.fingerprint}


class Pseudonymizer:
    """The pseudonyms of one document: numbers per entity type in order of first appearance, and the key
    for the keyed forms. Use one instance for every field of a document, a new one for the next document."""

    def __init__(self, key: PiiKey | None = None):
        self.key = key
        self._numbers: dict[tuple[str, str], int] = {}
        self._last: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"Pseudonymizer({len(self._numbers)} values, key {'set' if self.key else 'none'})"

    def number(self, entity_type: str, value: str) -> int:
        """The value's number within the document (the next free one when it is new)."""
        slot = (entity_type, normalise(entity_type, value))
        if slot not in self._numbers:
            self._numbers[slot] = self._last[entity_type] = self._last.get(entity_type, 0) + 1
        return self._numbers[slot]

    def numbered(self, entity_type: str, value: str) -> str:
        return f"<{entity_type}_{self.number(entity_type, value)}>"

    def keyed(self, entity_type: str, value: str, length: int = DEFAULT_LENGTH) -> str:
        return f"<{entity_type}_{self.keyed_hash(entity_type, value)[:length].translate(_HEX_AS_LETTERS)}>"

    def keyed_hash(self, entity_type: str, value: str, hash_type: str = "sha256") -> str:
        if self.key is None:
            raise PiiKeyError("a keyed operator needs a key: pass a Pseudonymizer with one (pii.key in the policy)")
        return self.key.mac(f"{entity_type}|{normalise(entity_type, value)}", hash_type)


def _state(params: dict) -> Pseudonymizer:
    state = params.get(STATE)
    if not isinstance(state, Pseudonymizer):
        raise InvalidParamError("needs the document's Pseudonymizer (use haetae.pipelines.pii.scanner.redact)")
    return state


class PseudonymOperator(Operator):
    """``pseudonym``: ``<TYPE_n>`` numbered per document, or ``<TYPE_hex>`` keyed (see the module doc)."""

    def operate(self, text: str = None, params: dict = None) -> str:
        state, entity = _state(params), params["entity_type"]
        if params.get("keyed", False):
            return state.keyed(entity, text, params.get("length", DEFAULT_LENGTH))
        return state.numbered(entity, text)

    def validate(self, params: dict = None) -> None:
        keyed = params.get("keyed", False)
        if not isinstance(keyed, bool):
            raise InvalidParamError(f"keyed must be true or false, got {keyed!r}")
        length = params.get("length", DEFAULT_LENGTH)
        if isinstance(length, bool) or not isinstance(length, int) or not MIN_LENGTH <= length <= MAX_LENGTH:
            raise InvalidParamError(f"length must be an integer from {MIN_LENGTH} to {MAX_LENGTH}, got {length!r}")
        if "length" in params and not keyed:
            raise InvalidParamError("length applies to keyed pseudonyms only (keyed: true)")
        _state(params)

    def operator_name(self) -> str:
        return PSEUDONYM

    def operator_type(self) -> OperatorType:
        return OperatorType.Anonymize


class KeyedHashOperator(Operator):
    """``hash`` with ``keyed: true``: HMAC of ``TYPE|normalised value`` under the user's key, full hex digest."""

    def operate(self, text: str = None, params: dict = None) -> str:
        return _state(params).keyed_hash(params["entity_type"], text, params.get("hash_type", "sha256"))

    def validate(self, params: dict = None) -> None:
        if params.get("hash_type", "sha256") not in ("sha256", "sha512"):
            raise InvalidParamError(f"hash_type must be sha256 or sha512, got {params.get('hash_type')!r}")
        if "salt" in params:
            raise InvalidParamError("salt and keyed: true exclude each other (the key replaces the salt)")
        _state(params)

    def operator_name(self) -> str:
        return KEYED_HASH

    def operator_type(self) -> OperatorType:
        return OperatorType.Anonymize


CUSTOM_OPERATORS = (PseudonymOperator, KeyedHashOperator)


def is_keyed(spec: dict[str, Any]) -> bool:
    return spec.get("type") in (PSEUDONYM, "hash") and spec.get("keyed") is True


def presidio_spec(spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(operator name, params) Presidio runs for a policy operator spec."""
    params = {k: v for k, v in spec.items() if k != "type"}
    keyed = params.pop("keyed", False) if spec["type"] == "hash" else False
    return (KEYED_HASH if keyed else spec["type"]), params


# ---------------------------------------------------------------------------------------------- the key


def keyed_entities(operators: dict[str, dict[str, Any]]) -> list[str]:
    """The entity types (``DEFAULT`` included) whose operator needs the key, sorted."""
    return sorted(entity for entity, spec in operators.items() if is_keyed(spec))


def load_key(key_section: dict[str, Any] | None, resolve=lambda p: p, key_file: str | None = None,
             needed_by: list[str] | tuple[str, ...] = (), flag: str | None = None, origin: str = "") -> PiiKey | None:
    """The key from ``key_file`` (a command's ``--key-file``), else the environment variable ``key_section
    ["env"]`` (default ``$HAETAE_PII_KEY``), else the file ``key_section["file"]`` (``resolve`` makes it
    relative to the policy). None when none is set and ``needed_by`` (entities with keyed operators) is
    empty; a :class:`PiiKeyError` when one is needed and none is set (naming the command's ``flag`` for a key
    file, where it has one; prefixed by ``origin``, the policy's path), or a named file cannot be used."""
    section = key_section or {}
    env = section.get("env", KEY_ENV)
    if key_file:
        return _read_key_file(key_file, "--key-file")
    if os.environ.get(env, "").strip():
        return PiiKey(os.environ[env].strip().encode("utf-8"), f"${env}")
    if section.get("file"):
        return _read_key_file(resolve(section["file"]), "pii.key.file")
    if needed_by:
        where = f"set ${env}, name a key file in pii.key.file of the policy" + (f" or pass {flag}" if flag else "")
        raise PiiKeyError(f"{origin + ': ' if origin else ''}the operator of {', '.join(needed_by)} is keyed but there is no key: {where}; make one "
                          "with python -c \"import secrets; print(secrets.token_hex(32))\"")
    return None


def _read_key_file(path: str, what: str) -> PiiKey:
    return PiiKey(read_key_file(path, what, PiiKeyError), path)
