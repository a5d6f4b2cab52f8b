"""find_copyright on real-shaped notices (software headers, Korean news footers, bylines); holders invented."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest

from haetae.pipelines.rights.copyright import (
    KINDS,
    Notice,
    find_copyright,
    holders,
    is_organisation,
    notice_holders,
    personal_names,
    public_holders,
)

DATA = Path(__file__).resolve().parents[3] / "pipelines" / "data" / "legal"


def _kinds_holders(text: str) -> list[tuple[str, str | None]]:
    return [(n.kind, n.holder) for n in find_copyright(text)]


NOTICES = [
    # software headers
    ("Copyright (c) 2019-2023 Jane Doe", [("copyright", "Jane Doe")]),
    ("Copyright (C) 1991, 1999 Example Freedom Foundation, Inc.",
     [("copyright", "Example Freedom Foundation, Inc.")]),
    ("# Copyright (c) 2020 Jane Doe <jane@example.com>", [("copyright", "Jane Doe")]),
    ("Copyright © 2024 Acme Widgets Ltd. All rights reserved.",
     [("copyright", "Acme Widgets Ltd."), ("all_rights_reserved", "Acme Widgets Ltd.")]),
    ("(c) Copyright 2015 by Dana Roe", [("copyright", "Dana Roe")]),
    ("Copyright 2018 Dana Roe. Permission is hereby granted, free of charge, to any person",
     [("copyright", "Dana Roe")]),
    ("Copyright (c) 2003 Mira K. Tanaka", [("copyright", "Mira K. Tanaka")]),
    ("Copyright (c) 2024 to present, Ola Brandt", [("copyright", "Ola Brandt")]),
    ("Copyright (c) 2015, Northwind Analytics, Inc. and contributors",
     [("copyright", "Northwind Analytics, Inc. and contributors")]),
    ("Copyright Jane Doe 2020", [("copyright", "Jane Doe")]),
    ("Copyright 2020", [("copyright", None)]),
    ("SPDX-FileCopyrightText: 2022 Jane Doe <jane@example.org>", [("copyright", "Jane Doe")]),
    ("/* Copyright 2001-2004 The Example Software Foundation */",
     [("copyright", "The Example Software Foundation")]),
    ("© 2023 The Authors, some rights reserved", [("copyright", "The Authors")]),
    ("ALL RIGHTS RESERVED", [("all_rights_reserved", None)]),
    # Korean news footers
    ("© 2024 가람일보", [("copyright", "가람일보")]),
    ("ⓒ 동해신문사", [("copyright", "동해신문사")]),
    ("ⓒ 동해신문사 무단전재 및 재배포 금지", [("copyright", "동해신문사"), ("no_redistribution", "동해신문사")]),
    ("<저작권자 ⓒ 가람뉴스, 무단 전재-재배포 금지>", [("copyright", "가람뉴스"), ("no_redistribution", "가람뉴스")]),
    ("[저작권자ⓒ 푸른하늘일보. 무단전재-재배포, AI학습 및 활용 금지]",
     [("copyright", "푸른하늘일보"), ("no_redistribution", "푸른하늘일보"),
      ("ai_training_reserved", "푸른하늘일보")]),
    ("저작권자 © 한빛경제 무단전재 및 재배포금지", [("copyright", "한빛경제"), ("no_redistribution", "한빛경제")]),
    ("Copyright ⓒ 한빛경제 All rights reserved.", [("copyright", "한빛경제"), ("all_rights_reserved", "한빛경제")]),
    ("이 기사의 저작권은 동해신문사에 있습니다.", [("copyright", "동해신문사")]),
    ("무단 전재 및 재배포 금지", [("no_redistribution", None)]),
    ("이 기사는 재배포 금지입니다", [("no_redistribution", None)]),
    ("본 기사는 인공지능 학습에 이용을 금지합니다", [("ai_training_reserved", None)]),
    ("판권 소유", [("all_rights_reserved", None)]),
    # English reservations against AI training
    ("This content may not be used to train AI models.", [("ai_training_reserved", None)]),
    ("The rightsholder expressly reserves text and data mining rights.", [("ai_training_reserved", None)]),
    # bylines and datelines
    ("(서울=가람뉴스) 홍길동 기자 = 정부가 오늘 발표했다.", [("dateline", "가람뉴스"), ("byline", "홍길동")]),
    ("홍길동 기자 gildong@example.co.kr", [("byline", "홍길동")]),
    ("남궁민수·김영희 기자 (minsu@example.kr)", [("byline", "남궁민수, 김영희")]),
    ("[홍길동 기자]", [("byline", "홍길동")]),
    ("【세종=동해신문】 정부세종청사에서", [("dateline", "동해신문")]),
    ("워싱턴 홍길동 특파원 = 미국 정부는", [("byline", "홍길동")]),
    ("글·사진 윤슬기 기자", [("byline", "윤슬기")]),
    ("정부는 오늘 오후 대책을 내놓았다.\n박서연 기자\n", [("byline", "박서연")]),
]


@pytest.mark.parametrize("text, expected", NOTICES)
def test_notices(text: str, expected: list[tuple[str, str | None]]) -> None:
    assert _kinds_holders(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "the copyright holders and contributors",
        "This Act may be cited as the Copyright Act.",
        "items (a), (b) and (c) the third one",
        "ⓐ 첫째 ⓑ 둘째 ⓒ 셋째",
        "홍길동 기자는 이렇게 말했다.",
        "정부는 기자회견에서 입장을 밝혔다.",
        "많은 기자들이 현장에 있었다.",
        "저작권 보호 기간은 사후 70년이다.",
        "문의: help@example.com",
        "x = (a=b)",
        "",
    ],
)
def test_no_notice(text: str) -> None:
    assert find_copyright(text) == []


def test_spans_and_email() -> None:
    text = "정치부\n홍길동 기자 gildong@example.co.kr\nⓒ 가람일보, 무단 전재 및 재배포 금지"
    notices = find_copyright(text)
    assert [n.kind for n in notices] == ["byline", "copyright", "no_redistribution"]
    byline, notice, footer = notices
    assert byline.email == "gildong@example.co.kr"
    assert text[slice(*byline.span)] == "홍길동 기자 gildong@example.co.kr"
    assert text[slice(*notice.span)] == "ⓒ 가람일보"
    assert text[slice(*footer.span)] == "무단 전재 및 재배포 금지"
    assert all(isinstance(n, Notice) and n.kind in KINDS for n in notices)
    assert holders(notices) == ["가람일보"]


def test_holder_line_scope() -> None:
    """A footer takes the holder of its own line only."""
    text = "Copyright 2021 Jane Doe\n\n무단 전재 금지"
    assert _kinds_holders(text) == [("copyright", "Jane Doe"), ("no_redistribution", None)]


def test_surnames_match_the_name_recogniser() -> None:
    from haetae.pipelines.pii.recognizers import korea_names as pii_korean_names
    from haetae.pipelines.rights import copyright

    assert copyright.SINGLE_SURNAMES == pii_korean_names.SINGLE_SURNAMES
    assert copyright.DOUBLE_SURNAMES == pii_korean_names.DOUBLE_SURNAMES


def test_public_legal_text_has_no_notice() -> None:
    """The bundled Constitution and bills (public legal text, ~65k characters) carry no notice."""
    text = "\n".join(Path(p).read_text(encoding="utf-8") for p in sorted(glob.glob(str(DATA / "**" / "*.txt"),
                                                                                 recursive=True)))
    assert len(text) > 10_000
    assert find_copyright(text) == []


@pytest.mark.parametrize("text, _", NOTICES)
def test_notice_holders_is_holders_of_find_copyright(text, _) -> None:
    """The audit's cheaper path (no bylines, gated) gives the same holders."""
    assert notice_holders(text) == holders(find_copyright(text))


@pytest.mark.parametrize("holder, organisation", [
    ("Example Freedom Foundation, Inc.", True), ("Acme Widgets Ltd.", True), ("The Example Software Foundation", True),
    ("Northwind Analytics, Inc. and contributors", True), ("가람일보", True), ("동해신문사", True), ("가람뉴스", True),
    ("한빛방송", True), ("(주)가람소프트", True), ("example.co.kr", True), ("KBS", True),
    ("Jane Doe", False), ("Mira K. Tanaka", False), ("Dana Roe", False), ("홍길동", False), ("김민지", False),
])
def test_is_organisation(holder: str, organisation: bool) -> None:
    assert is_organisation(holder) is organisation


def test_personal_names_for_masking() -> None:
    text = ("(서울=가람뉴스) 홍길동 기자 = 본문입니다.\nCopyright (c) 2021 Jane Doe\n<저작권자 ⓒ 가람뉴스, 무단 전재 금지>")
    assert public_holders(notice_holders(text)) == ["가람뉴스", "<HOLDER>"]
    assert personal_names(text) == ["Jane Doe", "홍길동"]
