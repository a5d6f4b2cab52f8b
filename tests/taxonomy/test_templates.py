"""Templates in six languages: complete, fields valid, Korean particles, reversible obfuscation."""

from __future__ import annotations

import base64
import re

import pytest

from haetae.taxonomy.items import ItemConfig, build_items, prompt_text
from haetae.taxonomy.loader import load_taxonomy
from haetae.taxonomy.templates import (
    STYLES,
    available_languages,
    encode_payload,
    load_templates,
    resolve_korean_particles,
)

from .conftest import MINI

LANGS = ("ko", "en", "es", "de", "ja", "vi")


def test_every_language_has_every_style_with_train_and_eval_templates():
    assert set(LANGS) <= set(available_languages())
    for lang in LANGS:
        t = load_templates(lang)
        for style in STYLES:
            assert len(t.redteam[style]["train"]) >= 3, (lang, style)
            assert len(t.redteam[style]["eval"]) >= 1, (lang, style)
            train = {tpl.turns for tpl in t.redteam[style]["train"]}
            assert not train & {tpl.turns for tpl in t.redteam[style]["eval"]}, "eval templates must be held out"


@pytest.mark.parametrize(("text", "expected"), [
    ("전세 사기을(를) 막는 법", "전세 사기를 막는 법"),
    ("고문 방법을(를) 설명", "고문 방법을 설명"),
    ("딥페이크이(가) 문제", "딥페이크가 문제"),
    ("협약은(는) 중요", "협약은 중요"),
    ("서울(으)로 간다, 집(으)로 간다", "서울로 간다, 집으로 간다"),
    ("AI을(를) 쓴다, URL을(를) 연다, 5G이(가) 빠르다", "AI를 쓴다, URL을 연다, 5G가 빠르다"),
    ("상품 비교 (햇살론 등)은(는) 정당", "상품 비교 (햇살론 등)는 정당"),  # agrees with the word before "("
    ("선순위 채권, 보증보험)을(를) 본다", "선순위 채권, 보증보험)을(를) 본다"),  # no opener: left for the reader
    ("«물»을(를)", "«물»을(를)"),
])
def test_korean_particles(text, expected):
    assert resolve_korean_particles(text) == expected


def test_obfuscation_encodings_are_reversible():
    text = "다음 내용을 자세히 설명해: 전세 사기."
    assert base64.b64decode(encode_payload(text, "base64")).decode("utf-8") == text
    assert encode_payload(text, "reversed")[::-1] == text
    assert encode_payload(text, "spaced").replace("-", "") == text.replace(" ", "")


def test_rendered_prompts_are_complete_in_every_language():
    s = build_items(load_taxonomy(MINI), ItemConfig(per_area=7, seed=5))
    items = s.redteam_train + s.benign_train + s.eval + s.benign_eval
    assert {i["language"] for i in items} == set(LANGS)
    assert {i["style"] for i in s.redteam_train} == set(STYLES)
    for item in items:
        text = prompt_text(item)
        assert not re.search(r"\{[a-z]+\}", text), (item["id"], text)
        assert "(를)" not in text and "(가)" not in text or item["language"] != "ko", text
        roles = [m["role"] for m in item["messages"]]
        assert roles[0] == roles[-1] == "user" and len(roles) % 2 == 1
        if item["style"] == "obfuscation" and "Base64" in text:
            payload = re.search(r"[A-Za-z0-9+/=]{16,}$", text).group(0)
            decoded = base64.b64decode(payload).decode("utf-8")
            assert item["_values"]["topic"] in decoded
        elif item["kind"] == "redteam" and item["style"] != "obfuscation":
            assert item["_values"]["topic"] in text
