"""Korean postal addresses as a Presidio recogniser: 도로명 and 지번 forms, whole address as one span.

A Korean address is a sequence of administrative units, largest first, ending in a number: 시/도 (서울특별시,
경기도, abbreviated 서울, 경기), 시/군/구 (성남시 분당구), optionally 읍/면/동/리, then either a road name ending in
로/길 with a building number (테헤란로 123, 올림픽로35가길 10) or a lot number (역삼동 123-45번지, 산 12), then
details (101동 1203호, 3층) and a parenthesised note (역삼동, 래미안아파트); a postal code (5 digits) may lead
or follow. The recogniser matches that sequence in one regex, so the span is the full address and not its
fragments, and scores it by how much of the frame is present: a province or city plus a number is an address;
a bare road name and number ("중앙로 12") needs a context word (주소, 배송지 ...) to pass the threshold.
The 17 province names are a closed administrative list; no gazetteer of streets or towns is used.
"""

from __future__ import annotations

import re

from haetae.offline import import_presidio  # isort: split

import_presidio()

from presidio_analyzer import EntityRecognizer, RecognizerResult

from haetae.pipelines.pii.recognizers.base import register

SP = r"[ \t\u00a0\u3000]"
PROVINCES = (
    "서울특별시", "서울시", "서울", "부산광역시", "부산시", "부산", "대구광역시", "대구시", "대구", "인천광역시",
    "인천시", "인천", "광주광역시", "광주시", "광주", "대전광역시", "대전시", "대전", "울산광역시", "울산시", "울산",
    "세종특별자치시", "세종시", "세종", "경기도", "경기", "강원특별자치도", "강원도", "강원", "충청북도", "충북",
    "충청남도", "충남", "전북특별자치도", "전라북도", "전북", "전라남도", "전남", "경상북도", "경북", "경상남도",
    "경남", "제주특별자치도", "제주도", "제주",
)
_PROVINCE = "(?:" + "|".join(sorted(PROVINCES, key=len, reverse=True)) + ")"
_CITY = r"[가-힣]{1,5}(?:시|군|구)"
_TOWN = r"[가-힣][가-힣0-9]{0,5}(?:읍|면|동|가)"
_VILLAGE = r"[가-힣][가-힣0-9]{0,4}리"
_NOT_PARTICLE = r"(?<!으로)(?<!에로)(?<!로로)"
_ROAD = rf"[가-힣][가-힣0-9·.]{{0,10}}(?:로|길){_NOT_PARTICLE}(?:{SP}?[0-9]{{1,4}}(?:번)?(?:가)?길)?"
_NUMBER_END = r"(?![0-9]|[-.][0-9]|가|개|명|번째|년|월|일|시|분|초|회|차|%|위|원|세|살|km|m\b|대|권|건|점|배)"
_BUILDING = rf"(?:지하{SP}?)?[0-9]{{1,5}}(?:-[0-9]{{1,5}})?(?:번지|번)?{_NUMBER_END}"
_LOT = rf"(?:산{SP}?)?[0-9]{{1,5}}(?:-[0-9]{{1,5}})?(?:{SP}?번지)?{_NUMBER_END}"
_COMPLEX = r"[가-힣A-Za-z0-9]{1,15}(?:아파트|빌라|빌딩|타워|오피스텔|맨션|주택|하이츠|캐슬|자이|래미안|푸르지오|힐스테이트|센터|상가|프라자|플라자|마을|단지)"
_DETAIL = (
    rf"(?:,?{SP}?(?:{_COMPLEX}{SP}?)?(?:[0-9]{{1,4}}동{SP}?)?[0-9]{{1,5}}호|,?{SP}?(?:지하{SP}?)?[0-9]{{1,3}}층(?:{SP}?[0-9]{{1,5}}호)?"
    rf"|,?{SP}?{_COMPLEX}(?:{SP}?[0-9]{{1,4}}동)?(?:{SP}?[0-9]{{1,5}}호)?)"
)
_PAREN = rf"(?:{SP}?\([^()\n]{{1,40}}\))"
_POSTAL = r"(?:[(\[][0-9]{5}[)\]]|[0-9]{5})"
_POSTAL_LABEL = r"(?:우편번호|우\)|\(우\))"

