"""Pseudonyms end to end: ``haetae pii redact`` as a subprocess, and the audit with a pseudonym policy on a
Korean and English corpus, Beam (in-memory DirectRunner) and the local runner giving the same outputs."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
from pathlib import Path

import pytest

from haetae.pipelines.audit.job import run_audit
from haetae.pipelines.io.beam_io import read_jsonl_dir
from haetae.pipelines.pii.pseudonyms import PiiKeyError
from tests.pipelines.runners.test_local_audit import outputs

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_POLICY = ROOT / "policies" / "data_policy.yaml"
KEY = "7e1f0c2b9a84d3e65f10a2c4b8d7e9f1"
IN_MEMORY = ["--direct_running_mode=in_memory"]

KO_TEXT = "담당자 김민수 연락처 010-2345-6789. 김민수 과장에게 minsu.kim@example.kr 로 문의하세요. 담당자 이영희 과장도 있습니다."
EN_TEXT = "Contact jane.doe@example.com or call +82 10 2345 6789 about the dataset request this week."
KO_TEXT_2 = "담당자 이영희 연락처 010 2345 6789 입니다. 회의록은 매주 금요일에 공유됩니다."
DOCS = [
    {"id": "ko-1", "text": KO_TEXT,
     "author": {"name": "담당자 이영희", "email": "Minsu.Kim@Example.KR", "phones": ["+82 10 2345 6789"]}},
    {"id": "en-1", "text": EN_TEXT, "reviewer": "jane.doe@example.com"},
    {"id": "ko-2", "text": KO_TEXT_2},
    {"id": "clean", "text": "대한민국은 민주공화국이다. 모든 권력은 국민으로부터 나온다."},
]
LINES = [json.dumps(d, ensure_ascii=False) for d in DOCS] + ['{"id": "broken", "text": "담당자 김민수', '{"id": "x"}']
RAW = ("김민수", "이영희", "010-2345-6789", "2345 6789", "minsu.kim", "Minsu.Kim", "jane.doe", KEY)


def phone_pseudonym(key: str = KEY) -> str:
    """The keyed pseudonym of 010-2345-6789 (in any of its spellings), from its definition."""
    digits = hmac.new(key.encode(), b"PHONE_NUMBER|01023456789", hashlib.sha256).hexdigest()[:12]
    return "<PHONE_NUMBER_" + "".join("abcdefghijklmnop"[int(c, 16)] for c in digits) + ">"


def pseudonym_policy(tmp_path: Path, key_section: str = "") -> Path:
    """The default policy with numbered pseudonyms for every redacted entity and keyed ones for phones."""
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    for old, new in (
        ("default: {action: redact}", "default: {action: redact, operator: {type: pseudonym}}"),
        ("PHONE_NUMBER: {action: redact}",
         "PHONE_NUMBER: {action: redact, operator: {type: pseudonym, keyed: true}}"),
        ("recognizers: pii_recognizers.yaml", f"recognizers: {ROOT / 'policies' / 'pii_recognizers.yaml'}"),
        ("detectors: rights_detectors.yaml", f"detectors: {ROOT / 'policies' / 'rights_detectors.yaml'}"),
        ("max_quarantine_rate: 0.3", "max_quarantine_rate: 1.0"),
        ("  max_redactions: 50", "  max_redactions: 50" + key_section),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "pseudonyms.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pseudonyms")
    (root / "docs.jsonl").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return root


def haetae(*args: str, env_key: str | None = None) -> subprocess.CompletedProcess:
    import os

    env = {k: v for k, v in os.environ.items() if k != "HAETAE_PII_KEY"}
    if env_key:
        env["HAETAE_PII_KEY"] = env_key
    return subprocess.run([sys.executable, "-m", "haetae.cli", *args], capture_output=True, text=True, timeout=300,
                          env=env)


def test_pii_redact_command(corpus, tmp_path):
    policy = pseudonym_policy(tmp_path)
    key_file = tmp_path / "pii.key"
    key_file.write_text(KEY + "\n", encoding="utf-8")
    out = tmp_path / "out" / "redacted.jsonl"
    args = ("pii", "redact", str(corpus / "docs.jsonl"), "--out", str(out), "--policy", str(policy), *IN_MEMORY)

    missing = haetae(*args)  # keyed phones and no key: nothing starts
    assert missing.returncode == 2 and not out.parent.exists()
    assert missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.startswith(f"haetae pii redact: error: {policy}: the operator of pii.entities.PHONE_NUMBER "
                                     "is keyed but there is no key: set $HAETAE_PII_KEY, name a key file in "
                                     "pii.key.file of the policy or pass --key-file; make one with")

    done = haetae(*args, "--key-file", str(key_file))
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    phone = phone_pseudonym()
    assert [r["id"] for r in rows] == ["clean", "en-1", "ko-1", "ko-2"]  # sorted by id
    by_id = {r["id"]: r for r in rows}
    assert by_id["ko-1"]["text"] == (f"담당자 <PERSON_1> 연락처 {phone}. <PERSON_1> 과장에게 <EMAIL_ADDRESS_1> 로 "
                                     "문의하세요. 담당자 <PERSON_2> 과장도 있습니다.")
    assert by_id["ko-1"]["counts"] == {"EMAIL_ADDRESS": 1, "PERSON": 3, "PHONE_NUMBER": 1}
    assert by_id["ko-2"]["text"] == f"담당자 <PERSON_1> 연락처 {phone} 입니다. 회의록은 매주 금요일에 공유됩니다."
    assert by_id["en-1"]["text"] == f"Contact <EMAIL_ADDRESS_1> or call {phone} about the dataset request this week."
    assert by_id["clean"] == {"id": "clean", "text": DOCS[3]["text"], "entities": [], "counts": {}}
    for row in rows:  # each entity's offsets point at its replacement in the redacted text
        for item in row["entities"]:
            assert row["text"][item["start"]:item["end"]].startswith(f"<{item['type']}_")
    quarantine = [json.loads(line) for line in (out.parent / "redacted.quarantine.jsonl").read_text().splitlines()]
    assert [(q["line"], q["reason"]) for q in quarantine] == [(5, "malformed_json"), (6, "missing_text")]
    manifest = json.loads((out.parent / "redacted.jsonl._SUCCESS").read_text(encoding="utf-8"))
    assert manifest["config"]["pii_key"] == {"source": str(key_file),
                                             "fingerprint": hashlib.sha256(KEY.encode()).hexdigest()[:8]}
    assert KEY not in (out.parent / "redacted.jsonl._SUCCESS").read_text() + done.stderr + out.read_text()
    assert not any(raw in done.stderr for raw in RAW)
    assert "4 records redacted, 3 with PII" in done.stderr and "2 input lines quarantined" in done.stderr

    first = out.read_bytes()
    again = haetae(*args, env_key=KEY)  # the key from $HAETAE_PII_KEY: the same pseudonyms, byte for byte
    assert again.returncode == 0 and out.read_bytes() == first
    other = haetae(*args, env_key="another key of 32 characters....")
    assert other.returncode == 0 and phone not in out.read_text() and phone_pseudonym("another key of 32 characters....") \
        in out.read_text()


def test_audit_pseudonyms_across_fields_and_runners(corpus, tmp_path, monkeypatch):
    policy = pseudonym_policy(tmp_path, "\n  key: {env: TEST_AUDIT_PII_KEY}")
    monkeypatch.delenv("TEST_AUDIT_PII_KEY", raising=False)
    with pytest.raises(PiiKeyError, match="pii.entities.PHONE_NUMBER is keyed but there is no key: set "
                                          r"\$TEST_AUDIT_PII_KEY, name a key file in pii.key.file of the policy; "):
        run_audit([str(corpus / "docs.jsonl")], str(tmp_path / "none"), policy_path=str(policy), progress=False)
    assert not (tmp_path / "none").exists()

    monkeypatch.setenv("TEST_AUDIT_PII_KEY", KEY)
    kwargs = {"policy_path": str(policy), "progress": False, "report": False}
    beam = run_audit([str(corpus / "docs.jsonl")], str(tmp_path / "beam"), runner="DirectRunner",
                     beam_args=IN_MEMORY, **kwargs)
    local = run_audit([str(corpus / "docs.jsonl")], str(tmp_path / "local"), workers=2, **kwargs)
    assert local.memory["workers"] == 1  # one byte range, one forked worker: the key reaches it
    assert outputs(tmp_path / "local") == outputs(tmp_path / "beam") and local.counts == beam.counts

    kept = {r["id"]: r for r in read_jsonl_dir(str(tmp_path / "local" / "kept"))}
    phone = phone_pseudonym()
    # one numbering per document, over its text and then its other fields, with the keyed phone everywhere
    assert kept["ko-1"]["text"] == (f"담당자 <PERSON_1> 연락처 {phone}. <PERSON_1> 과장에게 <EMAIL_ADDRESS_1> 로 "
                                    "문의하세요. 담당자 <PERSON_2> 과장도 있습니다.")
    assert kept["ko-1"]["author"] == {"name": "담당자 <PERSON_2>", "email": "<EMAIL_ADDRESS_1>", "phones": [phone]}
    assert kept["en-1"]["text"].startswith(f"Contact <EMAIL_ADDRESS_1> or call {phone} about")
    assert kept["en-1"]["reviewer"] == "<EMAIL_ADDRESS_1>"
    assert kept["ko-2"]["text"].startswith(f"담당자 <PERSON_1> 연락처 {phone} 입니다.")
    ledger = {r["id"]: r for r in outputs(tmp_path / "local")["ledger"]}
    assert ledger["ko-1"]["redactions"] == 8 and ledger["ko-1"]["residual_pii"] == 0
    assert sum(r["residual_pii"] for r in ledger.values()) == 0  # pseudonyms are not found again by the re-scan
    for run in ("beam", "local"):
        manifest = json.loads((tmp_path / run / "_SUCCESS").read_text(encoding="utf-8"))
        assert manifest["config"]["pii_key"] == {"source": "$TEST_AUDIT_PII_KEY",
                                                 "fingerprint": hashlib.sha256(KEY.encode()).hexdigest()[:8]}
    published = "".join(p.read_text(encoding="utf-8", errors="replace") for p in (tmp_path / "local").rglob("*")
                        if p.is_file() and p.suffix != ".parquet" and "quarantine" not in p.parts)
    assert KEY not in published and "010-2345-6789" not in published and "minsu.kim@" not in published
