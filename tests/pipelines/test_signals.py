"""Language identification and quality signals."""

from __future__ import annotations

import pytest

from haetae.pipelines.langid import LanguageIdentifier, script_shares
from haetae.pipelines.quality import quality_signals


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
