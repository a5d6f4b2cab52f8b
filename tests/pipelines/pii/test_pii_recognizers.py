"""One table per recogniser: positives and near-miss negatives, through the scanner (threshold, context, gates).

Each table's ``expected`` lists the values of the recogniser's entity the scanner reports in ``text``, in order;
``[]`` is a near miss that must not be reported. The language-neutral recognisers are run for both languages:
a Korean identifier in English text, or a +CC number in Korean text, is found the same way.
"""

from __future__ import annotations

import inspect

import pytest

from haetae.pipelines.pii.recognizers.base import RECOGNIZERS
from haetae.pipelines.pii.recognizers.international import PaymentCardRecognizer
from haetae.pipelines.pii.scanner import PiiScanner, load_config

BOTH = pytest.mark.parametrize("language", ["ko", "en"])


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return PiiScanner.from_config()


def values(scanner: PiiScanner, text: str, language: str, entity: str) -> list[str]:
    return [text[s.start : s.end] for s in scanner.scan(text, language) if s.type == entity]


@BOTH
@pytest.mark.parametrize(
    "text, expected",
    [
        ("카드번호 4111-1111-1111-1111로 결제", ["4111-1111-1111-1111"]),  # Visa 4-4-4-4
        ("card 4111 1111 1111 1111", ["4111 1111 1111 1111"]),
        ("4111111111111111", ["4111111111111111"]),
        ("Visa 19 digits 4111 1111 1111 1111 003", ["4111 1111 1111 1111 003"]),
        ("MC 5105 1051 0510 5100, MC 2-series 2223-0000-4841-0010", ["5105 1051 0510 5100", "2223-0000-4841-0010"]),
        ("Amex 3782 822463 10005 또는 371449635398431", ["3782 822463 10005", "371449635398431"]),
        ("Diners 3056 930902 5904", ["3056 930902 5904"]),
        ("Discover 6011-1111-1111-1117, JCB 3530 1113 3330 0000", ["6011-1111-1111-1117", "3530 1113 3330 0000"]),
        ("UnionPay 6200000000000005, Maestro 6759649826438453", ["6200000000000005", "6759649826438453"]),
        ("BC카드(국내전용) 9410-0000-0000-0005", ["9410-0000-0000-0005"]),
        ("카드4111111111111111로", ["4111111111111111"]),  # glued to Hangul
        # near misses
        ("카드번호 4111-1111-1111-1112", []),  # Luhn fails
        ("주문번호 7000-0000-0000-0005", []),  # Luhn passes, but no brand starts with 7
        ("0000 0000 0000 0000", []),  # one repeated digit
        ("4111-1111 1111-1111", []),  # separators mixed
        ("4111-1111-1111-11111", []),  # a fifth group of 5 digits: no grouping
        ("41111111111", []),  # 11 digits
        ("Diners 36168002586008", []),  # Luhn fails
    ],
)
def test_credit_card(scanner, language, text, expected):
    assert values(scanner, text, language, "CREDIT_CARD") == expected


@BOTH
@pytest.mark.parametrize(
    "text, expected",
    [
        ("여권번호는 M123A4567입니다", ["M123A4567"]),  # current format, context
        ("M123A4567", ["M123A4567"]),  # current format alone is distinctive
        ("passport S012D5678, official G456B1234, diplomatic D789C0123", ["S012D5678", "G456B1234", "D789C0123"]),
        ("Passport no. M12345678", ["M12345678"]),  # previous format with context
        ("대한민국 여권 R87654321", ["R87654321"]),
        # near misses
        ("M12345678", []),  # previous format without context: a letter and 8 digits is too common
        ("A123B4567", []),  # no passport type starts with A
        ("MM123A4567", []),  # glued to a letter
        ("M123A45678", []),  # too many digits
        ("M123 A4567", []),  # space inside
        ("여권 M1234567", []),  # 7 digits
    ],
)
def test_passport(scanner, language, text, expected):
    assert values(scanner, text, language, "KR_PASSPORT") == expected


@BOTH
@pytest.mark.parametrize(
    "text, expected",
    [
        ("운전면허번호 11-22-123456-12", ["11-22-123456-12"]),
        ("11-22-123456-12", ["11-22-123456-12"]),  # dashed with a valid region code: alone
        ("면허 28 22 123456 12", ["28 22 123456 12"]),
        ("Korean driver's license 112212345612", ["112212345612"]),
        ("license 132212345612", ["132212345612"]),  # "license" alone is context enough
        ("운전면허: 서울 12-345678-90", ["서울 12-345678-90"]),  # region name for the code
        ("경기북부 21-123456-78 면허증", ["경기북부 21-123456-78"]),
        # near misses
        ("주문번호 112212345612", []),  # undashed without context
        ("99-22-123456-12", []),  # 99 is no region code
        ("운전면허 27-22-123456-12", []),  # 27 is unassigned
        ("면허 11-22-12345-12", []),  # 5-digit serial
        ("면허 111-22-123456-12", []),  # glued to a longer run
    ],
)
def test_driver_license(scanner, language, text, expected):
    assert values(scanner, text, language, "KR_DRIVER_LICENSE") == expected


@BOTH
@pytest.mark.parametrize(
    "text, expected",
    [
        ("주민등록번호 900101-1234568", ["900101-1234568"]),  # checksum passes
        ("주민등록번호: 210315-3847261", ["210315-3847261"]),  # issued after Oct 2020: no checksum
        ("RRN 2103153847261", ["2103153847261"]),
        ("생년월일 및 주민번호 850717 2345678", ["850717 2345678"]),  # space, with context
        ("번호 900101-1234567", ["900101-1234567"]),  # the dashed shape alone, pattern score
        # near misses
        ("901301-1234568", []),  # month 13
        ("900132-1234568", []),  # day 32
        ("900101-5234563", []),  # sex digit 5: an alien registration number, not an RRN
        ("900101 1234568", []),  # space without context
        ("1900101-1234568", []),  # glued to a longer run
        ("900101-12345689", []),
    ],
)
def test_rrn(scanner, language, text, expected):
    assert values(scanner, text, language, "KR_RRN") == expected


