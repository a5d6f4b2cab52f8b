"""PII recognisers for Korean-first text, registered by name and switched on per language by YAML.

Every recogniser is a Presidio ``EntityRecognizer``. Presidio's own classes are registered as they are; the
Korean phone recogniser and the offline e-mail recogniser are defined here. All pattern recognisers run with
the ASCII flag added to Presidio's flags (see :data:`REGEX_FLAGS`): Korean particles and words are glued to
numbers and addresses ("010-1234-5678로", "hong@ex.kr에게"), and under Unicode rules Hangul counts as a word
character, so ``\\b`` and ``\\w`` would not see a boundary there. With ASCII rules they do.
Known limitation: full-width digits (０１０) are not matched.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass

import regex

from haetae.offline import import_presidio  # isort: split

import_presidio()  # before Presidio: skip its unused transformers/torch imports

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    CryptoRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    KrBrnRecognizer,
    KrDriverLicenseRecognizer,
    KrFrnRecognizer,
    KrPassportRecognizer,
    KrRrnRecognizer,
    MacAddressRecognizer,
    PhoneRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
)

from haetae.pipelines import pii_korean_addresses, pii_korean_names

REGEX_FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE | regex.ASCII
"""Presidio's default flags plus ASCII word boundaries (see the module docstring).

Presidio matches with the ``regex`` package, whose ASCII flag differs from ``re.ASCII`` (256 there means
VERSION1), so the flags must come from ``regex``."""


@functools.lru_cache(maxsize=1)
def offline_tld_extractor():
    """A tldextract extractor that only uses the public-suffix snapshot bundled with tldextract.

    No suffix-list URL and no disk cache, so it never touches the network or the user's cache directory.
    """
    import tldextract

    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recogniser, validating the domain suffix against the bundled public-suffix list."""

    def validate_result(self, pattern_text: str) -> bool:
        domain = pattern_text.rsplit("@", 1)[-1]
        result = offline_tld_extractor()(domain)
        return bool(result.suffix) and bool(result.domain)


class ClassPatternRecognizer(PatternRecognizer):
    """A pattern recogniser whose patterns, context words, entity and language default to class attributes."""

    PATTERNS: list[Pattern] = []
    CONTEXT: list[str] = []
    ENTITY = ""
    LANGUAGE = "ko"

    def __init__(
        self,
        patterns: list[Pattern] | None = None,
        context: list[str] | None = None,
        supported_language: str | None = None,
        supported_entity: str | None = None,
        name: str | None = None,
    ):
        super().__init__(
            supported_entity=supported_entity or self.ENTITY,
            patterns=patterns or self.PATTERNS,
            context=context or self.CONTEXT,
            supported_language=supported_language or self.LANGUAGE,
            name=name,
        )


class KoreanPhoneRecognizer(ClassPatternRecognizer):
    """Korean phone numbers: mobile (010-XXXX-XXXX), landlines (02-, 031- ... 064-), 070/050x, +82 forms.

    Separators may be '-', '.', ' ' or none; area codes may be in parentheses. Numbers must not be glued to
    other digits. Unseparated landlines score low and need context (e.g. "전화", "Tel") to pass a threshold.
    """

    _AREA = r"(?:2|3[1-3]|4[1-4]|5[1-5]|6[1-4])"
    _SEP = r"[-. ]?"
    _LEFT = r"(?<![\d\-+])"
    _RIGHT = r"(?!\d|-\d)"
    PATTERNS = [
        Pattern("KR mobile (separated)", _LEFT + r"01[016789][-. ]\d{3,4}[-. ]\d{4}" + _RIGHT, 0.75),
        Pattern("KR mobile (plain)", _LEFT + r"01[016789]\d{7,8}" + _RIGHT, 0.5),
        Pattern(
            "KR landline (separated)",
            _LEFT + r"(?:\(0" + _AREA + r"\)\s?|0" + _AREA + r"[-. ])\d{3,4}[-. ]\d{4}" + _RIGHT,
            0.6,
        ),
        Pattern(
            "KR internet/personal (070, 050x)",
            _LEFT + r"0(?:70|50\d)[-. ]\d{3,4}[-. ]\d{4}" + _RIGHT,
            0.6,
        ),
        Pattern("KR landline (plain)", _LEFT + r"0" + _AREA + r"\d{7,8}" + _RIGHT, 0.3),
        Pattern(
            "KR +82",
            r"\+82[-. ]?(?:\(0\))?(?:1[016789]|"
            + _AREA
            + r"|70)"
            + _SEP
            + r"\d{3,4}"
            + _SEP
            + r"\d{4}"
            + _RIGHT,
            0.8,
        ),
    ]
    CONTEXT = [
        "전화",
        "연락처",
        "휴대폰",
        "핸드폰",
        "휴대전화",
        "팩스",
        "tel",
        "phone",
        "mobile",
        "fax",
        "call",
    ]

    ENTITY = "PHONE_NUMBER"


