"""PII scanner on real Presidio: planted entities in Korean and English text, exact offsets and types."""

from __future__ import annotations

import dataclasses
import logging
import random
import re
import socket
from pathlib import Path

import pytest

from haetae.pipelines.pii.recognizers import base as pii_registry
from haetae.pipelines.pii.recognizers.base import RECOGNIZERS, compile_gates
from haetae.pipelines.pii.recognizers.international import offline_tld_extractor
from haetae.pipelines.pii.scanner import (
    PiiConfigError,
    PiiScanner,
    PiiSpan,
    context_pattern,
    load_config,
    measure_scan_speed,
    resolve_overlaps,
)

CONSTITUTION = Path(__file__).resolve().parents[3] / "pipelines" / "data" / "legal" / "ko_constitution.txt"


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return PiiScanner.from_config()


def found(scanner: PiiScanner, text: str, language: str = "ko") -> list[tuple[str, str]]:
    return [(s.type, text[s.start : s.end]) for s in scanner.scan(text, language)]


@pytest.mark.parametrize(
    "text, value",
    [
        ("연락처는 010-1234-5678로 주세요", "010-1234-5678"),
        ("휴대폰 010.1234.5678 입니다", "010.1234.5678"),
        ("휴대폰 010 1234 5678 입니다", "010 1234 5678"),
        ("번호 01012345678번으로", "01012345678"),
        ("서울 사무실 02-123-4567에서", "02-123-4567"),
        ("경기 031-1234-5678까지", "031-1234-5678"),
        ("대표전화 (02) 3456-7890", "(02) 3456-7890"),
        ("인터넷전화 070-1234-5678", "070-1234-5678"),
        ("해외에서는 +82-10-1234-5678로", "+82-10-1234-5678"),
        ("Call +82 2 1234 5678 now", "+82 2 1234 5678"),
        ("or +82 (0)10-1234-5678", "+82 (0)10-1234-5678"),
        ("전화0212345678", "0212345678"),
    ],
)
def test_korean_phone_forms(scanner, text, value):
    assert found(scanner, text) == [("PHONE_NUMBER", value)]
    span = scanner.scan(text, "ko")[0]
    assert (span.start, span.end) == (text.index(value), text.index(value) + len(value))


@pytest.mark.parametrize(
    "text",
    [
        "주문번호 2023-1234-5678",  # does not start with a Korean prefix
        "코드 12010-1234-5678",  # glued to a longer digit run
        "제0212345678호",  # unseparated landline without context stays below the threshold
        "1,010,123,456원",
    ],
)
def test_not_phone_numbers(scanner, text):
    assert found(scanner, text) == []


def test_particles_glued_to_entities(scanner):
    text = "홍길동(hong@ex.kr)에게 보내고 kim@mail.co.kr에게도, 010-1234-5678로 전화, 카드4111111111111111로"
    assert scanner.scan(text, "ko") == [
        PiiSpan(4, 14, "EMAIL_ADDRESS", 1.0),
        PiiSpan(22, 36, "EMAIL_ADDRESS", 1.0),
        PiiSpan(41, 54, "PHONE_NUMBER", 1.0),  # 0.75 + context boost ("전화" follows)
        PiiSpan(62, 78, "CREDIT_CARD", 1.0),
    ]


def test_email_needs_a_public_suffix(scanner):
    assert found(scanner, "주소 a.b@example.notatld 는 틀림") == []
    assert found(scanner, "주소 a.b@example.com.") == [("EMAIL_ADDRESS", "a.b@example.com")]


def test_rrn_checksum_sets_score(scanner):
    valid = scanner.scan("주민등록번호 900101-1234568 확인", "ko")
    # Presidio accepts RRNs failing the pre-2020 checksum (post-2020 numbers are random) at the pattern score.
    invalid = scanner.scan("주민등록번호 900101-1234567 확인", "ko")
    assert valid == [PiiSpan(7, 21, "KR_RRN", 1.0)]
    assert invalid == [PiiSpan(7, 21, "KR_RRN", 0.85)]  # 0.5 + 0.35 for the context word 주민등록번호
    assert scanner.scan("번호 900101-1234567", "ko") == [PiiSpan(3, 17, "KR_RRN", 0.5)]
    assert found(scanner, "날짜 901301-1234568") == []  # month 13 is not a birth date


