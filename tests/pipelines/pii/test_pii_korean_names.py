"""Korean person names (kr_person_name), Presidio style: a text and the names expected in it.

Every case is written out by hand: news bylines, forms, chat, delivery notices, court judgements. The
names are invented; the recogniser has no list of given names to draw them from.
"""

from __future__ import annotations

import pytest

from haetae.pipelines.pii.scanner import PiiScanner, load_config


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return PiiScanner.from_config()


def names(scanner: PiiScanner, text: str) -> list[str]:
    return [text[s.start : s.end] for s in scanner.scan(text, "ko") if s.type == "PERSON"]


POSITIVE = [
    ("(서울=연합뉴스) 홍길동 기자 = 정부는 오늘 새 대책을 발표했다.", ["홍길동"]),
    ("(부산=뉴스1) 윤채린 기자 = 부산시는 3일 해수욕장을 개장한다고 밝혔다.", ["윤채린"]),
    ("김서윤 씨는 어제 병원에 다녀왔다고 말했다.", ["김서윤"]),
    ("성명: 제갈도휘", ["제갈도휘"]),
    ("보호자 남궁혜린 (010-1234-5678)", ["남궁혜린"]),
    ("피고인 김○○은 2023년 3월 범행을 저질렀다.", ["김○○"]),
    ("참석자: 곽태민, 표서아, 변주원", ["곽태민", "표서아", "변주원"]),
    ("황보민채님 안녕하세요. 황보민채님의 주문이 접수되었습니다.", ["황보민채", "황보민채"]),
    ("김영희·박철수 기자", ["김영희", "박철수"]),
    ("수령인: 선우진하 / 연락처 010-2222-3333", ["선우진하"]),
    ("담당자 독고준혁 과장에게 문의하세요.", ["독고준혁"]),
    ("사공은결 교수는 이번 연구에서 새 물질을 찾았다.", ["사공은결"]),
    ("서문하영 원장님께서 직접 진료하셨다.", ["서문하영"]),
    ("정희수 의원은 국회에서 질의했다.", ["정희수"]),
    ("민도현 대표는 투자 유치를 발표했다.", ["민도현"]),
    ("고객 안세라님의 배송이 시작되었습니다.", ["안세라"]),
    ("원고 이준서, 피고 박하늘", ["이준서", "박하늘"]),
    ("피해자 최○○(42)는 경찰에 신고했다.", ["최○○"]),
    ("증인 송모 씨는 법정에서 진술했다.", ["송모"]),
    ("김 모 씨(35)가 체포되었다.", ["김 모"]),
    ("예금주: 문지우", ["문지우"]),
    ("작성자 : 노은호", ["노은호"]),
    ("배소연 간호사가 환자를 돌봤다.", ["배소연"]),
    ("글·사진 임하진", ["임하진"]),
    ("어제 류시온 선수가 결승골을 넣었다.", ["류시온"]),
    ("환자명: 지다온, 나이: 7세", ["지다온"]),
    ("이름 : 하예준 / 학번 2021", ["하예준"]),
    ("현서진 작가의 신작이 출간됐다.", ["현서진"]),
    ("탁윤슬 선생님께 감사드립니다.", ["탁윤슬"]),
    ("받는 분: 엄태오 님", ["엄태오"]),
    ("신청인 성가온은 다음과 같이 신청합니다.", ["성가온"]),
    ("변호인 석지율 변호사는 무죄를 주장했다.", ["석지율"]),
    ("진하람 경위는 현장에 출동했다.", ["진하람"]),
    ("대표이사 채윤후", ["채윤후"]),
    ('[인터뷰] 도예린 감독 "이번 작품은 가족 이야기"', ["도예린"]),
    ("구하은 씨는 한참을 망설였다. 구하은은 결국 웃었다.", ["구하은", "구하은"]),
    ("ㅋㅋ 천소율님 오늘 오세요?", ["천소율"]),
    ("윤재이 씨가 먼저 도착했다.", ["윤재이"]),  # Kiwi: proper noun 재이-like + the name suffix 이
    ("도하늘·곽태경 기자", ["도하늘", "곽태경"]),  # listed names Kiwi splits oddly (곽/태/경) stand
    ("참석자: 하서윤, 백승완", ["하서윤", "백승완"]),
    ("피보험자 주다온, 건강보험증 번호 확인", ["주다온"]),
    ("민원인 길태호 (연락처 별도)", ["길태호"]),
    ("수령인 순지호, 배송지 서울 중구", ["순지호"]),  # a form's next field is no listed name
    ("Name: 천다올, Korean passport R433R0432", ["천다올"]),  # English label of a bilingual form
    ("Name 김하람, 이서준", ["김하람", "이서준"]),
    ("Username: 천다올", []),  # not the label Name
    ("피고인 홍○동에 대하여 징역 1년을 선고한다.", ["홍○동"]),
]

NEGATIVE = [
    "정부 대표단이 도착했다.",
    "이번 조사 신청은 마감되었다.",
    "이사회 의장이 말했다.",
    "조카님 안녕하세요",
    "한국 대표 선수단이 입국했다.",
    "서울시 의원들이 모였다.",
    "고객님, 주문하신 상품이 발송되었습니다.",
    "선생님께서 숙제를 내주셨다.",
    "부모님께 안부 전해 주세요.",
    "사장님이 오늘 출근하셨다.",
    "민주당 대표가 기자회견을 열었다.",
    "국방부 장관이 방문했다.",
    "제1조 ① 대한민국은 민주공화국이다.",
    "정보 담당자에게 연락하세요.",
    "이상 기자였습니다.",
    "이번 주 고객 만족도 조사 결과입니다.",
    "신청인 본인이 직접 방문해야 합니다.",
    "하느님의 은총이 함께하기를.",
    "공사 현장 소장님이 안전 교육을 했다.",
    "강남 고객센터로 문의하세요.",
    "우리 선수들이 이겼다.",
    "성명서를 발표했다.",
    "전국 시장 상인회가 열렸다.",
    "Mr. Kim said hello to the reporters.",
    "이름이 뭐예요?",
    "방송 기자 출신 정치인이 늘었다.",
    "오늘 회원 가입하시면 할인됩니다.",
]


@pytest.mark.parametrize("text, expected", POSITIVE)
def test_names_framed_by_a_title_or_label_are_found(scanner, text, expected):
    assert names(scanner, text) == expected


@pytest.mark.parametrize("text", NEGATIVE)
def test_common_nouns_and_bare_titles_are_not_names(scanner, text):
    assert names(scanner, text) == []


def test_a_surname_initial_word_without_a_cue_is_not_reported(scanner):
    assert names(scanner, "김서윤 어제 병원에 다녀왔다.") == []
    assert names(scanner, "김서윤 씨가 어제 병원에 다녀왔다.") == ["김서윤"]


def test_names_are_korean_only(scanner):
    """The recogniser is registered for Korean; the English set does not run it (with mixed_language_spans, the
    default, a Hangul stretch of an English text does)."""
    assert "kr_person_name_en" not in {r.name for r in scanner.analyzer.registry.recognizers}
    single = PiiScanner.from_config({**load_config(), "mixed_language_spans": False})
    assert [s for s in single.scan("홍길동 기자 = 서울", "en") if s.type == "PERSON"] == []
    assert [s.type for s in scanner.scan("홍길동 기자 = 서울", "en")] == ["PERSON"]
