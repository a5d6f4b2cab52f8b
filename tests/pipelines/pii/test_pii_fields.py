"""PII outside the text field (other fields, nested strings, ids) and the quarantine at rest, end to end
with real Beam (in-memory DirectRunner), Presidio and Great Expectations."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from haetae.errors import UsageError
from haetae.pipelines.audit.job import run_audit
from haetae.pipelines.io import records as R
from haetae.pipelines.io.beam_io import read_jsonl_dir

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_POLICY = ROOT / "policies" / "data_policy.yaml"
IN_MEMORY = ["--direct_running_mode=in_memory"]

AUTHOR_EMAIL = "minsu.kim9654@example.kr"
AUTHOR_PHONE = "010-2345-6789"
NESTED_RRN = "900101-1234568"
ID_EMAIL = "jiyoung.park@example.com"
QUARANTINED_ID_EMAIL = "seojun.lee@example.com"
CARD = "4111 1111 1111 1111"
TEXT = "The committee reviews the audit report before every model release and records its decision."
RAW_SECRETS = (AUTHOR_EMAIL, AUTHOR_PHONE, NESTED_RRN, ID_EMAIL, QUARANTINED_ID_EMAIL, CARD)

DOCS = [
    {"id": "author-contact", "text": TEXT,
     "author": {"name": "Kim", "email": AUTHOR_EMAIL, "phones": [AUTHOR_PHONE]}, "source": "interviews"},
    {"id": "nested-rrn", "text": "The clerk files the minutes of each meeting in the archive on the same day.",
     "meta": {"contacts": [{"role": "clerk", "note": f"주민등록번호 {NESTED_RRN}"}]}},
    {"id": ID_EMAIL, "text": "A plain paragraph about the weather in Seoul, which was mild and clear all week."},
    {"id": "clean", "text": "Another plain paragraph, this one about trains that leave the station on time.",
     "source": "web", "published": "2024-03-01"},
]
LINES = [json.dumps(d, ensure_ascii=False) for d in DOCS] + [
    json.dumps({"id": ID_EMAIL, "text": "A second record that reuses the e-mail id of an earlier one."}),
    json.dumps({"id": QUARANTINED_ID_EMAIL, "text": None}),
    f'{{"id": "broken", "text": "주민등록번호 {NESTED_RRN} 카드 {CARD}',  # malformed JSON: scanned as text
]


def ledger(out: Path) -> list[dict]:
    return pq.read_table(sorted((out / "ledger").glob("*.parquet"))).to_pylist()


def policy_with(tmp_path: Path, name: str, *replacements: tuple[str, str]) -> Path:
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    text = text.replace("recognizers: pii_recognizers.yaml", f"recognizers: {ROOT / 'policies' / 'pii_recognizers.yaml'}")
    text = text.replace("detectors: rights_detectors.yaml", f"detectors: {ROOT / 'policies' / 'rights_detectors.yaml'}")
    text = text.replace("max_quarantine_rate: 0.3", "max_quarantine_rate: 1.0")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def audit(tmp_path: Path, name: str, policy: Path, **kwargs):
    out = tmp_path / name
    summary = run_audit([str(tmp_path / "docs.jsonl")], str(out), policy_path=str(policy), beam_args=IN_MEMORY,
                        progress=False, **kwargs)
    return out, summary


def all_output_text(out: Path) -> str:
    parts = []
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.suffix != ".parquet":
            parts.append(path.read_text(encoding="utf-8"))
    parts.append(json.dumps(ledger(out), ensure_ascii=False, default=str))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("pii-fields")
    (root / "docs.jsonl").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def default_run(corpus):
    return audit(corpus, "default", policy_with(corpus, "default.yaml"))


def test_author_email_and_phone_in_another_field_are_redacted_in_kept(default_run):
    out, summary = default_run
    kept = {r["id"]: r for r in read_jsonl_dir(str(out / "kept"))}
    author = kept["author-contact"]["author"]
    phone_type = "PHONE_NUMBER"  # English text: the international recogniser wins over the Korean one
    assert author == {"name": "Kim", "email": "<EMAIL_ADDRESS>", "phones": [f"<{phone_type}>"]}
    assert kept["author-contact"]["text"] == TEXT and kept["author-contact"]["source"] == "interviews"
    row = next(r for r in ledger(out) if r["id"] == "author-contact")
    assert row["decision"] == R.REDACT and row["redactions"] == 2 and row["residual_pii"] == 0
    assert {c["type"]: c["count"] for c in row["pii_counts"]} == {"EMAIL_ADDRESS": 1, phone_type: 1}
    assert row["pii_fields"] == ["author.email", "author.phones[0]"]
    clean = next(r for r in ledger(out) if r["id"] == "clean")
    assert clean["decision"] == R.KEEP and clean["pii_fields"] == []
    assert kept["clean"]["published"] == "2024-03-01"  # a keep-class entity (DATE_TIME) is left as it is
    assert summary.ok, summary.validation["failed"]


def test_rrn_in_a_nested_field_drops_the_document(default_run):
    out, _ = default_run
    row = next(r for r in ledger(out) if r["id"] == "nested-rrn")
    assert row["decision"] == R.DROP and row["rule"] == "pii.entities.KR_RRN"
    assert row["pii_fields"] == ["meta.contacts[0].note"]
    assert "nested-rrn" not in {r["id"] for r in read_jsonl_dir(str(out / "kept"))}


def test_an_id_holding_pii_is_hashed_everywhere_and_stable_within_the_run(default_run):
    out, summary = default_run
    rows = ledger(out)
    hashed = {r["id"] for r in rows if str(r["id"]).startswith("pii-hmac:")}
    # the kept record, its duplicate-id quarantine row (the same hash) and the null-text row's id
    assert len(hashed) == 2
    by_reason = {r["rule"]: r for r in rows}
    duplicate = by_reason[f"input.{R.DUPLICATE_ID}"]
    kept_row = next(r for r in rows if r["decision"] == R.KEEP and r["id"] == duplicate["id"])
    assert kept_row["pii_fields"] == ["id"] and len(kept_row["id"]) == len("pii-hmac:") + 32
    assert by_reason[f"input.{R.NULL_TEXT}"]["id"] in hashed
    kept_ids = {r["id"] for r in read_jsonl_dir(str(out / "kept"))}
    assert kept_row["id"] in kept_ids and ID_EMAIL not in kept_ids
    quarantine = read_jsonl_dir(str(out / "quarantine"))
    assert {q["id"] for q in quarantine if q["id"] and q["id"].startswith("pii-hmac:")} == hashed
    for name in ("aggregates.json", "report.html", "validation.json"):
        content = (out / name).read_text(encoding="utf-8")
        for secret in RAW_SECRETS:
            assert secret not in content, (name, secret)
    assert ID_EMAIL not in json.dumps(rows, default=str)
    # every quarantine row holds PII in its raw line: the RRN and card of the malformed line, the e-mail ids
    assert summary.aggregates["quarantine_with_pii"] == 3


def test_quarantine_is_private_on_disk(default_run):
    out, _ = default_run
    assert stat.S_IMODE((out / "quarantine").stat().st_mode) == 0o700
    files = [p for p in (out / "quarantine").rglob("*") if p.is_file()]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    rows = read_jsonl_dir(str(out / "quarantine"))
    malformed = next(q for q in rows if q["reason"] == R.MALFORMED_JSON)
    assert NESTED_RRN in malformed["raw"] and malformed["raw_at_rest"] == "keep"  # documented: held raw


def test_scan_text_only_restores_the_old_behaviour(corpus):
    policy = policy_with(corpus, "text-only.yaml", ("scan: all_strings", "scan: [text]"), ("ids: hash", "ids: keep"))
    out, summary = audit(corpus, "text-only", policy)
    kept = {r["id"]: r for r in read_jsonl_dir(str(out / "kept"))}
    assert kept["author-contact"]["author"]["email"] == AUTHOR_EMAIL
    assert "nested-rrn" in kept and ID_EMAIL in kept
    rows = {r["id"]: r for r in ledger(out) if r["decision"] != R.QUARANTINE}
    assert rows["author-contact"]["decision"] == R.KEEP and rows["author-contact"]["pii_counts"] == []


def test_quarantine_raw_redact_leaves_no_planted_rrn_or_card(corpus):
    policy = policy_with(corpus, "redact.yaml", ("raw: keep", "raw: redact"))
    out, summary = audit(corpus, "redact", policy)
    rows = read_jsonl_dir(str(out / "quarantine"))
    assert len(rows) == summary.counts["quarantine"] == 3
    stored = all_output_text(out)
    for secret in RAW_SECRETS:
        assert secret not in stored, secret
    malformed = next(q for q in rows if q["reason"] == R.MALFORMED_JSON)
    assert "<KR_RRN>" in malformed["raw"] and "<CREDIT_CARD>" in malformed["raw"]
    assert malformed["raw_at_rest"] == "redacted"
    # the ledger still describes the input as read (hash and size of the raw line, not the stored copy)
    row = next(r for r in ledger(out) if r["rule"] == f"input.{R.MALFORMED_JSON}")
    assert row["bytes"] == len(LINES[-1].encode("utf-8")) and row["pii_fields"] == ["raw"]


def test_quarantine_raw_encrypt_round_trips_with_the_key_and_fails_clearly_without(corpus, monkeypatch):
    from cryptography.fernet import Fernet

    from haetae.pipelines.audit.quarantine import KEY_ENV, read_quarantine

    policy = policy_with(corpus, "encrypt.yaml", ("raw: keep", "raw: encrypt"))
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(UsageError, match=KEY_ENV):
        audit(corpus, "encrypt-no-key", policy)
    key = Fernet.generate_key().decode()
    monkeypatch.setenv(KEY_ENV, key)
    out, summary = audit(corpus, "encrypt", policy)
    stored = read_jsonl_dir(str(out / "quarantine"))
    assert all(q["raw_at_rest"] == "fernet" for q in stored)
    assert NESTED_RRN not in all_output_text(out)
    decrypted = {q["reason"]: q for q in read_quarantine(str(out / "quarantine"))}
    assert decrypted[R.MALFORMED_JSON]["raw"] == LINES[-1]
    assert decrypted[R.MALFORMED_JSON]["raw_at_rest"] == "keep"

    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(UsageError, match=KEY_ENV):
        list(read_quarantine(str(out / "quarantine")))
    env = {**os.environ, KEY_ENV: Fernet.generate_key().decode()}
    proc = subprocess.run([sys.executable, "-m", "haetae.cli", "quarantine", "decrypt", str(out / "quarantine")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2 and "wrong key" in proc.stderr and "Traceback" not in proc.stderr
    env[KEY_ENV] = key
    proc = subprocess.run([sys.executable, "-m", "haetae.cli", "quarantine", "decrypt", str(out / "quarantine")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert LINES[-1] in [json.loads(line)["raw"] for line in proc.stdout.splitlines()]


def test_id_hash_key_from_the_environment_links_runs_and_never_reaches_outputs(corpus, monkeypatch):
    from haetae.pipelines.pii.fields import ID_HASH_KEY_ENV

    key = "a-test-key-that-only-this-test-knows-0123456789"
    monkeypatch.setenv(ID_HASH_KEY_ENV, key)
    policy = policy_with(corpus, "keyed.yaml")
    first, _ = audit(corpus, "keyed-1", policy, report=False)
    second, _ = audit(corpus, "keyed-2", policy, report=False)
    ids = [sorted(str(r["id"]) for r in ledger(out)) for out in (first, second)]
    assert ids[0] == ids[1] and any(i.startswith("pii-hmac:") for i in ids[0])
    assert key not in all_output_text(first)


def test_keep_mode_warns_at_job_end_when_the_quarantine_holds_pii(corpus):
    policy = policy_with(corpus, "cli.yaml")
    proc = subprocess.run(
        [sys.executable, "-m", "haetae.cli", "audit", str(corpus / "docs.jsonl"), "--out", str(corpus / "cli"),
         "--policy", str(policy), *IN_MEMORY], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("haetae audit: warning")]
    assert len(warnings) == 1 and "3 quarantine rows" in warnings[0] and "quarantine.raw" in warnings[0]
    for secret in RAW_SECRETS:
        assert secret not in proc.stderr + proc.stdout


# ------------------------------------------------------------------------------------- small pieces, no Beam


@pytest.mark.parametrize("fields, names, expected", [
    ({"a": "x", "b": {"c": ["y", {"d": "z"}], "n": 3}}, None, [("a", "x"), ("b.c[0]", "y"), ("b.c[1].d", "z")]),
    ({"a": "x", "b": {"c": "y"}}, frozenset({"b"}), [("b.c", "y")]),
    ({"a": None, "b": [1, True, 2.5]}, None, []),
])
def test_string_leaves_walk_nested_fields_in_order(fields, names, expected):
    from haetae.pipelines.pii.fields import FieldSelection, field_label

    assert [(field_label(p), v) for p, v in FieldSelection(names).string_leaves(fields)] == expected


def test_string_leaves_of_deeply_nested_fields_do_not_overflow_the_stack():
    from haetae.pipelines.pii.fields import FieldSelection, leaf, with_leaves_replaced

    deep: dict = {"v": "bottom"}
    for _ in range(5000):
        deep = {"n": [deep]}
    [(path, value)] = list(FieldSelection().string_leaves({"f": deep}))
    assert value == "bottom" and len(path) == 10002
    replaced = with_leaves_replaced({"f": deep}, {path: "<X>"})
    assert leaf(replaced, path) == "<X>" and leaf({"f": deep}, path) == "bottom"  # the input is not changed


@pytest.mark.parametrize("old, new, message", [
    ("scan: all_strings", "scan: everything", "pii.fields.scan"),
    ("ids: hash", "ids: hashed", "pii.fields.ids"),
    ("raw: keep", "raw: encrypted", "quarantine.raw"),
])
def test_policy_rejects_bad_field_and_quarantine_options_naming_the_line(tmp_path, old, new, message):
    from haetae.pipelines.policy.schema import PolicyError, load_policy

    path = policy_with(tmp_path, "bad.yaml", (old, new))
    line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if new in text)
    with pytest.raises(PolicyError, match=rf"line {line}: {message}"):
        load_policy(path)


def test_keys_come_from_key_files_and_never_show_in_reprs(tmp_path, monkeypatch):
    import pickle

    from cryptography.fernet import Fernet

    from haetae.pipelines.audit.job import audit_secrets
    from haetae.pipelines.audit.quarantine import KEY_ENV
    from haetae.pipelines.pii.fields import ID_HASH_KEY_ENV
    from haetae.pipelines.policy.schema import load_policy

    monkeypatch.delenv(ID_HASH_KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_ENV, raising=False)
    fernet_key = Fernet.generate_key()
    (tmp_path / "q.key").write_bytes(fernet_key + b"\n")
    (tmp_path / "id.key").write_text("id-key-from-a-file-0123456789\n")
    policy = load_policy(policy_with(tmp_path, "keys.yaml", ("raw: keep", "raw: encrypt\n  key_file: q.key"), (
        "# id_hash_key_file: id_hash.key", "id_hash_key_file: id.key")))
    secrets = audit_secrets(policy)
    shown = repr(secrets) + repr(pickle.loads(pickle.dumps(secrets)))
    assert "id-key-from-a-file" not in shown and fernet_key.decode() not in shown
    assert secrets.id_hasher.digest("a@b.kr") == audit_secrets(policy).id_hasher.digest("a@b.kr")
    token = secrets.quarantine_cipher.encrypt("raw line")
    assert pickle.loads(pickle.dumps(secrets.quarantine_cipher)).decrypt(token, "here") == "raw line"
    (tmp_path / "id.key").write_text("")
    with pytest.raises(UsageError, match="id.key: pii.fields.id_hash_key_file is empty"):
        audit_secrets(policy)
    (tmp_path / "id.key").unlink()
    with pytest.raises(UsageError, match="id.key: cannot read"):
        audit_secrets(policy)
    monkeypatch.setenv(KEY_ENV, "not-a-fernet-key")
    with pytest.raises(UsageError, match=f"{KEY_ENV}: not a Fernet key"):
        audit_secrets(policy)


def test_random_id_keys_differ_between_runs(monkeypatch):
    from haetae.pipelines.pii.fields import ID_HASH_KEY_ENV, id_hasher
    from haetae.pipelines.policy.schema import load_policy

    monkeypatch.delenv(ID_HASH_KEY_ENV, raising=False)
    policy = load_policy(None)
    assert id_hasher(policy).digest("a@b.kr") != id_hasher(policy).digest("a@b.kr")