def test_frn_and_business_number(scanner):
    assert found(scanner, "외국인등록번호 900101-5234563이고") == [("KR_FRN", "900101-5234563")]
    assert found(scanner, "사업자등록번호: 220-81-62517") == [("KR_BRN", "220-81-62517")]
    assert found(scanner, "사업자등록번호: 220-81-62518") == []  # checksum fails


def test_bank_account_needs_context(scanner):
    assert found(scanner, "입금 계좌: 신한 110-123-456789 (예금주 홍길동)") == [
        ("KR_BANK_ACCOUNT", "110-123-456789"),
        ("PERSON", "홍길동"),  # the account holder's name, after the label 예금주
    ]
    assert found(scanner, "카카오뱅크 3333-01-1234567로 이체") == [("KR_BANK_ACCOUNT", "3333-01-1234567")]
    assert found(scanner, "문서번호 110-123-456789 참조") == []
    # A phone number in the same shape stays a phone number.
    assert found(scanner, "계좌 말고 010-1234-5678로 연락") == [("PHONE_NUMBER", "010-1234-5678")]


def test_weakly_validated_korean_numbers_need_context(scanner):
    # A 12-digit number with a valid region code, or a bare 10-digit number with a valid BRN checksum,
    # is too common to be reported without a context word.
    assert found(scanner, "주문번호 123456789012 확인") == []
    assert found(scanner, "운전면허번호 11-22-123456-12") == [("KR_DRIVER_LICENSE", "11-22-123456-12")]
    assert found(scanner, "주문번호 2208162517") == []
    assert scanner.scan("사업자번호 2208162517", "ko") == [PiiSpan(6, 16, "KR_BRN", 0.4)]


def test_ip_addresses(scanner):
    text = "접속 IP 192.168.10.20에서, IPv6 2001:db8:85a3::8a2e:370:7334로 로그인"
    assert found(scanner, text) == [
        ("IP_ADDRESS", "192.168.10.20"),
        ("IP_ADDRESS", "2001:db8:85a3::8a2e:370:7334"),
    ]
    assert found(scanner, "버전 999.1.1.1") == []


def test_iban_checksum(scanner):
    assert found(scanner, "IBAN DE89 3704 0044 0532 0130 00 송금", "ko") == [
        ("IBAN_CODE", "DE89 3704 0044 0532 0130 00")
    ]
    assert found(scanner, "IBAN DE88 3704 0044 0532 0130 00 송금", "ko") == []


def test_english_document(scanner):
    text = "Write to jane.roe@example.org or call (212) 555-0123. Card 4012888888881881, host 10.0.0.7."
    assert scanner.scan(text, "en") == [
        PiiSpan(9, 29, "EMAIL_ADDRESS", 1.0),
        PiiSpan(38, 52, "PHONE_NUMBER", 1.0),  # validated by libphonenumber
        PiiSpan(59, 75, "CREDIT_CARD", 1.0),
        PiiSpan(82, 90, "IP_ADDRESS", 0.6),
    ]
    assert scanner.scan("IP: 10.0.0.7", "en") == [PiiSpan(4, 12, "IP_ADDRESS", 0.95)]  # context "IP"


@pytest.mark.parametrize(
    "text, value",
    [
        ("London office: +44 20 7946 0958.", "+44 20 7946 0958"),
        ("Tokyo +81-3-1234-5678 desk", "+81-3-1234-5678"),
        ("US line 415.555.2671 today", "415.555.2671"),
        ("Version 1.234.5678 released", None),  # not a phone number shape
        ("Order +1 (000) 000-0000 void", None),  # libphonenumber says invalid
    ],
)
def test_international_phone_numbers(scanner, text, value):
    assert found(scanner, text, "en") == ([("PHONE_NUMBER", value)] if value else [])


