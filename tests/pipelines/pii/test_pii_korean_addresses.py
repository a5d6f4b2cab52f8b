"""Korean addresses (kr_address), Presidio style: a text and the full address spans expected in it.

Each case is written out by hand: delivery notices, forms, chat, public notices. The recogniser knows only
the 17 province names; towns, roads and buildings here are matched by their shape.
"""

from __future__ import annotations

import pytest

from haetae.pipelines.pii.recognizers.base import GATE_START, compile_gates
from haetae.pipelines.pii.recognizers.korea_addresses import GATE
from haetae.pipelines.pii.scanner import PiiScanner


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return PiiScanner.from_config()


def addresses(scanner: PiiScanner, text: str) -> list[str]:
    return [text[s.start : s.end] for s in scanner.scan(text, "ko") if s.type == "KR_ADDRESS"]


POSITIVE = [
    ("배송지: 서울특별시 강남구 테헤란로 123, 101동 1203호 (역삼동, 래미안아파트)",
     ["서울특별시 강남구 테헤란로 123, 101동 1203호 (역삼동, 래미안아파트)"]),
    ("서울 강남구 테헤란로 123", ["서울 강남구 테헤란로 123"]),
    ("경기도 안양시 동안구 시민대로 71, 무지개마을 506동 1101호", ["경기도 안양시 동안구 시민대로 71, 무지개마을 506동 1101호"]),
    ("대구 달서구 조암로 9 지하 1층 매장", ["대구 달서구 조암로 9 지하 1층"]),
    ("경기도 성남시 분당구 판교역로 235 에이치스퀘어", ["경기도 성남시 분당구 판교역로 235"]),
    ("부산광역시 해운대구 우동 1408-5번지", ["부산광역시 해운대구 우동 1408-5번지"]),
    ("충청남도 공주시 반포면 학봉리 산 12", ["충청남도 공주시 반포면 학봉리 산 12"]),
    ("주소는 중앙로 12입니다", ["중앙로 12"]),
    ("(06236) 서울특별시 강남구 테헤란로 152", ["(06236) 서울특별시 강남구 테헤란로 152"]),
    ("우편번호 06236", ["06236"]),
    ("대구 수성구 달구벌대로 2450, 5층", ["대구 수성구 달구벌대로 2450, 5층"]),
    ("인천광역시 연수구 송도동 24-5", ["인천광역시 연수구 송도동 24-5"]),
    ("제주특별자치도 제주시 첨단로 242", ["제주특별자치도 제주시 첨단로 242"]),
    ("광주 북구 용봉로 77 전남대학교", ["광주 북구 용봉로 77"]),
    ("세종특별자치시 한누리대로 2130", ["세종특별자치시 한누리대로 2130"]),
    ("수원시 영통구 광교중앙로 140", ["수원시 영통구 광교중앙로 140"]),
    ("받는 분 주소: 전라북도 전주시 완산구 효자동2가 123-4", ["전라북도 전주시 완산구 효자동2가 123-4"]),
    ("경상북도 안동시 풍천면 하회리 711", ["경상북도 안동시 풍천면 하회리 711"]),
    ("강원특별자치도 강릉시 경강로 2021번길 17", ["강원특별자치도 강릉시 경강로 2021번길 17"]),
    ("울산 남구 삼산로 274, 3층 302호", ["울산 남구 삼산로 274, 3층 302호"]),
    ("대전광역시 유성구 대학로 99 (궁동)", ["대전광역시 유성구 대학로 99 (궁동)"]),
    ("서울시 마포구 월드컵북로 396 누리꿈스퀘어", ["서울시 마포구 월드컵북로 396"]),
    ("경남 창원시 의창구 중앙대로 151", ["경남 창원시 의창구 중앙대로 151"]),
    ("택배는 경기 고양시 일산동구 중앙로 1275번길 38-10로 보내주세요",
     ["경기 고양시 일산동구 중앙로 1275번길 38-10"]),
    ("충북 청주시 상당구 상당로 155 (우편번호 28542)", ["충북 청주시 상당구 상당로 155 (우편번호 28542)"]),
    ("서울 종로구 세종대로 209 정부서울청사", ["서울 종로구 세종대로 209"]),
    ("전남 순천시 해룡면 향매로 100", ["전남 순천시 해룡면 향매로 100"]),
    ("제 주소는 서울 관악구 신림동 1423-7번지예요", ["서울 관악구 신림동 1423-7번지"]),
    ("서울특별시 송파구 올림픽로35가길 10, 102동 1501호", ["서울특별시 송파구 올림픽로35가길 10, 102동 1501호"]),
    ("경기도 용인시 수지구 풍덕천로 100 수지푸르지오 105동 803호",
     ["경기도 용인시 수지구 풍덕천로 100 수지푸르지오 105동 803호"]),
    ("부산 사하구 낙동대로 550번길 37", ["부산 사하구 낙동대로 550번길 37"]),
    ("전북 군산시 옥구읍 수산리 56-2", ["전북 군산시 옥구읍 수산리 56-2"]),
    ("대구광역시 중구 동성로2가 88-1", ["대구광역시 중구 동성로2가 88-1"]),
    ("우편번호: 13494, 주소: 경기도 성남시 분당구 대왕판교로 660",
     ["13494", "경기도 성남시 분당구 대왕판교로 660"]),
    ("거주지 경북 포항시 남구 지곡로 80에서 5년째 살고 있다", ["경북 포항시 남구 지곡로 80"]),
    ("서울 은평구 진관동 산 45-1", ["서울 은평구 진관동 산 45-1"]),
]

NEGATIVE = [
    "그는 2024년으로 3개월 뒤 떠났다.",
    "제1조 ① 대한민국은 민주공화국이다.",
    "서울에 사는 친구를 만났다.",
    "강남구 일대의 집값이 올랐다.",
    "이 길로 3번 가면 된다.",
    "테헤란로 일대에서 행사가 열렸다.",
    "경부고속도로 3차로에서 사고가 났다.",
    "1호선 2번 출구로 나오세요.",
    "우동 2그릇 주세요.",
    "대한민국 헌법 제10조 모든 국민은 인간으로서의 존엄과 가치를 가진다.",
    "회의는 3층 301호에서 열립니다.",
    "서울 시내 버스 100번이 증차된다.",
    "총 12개 동 1200세대 규모다.",
    "2019년 3월 12일 오후 3시에 만나요.",
    "점수는 100점 만점에 95점이다.",
    "지하 2층 주차장은 만차입니다.",
    "강원도 여행 3일차 일정입니다.",
    "이번 달 매출은 1200만원이다.",
    "모바일로 10분 만에 가입하세요.",
    "대로 100m 앞에서 우회전하세요.",
    "주소창에 입력하세요.",
    "현관 비밀번호 1234를 누르세요.",
]


@pytest.mark.parametrize("text, expected", POSITIVE)
def test_full_addresses_are_one_span(scanner, text, expected):
    assert addresses(scanner, text) == expected


@pytest.mark.parametrize("text", NEGATIVE)
def test_numbers_and_place_names_alone_are_not_addresses(scanner, text):
    assert addresses(scanner, text) == []


def test_a_bare_road_and_number_needs_an_address_word(scanner):
    assert addresses(scanner, "중앙로 12에서 만나요") == []
    assert addresses(scanner, "주소: 중앙로 12") == ["중앙로 12"]


@pytest.mark.parametrize("text", [text for text, _ in POSITIVE])
def test_every_address_passes_the_digit_led_gate(text):
    assert compile_gates([GATE], GATE_START).search(text)
