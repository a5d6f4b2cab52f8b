"""Language identification and quality signals."""

from __future__ import annotations

import json
import random
import re
import sys

import pytest

from haetae.pipelines.detectors.language import LanguageIdentifier, script_shares
from haetae.pipelines.detectors.quality import quality_signals


@pytest.fixture(scope="module")
def langid():
    return LanguageIdentifier()


@pytest.mark.parametrize("text,lang", [
    ("대한민국은 민주공화국이다. 대한민국의 주권은 국민에게 있고, 모든 권력은 국민으로부터 나온다.", "ko"),
    ("An audit ledger has one row per input record, with the decision taken and the rule that fired.", "en"),
    ("Der Ausschuss prüft den Bericht, bevor das Modell veröffentlicht wird.", "de"),
    ("El comité revisa el informe de auditoría antes de publicar el modelo.", "es"),
    ("委員会はモデルを公開する前に監査報告書を確認します。", "ja"),
    ("Ủy ban xem xét báo cáo kiểm toán trước khi phát hành mô hình.", "vi"),
])
def test_languages_of_the_model(langid, text, lang):
    assert langid.detect(text)[0] == lang


def test_too_few_letters_is_undetermined(langid):
    assert langid.detect("12 34 -- 56") == ("und", 0.0)


def test_script_shares_counts_letters_only():
    shares = script_shares("한국 abc 123!")
    assert shares["hangul"] == pytest.approx(2 / 5) and shares["latin"] == pytest.approx(3 / 5)


def test_quality_signals():
    q = quality_signals("Hello, world! 123\nHello, world! 123")
    assert q["chars"] == 35 and q["words"] == 6
    assert q["digit_ratio"] == pytest.approx(6 / 35, abs=1e-4)
    assert q["symbol_ratio"] == pytest.approx(4 / 35, abs=1e-4)
    assert q["repeated_line_ratio"] == 0.5


# Regex definitions the code-point tables must agree with (the counting code before the tables).
_RX_LETTER, _RX_DIGIT, _RX_SPACE = re.compile(r"[^\W\d_]"), re.compile(r"\d"), re.compile(r"\s")
ODD_TEXTS = [
    "", " ", "a", "한국 abc 123!", "ｆｕｌｌ　ｗｉｄｔｈ ﬁ ²³½ ①② ٠١٢٣ ߀ ໐",
    "e\u0301 \u1100\u1161\u11a8 \u3130\u318f \u3040\u3099\u30fb\u30fcー ɏ\u0250",
    "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u2029\u202f\u205f\u3000 x_y",
    "\ud800 lone surrogate \udfff", "😀\U00020000\U0001d400\U0001d7ce\U000e0001\U0010ffff",
    "line\nline\n  line  \n\nother\r\nother", "委員会はモデルを公開する前に確認します。" * 3,
]


def _regex_quality(text: str) -> dict[str, float]:
    chars, words = len(text), text.split()
    letters, digits = len(_RX_LETTER.findall(text)), len(_RX_DIGIT.findall(text))
    spaces = len(_RX_SPACE.findall(text))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return {
        "chars": float(chars), "words": float(len(words)),
        "mean_word_chars": round((chars - spaces) / len(words), 3) if words else 0.0,
        "symbol_ratio": round((chars - letters - digits - spaces) / chars, 4) if chars else 0.0,
        "digit_ratio": round(digits / chars, 4) if chars else 0.0,
        "repeated_line_ratio": round((len(lines) - len(set(lines))) / len(lines), 4) if lines else 0.0,
    }


def test_code_point_tables_agree_with_the_regexes():
    from haetae.pipelines.detectors import language as langid_module
    from haetae.pipelines.detectors import quality as quality_module

    rng = random.Random(3)
    cps = list(range(0x3200)) + [0xAC00, 0xD7A3, 0xD7A4, 0xD800, 0xDFFF, 0xFF10, sys.maxunicode]
    cps += rng.sample(range(0x3200, sys.maxunicode + 1), 30000)
    quality_table, langid_table = quality_module._class_table(), langid_module._class_table()
    for cp in cps:
        char = chr(cp)
        matched = [bool(rx.match(char)) for rx in (_RX_LETTER, _RX_DIGIT, _RX_SPACE)]
        assert quality_table[cp] == (matched.index(True) + 1 if any(matched) else 0), hex(cp)
        bits = sum(bit for name, bit in langid_module._BITS.items() if langid_module._CLASSES[name].match(char))
        assert langid_table[cp] == bits, hex(cp)
    text = "".join(map(chr, cps))
    assert quality_module.char_class_counts(text) == tuple(
        len(rx.findall(text)) for rx in (_RX_LETTER, _RX_DIGIT, _RX_SPACE))


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_quality_signals_equal_the_regex_definition(text):
    assert quality_signals(text) == _regex_quality(text)
    assert all(type(v) is float for v in quality_signals(text).values())


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_script_shares_equal_the_regex_definition(text):
    from haetae.pipelines.detectors.language import _SCRIPTS

    letters = len(_RX_LETTER.findall(text))
    expected = {name: (len(rx.findall(text)) / letters if letters else 0.0) for name, rx in _SCRIPTS.items()}
    assert script_shares(text) == expected


@pytest.mark.parametrize("text", ODD_TEXTS + ["ab ２", "가나 abcdefgh", "カタ abcdefghijklmnopqrs"])
def test_detect_equals_the_regex_definition(langid, text):
    import unicodedata

    from haetae.pipelines.detectors.language import _SCRIPTS

    sample = unicodedata.normalize("NFC", text[:600])
    letters = len(_RX_LETTER.findall(sample))
    expected = None
    if letters < 3:
        expected = ("und", 0.0)
    for lang, script, min_share in (("ko", "hangul", 0.3), ("ja", "kana", 0.1)):
        share = len(_SCRIPTS[script].findall(sample)) / letters if letters >= 3 else 0.0
        if expected is None and share >= min_share:
            expected = (lang, round(min(1.0, 0.5 + share), 3))
    if expected is None:
        lang, prob = langid._langid.classify(sample[:300])
        expected = (lang, round(float(prob), 3))
    assert langid.detect(text) == expected


def test_float32_model_scores_are_bit_identical_to_stock_py3langid(langid):
    import numpy as np
    from py3langid.langid import _load_identifier

    from haetae.pipelines.io.samples import synthetic_corpus

    stock = _load_identifier(norm_probs=True)
    assert stock.nb_ptc.dtype == np.float16 and langid._langid.nb_ptc.dtype == np.float32
    texts = [json.loads(line)["text"][:300] for line in synthetic_corpus(200, seed=5)] + ODD_TEXTS
    for text in texts + [b"\xff\xfe raw bytes", "ÉCOLE EN MAJUSCULES"]:
        ours, theirs = langid._langid._decide(text), stock._decide(text)
        assert np.array_equal(ours.view(np.uint32), theirs.view(np.uint32))
        assert langid._langid.classify(text) == stock.classify(text)