class KoreanBankAccountRecognizer(ClassPatternRecognizer):
    """Korean bank account numbers (10-14 digits in 3-4 dash-separated groups, e.g. 110-123-456789,
    1002-123-456789, 3333-01-1234567). The shape alone is weak evidence, so the base score is below any
    sensible threshold and a context word (계좌, 통장, 입금, 예금주 ...) is needed to report it."""

    PATTERNS = [
        Pattern("KR bank account", r"(?<![\d\-])\d{3,6}-\d{2,6}-\d{2,7}(?:-\d{1,3})?(?!\d|-\d)", 0.05),
    ]
    CONTEXT = ["계좌", "통장", "입금", "예금주", "은행", "송금", "이체", "account", "bank"]

    ENTITY = "KR_BANK_ACCOUNT"

    def validate_result(self, pattern_text: str) -> bool | None:
        digits = sum(ch.isdigit() for ch in pattern_text)
        return None if 10 <= digits <= 14 else False


class ContextualKrDriverLicenseRecognizer(KrDriverLicenseRecognizer):
    """Presidio's driver's-licence recogniser, but a valid region code no longer proves the match.

    Any 12-digit number starting 11-28 passes Presidio's validation (about one in five random numbers),
    so a pass keeps the weak pattern score and a context word (운전면허, 면허번호 ...) must lift it.
    """

    def validate_result(self, pattern_text: str) -> bool | None:
        return None if super().validate_result(pattern_text) else False


class ContextualKrBrnRecognizer(KrBrnRecognizer):
    """Presidio's business-registration-number recogniser; an undashed 10-digit number needs context.

    The checksum passes for one in ten random numbers, so only the dashed AAA-BB-CCCCC form is proven by
    it; a plain 10-digit run keeps its weak score unless 사업자등록번호 or similar is nearby.
    """

    def validate_result(self, pattern_text: str) -> bool | None:
        valid = super().validate_result(pattern_text)
        if valid and "-" not in pattern_text:
            return None
        return valid


class IntlPhoneRecognizer(ClassPatternRecognizer):
    """International (+CC ...) and North-American phone numbers: a regex finds candidates, libphonenumber
    validates them. About 10x cheaper than Presidio's PhoneRecognizer, which runs libphonenumber's matcher
    over the whole text (registered as ``phone_libphonenumber`` for those who want its recall)."""

    PATTERNS = [
        Pattern(
            "International (+CC)",
            r"(?<![\w+])\+[1-9]\d{0,2}[-. ]?(?:\(\d{1,4}\)[-. ]?)?\d{1,4}(?:[-. ]?\d{2,5}){1,4}(?!\d|-\d)",
            0.6,
        ),
        Pattern("North American", r"(?<![\d\-+])(?:\(\d{3}\)\s?|\d{3}[-. ])\d{3}[-. ]\d{4}(?!\d|-\d)", 0.5),
    ]
    CONTEXT = ["phone", "telephone", "tel", "mobile", "cell", "call", "fax", "contact", "전화", "연락처"]

    ENTITY = "PHONE_NUMBER"
    LANGUAGE = "en"

    def __init__(self, *args, default_region: str = "US", **kwargs):
        self.default_region = default_region
        super().__init__(*args, **kwargs)

    def validate_result(self, pattern_text: str) -> bool:
        import phonenumbers

        try:
            number = phonenumbers.parse(pattern_text, self.default_region)
        except phonenumbers.NumberParseException:
            return False
        return phonenumbers.is_valid_number(number)


KOREAN_CONTEXT: dict[str, list[str]] = {
    "kr_rrn": ["주민등록번호", "주민번호", "생년월일"],
    "email": ["이메일", "메일", "전자우편", "e-mail"],
    "credit_card": ["카드", "신용카드", "카드번호", "체크카드"],
    "ip_address": ["아이피", "IP 주소", "접속"],
    "iban": ["계좌", "국제은행계좌번호"],
}
"""Korean context words added to Presidio's English ones (Presidio's Korean recognisers already have them)."""


