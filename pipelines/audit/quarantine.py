"""The quarantine at rest: it holds raw input (the line as read, personal data included), so it is private on
disk and, by the policy's ``quarantine.raw``, kept, redacted or encrypted.

- ``keep`` (default): the raw line as read. The job ends with a one-line warning on stderr when some
  quarantine rows hold PII the policy does not keep (``quarantine_with_pii`` in ``aggregates.json``).
- ``redact``: every span the scanner finds in the raw line (with every language's recognisers; a malformed
  line is scanned as plain text, so PII written with JSON escapes such as ``\\u0040`` is not found) becomes a
  typed placeholder ``<TYPE>``, except entities the policy keeps.
- ``encrypt``: the raw line is encrypted with Fernet (AES-128-CBC + HMAC-SHA256, package ``cryptography``)
  under the key in ``$HAETAE_QUARANTINE_KEY`` or in the file named by ``quarantine.key_file``; make one with
  ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``, read the
  rows back with ``haetae quarantine decrypt DIR/quarantine`` or :func:`read_quarantine`.

Every row says which in ``raw_at_rest`` (``keep``, ``redacted``, ``fernet``). The folder is made 0700 and
each shard 0600 (:func:`protect_quarantine`; local filesystems only: object stores have no modes).
The ledger's ``sha256`` and ``bytes`` describe the raw input, whatever is stored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from haetae.errors import UsageError
from haetae.pipelines.io import records as R
from haetae.pipelines.pii.fields import IdHasher, PublicIds, actionable
from haetae.pipelines.steps import Step

if TYPE_CHECKING:
    from haetae.pipelines.pii.scanner import SharedScanner
    from haetae.pipelines.policy.schema import Policy

RAW_MODES = ("keep", "redact", "encrypt")
KEY_ENV = "HAETAE_QUARANTINE_KEY"
AT_REST = {"keep": "keep", "redact": "redacted", "encrypt": "fernet"}
DIR_MODE, FILE_MODE = 0o700, 0o600
RAW_SPANS, ID_HASHED = "raw_spans", "id_hashed"  # row keys used inside the job, never written
_MAKE_KEY = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


def raw_mode(policy: Policy) -> str:
    return policy.section("quarantine").get("raw", "keep")


# ---------------------------------------------------------------------------------------------- the key


class QuarantineCipher:
    """Fernet under the quarantine key; its repr never shows the key."""

    def __init__(self, key: bytes, source: str):
        from cryptography.fernet import Fernet

        try:
            self._fernet = Fernet(key)
        except ValueError:
            raise UsageError(f"{source}: not a Fernet key (32 url-safe base64 bytes); make one with {_MAKE_KEY}") from None
        self._key, self.source = key, source

    def __repr__(self) -> str:
        return f"QuarantineCipher(key from {self.source})"

    def __reduce__(self):  # pickle the key, not the Fernet object
        return QuarantineCipher, (self._key, self.source)

    def encrypt(self, raw: str) -> str:
        return self._fernet.encrypt(raw.encode("utf-8", errors="surrogatepass")).decode("ascii")

    def decrypt(self, token: str, where: str) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8", errors="surrogatepass")
        except (InvalidToken, ValueError):
            raise UsageError(f"{where}: cannot decrypt: wrong key (from {self.source}) or a damaged row") from None


def quarantine_cipher(policy: Policy | None = None, key_file: str | None = None) -> QuarantineCipher:
    """The cipher for ``$HAETAE_QUARANTINE_KEY``, else ``key_file``, else the policy's ``quarantine.key_file``;
    a UsageError naming them when none is set."""
    key = os.environ.get(KEY_ENV, "").strip()
    if key:
        return QuarantineCipher(key.encode("ascii", errors="replace"), f"${KEY_ENV}")
    named = key_file or (policy.section("quarantine").get("key_file") if policy else None)
    if not named:
        raise UsageError(f"quarantine.raw is encrypt but ${KEY_ENV} is not set and no quarantine.key_file is "
                         f"named; set one to a key made with {_MAKE_KEY}")
    path = policy.resolve(named) if policy and not key_file else named
    try:
        with open(path, "rb") as fh:
            return QuarantineCipher(fh.read().strip(), path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the quarantine key file: {exc.strerror or exc}") from None


# ---------------------------------------------------------------------------------------------- Beam steps


class ScanQuarantine(Step):
    """Before a quarantine row reaches the ledger or the quarantine: its id hashed when it holds PII (the
    same hash as the record's), and its raw line scanned (``raw_spans``: the ledger's PII counts)."""

    def __init__(self, policy: Policy, scanner: SharedScanner, hasher: IdHasher | None):
        self.policy, self.shared_scanner, self.hasher = policy, scanner, hasher

    def setup(self):
        self._scanner = self.shared_scanner.acquire()
        self._public_ids = PublicIds(self._scanner, self.policy, self.hasher)

    def process(self, row):
        row = dict(row)
        row["id"], row[ID_HASHED] = self._public_ids(row.get("id"))
        if row[ID_HASHED]:
            row["id_key"] = R.id_key(row["id"])
        row[RAW_SPANS] = [s.to_dict() for s in self._scanner.scan_all_languages(row["raw"])]
        yield row


def quarantine_pii_fields(row: dict[str, Any], policy: Policy, id_field: str) -> list[str]:
    """The ledger's ``pii_fields`` of a quarantine row: ``raw`` when its raw line holds PII the policy acts on."""
    return ([id_field] if row.get(ID_HASHED) else []) + (["raw"] if actionable(policy, row[RAW_SPANS]) else [])


