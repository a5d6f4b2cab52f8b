"""Korean identifiers and phone numbers as Presidio recognisers: phones, RRN, alien registration,
passport, driver's licence, business, health-insurance and bank-account numbers. Names and
addresses have modules of their own (:mod:`.korea_names`, :mod:`.korea_addresses`)."""

from __future__ import annotations

from haetae.offline import import_presidio  # isort: split

import_presidio()  # before Presidio: skip its unused transformers/torch imports

from presidio_analyzer import Pattern
from presidio_analyzer.predefined_recognizers import (
    KrBrnRecognizer,
)

from haetae.pipelines.pii.recognizers.base import (
    _LEFT,
    _RIGHT,
    ClassPatternRecognizer,
    _digits,
    register,
)

# ---------------------------------------------------------------------------------------------- phones


@register
class KoreanPhoneRecognizer(ClassPatternRecognizer):
    """Korean phone numbers: mobile (010-XXXX-XXXX), landlines (02-, 031- ... 064-), 070/050x, +82 forms.

    Separators may be '-', '.', ' ' or none; area codes may be in parentheses. Numbers must not be glued to
    other digits. Unseparated landlines score low and need context (e.g. "전화", "Tel") to pass a threshold.
    """

    NAME = "kr_phone"
    ENTITY = "PHONE_NUMBER"
    DESCRIPTION = "Korean mobile/landline/+82 numbers"
    LANGUAGE_NEUTRAL = True
    _AREA = r"(?:2|3[1-3]|4[1-4]|5[1-5]|6[1-4])"
    _SEP = r"[-. ]?"
    _LEFT = r"(?<![\d\-+])"
    PATTERNS = [
        Pattern("KR mobile (separated)", _LEFT + r"01[016789][-. ]\d{3,4}[-. ]\d{4}" + _RIGHT, 0.75),
        Pattern("KR mobile (plain)", _LEFT + r"01[016789]\d{7,8}" + _RIGHT, 0.5),
        Pattern("KR landline (separated)",
                _LEFT + r"(?:\(0" + _AREA + r"\)\s?|0" + _AREA + r"[-. ])\d{3,4}[-. ]\d{4}" + _RIGHT, 0.6),
        Pattern("KR internet/personal (070, 050x)", _LEFT + r"0(?:70|50\d)[-. ]\d{3,4}[-. ]\d{4}" + _RIGHT, 0.6),
        Pattern("KR landline (plain)", _LEFT + r"0" + _AREA + r"\d{7,8}" + _RIGHT, 0.3),
        Pattern("KR +82", r"\+82[-. ]?(?:\(0\))?(?:1[016789]|" + _AREA + r"|70)" + _SEP + r"\d{3,4}" + _SEP
                + r"\d{4}" + _RIGHT, 0.8),
    ]
    GATE = r"\d{3}[-. ]?\d{4}"  # every form ends in 3-4 digits, an optional separator, 4 digits
    CONTEXT = ["전화", "연락처", "휴대폰", "핸드폰", "휴대전화", "팩스", "tel", "phone", "mobile", "fax", "call"]


# ---------------------------------------------------------------------------------------------- Korean ids


class _BirthDateNumberRecognizer(ClassPatternRecognizer):
    """RRN and FRN: birth date YYMMDD, an optional dash, a sex/century digit, six digits.

    The thirteenth digit was a checksum for numbers issued before October 2020; since then the last six digits
    are random. A checksum pass proves the number (score 1.0); a fail keeps the pattern score, so a post-2020
    number is still reported, and a context word (주민등록번호, RRN ...) raises it.
    """

    SEX_DIGITS = ""
    CHECK_OFFSET = 11
    _DATE = r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"

    @classmethod
    def patterns_for(cls, label: str, sex_digits: str) -> list[Pattern]:
        return [
            Pattern(f"{label} (dash or none)", rf"{_LEFT}{cls._DATE}-?[{sex_digits}]\d{{6}}{_RIGHT}", 0.5),
            Pattern(f"{label} (space, needs context)", rf"{_LEFT}{cls._DATE} [{sex_digits}]\d{{6}}{_RIGHT}", 0.1),
        ]

    def validate_result(self, pattern_text: str) -> bool | None:
        digits = _digits(pattern_text)
        if len(digits) != 13:
            return False
        if " " in pattern_text:  # the spaced form needs its context word, checksum or not
            return None
        weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
        total = sum(int(d) * w for d, w in zip(digits, weights, strict=False))
        return True if (self.CHECK_OFFSET - total % 11) % 10 == int(digits[12]) else None


