"""Pseudonyms and keyed hashes as presidio-anonymizer operators: numbering, keyed forms computed by hand,
normalisation, overlaps, per-entity choice and the key's sources (real Presidio, real recognisers)."""

from __future__ import annotations

import hashlib
import hmac
import shutil
from pathlib import Path

import pytest

from haetae.pipelines.pii.pseudonyms import PiiKey, PiiKeyError, Pseudonymizer, load_key, normalise
from haetae.pipelines.pii.scanner import (
    PiiConfigError,
    PiiScanner,
    PiiSpan,
    operator_problem,
    redact,
    redact_items,
)
from haetae.pipelines.policy.schema import PolicyError, load_policy

DEFAULT_POLICY = Path(__file__).resolve().parents[3] / "policies" / "data_policy.yaml"
KEY = b"test key 0123456789abcdef"


def hand_hmac(key: bytes, entity: str, normalised: str, digits: int | None = 12, algo: str = "sha256") -> str:
    """The keyed pseudonym's letters from its definition: HMAC(key, TYPE|normalised value), hex digits 0-f
    written a-p (the full hex digest, for a keyed hash, with ``digits`` None)."""
    mac = hmac.new(key, f"{entity}|{normalised}".encode(), algo).hexdigest()
    return mac if digits is None else "".join("abcdefghijklmnop"[int(c, 16)] for c in mac[:digits])


def spans_of(text: str, *items: tuple[str, str]) -> list[PiiSpan]:
    """Spans at the first occurrence of each (value, type) after the previous one."""
    spans, at = [], 0
    for value, entity in items:
        start = text.index(value, at)
        spans.append(PiiSpan(start, start + len(value), entity, 0.9))
        at = start + len(value)
    return spans


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return PiiScanner.from_config()


# ------------------------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize("entity, a, b", [
    ("EMAIL_ADDRESS", "Hong@Ex.KR", " hong@ex.kr"),
    ("EMAIL_ADDRESS", "ｈｏｎｇ＠ｅｘ．ｋｒ", "hong@ex.kr"),  # full-width forms (NFKC)
    ("PHONE_NUMBER", "010-1234-5678", "010 1234 5678"),
    ("PHONE_NUMBER", "+82 10-1234-5678", "01012345678"),  # the Korean country code for the leading 0
    ("PHONE_NUMBER", "+82 (0)10 1234 5678", "010.1234.5678"),
    ("KR_RRN", "900101-1234568", "900101 1234568"),
    ("CREDIT_CARD", "4111 1111 1111 1111", "4111-1111-1111-1111"),
    ("KR_PASSPORT", "m1234567 8", "M12345678"),
    ("PERSON", "John  Smith", "john smith"),
])
def test_normalise_makes_two_spellings_one_value(entity, a, b):
    assert normalise(entity, a) == normalise(entity, b)


@pytest.mark.parametrize("entity, a, b", [
    ("PHONE_NUMBER", "010-1234-5678", "010-1234-5679"),
    ("KR_DRIVER_LICENSE", "서울 12-345678-90", "부산 12-345678-90"),  # the region name is part of the number
    ("CRYPTO", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "1boatslrhtknngkdxeeobr76b53lettpyt"),  # base58: case counts
    ("PERSON", "김민수", "김민호"),
])
def test_normalise_keeps_different_values_apart(entity, a, b):
    assert normalise(entity, a) != normalise(entity, b)


# ------------------------------------------------------------------------------------------- numbered


TEXT = "김민수(hong@ex.kr)와 이영희, 그리고 김민수. HONG@EX.KR 로 회신"
SPANS = spans_of(TEXT, ("김민수", "PERSON"), ("hong@ex.kr", "EMAIL_ADDRESS"), ("이영희", "PERSON"),
                 ("김민수", "PERSON"), ("HONG@EX.KR", "EMAIL_ADDRESS"))
PSEUDONYMS = {"DEFAULT": {"type": "pseudonym"}}


def test_numbered_in_order_of_first_appearance_same_value_same_number():
    # Presidio replaces from the end of the text: the numbers still follow the text's order
    assert redact(TEXT, SPANS, PSEUDONYMS) == (
        "<PERSON_1>(<EMAIL_ADDRESS_1>)와 <PERSON_2>, 그리고 <PERSON_1>. <EMAIL_ADDRESS_1> 로 회신")
    reordered = "이영희와 김민수"
    assert redact(reordered, spans_of(reordered, ("이영희", "PERSON"), ("김민수", "PERSON")), PSEUDONYMS) == (
        "<PERSON_1>와 <PERSON_2>")


