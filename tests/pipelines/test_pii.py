"""PII scanner on real Presidio: planted entities in Korean and English text, exact offsets and types."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from haetae.pipelines.pii import (
    PiiConfigError,
    PiiScanner,
    PiiSpan,
    context_pattern,
    load_config,
    measure_scan_speed,
    resolve_overlaps,
)
from haetae.pipelines.pii_recognizers import RECOGNIZERS, offline_tld_extractor

CONSTITUTION = Path(__file__).resolve().parents[2] / "pipelines" / "data" / "legal" / "ko_constitution.txt"


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
        ("KR_BANK_ACCOUNT", "110-123-456789")
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


def test_passport_needs_context(scanner):
    assert found(scanner, "여권번호는 M123A4567입니다") == [("KR_PASSPORT", "M123A4567")]
    assert found(scanner, "모델명 M123A4567 제품") == []


@pytest.mark.parametrize(
    "card, detected",
    [("4111-1111-1111-1111", True), ("5500 0000 0000 0004", True), ("4111-1111-1111-1112", False)],
)
def test_credit_card_luhn(scanner, card, detected):
    text = f"카드번호 {card}로 결제"
    assert found(scanner, text) == ([("CREDIT_CARD", card)] if detected else [])


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


def test_texts_without_digits_or_at_skip_presidio(scanner):
    assert scanner._prefilter is not None
    assert scanner.scan("헌법 전문에는 숫자가 없다. No digits here either.", "ko") == []


def test_language_resolution(scanner):
    assert scanner.resolve_language("ko-KR") == "ko"
    assert scanner.resolve_language("fr") == "en"
    assert scanner.resolve_language(None) == "en"
    # Korean-only recognisers do not run for the English/fallback set.
    text = "여권번호 M123A4567"
    assert found(scanner, text, "ko") == [("KR_PASSPORT", "M123A4567")]
    assert found(scanner, text, "de") == []


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
        (lambda c: c["recognizers"].update(kr_phon={}), r"recognizers\.kr_phon: unknown recogniser"),
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


def test_gates_and_prefilter_do_not_change_results(scanner, monkeypatch):
    """The cheap gates are an optimisation only: an ungated scanner finds exactly the same spans."""
    import dataclasses

    from haetae.pipelines import pii_recognizers

    for name, spec in list(RECOGNIZERS.items()):
        monkeypatch.setitem(
            pii_recognizers.RECOGNIZERS, name, dataclasses.replace(spec, gate=None, gate_each=False)
        )
    ungated = PiiScanner.from_config()
    assert ungated._prefilter is None
    texts = [
        "홍길동(hong@ex.kr)에게 010-1234-5678로, 주민등록번호 900101-1234568, 여권 M123A4567",
        "IBAN DE89 3704 0044 0532 0130 00, IP 10.0.0.1 and 2001:db8::1, MAC 00:1A:2B:3C:4D:5E",
        "입금 계좌 110-123-456789, 카드 4111-1111-1111-1111, wallet 1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
        "Call +44 20 7946 0958 or (212) 555-0123; SSN 219-09-9999; 사업자등록번호 220-81-62517",
        CONSTITUTION.read_text(encoding="utf-8")[:5000],
    ]
    found_types = set()
    for text in texts:
        for language in ("ko", "en"):
            spans = scanner.scan(text, language)
            assert spans == ungated.scan(text, language)
            found_types.update(s.type for s in spans)
    assert {
        "KR_RRN",
        "KR_PASSPORT",
        "IBAN_CODE",
        "IP_ADDRESS",
        "MAC_ADDRESS",
        "KR_BANK_ACCOUNT",
        "CRYPTO",
    } <= found_types


def test_context_words_match_korean_substrings_and_whole_english_words():
    pattern = context_pattern(("전화", "tel", "phone", "IP"))
    assert pattern.search("연락처전화는")
    assert pattern.search("Tel: 02") and pattern.search("phones") and pattern.search("IP주소")
    assert not pattern.search("the hotel lobby") and not pattern.search("telephoto ship")
