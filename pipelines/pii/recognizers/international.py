"""Recognisers of identifiers that are not Korean: +CC phones, payment cards, e-mail, IP, IBAN,
US SSN, URLs, MAC addresses and crypto wallets (Presidio's classes where they serve, with
gates and offline set-up added)."""

from __future__ import annotations

import functools

from haetae.offline import import_presidio  # isort: split

import_presidio()  # before Presidio: skip its unused transformers/torch imports

from presidio_analyzer import Pattern
from presidio_analyzer.predefined_recognizers import (
    CryptoRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    MacAddressRecognizer,
    PhoneRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
)

from haetae.pipelines.pii.recognizers.base import (
    _HEX,
    ClassPatternRecognizer,
    _digits,
    register,
)


@register
class IntlPhoneRecognizer(ClassPatternRecognizer):
    """International (+CC ...) and North-American phone numbers: a regex finds candidates, libphonenumber
    validates them. About 10x cheaper than Presidio's PhoneRecognizer, which runs libphonenumber's matcher
    over the whole text (registered as ``phone_libphonenumber`` for those who want its recall).

    After the country code the groups may have any length from one digit ("+33 1 42 68 53 00",
    "+30 21 0 1234567"); each group after the first needs a separator, which keeps the regex linear."""

    NAME = "phone_intl"
    ENTITY = "PHONE_NUMBER"
    DESCRIPTION = "+CC and North-American numbers, validated by libphonenumber"
    LANGUAGE = "en"
    LANGUAGE_NEUTRAL = True
    PATTERNS = [
        Pattern(
            "International (+CC)",
            r"(?<![\w+])\+[1-9]\d{0,2}(?:[-. ]?\(\d{1,4}\))?[-. ]?\d{1,12}(?:[-. ]\d{1,8}){0,6}(?!\d|[-.]\d)",
            0.6,
        ),
        Pattern("North American", r"(?<![\d\-+])(?:\(\d{3}\)\s?|\d{3}[-. ])\d{3}[-. ]\d{4}(?!\d|-\d)", 0.5),
    ]
    GATE = r"\+[1-9]|\d{3}[-. ]\d{4}"
    CONTEXT = ["phone", "telephone", "tel", "mobile", "cell", "call", "fax", "contact", "전화", "연락처", "휴대폰"]

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


@register
class LibPhoneNumberRecognizer(PhoneRecognizer):
    """Presidio's libphonenumber matcher (national formats of the configured regions; slow). libphonenumber
    also reads non-ASCII digits (０１０, ٠١٠), which no ASCII gate sees: no gate."""

    NAME = "phone_libphonenumber"
    ENTITY = "PHONE_NUMBER"
    DESCRIPTION = "Presidio's libphonenumber matcher (slow)"
    GATE = None


# ---------------------------------------------------------------------------------------------- generic