def test_numbering_restarts_per_document_and_continues_across_its_fields():
    other = "이영희 과장"
    other_spans = spans_of(other, ("이영희", "PERSON"))
    assert redact(other, other_spans, PSEUDONYMS) == "<PERSON_1> 과장"  # a new document: its own numbering
    document = Pseudonymizer()
    redact(TEXT, SPANS, PSEUDONYMS, document)
    field = "보낸 사람 박지훈, 참조 이영희"
    field_spans = spans_of(field, ("박지훈", "PERSON"), ("이영희", "PERSON"))
    assert redact(field, field_spans, PSEUDONYMS, document) == "보낸 사람 <PERSON_3>, 참조 <PERSON_2>"


def test_neighbours_of_one_type_stay_two_pseudonyms_and_overlaps_resolve_first():
    text = "김민수 이영희"  # Presidio would merge the two names into one entity
    assert redact(text, spans_of(text, ("김민수", "PERSON"), ("이영희", "PERSON")), PSEUDONYMS) == (
        "<PERSON_1> <PERSON_2>")
    text = "mail kim.minsu@ex.kr now"
    start = text.index("kim")
    overlapping = [PiiSpan(start, start + 15, "EMAIL_ADDRESS", 1.0), PiiSpan(start, start + 9, "PERSON", 0.5),
                   PiiSpan(start + 4, start + 9, "PERSON", 0.4)]
    out, items = redact_items(text, overlapping, PSEUDONYMS)
    assert out == "mail <EMAIL_ADDRESS_1> now"  # the higher score wins; no PERSON number is spent
    assert items == [{"type": "EMAIL_ADDRESS", "start": 5, "end": 22}]
    assert out[items[0]["start"]:items[0]["end"]] == "<EMAIL_ADDRESS_1>"


def test_real_scan_korean_and_english(scanner):
    text = "담당자 김민수 연락처 010-2345-6789. 김민수 과장에게 minsu.kim@example.kr 로, 또는 +82 10 2345 6789"
    spans = scanner.scan(text, "ko")
    assert scanner.redact(text, spans, PSEUDONYMS) == (
        "담당자 <PERSON_1> 연락처 <PHONE_NUMBER_1>. <PERSON_1> 과장에게 <EMAIL_ADDRESS_1> 로, 또는 <PHONE_NUMBER_1>")
    english = "Contact Minsu.Kim@Example.kr or jane@example.com, then minsu.kim@example.kr again."
    assert scanner.redact(english, scanner.scan(english, "en"), PSEUDONYMS) == (
        "Contact <EMAIL_ADDRESS_1> or <EMAIL_ADDRESS_2>, then <EMAIL_ADDRESS_1> again.")


# ------------------------------------------------------------------------------------------- keyed


KEYED = {"DEFAULT": {"type": "pseudonym", "keyed": True}}


def test_keyed_pseudonyms_are_the_hmac_of_type_and_normalised_value():
    out = redact(TEXT, SPANS, KEYED, Pseudonymizer(PiiKey(KEY, "test")))
    kim, lee = hand_hmac(KEY, "PERSON", "김민수"), hand_hmac(KEY, "PERSON", "이영희")
    mail = hand_hmac(KEY, "EMAIL_ADDRESS", "hong@ex.kr")
    assert out == f"<PERSON_{kim}>(<EMAIL_ADDRESS_{mail}>)와 <PERSON_{lee}>, 그리고 <PERSON_{kim}>. " \
                  f"<EMAIL_ADDRESS_{mail}> 로 회신"
    assert kim == "bgngbjplafpg" and mail == "plhkngigpifm"  # the same in every run under this key


def test_keyed_pseudonyms_are_stable_across_documents_and_differ_by_key():
    first = redact("이영희와 김민수", spans_of("이영희와 김민수", ("이영희", "PERSON"), ("김민수", "PERSON")), KEYED,
                   Pseudonymizer(PiiKey(KEY, "test")))
    second = redact("김민수 과장", spans_of("김민수 과장", ("김민수", "PERSON")), KEYED,
                    Pseudonymizer(PiiKey(KEY, "test")))
    kim = hand_hmac(KEY, "PERSON", "김민수")
    assert first.endswith(f"<PERSON_{kim}>") and second == f"<PERSON_{kim}> 과장"
    other = redact("김민수 과장", spans_of("김민수 과장", ("김민수", "PERSON")), KEYED,
                   Pseudonymizer(PiiKey(b"another key", "test")))
    assert other == f"<PERSON_{hand_hmac(b'another key', 'PERSON', '김민수')}> 과장" and other != second


