"""The one configuration path: each shipped file passes its schema, and a schema error is one key path and one
message (unknown keys with a did-you-mean, missing keys, types and bounds in words, a node's own x-message)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from haetae.pipelines.pii.scanner import OPERATOR_TYPES
from haetae.pipelines.policy.loader import SCHEMA_SUFFIX, load_schema, parse_yaml, schema_problem

ROOT = Path(__file__).resolve().parents[3]
SCHEMAS = ROOT / "policies" / "schemas"
SHIPPED = [
    ("data_policy", "policies/data_policy.yaml"),
    ("data_policy", "taxonomy/data/generated_data_policy.yaml"),
    ("pii_recognizers", "policies/pii_recognizers.yaml"),
    ("rights_detectors", "policies/rights_detectors.yaml"),
    ("safety_gate", "policies/safety_gate.yaml"),
]
_POLICY = "name: x\nversion: 1\nlimits: {}\nrights: {}\nvalidation: {}\n"


def test_schemas_are_valid_and_named_by_their_file():
    paths = sorted(SCHEMAS.glob(f"*{SCHEMA_SUFFIX}"))
    assert {p.name[: -len(SCHEMA_SUFFIX)] for p in paths} >= {name for name, _ in SHIPPED}
    for path in paths:
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        assert schema["$id"] == f"urn:haetae:schema:{path.name[: -len(SCHEMA_SUFFIX)]}"


@pytest.mark.parametrize("schema, path", SHIPPED)
def test_shipped_files_pass_their_schema(schema, path):
    doc, _ = parse_yaml((ROOT / path).read_text(encoding="utf-8"))
    assert schema_problem(doc, schema) is None


def test_operator_types_are_the_schemas():
    assert load_schema("operator")["properties"]["type"]["enum"] == list(OPERATOR_TYPES)


@pytest.mark.parametrize("schema, text, where, message", [
    ("rights_detectors", "detectors:\n  kogl: {enabeld: true}\n", ("detectors", "kogl", "enabeld"),
     "unknown key; did you mean 'enabled'?"),
    ("rights_detectors", "detectors:\n  kogl: {state: true}\n", ("detectors", "kogl", "state"),
     "unknown key; allowed: ['enabled']"),
    ("rights_detectors", "- kogl\n", (), "the top level must be a mapping"),
    ("rights_detectors", "version: yes\n", ("version",), "must be an integer, got true/false"),
    ("rights_detectors", "detectors: [kogl]\n", ("detectors",), "must be a mapping, got list"),
    ("pii_recognizers", "recognizers: {}\n", (), "missing required key 'languages'"),
    ("pii_recognizers", "languages: []\nrecognizers: {}\n", ("languages",),
     "must be a non-empty list of language codes"),
    ("pii_recognizers", "languages: [ko, '']\nrecognizers: {}\n", ("languages", 1),
     "must be a language code (a non-empty string)"),
    ("pii_recognizers", "languages: [ko]\nrecognizers: {}\ncontext_window: -1\n", ("context_window",), "must be >= 0"),
    ("pii_recognizers", "languages: [ko]\nrecognizers: {kr_phone: {languages: ko}}\n",
     ("recognizers", "kr_phone", "languages"), "must be a list, got str"),
    ("pii_recognizers", "languages: [ko]\nrecognizers: {}\noperators: {DEFAULT: mask}\n", ("operators", "DEFAULT"),
     "must be a mapping {type: replace|mask|hash|redact|keep|pseudonym, ...}"),
    ("data_policy", _POLICY + "pii: {}\ndedup: {minhash: {threshold: 0}}\n", ("dedup", "minhash", "threshold"),
     "must be > 0 and <= 1"),
    ("data_policy", _POLICY + "pii: {}\ndedup: {minhash: {num_perm: 2000}}\n", ("dedup", "minhash", "num_perm"),
     "must be between 1 and 1024"),
    # the key's place never echoes its value
    ("data_policy", _POLICY + "pii: {key: {env: 'the secret'}}\ndedup: {}\n", ("pii", "key", "env"),
     "must name an environment variable (letters, digits and _), not hold the key"),
    ("data_policy", _POLICY + "pii: {entities: {KR_RRN: {}}}\ndedup: {}\n", ("pii", "entities", "KR_RRN"),
     "missing required key 'action'"),
    ("safety_gate", (ROOT / "policies" / "safety_gate.yaml").read_text(encoding="utf-8").replace(
        "overall: 0.90", "overall: 1.5"), ("min_safe_rate", "overall"),
     "must be a fraction between 0 and 1 (0.9 = 90 %) or null"),
])
def test_a_schema_error_is_a_key_path_and_one_message(schema, text, where, message):
    doc, _ = parse_yaml(text)
    assert schema_problem(doc, schema) == (where, message)