@register
class PaymentCardRecognizer(ClassPatternRecognizer):
    """Payment cards of every common brand and grouping, proven by the Luhn checksum and the brand's prefix.

    Groupings: 4-4-4-4 (most brands), 4-4-4-4-3 (19 digits), 4-6-5 (American Express), 4-6-4 (Diners), with
    one separator kind ('-' or ' ') throughout, or 13-19 digits run together. The number must start like a
    real brand for its length (:meth:`brand`): Visa, Mastercard (51-55 and 2221-2720), Amex, Diners, Discover,
    JCB, UnionPay, Maestro, Mir, UATP and the Korean domestic 9-series (BC and others); a Luhn pass with any
    other start, or a single repeated digit, is no card.
    """

    NAME = "credit_card"
    ENTITY = "CREDIT_CARD"
    DESCRIPTION = "payment card number (Luhn and brand prefix)"
    LANGUAGE = "en"
    LANGUAGE_NEUTRAL = True
    PATTERNS = [
        Pattern("card 4-4-4-4(-3)", r"(?<!\d)\d{4}([- ])\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?(?!\d|\1\d)", 0.3),
        Pattern("card 4-6-5 / 4-6-4", r"(?<!\d)\d{4}([- ])\d{6}\1\d{4,5}(?!\d|\1\d)", 0.3),
        Pattern("card, digits only", r"(?<!\d)\d{13,19}(?!\d)", 0.3),
    ]
    GATE = r"\d{4}[- ]?\d{4}"
    CONTEXT = ["credit", "card", "visa", "mastercard", "amex", "discover", "jcb", "diners", "maestro", "unionpay",
               "카드", "신용카드", "카드번호", "체크카드", "결제"]

    @staticmethod
    def brand(digits: str) -> str | None:
        """The card brand that issues numbers of this length with this prefix, or None."""
        n, p2, p3, p4, p6 = len(digits), int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
        rules = (
            ("visa", digits[0] == "4", (13, 16, 19)),
            ("mastercard", 51 <= p2 <= 55 or 2221 <= p4 <= 2720, (16,)),
            ("amex", p2 in (34, 37), (15,)),
            ("diners", 300 <= p3 <= 305 or p3 == 309 or p2 in (36, 38, 39), (14, 16, 17, 18, 19)),
            ("discover", p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925, (16, 17, 18, 19)),
            ("jcb", 3528 <= p4 <= 3589, (16, 17, 18, 19)),
            ("jcb15", p4 in (2131, 1800), (15,)),
            ("unionpay", p2 in (62, 81), (16, 17, 18, 19)),
            ("maestro", p2 == 50 or 56 <= p2 <= 69, (16, 17, 18, 19)),  # 12-15 digit Maestro cards: rare, and
            # the shape of many bank accounts and order numbers
            ("mir", 2200 <= p4 <= 2204, (16, 17, 18, 19)),
            ("uatp", digits[0] == "1", (15,)),
            ("kr_domestic", digits[0] == "9", (16,)),
        )
        return next((name for name, prefix, lengths in rules if prefix and n in lengths), None)

    @staticmethod
    def luhn(digits: str) -> bool:
        total = 0
        for i, ch in enumerate(reversed(digits)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        return total % 10 == 0

    def validate_result(self, pattern_text: str) -> bool:
        digits = _digits(pattern_text)
        return (13 <= len(digits) <= 19 and len(set(digits)) > 1 and self.luhn(digits)
                and self.brand(digits) is not None)


@functools.lru_cache(maxsize=1)
def offline_tld_extractor():
    """A tldextract extractor that only uses the public-suffix snapshot bundled with tldextract.

    No suffix-list URL and no disk cache, so it never touches the network or the user's cache directory.
    """
    import tldextract

    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


@register
class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recogniser, validating the domain suffix against the bundled public-suffix list."""

    NAME = "email"
    ENTITY = "EMAIL_ADDRESS"
    DESCRIPTION = "e-mail address, suffix checked offline"
    LANGUAGE_NEUTRAL = True
    GATE = "@"
    EXTRA_CONTEXT = ["이메일", "메일", "전자우편", "e-mail"]

    def validate_result(self, pattern_text: str) -> bool:
        domain = pattern_text.rsplit("@", 1)[-1]
        result = offline_tld_extractor()(domain)
        return bool(result.suffix) and bool(result.domain)


@register
class IpAddressRecognizer(IpRecognizer):
    """Presidio's IPv4/IPv6 recogniser."""

    NAME = "ip_address"
    ENTITY = "IP_ADDRESS"
    DESCRIPTION = "IPv4 and IPv6 addresses"
    LANGUAGE_NEUTRAL = True
    GATE = rf"\d\.\d|:{_HEX}{{0,4}}:"  # IPv4; IPv6 has two colons with at most 4 hex digits between
    EXTRA_CONTEXT = ["아이피", "IP 주소", "접속"]


@register
class IbanCodeRecognizer(IbanRecognizer):
    """Presidio's IBAN recogniser (checksum)."""

    NAME = "iban"
    ENTITY = "IBAN_CODE"
    DESCRIPTION = "IBAN (checksum)"
    LANGUAGE_NEUTRAL = True
    GATE = r"\d(?<=[A-Za-z]{2}\d)\d[ -]?[A-Za-z0-9]{4}[ -]?[A-Za-z0-9]{4}"  # DE89 3704 0044 ...
    EXTRA_CONTEXT = ["계좌", "국제은행계좌번호"]


@register
class SsnRecognizer(UsSsnRecognizer):
    """Presidio's US social security number recogniser."""

    NAME = "us_ssn"
    ENTITY = "US_SSN"
    DESCRIPTION = "US social security number"
    GATE = r"\d{5}-\d{4}|\d{3}-\d{6}|\d{3}[- .]?\d{2}[- .]?\d{4}"


@register
class WebUrlRecognizer(UrlRecognizer):
    """Presidio's URL recogniser."""

    NAME = "url"
    ENTITY = "URL"
    DESCRIPTION = "web addresses"
    LANGUAGE_NEUTRAL = True
    GATE = r"\."


@register
class MacRecognizer(MacAddressRecognizer):
    """Presidio's MAC address recogniser."""

    NAME = "mac_address"
    ENTITY = "MAC_ADDRESS"
    DESCRIPTION = "network MAC addresses"
    LANGUAGE_NEUTRAL = True
    GATE = rf"[:-]{_HEX}{{2}}[:-]{_HEX}{{2}}[:-]|\.{_HEX}{{4}}\."  # 00:1A:2B:.. or 0011.2233.4455


@register
class CryptoWalletRecognizer(CryptoRecognizer):
    """Presidio's bitcoin wallet recogniser."""

    NAME = "crypto_wallet"
    ENTITY = "CRYPTO"
    DESCRIPTION = "bitcoin wallet addresses (1..., 3..., bc1...)"
    LANGUAGE_NEUTRAL = True
    GATE = r"[13][A-Za-z0-9]{25}"