@pytest.mark.parametrize(
    "text",
    [
        "헌법 전문에는 숫자가 없다. No digits here either.",
        "제1조 ① 이 법은 2024년 3월 1일부터 시행한다. 부칙 제2항: 종전의 규정에 따른다.",
        "Note: see section 3, items a-b. Mail us (at) example dot com.",
    ],
)
def test_texts_matching_no_gate_skip_presidio(scanner, monkeypatch, text):
    def refuse(*args, **kwargs):
        raise AssertionError("Presidio called for a text that no gate matches")

    monkeypatch.setattr(scanner.analyzer, "analyze", refuse)
    for language in ("ko", "en"):
        assert scanner.gates[language].entities(text) == []
        assert scanner.scan(text, language) == []


# One document per entity type (and form): each must pass its entity's gate and still be found.
PII_EXAMPLES = [
    ("ko", "연락처 010-1234-5678", "PHONE_NUMBER", "010-1234-5678"),
    ("ko", "번호 01012345678번", "PHONE_NUMBER", "01012345678"),
    ("ko", "해외 +82 (0)10-1234-5678", "PHONE_NUMBER", "+82 (0)10-1234-5678"),
    ("ko", "주민등록번호 900101-1234568", "KR_RRN", "900101-1234568"),
    ("ko", "외국인등록번호 900101-5234563", "KR_FRN", "900101-5234563"),
    ("ko", "여권번호 M123A4567", "KR_PASSPORT", "M123A4567"),
    ("ko", "여권번호 M12345678", "KR_PASSPORT", "M12345678"),
    ("ko", "운전면허번호 11-22-123456-12", "KR_DRIVER_LICENSE", "11-22-123456-12"),
    ("ko", "사업자등록번호: 220-81-62517", "KR_BRN", "220-81-62517"),
    ("ko", "사업자번호 2208162517", "KR_BRN", "2208162517"),
    ("ko", "입금 계좌 110-123-456789", "KR_BANK_ACCOUNT", "110-123-456789"),
    ("ko", "메일 kim@snu.ac.kr로", "EMAIL_ADDRESS", "kim@snu.ac.kr"),
    ("ko", "카드 4111111111111111", "CREDIT_CARD", "4111111111111111"),
    ("ko", "카드번호 5500 0000 0000 0004", "CREDIT_CARD", "5500 0000 0000 0004"),
    ("ko", "접속 IP 192.168.10.20", "IP_ADDRESS", "192.168.10.20"),
    ("ko", "IPv6 2001:db8:85a3::8a2e:370:7334", "IP_ADDRESS", "2001:db8:85a3::8a2e:370:7334"),
    ("ko", "IP ::ffff:192.168.1.1 접속", "IP_ADDRESS", "::ffff:192.168.1.1"),
    ("ko", "IBAN DE89 3704 0044 0532 0130 00", "IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
    ("en", "IBAN GB82WEST12345698765432", "IBAN_CODE", "GB82WEST12345698765432"),
    ("en", "iban gb82west12345698765432", "IBAN_CODE", "gb82west12345698765432"),  # matched ignoring case
    ("en", "London office: +44 20 7946 0958.", "PHONE_NUMBER", "+44 20 7946 0958"),
    ("en", "call (212) 555-0123", "PHONE_NUMBER", "(212) 555-0123"),
    ("en", "SSN 219-09-9999", "US_SSN", "219-09-9999"),
    ("en", "SSN 219099999", "US_SSN", "219099999"),
    ("ko", "성명: 홍길동", "PERSON", "홍길동"),
    ("ko", "윤채린 기자 = 부산", "PERSON", "윤채린"),
    ("ko", "배송지 서울 강남구 테헤란로 123", "KR_ADDRESS", "서울 강남구 테헤란로 123"),
    ("ko", "주소 전북 군산시 옥구읍 수산리 56-2", "KR_ADDRESS", "전북 군산시 옥구읍 수산리 56-2"),
    ("ko", "MAC 00:1A:2B:3C:4D:5E", "MAC_ADDRESS", "00:1A:2B:3C:4D:5E"),
    ("ko", "MAC 0011.2233.4455", "MAC_ADDRESS", "0011.2233.4455"),
    ("ko", "wallet 1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "CRYPTO", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"),
    (
        "en",
        "wallet bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "CRYPTO",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    ),
]


@pytest.mark.parametrize("language, text, entity, value", PII_EXAMPLES)
def test_each_entity_passes_its_gate_and_is_found(scanner, language, text, entity, value):
    assert entity in scanner.gates[language].entities(text)
    assert (entity, value) in found(scanner, text, language)
    assert entity not in scanner.gates[language].entities("제1조 ① 2024년 " + text.split()[0])


def test_language_resolution(scanner):
    assert scanner.resolve_language("ko-KR") == "ko"
    assert scanner.resolve_language("fr") == "en"
    assert scanner.resolve_language(None) == "en"
    # Korean-only recognisers (names, addresses) are not in the English/fallback set; the Korean identifiers,
    # being language-neutral, are. A Hangul stretch of a text in another language still gets the Korean ones
    # (mixed_language_spans, on by default): here the whole text is one.
    text = "성명: 홍길동, 여권번호 M123A4567"
    assert found(scanner, text, "ko") == [("PERSON", "홍길동"), ("KR_PASSPORT", "M123A4567")]
    assert found(scanner, text, "de") == [("PERSON", "홍길동"), ("KR_PASSPORT", "M123A4567")]
    single = PiiScanner.from_config({**load_config(), "mixed_language_spans": False})
    assert found(single, text, "de") == [("KR_PASSPORT", "M123A4567")]


def test_constitution_has_no_pii(scanner):
    assert scanner.scan(CONSTITUTION.read_text(encoding="utf-8"), "ko") == []


def test_resolve_overlaps_is_deterministic():
    spans = [
        PiiSpan(0, 10, "B", 0.5),
        PiiSpan(2, 8, "A", 0.9),
        PiiSpan(8, 14, "C", 0.9),
        PiiSpan(20, 25, "Z", 0.5),
        PiiSpan(20, 25, "Y", 0.5),
    ]
    expected = [PiiSpan(2, 8, "A", 0.9), PiiSpan(8, 14, "C", 0.9), PiiSpan(20, 25, "Y", 0.5)]
    assert resolve_overlaps(spans) == expected
    assert resolve_overlaps(list(reversed(spans))) == expected


# ------------------------------------------------------------------------------------------- redaction


def test_redact_default_placeholders(scanner):
    text = "홍길동(hong@ex.kr)에게 010-1234-5678로 연락"
    assert (
        scanner.redact(text, scanner.scan(text, "ko")) == "홍길동(<EMAIL_ADDRESS>)에게 <PHONE_NUMBER>로 연락"
    )


def test_redact_operators_per_entity(scanner):
    text = "메일 hong@ex.kr, 전화 010-1234-5678, 카드 4111-1111-1111-1111"
    spans = scanner.scan(text, "ko")
    operators = {
        "PHONE_NUMBER": {"type": "mask", "masking_char": "*", "chars_to_mask": 4, "from_end": True},
        "EMAIL_ADDRESS": {"type": "redact"},
        "CREDIT_CARD": {"type": "replace", "new_value": "[카드]"},
    }
    assert scanner.redact(text, spans, operators) == "메일 , 전화 010-1234-****, 카드 [카드]"
    salted = {
        "DEFAULT": {"type": "hash", "salt": "0123456789abcdef"},
        "PHONE_NUMBER": {"type": "hash", "salt": "0123456789abcdef"},
    }
    once = scanner.redact("전화 010-1234-5678", scanner.scan("전화 010-1234-5678", "ko"), salted)
    again = scanner.redact("전화 010-1234-5678", scanner.scan("전화 010-1234-5678", "ko"), salted)
    assert once == again and len(once) == len("전화 ") + 64 and "5678" not in once


def test_bad_operator_is_a_clear_error(scanner):
    with pytest.raises(PiiConfigError, match="operators.PHONE_NUMBER.type"):
        scanner.redact("x", [], {"PHONE_NUMBER": {"type": "scramble"}})
    with pytest.raises(PiiConfigError, match="operators.PHONE_NUMBER"):
        scanner.redact("x", [], {"PHONE_NUMBER": {"type": "mask", "chars_to_mask": "four"}})


# ------------------------------------------------------------------------------------------- config


def _config(**overrides) -> dict:
    config = load_config()
    config.update(overrides)
    return config


def test_yaml_switches_recognisers_off_and_on():
    config = _config()
    config["recognizers"]["kr_phone"] = {"enabled": False}
    off = PiiScanner.from_config(config)
    text = "연락처 010-1234-5678, 메일 a@ex.kr"
    assert [s.type for s in off.scan(text, "ko")] == ["EMAIL_ADDRESS"]
    config["recognizers"]["kr_phone"] = {"languages": ["en"]}
    en_only = PiiScanner.from_config(config)
    assert [s.type for s in en_only.scan(text, "ko")] == ["EMAIL_ADDRESS"]
    assert [s.type for s in en_only.scan(text, "en")] == ["PHONE_NUMBER", "EMAIL_ADDRESS"]


def test_yaml_context_words_extend_recogniser():
    config = _config()
    config["recognizers"]["kr_passport"] = {"context": ["모델명"]}
    assert [s.type for s in PiiScanner.from_config(config).scan("모델명 M123A4567 제품", "ko")] == [
        "KR_PASSPORT"
    ]


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda c: c["recognizers"].update(kr_phon={}),
         r"^PII config: recognizers\.kr_phon: unknown recogniser; did you mean 'kr_phone'\?$"),
        (lambda c: c.update(operators={"KR_RNN": {"type": "redact"}}),
         r"^PII config: operators\.KR_RNN: unknown entity: no recogniser above reports it; did you mean 'KR_RRN'\?$"),
        (lambda c: c.update(operators={"IBAN_CODE": {"type": "mask", "chars_to_mask": 4, "from_end": True}}),
         r"^PII config: operators\.IBAN_CODE: mask: Expected parameter masking_char$"),
        (lambda c: c.update(operators={"DEFAULT": {"type": "replace", "new_valeu": "x"}}),
         r"^PII config: operators\.DEFAULT\.new_valeu: unknown parameter of replace; allowed: \['new_value'\]$"),
        (
            lambda c: c["recognizers"].update(kr_phone={"enable": False}),
            r"recognizers\.kr_phone\.enable: unknown key",
        ),
        (
            lambda c: c["recognizers"].update(kr_phone={"enabled": "no"}),
            r"recognizers\.kr_phone\.enabled: must be true/false",
        ),
        (lambda c: c["recognizers"].update(kr_phone={"languages": ["ja"]}), r"\['ja'\] not in languages"),
        (lambda c: c["recognizers"].update(phone_intl={"options": {"region": ["KR"]}}), r"unknown option"),
        (lambda c: c.update(score_treshold=0.5), r"score_treshold: unknown key"),
        (lambda c: c.update(score_threshold=2), r"score_threshold: must be between 0 and 1"),
        (lambda c: c.update(fallback_language="fr"), r"fallback_language: 'fr' is not in languages"),
        (lambda c: c.update(operators={"URL": {"type": "erase"}}), r"operators\.URL\.type"),
    ],
)
def test_bad_config_is_a_clear_error(mutate, message):
    config = _config()
    mutate(config)
    with pytest.raises(PiiConfigError, match=message):
        PiiScanner.from_config(config)