ADDRESS = re.compile(
    rf"(?<![가-힣0-9])(?P<postal>{_POSTAL}{SP}?)?"
    rf"(?P<province>{_PROVINCE}{SP}+)?(?P<city>(?:{_CITY}{SP}+){{1,2}})?"
    rf"(?:(?P<road>(?:{_TOWN}{SP}+|{_VILLAGE}{SP}+){{0,2}}{_ROAD}){SP}?{_BUILDING}"
    rf"|(?P<lot>(?:{_TOWN}{SP}?|{_VILLAGE}{SP}?){{1,2}}){_LOT})"
    rf"(?:{_DETAIL}){{0,3}}{_PAREN}?(?P<tail_postal>{SP}?{_POSTAL_LABEL}?{SP}?:?{SP}?{_POSTAL}(?![0-9]))?"
)
POSTAL_CODE = re.compile(rf"{_POSTAL_LABEL}{SP}?:?{SP}?(?P<code>[0-9]{{5}})(?![0-9])")

_UNIT_END = "[로길동리가면읍산]"
_GATE_SPACE = "[ \t\u00a0\u3000]"
GATE = "|".join(
    rf"[0-9](?<={before}[0-9])"
    for before in (_UNIT_END, _UNIT_END + _GATE_SPACE, "지하", "하" + _GATE_SPACE)
    + tuple(label + colon for label in ("호", r"우\)") for colon in
            ("", _GATE_SPACE, ":", ":" + _GATE_SPACE, _GATE_SPACE + ":", _GATE_SPACE + ":" + _GATE_SPACE))
)
"""A necessary condition for every match, starting with a digit: a road, town or lot unit glued to (or one space
before) its number, or a postal-code label before its code. 2024년 or 제1조 do not pass it."""


@register
class KoreanAddressRecognizer(EntityRecognizer):
    """Korean addresses (도로명, 지번, abbreviated) and labelled postal codes; entity KR_ADDRESS."""

    NAME = "kr_address"
    ENTITY = "KR_ADDRESS"
    DESCRIPTION = "Korean road-name and lot-number addresses, postal codes with a label"
    GATE = GATE

    FULL_SCORE = 0.85
    """A province and a city/district, then a road or lot number."""
    PARTIAL_SCORE = 0.6
    """A city/district (or a province) then a number: "강남구 테헤란로 123", "서울 역삼동 12-3"."""
    BARE_SCORE = 0.3
    """A road or town name and a number only: below the threshold without a context word."""
    POSTAL_SCORE = 0.3
    """A postal code after its label, alone: needs an address context word too."""

    CONTEXT = ["주소", "배송지", "거주", "소재지", "주소지", "자택", "도로명", "지번", "배달", "택배", "사는", "살고",
               "우편번호", "address"]

    def __init__(self, supported_language: str = "ko", supported_entity: str = "KR_ADDRESS",
                 name: str | None = None, context: list[str] | None = None):
        super().__init__(supported_entities=[supported_entity], supported_language=supported_language, name=name,
                         context=context or list(self.CONTEXT))

    def load(self) -> None:
        """Nothing to load: the recogniser is one regex."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        if entities and self.supported_entities[0] not in entities:
            return []
        spans: list[tuple[int, int, float]] = []
        for match in ADDRESS.finditer(text):
            end = match.end()
            while end > match.start() and text[end - 1] in " \t,":
                end -= 1
            spans.append((match.start(), end, self._score(match)))
        for match in POSTAL_CODE.finditer(text):
            start, end = match.span("code")
            if not any(s <= start and end <= e for s, e, _ in spans):
                spans.append((start, end, self.POSTAL_SCORE))
        entity = self.supported_entities[0]
        metadata = {RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}
        return [RecognizerResult(entity, s, e, score, recognition_metadata=dict(metadata)) for s, e, score in spans]

    def _score(self, match: re.Match) -> float:
        if match.group("province") and match.group("city"):
            return self.FULL_SCORE
        if match.group("province") or match.group("city"):
            return self.PARTIAL_SCORE
        return self.BARE_SCORE