def test_keyed_digits_and_keyed_hash():
    state = Pseudonymizer(PiiKey(KEY, "test"))
    text = "연락처 010-2345-6789"
    spans = spans_of(text, ("010-2345-6789", "PHONE_NUMBER"))
    six = redact(text, spans, {"PHONE_NUMBER": {"type": "pseudonym", "keyed": True, "length": 6}}, state)
    assert six == f"연락처 <PHONE_NUMBER_{hand_hmac(KEY, 'PHONE_NUMBER', '01023456789', 6)}>"
    hashed = redact(text, spans, {"PHONE_NUMBER": {"type": "hash", "keyed": True}}, state)
    assert hashed == "연락처 " + hand_hmac(KEY, "PHONE_NUMBER", "01023456789", None)
    long = redact(text, spans, {"PHONE_NUMBER": {"type": "hash", "keyed": True, "hash_type": "sha512"}}, state)
    assert long == "연락처 " + hand_hmac(KEY, "PHONE_NUMBER", "01023456789", None, "sha512")


def test_a_keyed_operator_without_a_key_fails_and_the_key_never_shows():
    with pytest.raises(PiiKeyError, match="a keyed operator needs a key"):
        redact(TEXT, SPANS, KEYED)
    key = PiiKey(KEY, "test")
    assert KEY.decode() not in repr(key) + str(key) + repr(Pseudonymizer(key))
    assert key.fingerprint == hashlib.sha256(KEY).hexdigest()[:8]
    assert key.describe() == {"source": "test", "fingerprint": key.fingerprint}


# ------------------------------------------------------------------------------------------- per entity


def test_each_entity_its_operator_else_default(scanner):
    text = "담당자 김민수 연락처 010-2345-6789, 메일 minsu.kim@example.kr"
    spans = scanner.scan(text, "ko")
    operators = {"DEFAULT": {"type": "pseudonym"},
                 "PHONE_NUMBER": {"type": "mask", "masking_char": "*", "chars_to_mask": 4, "from_end": True}}
    assert scanner.redact(text, spans, operators) == (
        "담당자 <PERSON_1> 연락처 010-2345-****, 메일 <EMAIL_ADDRESS_1>")
    assert scanner.redact(text, spans) == "담당자 <PERSON> 연락처 <PHONE_NUMBER>, 메일 <EMAIL_ADDRESS>"


@pytest.mark.parametrize("spec, problem", [
    ({"type": "pseudonym", "lenght": 8}, ("lenght", "unknown parameter of pseudonym; allowed: ['keyed', 'length']")),
    ({"type": "pseudonym", "keyed": "yes"}, ("keyed", "must be true or false, got 'yes'")),
    ({"type": "pseudonym", "keyed": True, "length": 3}, ("", "pseudonym: length must be an integer from 6 to 64, got 3")),
    ({"type": "pseudonym", "length": 8}, ("", "pseudonym: length applies to keyed pseudonyms only (keyed: true)")),
    ({"type": "hash", "keyed": True, "salt": "0123456789abcdef"},
     ("", "hash: salt and keyed: true exclude each other (the key replaces the salt)")),
    ({"type": "hash", "keyed": True, "hash_type": "md5"}, ("", "hash: hash_type must be sha256 or sha512, got 'md5'")),
])
def test_operator_problems(spec, problem):
    assert operator_problem(spec) == problem


@pytest.mark.parametrize("spec", [
    {"type": "pseudonym"}, {"type": "pseudonym", "keyed": False}, {"type": "pseudonym", "keyed": True},
    {"type": "pseudonym", "keyed": True, "length": 64}, {"type": "hash", "keyed": True, "hash_type": "sha512"},
    {"type": "hash", "keyed": False, "salt": "0123456789abcdef"},
])
def test_valid_operator_specs(spec):
    assert operator_problem(spec) is None


def test_scanner_rejects_a_bad_pseudonym_spec(scanner):
    with pytest.raises(PiiConfigError, match=r"operators\.PERSON\.lenght: unknown parameter of pseudonym"):
        scanner.redact("x", [], {"PERSON": {"type": "pseudonym", "lenght": 8}})


# ------------------------------------------------------------------------------------------- the key


def test_key_sources_in_order(tmp_path, monkeypatch):
    (tmp_path / "cli.key").write_bytes(b"from the command line\n")
    (tmp_path / "policy.key").write_bytes(b"  from the policy's file \n")
    section = {"env": "TEST_PII_KEY", "file": "policy.key"}
    resolve = lambda p: str(tmp_path / p)  # noqa: E731
    monkeypatch.setenv("TEST_PII_KEY", "from the environment")
    assert load_key(section, resolve, str(tmp_path / "cli.key")).fingerprint == \
        hashlib.sha256(b"from the command line").hexdigest()[:8]
    env = load_key(section, resolve)
    assert (env.source, env.fingerprint) == ("$TEST_PII_KEY", hashlib.sha256(b"from the environment").hexdigest()[:8])
    monkeypatch.delenv("TEST_PII_KEY")
    file = load_key(section, resolve)
    assert (file.source, file.fingerprint) == (str(tmp_path / "policy.key"),
                                               hashlib.sha256(b"from the policy's file").hexdigest()[:8])
    assert load_key({"env": "TEST_PII_KEY"}, resolve) is None  # not needed, not set


