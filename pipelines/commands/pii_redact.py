"""`haetae pii redact IN.jsonl --out OUT.jsonl [--policy P] [--key-file F]`: the text of every record redacted
with the policy's per-entity operators, as a Beam job (the job of ``pii scan`` with a redaction step).

Output: OUT.jsonl, one line ``{"id", "text", "entities": [{"type", "start", "end"}], "counts": {TYPE: n}}``
per readable input record, sorted by id: ``text`` is redacted, ``entities`` are the replacements' offsets
in it and ``counts`` their number per entity type. Every span whose entity the policy does not ``keep`` is
redacted (``drop`` entities too: this command redacts, it does not drop documents), with the entity's operator
(else ``pii.default``'s, else ``<TYPE>``). Pseudonyms are numbered per record; keyed ones need the key
(``--key-file``, else ``pii.key`` of the policy), whose fingerprint only goes to ``OUT.jsonl._SUCCESS``.

Bad lines go to ``OUT.quarantine.jsonl`` with their line number and a reason, as with ``pii scan``; an
unusable input, policy or key is one line on stderr and exit 2.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import apache_beam as beam

from haetae.errors import UsageError

if TYPE_CHECKING:
    from haetae.pipelines.pii.pseudonyms import PiiKey
    from haetae.pipelines.pii.scanner import SharedScanner
    from haetae.pipelines.policy.schema import Policy


class RedactRecords(beam.DoFn):
    """A scored record -> its OUT.jsonl line (see the module doc); one :class:`Pseudonymizer` per record."""

    def __init__(self, policy: Policy, scanner: SharedScanner, key: PiiKey | None):
        self.policy, self.shared_scanner, self.key = policy, scanner, key

    def setup(self) -> None:
        self._scanner = self.shared_scanner.acquire()
        self._operators = self.policy.operators()

    def process(self, record: dict):
        from haetae.pipelines.io.records import id_value
        from haetae.pipelines.pii.pseudonyms import Pseudonymizer
        from haetae.pipelines.pii.scanner import PiiSpan

        spans = [PiiSpan(**s) for s in record["pii_spans"] if self.policy.entity_rule(s["type"])["action"] != "keep"]
        text, items = self._scanner.redact_items(record["text"], spans, self._operators, Pseudonymizer(self.key))
        counts: dict[str, int] = {}
        for item in items:
            counts[item["type"]] = counts.get(item["type"], 0) + 1
        row = {"id": id_value(record["id_key"]), "text": text, "entities": items, "counts": dict(sorted(counts.items()))}
        yield json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def run_pii_redact(args, extra_beam_args: list[str]) -> int:
    """Run the command for parsed CLI ``args`` (input, out, policy, key_file, language, text/id field, runner)."""
    from haetae.offline import ensure_offline
    from haetae.pipelines.commands.pii_scan import _run

    ensure_offline()
    try:
        return _run(args, list(extra_beam_args or []), command="pii redact", redaction=lambda: _prepare(args))
    except UsageError as exc:  # PiiScanError, PolicyError, PiiKeyError, InputError
        print(f"haetae pii redact: error: {exc}", file=sys.stderr)
        return exc.exit_code


def _prepare(args):
    """(shared scanner, the redaction step, manifest config) for ``_run``: policy and key checked here."""
    from haetae.pipelines.pii.scanner import SharedScanner
    from haetae.pipelines.policy.schema import load_policy

    policy = load_policy(getattr(args, "policy", None))
    key = policy.redaction_key(getattr(args, "key_file", None), flag="--key-file")
    pii_config = policy.resolve(policy.section("pii").get("recognizers", "pii_recognizers.yaml"))
    scanner = SharedScanner(pii_config)
    config = {"policy": {"name": policy.name, "path": policy.path, "sha256": policy.sha256}}
    if key is not None:
        config["pii_key"] = key.describe()
    return scanner, beam.ParDo(RedactRecords(policy, scanner, key)), config