GATE_START = r"[0-9@:+.\-]"
r"""The characters a gate's match may start with: an ASCII digit or one of ``@ : + . -``.

Gates are written to start there (a letter-first condition such as "two letters, two digits" becomes
``\d(?<=[A-Za-z]{2}\d)\d``) so that :func:`compile_gates` can skip every other character in one fast pass."""


HANGUL_GATE_START = r"[가-힣]"
"""The start of gates for word-framed entities (Korean names): their matches begin with a Hangul syllable.

Such gates are compiled apart from the :data:`GATE_START` ones (see :func:`compile_gates`), so that Korean
text, where nearly every character is Hangul, does not slow the digit-led gates down."""


def compile_gates(gates: list[str], start: str = GATE_START) -> re.Pattern:
    """One regex that matches exactly where one of ``gates`` (each starting with ``start``) does.

    A plain ``a|b|c`` union makes Python's ``re`` try every branch at every character; led by the single
    character class ``start`` (:data:`GATE_START` or :data:`HANGUL_GATE_START`) it jumps from candidate to
    candidate and only there steps back one character to try the branches. The match is that first
    character. ASCII rules, case-sensitive.
    """
    union = "|".join(f"(?:{gate})" for gate in gates)
    return re.compile(rf"{start}(?<=(?={union}).)", re.ASCII)


@dataclass(frozen=True)
class RecognizerSpec:
    """A registered recogniser: a Presidio class (or factory) plus the entity it reports."""

    name: str
    factory: Callable[..., EntityRecognizer]
    entity: str
    description: str
    gate: str | None = None
    """A cheap regex that every match contains, starting with ``gate_start``; None: no cheap test."""
    gate_start: str = GATE_START
    """The character class every match of ``gate`` starts with (:data:`GATE_START` or
    :data:`HANGUL_GATE_START`)."""

    def option_names(self) -> set[str]:
        params = inspect.signature(self.factory).parameters
        fixed = {"self", "supported_language", "name", "context", "patterns", "supported_entity"}
        return {p for p in params if p not in fixed}

    def build(self, language: str, context: list[str] | None = None, options: dict | None = None):
        """Instantiate for one language; ``context`` extends the recogniser's own context words.

        The recogniser carries the spec's ``gate`` as an attribute, read by the PII scanner to skip it.
        """
        options = dict(options or {})
        unknown = set(options) - self.option_names()
        if unknown:
            raise ValueError(
                f"recogniser {self.name!r}: unknown option(s) {sorted(unknown)}; "
                f"allowed: {sorted(self.option_names())}"
            )
        recognizer = self.factory(supported_language=language, name=f"{self.name}_{language}", **options)
        extra = list(KOREAN_CONTEXT.get(self.name, [])) + list(context or [])
        if extra:
            recognizer.context = list(dict.fromkeys([*(recognizer.context or []), *extra]))
        if isinstance(recognizer, PatternRecognizer):
            recognizer.global_regex_flags = REGEX_FLAGS
        recognizer.gate = self.gate
        recognizer.gate_start = self.gate_start
        return recognizer


RECOGNIZERS: dict[str, RecognizerSpec] = {}


def register_recognizer(
    name: str,
    factory: Callable[..., EntityRecognizer],
    entity: str,
    description: str,
    gate: str | None = None,
    gate_start: str = GATE_START,
):
    """Add a recogniser to the registry under ``name`` (the key used in policies/pii_recognizers.yaml).

    ``gate`` is an optional necessary condition: a regex, starting with ``gate_start``, that every
    match contains under ASCII, case-sensitive rules. The scanner asks Presidio for an entity only when a
    gate of one of its recognisers matches the text, and skips texts that match no gate at all.
    """
    if name in RECOGNIZERS:
        raise ValueError(f"recogniser {name!r} is already registered")
    if gate is not None:
        compile_gates([gate], gate_start)  # fail here on a bad regex
    RECOGNIZERS[name] = RecognizerSpec(name, factory, entity, description, gate, gate_start)
    return factory


