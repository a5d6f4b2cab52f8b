"""Policy schema validation (errors name the line) and the decision rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from haetae.pipelines import records as R
from haetae.pipelines.policy import PolicyError, final_verdict, load_policy, pre_dedup_verdict

DEFAULT = Path(__file__).resolve().parents[2] / "policies" / "data_policy.yaml"


def _record(**extra):
    rec = {"id": "a", "text": "대한민국은 민주공화국이다. 모든 권력은 국민으로부터 나온다.", "lang": "ko",
           "quality": {"symbol_ratio": 0.02, "repeated_line_ratio": 0.0}, "pii_counts": {}, "licences": [],
           "copyright_signals": []}
    rec.update(extra)
    return rec


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "policy.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
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


def test_final_verdict_duplicates_then_redaction():
    policy = load_policy(None)
    near = final_verdict(policy, _record(), {"kind": "near", "cluster": "b", "cluster_size": 2})
    assert (near.decision, near.rule) == (R.DROP, "dedup.near")
    rep = final_verdict(policy, _record(pii_counts={"EMAIL_ADDRESS": 1, "URL": 3}), {"kind": "representative"})
    assert (rep.decision, rep.rule) == (R.REDACT, "pii.redact") and rep.reasons == ("1 x EMAIL_ADDRESS",)
    keep = final_verdict(policy, _record(pii_counts={"URL": 1}), None)
    assert (keep.decision, keep.rule) == (R.KEEP, "default.keep")