@register
class KrRrnRecognizer(_BirthDateNumberRecognizer):
    """Korean resident registration number (주민등록번호), sex digit 1-4; post-2020 numbers accepted."""

    NAME = "kr_rrn"
    ENTITY = "KR_RRN"
    DESCRIPTION = "Korean resident registration number (checksum before 2020, none after)"
    LANGUAGE_NEUTRAL = True
    PATTERNS = _BirthDateNumberRecognizer.patterns_for("RRN", "1-4")
    GATE = r"\d{6}[- ]?[1-4]\d{6}"
    CONTEXT = ["주민등록번호", "주민번호", "주민등록", "생년월일", "RRN", "resident registration number",
               "resident registration", "Korean RRN"]
    CHECK_OFFSET = 11


@register
class KrFrnRecognizer(_BirthDateNumberRecognizer):
    """Korean alien (foreigner) registration number (외국인등록번호), sex digit 5-8, same shape as the RRN."""

    NAME = "kr_frn"
    ENTITY = "KR_FRN"
    DESCRIPTION = "Korean alien/foreigner registration number (checksum before 2020, none after)"
    LANGUAGE_NEUTRAL = True
    PATTERNS = _BirthDateNumberRecognizer.patterns_for("FRN", "5-8")
    GATE = r"\d{6}[- ]?[5-8]\d{6}"
    CONTEXT = ["외국인등록번호", "외국인등록", "외국인번호", "외국인등록증", "거소신고번호", "alien registration number",
               "alien registration", "ARC", "FRN", "foreigner registration number", "Korean FRN"]
    CHECK_OFFSET = 13


@register
class KrPassportRecognizer(ClassPatternRecognizer):
    """Korean passports: the current format, a type letter (M multiple, S single, R travel certificate, G
    official, D diplomatic, O other official), three digits, a letter, four digits (M123A4567); and the
    previous one, the type letter and eight digits (M12345678).

    The current format is distinctive and is reported alone; the previous one (a letter and 8 digits, as many
    serial and order numbers are) needs a context word (여권, passport).
    """

    NAME = "kr_passport"
    ENTITY = "KR_PASSPORT"
    DESCRIPTION = "Korean passport, current (M123A4567) and previous (M12345678, needs context) formats"
    LANGUAGE_NEUTRAL = True
    PATTERNS = [
        Pattern("KR passport (current)", r"(?<![A-Za-z0-9])[MSRGDO]\d{3}[A-Z]\d{4}(?![A-Za-z0-9])", 0.45),
        Pattern("KR passport (previous)", r"(?<![A-Za-z0-9])[MSRGDO]\d{8}(?![A-Za-z0-9])", 0.1),
    ]
    GATE = r"\d(?<=[MmSsRrGgDdOo]\d)\d{2}[A-Za-z0-9]\d{4}"  # M123A4567 or M12345678
    CONTEXT = ["여권", "여권번호", "대한민국 여권", "passport", "passport number", "Korean passport"]


@register
class KrDriverLicenseRecognizer(ClassPatternRecognizer):
    """Korean driver's licences: region code (11-28) or region name, year, serial and check digits.

    ``11-22-123456-12`` (dashes, valid region code) is reported alone; the same digits with spaces or none
    (``112212345612``: one in five random 12-digit numbers has a valid region code) need a context word. The
    older printed form puts the region name in place of the code (``서울 12-345678-90``) and is reported alone.
    "license" or "면허" alone is context enough.
    """

    NAME = "kr_driver_license"
    ENTITY = "KR_DRIVER_LICENSE"
    DESCRIPTION = "Korean driver's licence: region code or name, numbers; undashed needs context"
    LANGUAGE_NEUTRAL = True
    REGION_CODES = frozenset({"11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24",
                              "25", "26", "28"})
    REGION_NAMES = ("서울", "부산", "경기남부", "경기북부", "경기", "강원", "충북", "충남", "전북", "전남", "경북",
                    "경남", "제주", "대구", "인천", "광주", "대전", "울산")
    PATTERNS = [
        Pattern("KR licence (dashed)", rf"{_LEFT}\d{{2}}-\d{{2}}-\d{{6}}-\d{{2}}{_RIGHT}", 0.45),
        Pattern("KR licence (spaces or none)", r"(?<![\d\-])\d{2}[- ]?\d{2}[- ]?\d{6}[- ]?\d{2}(?![\d]|[- ]\d)",
                0.05),
        Pattern("KR licence (region name)",
                rf"(?<![가-힣])(?:{'|'.join(REGION_NAMES)})[ ]?\d{{2}}-?\d{{6}}-?\d{{2}}{_RIGHT}", 0.5),
    ]
    GATE = r"\d{2}[- ]?\d{6}[- ]?\d{2}"  # every form ends in year, serial and check digits
    CONTEXT = ["운전면허", "운전면허번호", "면허번호", "면허증", "면허", "운전", "driver's license", "driver license",
               "driving licence", "license", "licence", "DL"]

    def validate_result(self, pattern_text: str) -> bool | None:
        if pattern_text[:1] >= "가":  # region name: the name is the proof
            return None
        digits = _digits(pattern_text)
        return None if len(digits) == 12 and digits[:2] in self.REGION_CODES else False