def test_bad_yaml_file(tmp_path):
    bad = tmp_path / "pii.yaml"
    bad.write_text("languages: [ko\nrecognizers: {}\n", encoding="utf-8")
    with pytest.raises(PiiConfigError, match="invalid YAML"):
        load_config(bad)
    with pytest.raises(PiiConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        "languages: [ko]\nrecognizers:\n  kr_phone: {}\n  email:\n    enabeld: true\n", encoding="utf-8"
    )
    with pytest.raises(PiiConfigError, match=r"wrong\.yaml:line 5: recognizers\.email\.enabeld: unknown key"):
        load_config(wrong)
    repeated = tmp_path / "repeated.yaml"
    repeated.write_text("languages: [ko]\nrecognizers:\n  kr_phone: {}\n  kr_phone: {enabled: false}\n",
                        encoding="utf-8")
    with pytest.raises(PiiConfigError) as err:
        load_config(repeated)
    assert str(err.value) == f"PII config {repeated}:line 4: duplicate key 'kr_phone' (first at line 3)"
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"languages: [ko]\n# \xb0C\n")
    with pytest.raises(PiiConfigError) as err:
        load_config(latin1)
    assert str(err.value) == f"PII config {latin1}:line 2: not UTF-8 (byte 0xb0 at offset 18); save the file as UTF-8"
    good = tmp_path / "ok.yaml"
    good.write_text("languages: [ko]\nrecognizers:\n  kr_phone: {}\n", encoding="utf-8")
    assert [s.type for s in PiiScanner.from_config(good).scan("010-1234-5678", "fr")] == ["PHONE_NUMBER"]