def test_key_problems_are_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("HAETAE_PII_KEY", raising=False)
    with pytest.raises(PiiKeyError) as err:
        load_key(None, needed_by=["pii.default"])
    assert str(err.value).startswith("the operator of pii.default is keyed but there is no key: set $HAETAE_PII_KEY")
    (tmp_path / "empty.key").write_bytes(b"\n")
    with pytest.raises(PiiKeyError, match="empty.key: pii.key.file is empty; write a random key into it"):
        load_key({"file": str(tmp_path / "empty.key")})
    with pytest.raises(PiiKeyError, match="missing.key: cannot read --key-file: No such file"):
        load_key(None, key_file=str(tmp_path / "missing.key"))
    for exc in (err.value,):
        assert "\n" not in str(exc)


# ------------------------------------------------------------------------------------------- the policy


def policy_variant(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    """The default policy with ``replacements``, beside copies of the detector configs it names."""
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    for name in ("pii_recognizers.yaml", "rights_detectors.yaml"):
        shutil.copy(DEFAULT_POLICY.parent / name, tmp_path / name)
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


PERSON_RULE = "PERSON: {action: redact}"


@pytest.mark.parametrize("new, needle, message", [
    ("PERSON: {action: redact, operator: {type: pseudonym, lenght: 8}}", "PERSON:",
     "pii.entities.PERSON.operator.lenght: unknown parameter of pseudonym; allowed: ['keyed', 'length']"),
    ("PERSON: {action: redact, operator: {type: pseudonym, keyed: 1}}", "PERSON:",
     "pii.entities.PERSON.operator.keyed: must be true or false, got 1"),
    ("PERSON: {action: redact, operator: {type: pseudonym, keyed: true, length: 100}}", "PERSON:",
     "pii.entities.PERSON.operator: pseudonym: length must be an integer from 6 to 64, got 100"),
    ("PERSON: {action: redact, operator: {type: pseudonyms}}", "PERSON:",
     "pii.entities.PERSON.operator.type: 'pseudonyms' is not one of ['replace', 'mask', 'hash', 'redact', 'keep', "
     "'pseudonym']"),
    ("  max_redactions: 50\n  key: s3cret-value", "key:",
     "pii.key: must be a mapping {env: VARIABLE} and/or {file: PATH}; the key itself never goes here"),
    ("  max_redactions: 50\n  key: {value: s3cret}", "key:", "pii.key.value: unknown key; allowed: ['env', 'file']"),
    ("  max_redactions: 50\n  key: {env: 1s3cret}", "key:",
     "pii.key.env: must name an environment variable (letters, digits and _), not hold the key"),
])
def test_bad_pseudonym_policy_names_key_and_line(tmp_path, new, needle, message):
    old = "  max_redactions: 50" if new.startswith("  max_redactions") else PERSON_RULE
    path = policy_variant(tmp_path, (old, new))
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(err.value) == f"{path}:line {line_of(path, needle)}: {message}"
    assert "s3cret" not in str(err.value)


def test_policy_key_is_needed_only_by_keyed_rules(tmp_path, monkeypatch):
    monkeypatch.delenv("HAETAE_PII_KEY", raising=False)
    numbered = load_policy(policy_variant(tmp_path, (PERSON_RULE, "PERSON: {action: redact, operator: {type: pseudonym}}")))
    assert numbered.redaction_key() is None
    keyed = load_policy(policy_variant(
        tmp_path, (PERSON_RULE, "PERSON: {action: redact, operator: {type: pseudonym, keyed: true}}"),
        ("default: {action: redact}", "default: {action: redact, operator: {type: hash, keyed: true}}")))
    with pytest.raises(PiiKeyError) as err:
        keyed.redaction_key()
    assert str(err.value).startswith(f"{keyed.path}: the operator of pii.entities.PERSON, pii.default is keyed but "
                                     "there is no key: set $HAETAE_PII_KEY, name a key file in pii.key.file")
    monkeypatch.setenv("HAETAE_PII_KEY", "k" * 32)
    assert keyed.redaction_key().fingerprint == hashlib.sha256(b"k" * 32).hexdigest()[:8]
    assert keyed.operators()["PERSON"] == {"type": "pseudonym", "keyed": True}
