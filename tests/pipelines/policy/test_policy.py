"""Policy schema validation (errors name the line) and the decision rules."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from haetae.pipelines.io import records as R
from haetae.pipelines.policy.loader import YamlProblem, parse_yaml
from haetae.pipelines.policy.rules import (
    FINAL,
    PRE_DEDUP,
    RULES,
    final_verdict,
    first_verdict,
    pre_dedup_verdict,
    rules_named,
)
from haetae.pipelines.policy.schema import PolicyError, load_policy

ROOT = Path(__file__).resolve().parents[3]
DEFAULT = ROOT / "policies" / "data_policy.yaml"
DETECTOR_CONFIGS = ("pii_recognizers.yaml", "rights_detectors.yaml")


def _record(**extra):
    rec = {"id": "a", "text": "대한민국은 민주공화국이다. 모든 권력은 국민으로부터 나온다.", "lang": "ko",
           "quality": {"symbol_ratio": 0.02, "repeated_line_ratio": 0.0}, "pii_counts": {}, "licences": [],
           "copyright_signals": []}
    rec.update(extra)
    return rec


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    """The default policy with ``old`` replaced by ``new``, beside copies of the detector configs it names."""
    text = DEFAULT.read_text(encoding="utf-8")
    assert old in text
    for name in DETECTOR_CONFIGS:
        shutil.copy(DEFAULT.parent / name, tmp_path / name)
    path = tmp_path / "policy.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_default_policy_loads_with_a_stable_hash():
    a, b = load_policy(None), load_policy(DEFAULT)
    assert a.name == "haetae-default" and a.sha256 == b.sha256 and len(a.sha256) == 64
    assert a.dedup_params.num_perm == a.dedup_params.bands * a.dedup_params.rows


def test_unknown_key_names_its_line(tmp_path):
    path = _variant(tmp_path, "  min_chars: 20", "  min_charz: 20")
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert f"line {_line_of(path, 'min_charz')}" in str(err.value)
    assert "limits.min_charz" in str(err.value) and "unknown key" in str(err.value)


def test_bad_value_names_its_line(tmp_path):
    path = _variant(tmp_path, "KR_RRN: {action: drop}", "KR_RRN: {action: shred}")
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert f"line {_line_of(path, 'shred')}" in str(err.value)
    assert "pii.entities.KR_RRN.action" in str(err.value)


def test_bad_dedup_parameters_and_yaml_are_clear_errors(tmp_path):
    path = _variant(tmp_path, "minhash: {}", "minhash: {num_perm: 100, bands: 7, rows: 3}")
    with pytest.raises(PolicyError, match="dedup.minhash"):
        load_policy(path)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nlimits: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="invalid YAML"):
        load_policy(broken)
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.yaml")


def test_rules_fire_in_order_and_name_themselves():
    policy = load_policy(None)
    assert pre_dedup_verdict(policy, _record()) is None
    short = pre_dedup_verdict(policy, _record(text="짧다"))
    assert (short.decision, short.rule) == (R.DROP, "limits.min_chars")
    denied = pre_dedup_verdict(policy, _record(licences=["CC-BY-NC-4.0"], copyright_signals=["copyright_symbol"]))
    assert denied.rule == "rights.licences.deny"
    notice = pre_dedup_verdict(policy, _record(copyright_signals=["ko_no_redistribution"]))
    assert notice.rule == "rights.copyright.notice_without_allowed_licence" and notice.decision == R.DROP
    allowed = pre_dedup_verdict(policy, _record(licences=["CC-BY-4.0"], copyright_signals=["copyright_symbol"]))
    assert allowed is None
    rrn = pre_dedup_verdict(policy, _record(pii_counts={"KR_RRN": 1, "PHONE_NUMBER": 2}))
    assert rrn.rule == "pii.entities.KR_RRN"
    symbols = pre_dedup_verdict(policy, _record(quality={"symbol_ratio": 0.9, "repeated_line_ratio": 0}))
    assert symbols.rule == "quality.max_symbol_ratio"


def test_licence_lists_are_read_on_spdx_expressions():
    """``A OR B`` is allowed when either is and denied only when both are; ``A AND B`` is allowed when both are
    and denied when either is. Ids compare case-insensitively; ``KOGL-TypeN`` is ``LicenseRef-KOGL-TypeN``."""
    policy = load_policy(None)  # allow MIT, Apache-2.0, LicenseRef-KOGL-Type1 ...; deny CC-BY-NC-4.0 ...
    notice = {"copyright_signals": ["copyright_statement"]}

    def verdict(licence):
        return pre_dedup_verdict(policy, _record(licence=licence, licences=[licence], **notice))

    assert verdict("MIT OR CC-BY-NC-4.0") is None  # MIT may be chosen: allowed, so the notice is fine
    both = verdict("MIT AND CC-BY-NC-4.0")
    assert both.rule == "rights.licences.deny"
    assert both.reasons == ("licence MIT AND CC-BY-NC-4.0 denied (CC-BY-NC-4.0 on the deny list)",)
    assert verdict("CC-BY-NC-4.0 OR CC-BY-ND-4.0").rule == "rights.licences.deny"  # no allowed choice
    assert verdict("MIT AND Apache-2.0") is None
    assert verdict("(MIT OR GPL-2.0-only) AND Apache-2.0") is None
    # allowed for only one of its AND operands: not allowed, so the copyright notice rule decides
    partial = verdict("MIT AND GPL-2.0-only")
    assert partial.rule == "rights.copyright.notice_without_allowed_licence"
    assert verdict("mit") is None and verdict("LicenseRef-KOGL-Type1") is None
    assert verdict("KOGL-Type1") is None  # an alias on the document side too
    assert verdict("LicenseRef-KOGL-Type3").rule == "rights.licences.deny"
    assert verdict("Apache-2.0 WITH LLVM-exception") is None  # the id of an X WITH E is on the list
    # a policy written with the old KOGL-TypeN ids decides the same
    lists = policy.licence_lists()
    assert lists.allowed("LicenseRef-KOGL-Type1") and lists.denied("LicenseRef-KOGL-Type2")


def test_unknown_licences_and_the_registry_rule(tmp_path):
    strict = load_policy(_variant(tmp_path, "unknown: keep", "unknown: drop"))
    unknown = pre_dedup_verdict(strict, _record(licence="MIT AND GPL-2.0-only", licences=["MIT", "GPL-2.0-only"]))
    assert unknown.rule == "rights.licences.unknown"
    assert pre_dedup_verdict(strict, _record(licence="MIT OR GPL-2.0-only", licences=["MIT OR GPL-2.0-only"])) is None
    default = load_policy(None)  # no rights.registry section: drop above 0.5
    assert pre_dedup_verdict(default, _record(registry_fraction=0.5)) is None
    over = pre_dedup_verdict(default, _record(registry_fraction=0.93, registry_shingles=400))
    assert (over.decision, over.rule, over.reasons) == (R.DROP, "rights.registry", ("registry fraction 0.930 > 0.5",))
    held = load_policy(_variant(tmp_path, "  copyright:\n", "  registry: {max_fraction: 0.1, action: quarantine}\n"
                                                           "  copyright:\n"))
    assert pre_dedup_verdict(held, _record(registry_fraction=0.2)).decision == R.QUARANTINE
    kept = load_policy(_variant(tmp_path, "  copyright:\n", "  registry: {action: keep}\n  copyright:\n"))
    assert pre_dedup_verdict(kept, _record(registry_fraction=1.0)) is None
    bad = _variant(tmp_path, "  copyright:\n", "  registry: {max_fraction: 2}\n  copyright:\n")
    with pytest.raises(PolicyError, match=r"rights\.registry\.max_fraction"):
        load_policy(bad)


def test_final_verdict_duplicates_then_redaction():
    policy = load_policy(None)
    near = final_verdict(policy, _record(), {"kind": "near", "cluster": "b", "cluster_size": 2})
    assert (near.decision, near.rule) == (R.DROP, "dedup.near")
    rep = final_verdict(policy, _record(pii_counts={"EMAIL_ADDRESS": 1, "URL": 3}), {"kind": "representative"})
    assert (rep.decision, rep.rule) == (R.REDACT, "pii.redact") and rep.reasons == ("1 x EMAIL_ADDRESS",)
    keep = final_verdict(policy, _record(pii_counts={"URL": 1}), None)
    assert (keep.decision, keep.rule) == (R.KEEP, "default.keep")


# ------------------------------------------------------------------------------------------- strictness

_IBAN = 'IBAN_CODE: {action: redact, operator: {type: mask, masking_char: "*", chars_to_mask: 12, from_end: false}}'
_DEFAULT_RULE = "default: {action: redact}"


def _default_operator(operator: str) -> tuple[str, str]:
    return _DEFAULT_RULE, f"default: {{action: redact, operator: {operator}}}"


@pytest.mark.parametrize("old, new, needle, message", [
    # a typo in an entity name would put resident registration numbers back on the default action
    ("KR_RRN: {action: drop}", "KR_RNN: {action: drop}", "KR_RNN",
     "pii.entities.KR_RNN: unknown entity 'KR_RNN': no recogniser in pii_recognizers.yaml reports it; "
     "did you mean 'KR_RRN'?"),
    ("CREDIT_CARD: {action: drop}", "CREDIT_CRAD: {action: drop}", "CREDIT_CRAD",
     "pii.entities.CREDIT_CRAD: unknown entity 'CREDIT_CRAD': no recogniser in pii_recognizers.yaml reports "
     "it; did you mean 'CREDIT_CARD'?"),
    # operator parameters, as Presidio's operator classes check them (plus what they let through)
    (_IBAN, _IBAN.replace('masking_char: "*", ', ""), "IBAN_CODE",
     "pii.entities.IBAN_CODE.operator: mask: Expected parameter masking_char"),
    (_IBAN, _IBAN.replace(", from_end: false", ""), "IBAN_CODE",
     "pii.entities.IBAN_CODE.operator: mask: Expected parameter from_end"),
    (_IBAN, _IBAN.replace('"*"', '"**"'), "IBAN_CODE",
     "pii.entities.IBAN_CODE.operator.masking_char: must be one character, got '**'"),
    (_IBAN, _IBAN.replace('"*"', '""'), "IBAN_CODE",
     "pii.entities.IBAN_CODE.operator.masking_char: must be one character, got ''"),
    (_IBAN, _IBAN.replace("chars_to_mask: 12", "chars_to_mask: -1"), "IBAN_CODE",
     "pii.entities.IBAN_CODE.operator.chars_to_mask: must be an integer >= 0, got -1"),
    (_IBAN, _IBAN.replace("chars_to_mask: 12", "chars_to_mask: true"), "IBAN_CODE",
     "pii.entities.IBAN_CODE.operator.chars_to_mask: must be an integer >= 0, got True"),
    (_IBAN, _IBAN.replace("from_end: false", "from_end: 'no'"), "IBAN_CODE",
     "pii.entities.IBAN_CODE.operator: mask: Invalid parameter value for from_end. Expecting 'boolean', "
     "but got 'string'."),
    (_IBAN, _IBAN.replace("masking_char", "mask_char"), "IBAN_CODE",
     "pii.entities.IBAN_CODE.operator.mask_char: unknown parameter of mask; allowed: ['masking_char', "
     "'chars_to_mask', 'from_end']"),
    (*_default_operator("{type: hash, hash_type: md5}"), "default:",
     "pii.default.operator: hash: Parameter hash_type value md5 is not in range of values ['sha256', 'sha512']"),
    (*_default_operator("{type: hash, salt: short}"), "default:",
     "pii.default.operator: hash: Salt must be at least 16 bytes (128 bits). Provided salt is 5 bytes."),
    (*_default_operator("{type: replace, new_value: 5}"), "default:",
     "pii.default.operator: replace: Invalid parameter value for new_value. Expecting 'string', but got "
     "'number'."),
    (*_default_operator("{type: redact, new_value: x}"), "default:",
     "pii.default.operator.new_value: redact takes no parameters"),
    (*_default_operator("{type: keep, masking_char: x}"), "default:",
     "pii.default.operator.masking_char: keep takes no parameters"),
    (*_default_operator("{type: encrypt, key: abcdefghijklmnop}"), "default:",
     "pii.default.operator.type: 'encrypt' is not one of ['replace', 'mask', 'hash', 'redact', 'keep', "
     "'pseudonym']"),
    # the detector configurations the policy names are loaded with it
    ("recognizers: pii_recognizers.yaml", "recognizers: missing.yaml", "recognizers:",
     "pii.recognizers: PII config {dir}/missing.yaml: cannot read: No such file or directory"),
    ("detectors: rights_detectors.yaml", "detectors: missing.yaml", "detectors:",
     "rights.detectors: rights config {dir}/missing.yaml: cannot read: No such file or directory"),
])
def test_bad_policy_variant_is_one_line_naming_file_and_line(tmp_path, old, new, needle, message):
    path = _variant(tmp_path, old, new)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(err.value) == f"{path}:line {_line_of(path, needle)}: {message.format(dir=tmp_path)}"


@pytest.mark.parametrize("operator", [
    "{type: replace}", "{type: replace, new_value: '[redacted]'}", "{type: redact}", "{type: keep}",
    "{type: hash}", "{type: hash, hash_type: sha512, salt: 0123456789abcdef}",
    "{type: mask, masking_char: '#', chars_to_mask: 0, from_end: true}",
])
def test_valid_operators_load(tmp_path, operator):
    policy = load_policy(_variant(tmp_path, *_default_operator(operator)))
    assert policy.operators()["DEFAULT"] == parse_yaml(operator)[0]


@pytest.mark.parametrize("old, new, key, second, first", [
    ("  min_chars: 20", "  min_chars: 20\n  min_chars: 5", "min_chars", "min_chars: 5", "min_chars: 20"),
    # the later KR_RRN would silently win and keep resident registration numbers
    ("    KR_FRN: {action: drop}", "    KR_RRN: {action: keep}\n    KR_FRN: {action: drop}", "KR_RRN",
     "KR_RRN: {action: keep}", "KR_RRN: {action: drop}"),
    ("name: haetae-default", "name: haetae-default\nname: other", "name", "name: other", "name: haetae-default"),
    ("{action: drop}", "{action: drop, action: keep}", "action", "action: keep", "KR_RRN: {action: drop"),
])
def test_duplicate_key_names_both_lines(tmp_path, old, new, key, second, first):
    path = _variant(tmp_path, old, new)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(err.value) == f"{path}:line {_line_of(path, second)}: duplicate key {key!r} (first at line " \
                             f"{_line_of(path, first)})"


def test_duplicate_keys_compare_as_constructed_and_merge_keys_may_be_overridden():
    with pytest.raises(YamlProblem) as err:
        parse_yaml("a:\n  - {x: 1}\n  - x: 1\n    y: 2\n    'x': 3\n")
    assert (err.value.line, err.value.problem) == (5, "duplicate key 'x' (first at line 3)")
    with pytest.raises(YamlProblem, match="duplicate key True"):
        parse_yaml("yes: 1\ntrue: 2\n")
    doc, _ = parse_yaml("base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  x: 3\n")
    assert doc["child"] == {"x": 3, "y": 2}


@pytest.mark.parametrize("content, message", [
    (b"name: test\nversion: 1\n# caf\xe9\n", "line 3: not UTF-8 (byte 0xe9 at offset 27); save the file as UTF-8"),
    (b"", "the file is empty; a policy is a YAML mapping (see policies/data_policy.yaml)"),
    (b"# only a comment\n", "the file is empty; a policy is a YAML mapping (see policies/data_policy.yaml)"),
    (b"- name: test\n", "line 1: a policy must be a YAML mapping, not a list"),
    (b"just words\n", "line 1: a policy must be a YAML mapping, not a str"),
])
def test_unusable_policy_file_is_one_line(tmp_path, content, message):
    path = tmp_path / "policy.yaml"
    path.write_bytes(content)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(err.value) == f"{path}{':' if message.startswith('line') else ': '}{message}"


def test_folder_as_policy_is_one_line(tmp_path):
    with pytest.raises(PolicyError) as err:
        load_policy(tmp_path)
    assert str(err.value) == f"{tmp_path}: is a folder, not a YAML file"


def test_policy_with_a_bom_loads(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + DEFAULT.read_bytes())
    for name in DETECTOR_CONFIGS:
        shutil.copy(DEFAULT.parent / name, tmp_path / name)
    assert load_policy(path).name == "haetae-default"


def test_known_entities_come_from_the_configured_recognisers(tmp_path):
    """Without kr_rrn in the recogniser file a KR_RRN rule can never fire, so it is an error too."""
    path = _variant(tmp_path, "KR_PASSPORT: {action: redact}", "KR_PASSPORT: {action: redact}")
    recognizers = tmp_path / "pii_recognizers.yaml"
    recognizers.write_text(re.sub(r"(?m)^  kr_rrn: .*\n", "", recognizers.read_text(encoding="utf-8")),
                           encoding="utf-8")
    with pytest.raises(PolicyError, match=f"line {_line_of(path, 'KR_RRN')}: pii.entities.KR_RRN: unknown entity"):
        load_policy(path)


def test_bad_recogniser_file_names_the_policy_line_and_its_own(tmp_path):
    path = _variant(tmp_path, "KR_PASSPORT: {action: redact}", "KR_PASSPORT: {action: redact}")
    recognizers = tmp_path / "pii_recognizers.yaml"
    recognizers.write_text(recognizers.read_text(encoding="utf-8").replace("  kr_rrn: ", "  kr_rnn: "),
                           encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(err.value) == (
        f"{path}:line {_line_of(path, 'recognizers:')}: pii.recognizers: {recognizers}:line "
        f"{_line_of(recognizers, 'kr_rnn')}: recognizers.kr_rnn: unknown recogniser; did you mean 'kr_rrn'?")


def test_shipped_policies_load():
    from haetae.taxonomy.audit_step import GENERATED_DATA_POLICY

    assert load_policy(GENERATED_DATA_POLICY).section("pii")["default"] == {"action": "drop"}
    assert load_policy(None).entity_rule("KR_RRN") == {"action": "drop"}


@pytest.mark.parametrize("old, new, needle, message", [
    ("KR_RRN: {action: drop}", "KR_RNN: {action: drop}", "KR_RNN",
     "pii.entities.KR_RNN: unknown entity 'KR_RNN': no recogniser in pii_recognizers.yaml reports it; "
     "did you mean 'KR_RRN'?"),
    (_IBAN, _IBAN.replace('masking_char: "*", ', ""), "IBAN_CODE",
     "pii.entities.IBAN_CODE.operator: mask: Expected parameter masking_char"),
    ("name: haetae-default", "name: haet\xe4-default", "name: haet", "not UTF-8 (byte 0xe4 at offset {offset}); save the "
     "file as UTF-8"),
])
def test_cli_audit_with_a_bad_policy_exits_2_with_one_line_and_touches_no_output(tmp_path, old, new, needle, message):
    path = _variant(tmp_path, old, new)
    path.write_bytes(path.read_bytes().replace("\xe4".encode(), b"\xe4"))  # a Latin-1 \xe4 in a UTF-8 file
    offset = path.read_bytes().find(b"\xe4")
    out = tmp_path / "out"
    out.mkdir()
    (out / "aggregates.json").write_text("{}", encoding="utf-8")  # an earlier audit's output
    (out / "kept").mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "haetae.cli", "audit", str(ROOT / "pipelines" / "data" / "sample_corpus.jsonl"),
         "--out", str(out), "--policy", str(path)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    line = next(i for i, raw in enumerate(path.read_bytes().split(b"\n"), 1) if needle.encode() in raw)
    assert proc.stderr.splitlines() == [f"haetae audit: error: {path}:line {line}: {message.format(offset=offset)}"]
    assert sorted(p.name for p in out.iterdir()) == ["aggregates.json", "kept"]
    assert (out / "aggregates.json").read_text(encoding="utf-8") == "{}"


# ------------------------------------------------------------------------------------------- the rule list

_FIRES = [  # (rule, record fields, duplicate info): a record that this rule, and no rule before it, decides
    ("languages.allow", {"lang": "en"}, None),
    ("limits.min_chars", {"text": "짧다"}, None),
    ("quality.max_symbol_ratio", {"quality": {"symbol_ratio": 0.9, "repeated_line_ratio": 0.0}}, None),
    ("quality.max_repeated_line_ratio", {"quality": {"symbol_ratio": 0.0, "repeated_line_ratio": 0.9}}, None),
    ("rights.registry", {"registry_fraction": 0.9}, None),
    ("rights.licences.deny", {"licences": ["CC-BY-NC-4.0"]}, None),
    ("rights.licences.unknown", {"licence": "GPL-2.0-only"}, None),
    ("rights.copyright.notice_without_allowed_licence", {"copyright_signals": ["copyright_symbol"]}, None),
    ("pii.entities", {"pii_counts": {"KR_RRN": 1, "EMAIL_ADDRESS": 1}}, None),
    ("pii.max_redactions", {"pii_counts": {"EMAIL_ADDRESS": 51}}, None),
    ("dedup.exact", {"pii_counts": {"EMAIL_ADDRESS": 1}}, {"kind": "exact", "cluster": "b"}),
    ("dedup.near", {}, {"kind": "near", "cluster": "b"}),
    ("pii.redact", {"pii_counts": {"EMAIL_ADDRESS": 1}}, {"kind": "representative"}),
    ("default.keep", {}, None),
]


def test_the_rule_list_is_the_precedence_and_names_the_ledger_rule(tmp_path):
    """Every rule fires for its record and no earlier one does; the verdict's rule is the Rule's name
    (``pii.entities`` as ``pii.entities.<TYPE>``); pre-dedup rules come before the final ones."""
    policy = load_policy(_variant(tmp_path, "allow: []", "allow: [ko]"))
    policy.doc["rights"]["licences"]["unknown"] = "drop"
    assert [name for name, _, _ in _FIRES] == [r.name for r in RULES]
    assert [r.phase for r in RULES] == sorted((r.phase for r in RULES), key=[PRE_DEDUP, FINAL].index)
    for rule, (name, fields, dup) in zip(RULES, _FIRES, strict=True):
        rec = _record(**fields)
        verdict = first_verdict(RULES, policy, rec, dup)
        assert verdict == rule.applies(rec, policy, dup) and verdict.rule.split(".KR_")[0] == name, name
        if rule.phase == PRE_DEDUP:
            assert pre_dedup_verdict(policy, rec) == verdict
        else:
            assert pre_dedup_verdict(policy, rec) is None and final_verdict(policy, rec, dup) == verdict
    assert first_verdict(rules_named("pii.entities"), policy, _record(pii_counts={"KR_RRN": 2})).reasons == \
        ("2 x KR_RRN",)