_HEX = "[0-9A-Fa-f]"
# name, class, entity, description, gate. Each gate is a necessary condition derived from the recogniser's
# patterns (Presidio matches them case-insensitively under ASCII rules, so letters are spelled in both cases)
# and is as selective as a short regex allows: a text is analysed for an entity only if one of its gates
# matches, and most texts match none.
_SPECS = [
    (
        "kr_phone",
        KoreanPhoneRecognizer,
        "PHONE_NUMBER",
        "Korean mobile/landline/+82 numbers",
        r"\d{3}[-. ]?\d{4}",  # every form ends in 3-4 digits, an optional separator, 4 digits
    ),
    (
        "kr_rrn",
        KrRrnRecognizer,
        "KR_RRN",
        "Korean resident registration number (checksum)",
        r"\d{6}-?[1-4]\d{6}",
    ),
    ("kr_frn", KrFrnRecognizer, "KR_FRN", "Korean foreigner registration number", r"\d{6}-?[5-8]\d{6}"),
    (
        "kr_passport",
        KrPassportRecognizer,
        "KR_PASSPORT",
        "Korean passport (needs context)",
        r"\d(?<=[MmSsRrOoDd]\d)\d{2}[A-Za-z0-9]\d{4}",  # M123A4567 or M12345678
    ),
    (
        "kr_driver_license",
        ContextualKrDriverLicenseRecognizer,
        "KR_DRIVER_LICENSE",
        "Korean driver's licence",
        r"\d{2}[- ]?\d{2}[- ]?\d{6}[- ]?\d{2}",
    ),
    (
        "kr_brn",
        ContextualKrBrnRecognizer,
        "KR_BRN",
        "Korean business registration number (checksum)",
        r"\d{3}-\d{2}-\d{5}|\d{10}",
    ),
    (
        "kr_bank_account",
        KoreanBankAccountRecognizer,
        "KR_BANK_ACCOUNT",
        "Korean bank account (needs context)",
        r"\d{3}-\d{2,6}-\d{2}",
    ),
    ("email", OfflineEmailRecognizer, "EMAIL_ADDRESS", "e-mail address, suffix checked offline", "@"),
    (
        "credit_card",
        CreditCardRecognizer,
        "CREDIT_CARD",
        "payment card number (Luhn)",
        r"\d{4}[- ]?\d{3,4}[- ]?\d{3,4}[- ]?\d{3}",
    ),
    (
        "ip_address",
        IpRecognizer,
        "IP_ADDRESS",
        "IPv4 and IPv6 addresses",
        rf"\d\.\d|:{_HEX}{{0,4}}:",  # IPv4; IPv6 has two colons with at most 4 hex digits between
    ),
    (
        "iban",
        IbanRecognizer,
        "IBAN_CODE",
        "IBAN (checksum)",
        r"\d(?<=[A-Za-z]{2}\d)\d[ -]?[A-Za-z0-9]{4}[ -]?[A-Za-z0-9]{4}",  # DE89 3704 0044 ...
    ),
    (
        "phone_intl",
        IntlPhoneRecognizer,
        "PHONE_NUMBER",
        "+CC and North-American numbers",
        r"\+[1-9]|\d{3}[-. ]\d{4}",
    ),
    # libphonenumber also reads non-ASCII digits (０１０, ٠١٠), which no ASCII gate sees: no gate.
    ("phone_libphonenumber", PhoneRecognizer, "PHONE_NUMBER", "Presidio's libphonenumber matcher (slow)"),
    (
        "us_ssn",
        UsSsnRecognizer,
        "US_SSN",
        "US social security number",
        r"\d{5}-\d{4}|\d{3}-\d{6}|\d{3}[- .]?\d{2}[- .]?\d{4}",
    ),
    ("url", UrlRecognizer, "URL", "web addresses", r"\."),
    (
        "mac_address",
        MacAddressRecognizer,
        "MAC_ADDRESS",
        "network MAC addresses",
        rf"[:-]{_HEX}{{2}}[:-]{_HEX}{{2}}[:-]|\.{_HEX}{{4}}\.",  # 00:1A:2B:.. or 0011.2233.4455
    ),
    (
        "crypto_wallet",
        CryptoRecognizer,
        "CRYPTO",
        "bitcoin wallet addresses (1..., 3..., bc1...)",
        r"[13][A-Za-z0-9]{25}",
    ),
]
for _spec in _SPECS:
    register_recognizer(*_spec)
register_recognizer(
    "kr_person_name",
    pii_korean_names.KoreanPersonNameRecognizer,
    "PERSON",
    "Korean person names: surname + given name framed by a title or form label, Kiwi veto",
    pii_korean_names.GATE,
    HANGUL_GATE_START,
)
register_recognizer(
    "kr_address",
    pii_korean_addresses.KoreanAddressRecognizer,
    "KR_ADDRESS",
    "Korean road-name and lot-number addresses, postal codes with a label",
    pii_korean_addresses.GATE,
)