@register
class ContextualKrBrnRecognizer(KrBrnRecognizer):
    """Presidio's business-registration-number recogniser; an undashed 10-digit number needs context.

    The checksum passes for one in ten random numbers, so only the dashed AAA-BB-CCCCC form is proven by
    it; a plain 10-digit run keeps its weak score unless 사업자등록번호 or similar is nearby.
    """

    NAME = "kr_brn"
    ENTITY = "KR_BRN"
    DESCRIPTION = "Korean business registration number (checksum)"
    LANGUAGE_NEUTRAL = True
    GATE = r"\d{3}-\d{2}-\d{5}|\d{10}"

    def validate_result(self, pattern_text: str) -> bool | None:
        valid = super().validate_result(pattern_text)
        if valid and "-" not in pattern_text:
            return None
        return valid


@register
class KrHealthInsuranceRecognizer(ClassPatternRecognizer):
    """Korean national health-insurance card numbers (건강보험증번호, 11 digits, often written 1-2345678901 or
    12345678901) and long-term-care numbers (장기요양인정번호, L and 10 digits). The shapes are common, so the
    base score is below the threshold and a context word (건강보험, 보험증, health insurance ...) is needed."""

    NAME = "kr_health_insurance"
    ENTITY = "KR_HEALTH_INSURANCE"
    DESCRIPTION = "Korean health-insurance and long-term-care numbers (needs context)"
    LANGUAGE_NEUTRAL = True
    PATTERNS = [
        Pattern("KR health insurance", rf"{_LEFT}(?:\d-?\d{{10}}|\d{{2}}-\d{{9}}|\d{{10}}-\d){_RIGHT}", 0.05),
        Pattern("KR long-term care", r"(?<![A-Za-z0-9])L\d{10}(?!\d)", 0.05),
    ]
    GATE = r"\d-?\d{9}"
    CONTEXT = ["건강보험", "보험증", "건강보험증", "건강보험증번호", "의료보험", "건보", "피보험자", "장기요양", "요양인정",
               "health insurance", "NHIS", "insurance number", "insurance card", "long-term care"]

    def validate_result(self, pattern_text: str) -> bool | None:
        return None if len(_digits(pattern_text)) in (10, 11) else False


@register
class KoreanBankAccountRecognizer(ClassPatternRecognizer):
    """Korean bank account numbers: 10-14 digits, in 3-4 dash-separated groups (110-123-456789,
    1002-123-456789, 3333-01-1234567) or plain. The shape alone is weak evidence, so the base score (0.2) is
    below any sensible threshold and a bank name or account word (계좌, 예금주, 신한은행, 카카오뱅크, account ...)
    must be near it; with one (0.55) it outranks the bare shapes of other numbers it overlaps (an undashed
    13-digit run that reads as an RRN, 0.5), not those that have their own context word."""

    NAME = "kr_bank_account"
    ENTITY = "KR_BANK_ACCOUNT"
    DESCRIPTION = "Korean bank account (needs a bank or account word)"
    LANGUAGE_NEUTRAL = True
    PATTERNS = [
        Pattern("KR bank account (dashed)", r"(?<![\d\-])\d{2,6}-\d{2,6}-\d{2,7}(?:-\d{1,3})?(?!\d|-\d)", 0.2),
        Pattern("KR bank account (plain)", r"(?<![\d\-])\d{10,14}(?!\d|-\d)", 0.2),
    ]
    GATE = r"\d{2}-\d{2,6}-\d{2}|\d{10}"
    CONTEXT = ["계좌", "통장", "입금", "예금주", "은행", "송금", "이체", "환불", "뱅크", "농협", "신협", "수협",
               "새마을금고", "우체국", "신한", "KB국민", "IBK", "NH", "SC제일", "씨티", "account", "bank", "acct"]

    def validate_result(self, pattern_text: str) -> bool | None:
        return None if 10 <= len(_digits(pattern_text)) <= 14 else False
