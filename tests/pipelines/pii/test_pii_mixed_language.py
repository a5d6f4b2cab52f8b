"""Language per stretch of text: English PII in Korean documents and Korean PII in English ones, real scanner.

Each row of the table gives a document, its language, the spans the scanner must report (type, value; offsets
are checked against the value's position in the text) and those it reports with ``mixed_language_spans: false``,
so every row shows what the stretch scan adds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from haetae.pipelines.detectors.script_spans import HANGUL, LATIN, ScriptSpan, may_mix, script_spans
from haetae.pipelines.pii.scanner import PiiConfigError, PiiScanner, load_config

CONSTITUTION = Path(__file__).resolve().parents[3] / "pipelines" / "data" / "legal" / "ko_constitution.txt"
KO_WITH_EN = "회의록입니다. 참석자 명단은 아래와 같습니다.\nContact John at (415) 555-0132, SSN 536-90-4399.\n감사합니다."


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return PiiScanner.from_config()


@pytest.fixture(scope="module")
def single() -> PiiScanner:
    config = load_config()
    return PiiScanner.from_config({**config, "mixed_language_spans": False})


def located(text: str, expected: list[tuple[str, str]]) -> list[tuple[int, int, str]]:
    """(start, end, type) of each expected value, found left to right."""
    out, position = [], 0
    for entity, value in expected:
        start = text.index(value, position)
        out.append((start, start + len(value), entity))
        position = start + len(value)
    return out


@pytest.mark.parametrize(
    "text, language, expected, without",
    [
        # Korean documents with English stretches: us_ssn is an English recogniser
        (KO_WITH_EN, "ko", [("PHONE_NUMBER", "(415) 555-0132"), ("US_SSN", "536-90-4399")],
         [("PHONE_NUMBER", "(415) 555-0132")]),
        ("고객 정보 요약입니다.\nSSN: 536-90-4399\n확인 바랍니다.", "ko", [("US_SSN", "536-90-4399")], []),
        ("홍길동 기자가 보도했다. The reporter's social security number is 536 90 4399. 이상입니다.", "ko",
         [("PERSON", "홍길동"), ("US_SSN", "536 90 4399")], [("PERSON", "홍길동")]),
        ("연락처 목록\nJohn Smith, SSN 536-90-4399\n(415) 555-0132\n김민수 씨 010-1234-5678", "ko",
         [("US_SSN", "536-90-4399"), ("PHONE_NUMBER", "(415) 555-0132"), ("PERSON", "김민수"),
          ("PHONE_NUMBER", "010-1234-5678")],
         [("PHONE_NUMBER", "(415) 555-0132"), ("PERSON", "김민수"), ("PHONE_NUMBER", "010-1234-5678")]),
        # English documents with Korean stretches: kr_person_name and kr_address are Korean recognisers
        ("The applicant filled in the form as follows.\n성명: 김민수, 주소: 서울특별시 강남구 테헤란로 152\nPlease verify.",
         "en", [("PERSON", "김민수"), ("KR_ADDRESS", "서울특별시 강남구 테헤란로 152")], []),
        ("Our Seoul office has moved. 새 주소는 서울특별시 중구 세종대로 110입니다. Call +82 2 1234 5678.", "en",
         [("KR_ADDRESS", "서울특별시 중구 세종대로 110"), ("PHONE_NUMBER", "+82 2 1234 5678")],
         [("PHONE_NUMBER", "+82 2 1234 5678")]),
        ("Quoted from the Korean article: 이순신 기자 lee@example.com. The rest is in English, SSN 536-90-4399.",
         "en", [("EMAIL_ADDRESS", "lee@example.com"), ("US_SSN", "536-90-4399")],
         [("EMAIL_ADDRESS", "lee@example.com"), ("US_SSN", "536-90-4399")]),  # one sentence, mostly Latin
        ("Meeting notes.\n이순신 기자\nNo other names.", "en", [("PERSON", "이순신")], []),
        # neutral stretches and no-PII Korean in English text
        ("I visited 서울 and 부산 last year.", "en", [], []),
        # an English clause inside a Hangul-dominant sentence stays Korean (documented limitation)
        ("자세한 문의는 담당자에게 연락 바라며 SSN 536-90-4399는 별도로 확인합니다.", "ko", [], []),
    ],
)
def test_mixed_language_table(scanner, single, text, language, expected, without):
    spans = scanner.scan(text, language)
    assert [(s.start, s.end, s.type) for s in spans] == located(text, expected)
    assert [(s.type, text[s.start:s.end]) for s in single.scan(text, language)] == without


@pytest.mark.parametrize(
    "text, language",
    [
        ("홍길동(hong@ex.kr)에게 010-1234-5678로, 주민등록번호 900101-1234568, 여권 M123A4567", "ko"),
        ("성명: 김민수\n주소: 서울특별시 강남구 테헤란로 152\n연락처: 010-9876-5432, SSN 536-90-4399", "ko"),
        (CONSTITUTION.read_text(encoding="utf-8")[:20000], "ko"),
        ("Call +44 20 7946 0958 or (212) 555-0123; SSN 536-90-4399; IBAN DE89 3704 0044 0532 0130 00", "en"),
        ("Name: John Smith\nAddress: 1600 Amphitheatre Parkway, Mountain View\nDL D1234567, 536-90-4399", "en"),
        ("900101-1234568 010-1234-5678 192.168.0.1", "ko"),
        ("900101-1234568 010-1234-5678 192.168.0.1", "en"),
    ],
)
def test_uniform_texts_scan_as_before(scanner, single, text, language):
    """A text in its language's script (besides neutral runs) gets exactly the single-language spans."""
    assert scanner.scan(text, language) == single.scan(text, language)