def test_registry_names_match_default_config():
    assert set(load_config()["recognizers"]) == set(RECOGNIZERS)


def test_no_network_and_no_fetch_warnings(monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    offline_tld_extractor.cache_clear()
    extractor = offline_tld_extractor()
    assert extractor.suffix_list_urls == () and extractor._cache.enabled is False
    with caplog.at_level(logging.DEBUG):
        fresh = PiiScanner.from_config()
        assert found(fresh, "메일 kim@snu.ac.kr로") == [("EMAIL_ADDRESS", "kim@snu.ac.kr")]
    assert not [r for r in caplog.records if "tldextract" in r.name and r.levelno >= logging.WARNING]


def test_measure_scan_speed_counts(scanner):
    docs = [("전화 010-1234-5678", "ko"), ("no pii here", "en"), ("mail a@ex.kr", "ko")]
    speed = measure_scan_speed(docs, scanner)
    assert speed["docs"] == 3 and speed["spans"] == 2
    assert speed["bytes"] == sum(len(t.encode()) for t, _ in docs)
    assert speed["docs_per_s"] > 0 and speed["mb_per_s"] > 0


def _all_enabled() -> dict:
    config = load_config()
    for name, settings in config["recognizers"].items():
        config["recognizers"][name] = {**(settings or {}), "enabled": True}
    return config


def _fuzz_texts(count: int, seed: int) -> list[str]:
    """Random near-miss strings: fragments of PII forms glued to digits, separators, hex letters, Hangul."""
    rng = random.Random(seed)
    alphabet = "0123456789" * 4 + "-.: @+()/%" * 2 + "abcdefABCDEFMSRODmsrodxyzIOlbc" + "가나전화계좌" + "０１\n"
    fragments = [example[3] for example in PII_EXAMPLES] + [
        *("010", "+82", "+1", "(0)", "900101", "1234568", "::", "::ffff:", "192.168", ".1", "DE89", "bc1"),
        *("1Boat", "00:1A", ":2B", "0011.2233.", "4111", " 1111", "@ex.kr", "www.", ".com", "http://"),
        *("전화 ", "계좌 ", "IP ", "de89", "m123", "BC1", "FFFF:"),
        *(" 기자", " 씨", "님", "성명: ", "보호자 ", "김", "남궁", "○○", "로 ", "길", "동 ", "산 ", "리", "번지"),
        *("우편번호 ", "(우)", "호", "서울 ", "강남구 ", "지하 ", "Name: ", "Name ", "User"),
    ]

    def part() -> str:
        if rng.random() < 0.4:
            return rng.choice(fragments)
        return "".join(rng.choices(alphabet, k=rng.randint(1, 8)))

    return ["".join(part() for _ in range(rng.randint(1, 12))) for _ in range(count)]


@pytest.mark.parametrize("config", [None, _all_enabled()], ids=["default", "all_enabled"])
def test_gates_do_not_change_results(monkeypatch, config):
    """The cheap gates are an optimisation only: an ungated scanner finds exactly the same spans."""
    gated = PiiScanner.from_config(config)
    for name, spec in list(RECOGNIZERS.items()):
        monkeypatch.setitem(pii_registry.RECOGNIZERS, name, dataclasses.replace(spec, gate=None))
    ungated = PiiScanner.from_config(config)
    assert not ungated.gates["ko"].any_gates and "KR_RRN" in ungated.gates["ko"].entities("no digits")
    texts = [
        "홍길동(hong@ex.kr)에게 010-1234-5678로, 주민등록번호 900101-1234568, 여권 M123A4567",
        "IBAN DE89 3704 0044 0532 0130 00, IP 10.0.0.1 and 2001:db8::1, MAC 00:1A:2B:3C:4D:5E",
        "입금 계좌 110-123-456789, 카드 4111-1111-1111-1111, wallet 1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
        "Call +44 20 7946 0958 or (212) 555-0123; SSN 219-09-9999; 사업자등록번호 220-81-62517",
        "see https://example.com/a?b=1, call (２１２) ５５５-０１２３",  # only ungated libphonenumber reads these
        CONSTITUTION.read_text(encoding="utf-8")[:5000],
        *(example[1] for example in PII_EXAMPLES),
        *_fuzz_texts(300, seed=1),
    ]
    found_types = set()
    for text in texts:
        for language in ("ko", "en"):
            spans = gated.scan(text, language)
            assert spans == ungated.scan(text, language), (text, language)
            found_types.update(s.type for s in spans)
    assert {example[2] for example in PII_EXAMPLES} <= found_types


def test_every_gate_is_a_necessary_condition():
    """Whenever a recogniser matches anything (even below the threshold), its gate matches, and every gate
    match starts with a character of the spec's start class (what compile_gates relies on)."""
    texts = [example[1] for example in PII_EXAMPLES] + _fuzz_texts(1000, seed=2)
    for name, spec in RECOGNIZERS.items():
        if spec.gate is None:
            continue
        starts = re.compile(spec.gate_start)
        recognizer, gate = spec.build("en"), compile_gates([spec.gate], spec.gate_start)
        for text in texts:
            plain = [m.start() for m in re.finditer(spec.gate, text, re.ASCII)]
            assert all(starts.match(text, start) for start in plain), (name, text)
            assert bool(gate.search(text)) == bool(plain), (name, text)
            if recognizer.analyze(text, recognizer.supported_entities, None):
                assert plain, (name, text)


def test_libphonenumber_reads_non_ascii_digits_so_it_has_no_gate():
    scanner = PiiScanner.from_config(_all_enabled())
    text = "call (２１２) ５５５-０１２３ now"
    assert scanner.gates["en"].always == ["PHONE_NUMBER", "PERSON"]  # en_person_ner (spaCy) has no gate either
    assert found(scanner, text, "en") == [("PHONE_NUMBER", "(２１２) ５５５-０１２３")]


def test_context_words_match_korean_substrings_and_whole_english_words():
    pattern = context_pattern(("전화", "tel", "phone", "IP"))
    assert pattern.search("연락처전화는")
    assert pattern.search("Tel: 02") and pattern.search("phones") and pattern.search("IP주소")
    assert not pattern.search("the hotel lobby") and not pattern.search("telephoto ship")


@pytest.mark.parametrize("text, types", [
    ("doc-0001234", set()),
    ("user 010-1234-5678", {"PHONE_NUMBER"}),
    ("my ssn is 536-80-4398", {"US_SSN"}),  # only the English set has us_ssn
    ("담당자 홍길동 씨에게 연락", {"PERSON"}),  # only the Korean set has kr_person_name
    ("주민등록번호 900101-1234567, 연락처 010-1234-5678", {"KR_RRN", "PHONE_NUMBER"}),
    ("raw line {\"id\": \"a@example.com\", \"text\": \"+1 415 555 0132\"", {"EMAIL_ADDRESS", "PHONE_NUMBER"}),
])
def test_scan_all_languages_runs_each_recogniser_once_with_the_same_spans(scanner, text, types):
    """One call over the union of the languages' recognisers finds what one scan per language finds."""
    spans = scanner.scan_all_languages(text)
    per_language = [span for language in scanner.languages for span in scanner._scan(text, language, False)]
    assert spans == resolve_overlaps(per_language)
    assert {s.type for s in spans} == types
