"""Presidio's own recogniser test tables (tests/pipelines/data/presidio_recognizer_cases.yaml) through Haetae's
scanner: every case gives Presidio's expected spans, or the listed, explained difference."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from haetae.pipelines.pii.scanner import PiiScanner

DATA = Path(__file__).resolve().parents[1] / "data" / "presidio_recognizer_cases.yaml"
TABLE = yaml.safe_load(DATA.read_text(encoding="utf-8"))
CASES = [
    pytest.param(source["entity"], case, id=f"{source['file'].rsplit('/', 1)[-1]}:{i}")
    for source in TABLE["sources"]
    for i, case in enumerate(source["cases"])
]


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return PiiScanner.from_config()


@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("entity, case", CASES)
def test_presidio_case(scanner, language, entity, case):
    expected = case.get("haetae", case["spans"])
    found = [[s.start, s.end] for s in scanner.scan(case["text"], language) if s.type == entity]
    assert found == expected, case


def test_every_difference_is_explained_and_used():
    differences = TABLE["differences"]
    used = set()
    for source in TABLE["sources"]:
        for case in source["cases"]:
            assert ("haetae" in case) == ("why" in case), case
            if "why" in case:
                assert case["why"] in differences and case["haetae"] != case["spans"], case
                used.add(case["why"])
    assert used == set(differences)
    assert len(CASES) >= 228 and sum("why" in c.values[1] for c in CASES) == 13