def test_a_whole_text_in_the_other_script_is_one_stretch(scanner, single):
    """An English text tagged Korean is scanned with the English recognisers too (the tag may be wrong)."""
    text = "Call (212) 555-0123; SSN 536-90-4399"
    assert [s.type for s in scanner.scan(text, "ko")] == ["PHONE_NUMBER", "US_SSN"]
    assert [s.type for s in single.scan(text, "ko")] == ["PHONE_NUMBER"]


def test_stretch_spans_are_the_stretch_scanned_alone(scanner):
    """Offsets map back exactly: each English stretch's US_SSN is where scanning that stretch alone puts it."""
    parts = [p for p in script_spans(KO_WITH_EN) if p.script == LATIN]
    assert len(parts) == 1
    part = parts[0]
    alone = [s for s in scanner.scan(KO_WITH_EN[part.start:part.end], "en") if s.type == "US_SSN"]
    found = [s for s in scanner.scan(KO_WITH_EN, "ko") if s.type == "US_SSN"]
    assert [(s.start + part.start, s.end + part.start, s.score) for s in alone] == [
        (s.start, s.end, s.score) for s in found]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", []),
        ("12345 -- 678", []),
        ("한국어 문장이다.", [(0, 9, HANGUL)]),
        ("Only English here.", [(0, 18, LATIN)]),
        ("첫 문장이다. Second sentence. 셋째 문장.", [(0, 8, HANGUL), (8, 25, LATIN), (25, 31, HANGUL)]),
        # a digits-only line joins the stretch before it; leading neutral text joins the first stretch
        ("010-1234\nJohn Smith here\n(415) 555-0132\n다시 한국어", [(0, 40, LATIN), (40, 46, HANGUL)]),
        ("Go to 서울 now", [(0, 12, LATIN)]),  # two Hangul of 9 letters: under 30 %
        ("서울시 Gangnam-gu office", [(0, 21, LATIN)]),  # 3 of 17 letters are Hangul
        ("서울시 강남구 Gangnam office", [(0, 22, HANGUL)]),  # 6 of 19: over 30 %, as langid labels documents
    ],
)
def test_script_spans(text, expected):
    got = [(p.start, p.end, p.script) for p in script_spans(text)]
    assert got == expected
    if got:
        assert got[0][0] == 0 and got[-1][1] == len(text)
        assert all(a[1] == b[0] for a, b in zip(got, got[1:], strict=False))


def test_may_mix_is_a_necessary_condition():
    assert not may_mix("All English, 123.", HANGUL) and may_mix("English 한", HANGUL)
    assert not may_mix("한국어 a 123", LATIN) and may_mix("한국어 ab", LATIN)
    assert script_spans("한국어 a 123") == [ScriptSpan(0, 9, HANGUL)]


def test_mixed_language_spans_is_validated_and_switches():
    config = load_config()
    with pytest.raises(PiiConfigError, match=r"^PII config: mixed_language_spans: must be true/false, got str$"):
        load_config({**config, "mixed_language_spans": "yes"})
    with pytest.raises(PiiConfigError, match=r"mixed_language_spans: must be true/false, got int"):
        load_config({**config, "mixed_language_spans": 1})
    assert load_config()["mixed_language_spans"] is True
    assert PiiScanner.from_config({**config, "mixed_language_spans": False})._span_scans == {}