def test_rrn_scores(scanner):
    assert [s.score for s in scanner.scan("주민등록번호 900101-1234568", "ko")] == [1.0]
    assert [s.score for s in scanner.scan("주민등록번호 210315-3847261", "ko")] == [0.85]  # 0.5 + context
    assert [s.score for s in scanner.scan("번호 210315-3847261", "ko")] == [0.5]


@BOTH
@pytest.mark.parametrize(
    "text, expected",
    [
        ("외국인등록번호 900101-5234563이고", ["900101-5234563"]),
        ("Alien registration number 010203-7123456", ["010203-7123456"]),
        ("ARC 0102037123456", ["0102037123456"]),
        ("외국인등록증 850717 6234567", ["850717 6234567"]),
        # near misses
        ("외국인등록번호 900101-1234568", []),  # sex digit 1: an RRN
        ("900101-9234563", []),  # 9 is neither
        ("901301-5234563", []),  # month 13
    ],
)
def test_alien_registration(scanner, language, text, expected):
    assert values(scanner, text, language, "KR_FRN") == expected


@BOTH
@pytest.mark.parametrize(
    "text, expected",
    [
        ("건강보험증번호 1-2345678901", ["1-2345678901"]),
        ("건강보험증 번호: 12345678901", ["12345678901"]),
        ("health insurance no. 5-1234567890", ["5-1234567890"]),
        ("장기요양인정번호 L1234567890", ["L1234567890"]),
        # near misses
        ("주문번호 1-2345678901", []),  # no context
        ("건강보험 1-234567890", []),  # 10 digits in the 1-10 form: too few
        ("건강보험 123-4567-8901", []),  # a different grouping
        ("요양 L123456789", []),  # 9 digits
    ],
)
def test_health_insurance(scanner, language, text, expected):
    assert values(scanner, text, language, "KR_HEALTH_INSURANCE") == expected


@BOTH
@pytest.mark.parametrize(
    "text, expected",
    [
        ("입금 계좌: 신한 110-123-456789", ["110-123-456789"]),
        ("카카오뱅크 3333-01-1234567로 이체", ["3333-01-1234567"]),
        ("국민은행 123456-01-234567 (예금주 박○○)", ["123456-01-234567"]),
        ("농협 302-1234-5678-91", ["302-1234-5678-91"]),
        ("우리은행 1002123456789로 보내 주세요", ["1002123456789"]),
        ("Bank account 110-123-456789", ["110-123-456789"]),
        # near misses
        ("문서번호 110-123-456789 참조", []),  # no bank or account word
        ("계좌 12-34-56", []),  # 6 digits
        ("계좌 123456789", []),  # 9 digits
        ("계좌 말고 010-1234-5678로 연락", []),  # a phone number wins
    ],
)
def test_bank_account(scanner, language, text, expected):
    assert values(scanner, text, language, "KR_BANK_ACCOUNT") == expected


@BOTH
@pytest.mark.parametrize(
    "text, expected",
    [
        ("연락처는 +1 415 555 0132입니다", ["+1 415 555 0132"]),
        ("Paris +33 1 42 68 53 00", ["+33 1 42 68 53 00"]),  # one-digit group
        ("Athens +30 21 0 1234567", ["+30 21 0 1234567"]),
        ("London +44 (20) 7123 4567", ["+44 (20) 7123 4567"]),
        ("India +91 4155550132", ["+91 4155550132"]),
        ("도쿄 +81-3-1234-5678 사무실", ["+81-3-1234-5678"]),
        ("US line (415) 555-0132", ["(415) 555-0132"]),
        # near misses
        ("+1 000 000 0000", []),  # libphonenumber: invalid
        ("버전 1.234.5678", []),
        ("score +3 1 2", []),
    ],
)
def test_international_phone(scanner, language, text, expected):
    assert values(scanner, text, language, "PHONE_NUMBER") == expected


@pytest.mark.parametrize(
    "digits, brand",
    [("4111111111111111", "visa"), ("2720990000000007", "mastercard"), ("378282246310005", "amex"),
     ("30569309025904", "diners"), ("6011111111111117", "discover"), ("3530111333300000", "jcb"),
     ("6200000000000005", "unionpay"), ("6759649826438453", "maestro"), ("122000000000003", "uatp"),
     ("9410000000000005", "kr_domestic"), ("213128569146303", "jcb15"), ("7000000000000005", None),
     ("41111111111111", None), ("6759649826438", None)],  # 13-digit Maestro: left out (bank-account shapes)
)
def test_card_brands(digits, brand):
    assert PaymentCardRecognizer.brand(digits) == brand


def test_language_neutral_recognisers_run_for_every_language():
    config = load_config()
    for name, settings in config["recognizers"].items():
        spec = RECOGNIZERS[name]
        enabled = (settings or {}).get("enabled", True)
        if spec.language_neutral and enabled:
            assert set((settings or {}).get("languages", config["languages"])) == set(config["languages"]), name


def test_every_recogniser_is_declared_once_on_its_class():
    for name, spec in RECOGNIZERS.items():
        cls = spec.factory
        assert cls.NAME == name and cls.ENTITY == spec.entity and cls.DESCRIPTION == spec.description
        assert getattr(cls, "GATE", None) == spec.gate
        # registered where it is declared: the decorator above the class is its only other mention
        assert inspect.getsource(cls).lstrip().startswith("@register\n"), f"{name}: register it with @register"