class StoreQuarantine(Step):
    """The row as it is written: its raw line kept, redacted or encrypted (``quarantine.raw``)."""

    def __init__(self, policy: Policy, scanner: SharedScanner, cipher: QuarantineCipher | None):
        self.policy, self.shared_scanner, self.cipher = policy, scanner, cipher
        self.mode = raw_mode(policy)

    def setup(self):
        self._scanner = self.shared_scanner.acquire()

    def process(self, row):
        from haetae.pipelines.pii.scanner import PiiSpan, redact

        spans = row.get(RAW_SPANS)
        row = {k: v for k, v in row.items() if k not in (RAW_SPANS, ID_HASHED)}
        if self.mode == "redact":
            found = [PiiSpan(**s) for s in spans] if spans is not None else self._scanner.scan_all_languages(row["raw"])
            row["raw"] = redact(row["raw"], [s for s in found if self.policy.entity_rule(s.type)["action"] != "keep"])
        elif self.mode == "encrypt":
            row["raw"] = self.cipher.encrypt(row["raw"])
        row["raw_at_rest"] = AT_REST[self.mode]
        yield row


def protect_file(path: str) -> str:
    """Make one written quarantine shard 0600 and its folder 0700 (local paths; others are left as they are)."""
    if "://" not in path:
        os.chmod(path, FILE_MODE)
        os.chmod(os.path.dirname(os.path.abspath(path)), DIR_MODE)
    return path


def protect_quarantine(directory: str) -> None:
    """Make the quarantine folder 0700 and every file under it 0600; call before publishing an output."""
    if "://" in directory or not os.path.isdir(directory):
        return
    for root, _dirs, files in os.walk(directory):
        os.chmod(root, DIR_MODE)
        for name in files:
            os.chmod(os.path.join(root, name), FILE_MODE)


def make_private_dir(directory: str) -> None:
    """Create ``directory`` 0700 (before the job writes into it, so no shard is readable by others even
    before :func:`protect_file` runs)."""
    if "://" in directory:
        return
    os.makedirs(directory, mode=DIR_MODE, exist_ok=True)
    os.chmod(directory, DIR_MODE)


# ---------------------------------------------------------------------------------------------- reading back


def read_quarantine(directory: str, key_file: str | None = None) -> Iterator[dict[str, Any]]:
    """Rows of ``DIR/*.jsonl`` with encrypted raw lines decrypted (key: ``$HAETAE_QUARANTINE_KEY`` or
    ``key_file``). A row that was not encrypted is returned as stored."""
    import glob

    if not os.path.isdir(directory):
        raise UsageError(f"{directory}: not a quarantine folder (expected DIR/quarantine of an audit)")
    paths = sorted(glob.glob(os.path.join(directory, "*.jsonl")))
    cipher = None
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                row = json.loads(line)
                if row.get("raw_at_rest") == AT_REST["encrypt"]:
                    cipher = cipher or quarantine_cipher(key_file=key_file)
                    row["raw"] = cipher.decrypt(row["raw"], f"{path}:{number}")
                    row["raw_at_rest"] = AT_REST["keep"]
                yield row


def quarantine_warning(aggregates: dict[str, Any], policy: Policy) -> str | None:
    """The job-end warning for a quarantine that stores PII raw (``quarantine.raw: keep``), or None."""
    held = aggregates.get("quarantine_with_pii", 0)
    if raw_mode(policy) != "keep" or not held:
        return None
    return (f"warning: {held} quarantine rows hold personal data in their raw lines, stored as read (folder 0700, "
            f"files 0600); set quarantine.raw: redact or encrypt in the policy to change that")


def decrypt_command(directory: str, key_file: str | None, out) -> int:
    """``haetae quarantine decrypt``: the rows as JSONL on ``out``."""
    for row in read_quarantine(directory, key_file):
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0

