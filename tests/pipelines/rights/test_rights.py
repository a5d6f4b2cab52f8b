"""Copyright-notice and licence detection on real notice shapes, plus the ScoreRights Beam step."""

from __future__ import annotations

import inspect
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from haetae.pipelines.audit.job import runner_counters
from haetae.pipelines.rights.score import (
    DETECTORS,
    RightsConfigError,
    RightsScanner,
    ScoreRights,
    load_config,
)

DATA = Path(__file__).resolve().parents[3] / "pipelines" / "data" / "legal"  # bundled public legal text


@pytest.fixture(scope="module")
def scanner() -> RightsScanner:
    return RightsScanner.from_config()


@pytest.mark.parametrize(
    "text, kinds",
    [
        ("Copyright 2024 Jane Doe", ["copyright_statement"]),
        ("Copyright (c) 2009-2021 ACME Corp.", ["copyright_statement", "copyright_symbol"]),
        ("© 2021 The Authors", ["copyright_symbol"]),
        ("(c) 2019 Example Ltd.", ["copyright_symbol"]),
        (
            "Copyright © 2024 ACME. All rights reserved.",
            ["all_rights_reserved", "copyright_statement", "copyright_symbol"],
        ),
        ("ALL RIGHTS RESERVED", ["all_rights_reserved"]),
        ("ⓒ 한겨레신문사 : 무단전재 및 재배포 금지", ["copyright_symbol", "ko_no_redistribution"]),
        ("<저작권자(c) 연합뉴스, 무단 전재-재배포 금지>", ["ko_copyright_holder", "ko_no_redistribution"]),
        ("저작권자 ⓒ 서울신문사", ["copyright_symbol", "ko_copyright_holder"]),
        ("무단 전재 및 재배포 금지", ["ko_no_redistribution"]),
        ("이 기사는 재배포 금지입니다", ["ko_no_redistribution"]),
        ("무단 복제 금지", ["ko_no_redistribution"]),
        ("이 기사의 저작권은 한국일보에 있습니다.", ["ko_copyright_holder"]),
        ("판권 소유", ["all_rights_reserved"]),
        (
            "<저작권자 ⓒ 뉴스1, 무단 전재, 재배포 및 AI학습 이용 금지>",
            ["ai_training_reserved", "copyright_symbol", "ko_copyright_holder", "ko_no_redistribution"],
        ),
        ("본 기사는 인공지능 학습에 이용을 금지합니다", ["ai_training_reserved"]),
        ("This content may not be used to train AI models.", ["ai_training_reserved"]),
        ("AI training is strictly prohibited.", ["ai_training_reserved"]),
        (
            "The rightsholder expressly reserves text and data mining rights.",
            ["ai_training_reserved"],
        ),
        ("Text and data mining rights are reserved (Art. 4(3) DSM Directive).", ["ai_training_reserved"]),
        ('<meta name="robots" content="noai, noimageai">', ["ai_training_reserved"]),
    ],
)
def test_copyright_notice_kinds(scanner, text, kinds):
    signals = scanner.scan(f"본문입니다.\n{text}\n")
    assert signals.copyright == kinds
    assert signals.licences == []


def test_copyright_spans_point_at_the_notice(scanner):
    text = "기사 본문.\n<ⓒ경향신문, 무단전재 및 재배포 금지>"
    spans = scanner.scan(text).copyright_spans
    assert [(e.signal, text[e.start : e.end]) for e in spans] == [
        ("copyright_symbol", "ⓒ경"),
        ("ko_no_redistribution", "무단전재"),
        ("ko_no_redistribution", "재배포 금지"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "the Copyright Act of 1976 protects works",
        "저작자·발명가·과학기술자와 예술가의 권리는 법률로써 보호한다.",
        "다음 각 호: ⓐ 신청서 ⓑ 증명서 ⓒ 사본",
        "see sections (a), (b) and (c) of the act",
        "저작권법 제136조는 무단으로 복제한 자를 처벌한다.",
        "AI 학습 데이터의 품질을 높이는 방법을 연구했다.",
        "We used machine learning to train the classifier.",
    ],
)
def test_no_false_copyright(scanner, text):
    assert scanner.scan(text).copyright == []


MIT = """Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction"""
BSD3 = """Redistribution and use in source and binary forms, with or without modification, are permitted
provided that the following conditions are met: ... 3. Neither the name of the copyright holder nor ..."""


@pytest.mark.parametrize(
    "text, licences",
    [
        ("# SPDX-License-Identifier: Apache-2.0\nimport os", ["Apache-2.0"]),
        ("/* SPDX-License-Identifier: (MIT OR Apache-2.0) */", ["MIT OR Apache-2.0"]),  # one expression
        ("// SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note", ["GPL-2.0-only WITH Linux-syscall-note"]),
        ('Licensed under the Apache License, Version 2.0 (the "License");', ["Apache-2.0"]),
        ("GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007", ["GPL-3.0-only"]),
        ("GNU LESSER GENERAL PUBLIC LICENSE Version 2.1, February 1999", ["LGPL-2.1-only"]),
        ("GNU AFFERO GENERAL PUBLIC LICENSE Version 3", ["AGPL-3.0-only"]),
        ("This program is distributed under the GNU General Public License.", ["GPL-1.0-or-later"]),
        ("SPDX-License-Identifier: Apache-2.0.", ["Apache-2.0"]),
        ("subject to the terms of the Mozilla Public License, v. 2.0.", ["MPL-2.0"]),
        ("CC0 1.0 Universal", ["CC0-1.0"]),
        ("https://creativecommons.org/licenses/by/4.0/", ["CC-BY-4.0"]),
        ("Creative Commons Attribution-ShareAlike 4.0 International", ["CC-BY-SA-4.0"]),
        ("Creative Commons Attribution-NonCommercial 4.0 International", ["CC-BY-NC-4.0"]),
        ("Text is available under CC BY-NC-SA 4.0.", ["CC-BY-NC-SA-4.0"]),
        ("크리에이티브 커먼즈 저작자표시-동일조건변경허락 4.0 국제 라이선스", ["CC-BY-SA-4.0"]),
        ("크리에이티브 커먼즈 저작자표시 4.0", ["CC-BY-4.0"]),
        ("공공누리 제1유형", ["LicenseRef-KOGL-Type1"]),
        ("본 저작물은 공공누리 2유형으로 개방", ["LicenseRef-KOGL-Type2"]),
        ("KOGL Type 3", ["LicenseRef-KOGL-Type3"]),
        ("공공누리 출처표시+상업적이용금지+변경금지", ["LicenseRef-KOGL-Type4"]),
        ("# SPDX-License-Identifier: KOGL-Type1\n", ["LicenseRef-KOGL-Type1"]),  # the alias, read as one id
        ("This project is licensed under the MIT License.", ["MIT"]),
    ],
)
def test_licences(scanner, text, licences):
    """Licences come from pipelines/rights/licences.py, normalised: one entry per expression, KOGL as LicenseRef."""
    signals = scanner.scan(text)
    assert signals.licences == licences
    assert signals.licence == licences[0]
    assert 0.0 < signals.licence_score <= 1.0


def test_the_scanner_reports_what_licences_py_finds(scanner):
    from haetae.pipelines.rights.licences import default_index, detect_licences, licence_expression

    texts = [MIT, BSD3, "Licensed under the Apache License, Version 2.0\n...\nGNU LESSER GENERAL PUBLIC LICENSE "
             "Version 2.1", "Licensed under either of Apache License, Version 2.0 or MIT license at your option."]
    for text in texts:
        found = detect_licences(text, default_index())
        signals = scanner.scan(text)
        assert signals.licences == [e for e, _ in found]
        assert signals.licence == licence_expression(found)
        assert signals.licence_score == (min(s for _, s in found) if found else None)
    assert scanner.scan(texts[-1]).licence == "Apache-2.0 OR MIT"


def test_spdx_header_wins_over_licence_text(scanner):
    """An SPDX line is the author's statement; the text's other licence evidence is not added to it (the old
    regex detectors listed both, the header first)."""
    text = "Licensed under the Apache License, Version 2.0\n...\n// SPDX-License-Identifier: MIT\n"
    signals = scanner.scan(text)
    assert signals.licences == ["MIT"]
    assert signals.licence == "MIT"


def test_copyright_holders(scanner):
    signals = scanner.scan("(서울=가람뉴스) 본문입니다.\n<저작권자 ⓒ 가람뉴스, 무단 전재 및 재배포 금지>\n"
                           "Copyright (c) 2022 Jane Roe\nCopyright 2020 Example Press Ltd.")
    assert signals.holders == ["가람뉴스", "<HOLDER>", "Example Press Ltd."]


def test_real_legal_text_has_no_signal(scanner):
    paths = [DATA / "ko_constitution.txt", *sorted((DATA / "ko_bills").glob("*.txt"))]
    assert len(paths) > 5
    for path in paths:
        signals = scanner.scan(path.read_text(encoding="utf-8"))
        assert (signals.copyright, signals.licences) == ([], []), path.name


def test_yaml_switch_and_errors(tmp_path):
    config = load_config()
    config["detectors"]["ko_no_redistribution"] = {"enabled": False}
    off = RightsScanner.from_config(config)
    assert off.scan("ⓒ 중앙일보 무단 전재 및 재배포 금지").copyright == ["copyright_symbol"]
    del config["detectors"]["copyright_statement"]  # not listed = off
    assert RightsScanner.from_config(config).scan("ⓒ 중앙일보").copyright == []
    assert set(load_config()["detectors"]) == {*DETECTORS, "licences"}

    for bad, message in [
        ({"detectors": {"licence": {}}}, r"detectors\.licence: unknown detector; did you mean 'licences'\?$"),
        ({"detectors": {"licences": {"on": True}}}, r"detectors\.licences\.on: unknown key"),
        ({"detectors": {"kogl": {"enabled": "yes"}}}, r"detectors\.kogl\.enabled: must be true/false"),
        ({"detector": {}}, r"detector: unknown key"),
    ]:
        with pytest.raises(RightsConfigError, match=message):
            RightsScanner.from_config(bad)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("version: 1\ndetectors:\n  kogl: {enabled: true}\n  copyrite: {}\n", encoding="utf-8")
    with pytest.raises(RightsConfigError, match=r"wrong\.yaml:line 4: detectors\.copyrite: unknown detector"):
        load_config(wrong)
    repeated = tmp_path / "repeated.yaml"
    repeated.write_text("detectors:\n  kogl: {enabled: true}\n  kogl: {enabled: false}\n", encoding="utf-8")
    with pytest.raises(RightsConfigError) as err:
        load_config(repeated)
    assert str(err.value) == f"rights config {repeated}:line 3: duplicate key 'kogl' (first at line 2)"
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(RightsConfigError, match="the file is empty"):
        load_config(empty)
    path = tmp_path / "r.yaml"
    path.write_text("detectors: [kogl\n", encoding="utf-8")
    with pytest.raises(RightsConfigError, match="invalid YAML"):
        load_config(path)


def test_every_detector_is_registered_where_it_is_declared():
    for name, cls in DETECTORS.items():
        assert cls.name == name
        assert inspect.getsource(cls).lstrip().startswith("@register_detector\n"), name


def test_retired_licence_detectors_still_load(tmp_path, caplog):
    """A config of the regex era loads: its licence detector entries switch licence identification as a whole
    (on if any is on; none listed = off, as before), with a note naming each entry once."""
    old = tmp_path / "old.yaml"
    old.write_text("version: 1\ndetectors:\n  copyright_statement: {enabled: true}\n  spdx_header: {enabled: true}\n"
                   "  licence_text: {enabled: false}\n  kogl: {}\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="haetae.pipelines.rights.score"):
        scanner = RightsScanner.from_config(str(old))
        RightsScanner.from_config(str(old))
    notes = [r.getMessage() for r in caplog.records]
    assert len(notes) == 3 and all("is retired" in n for n in notes)
    assert any("detectors.licence_text is retired" in n and "licences: {enabled: false}" in n for n in notes)
    assert scanner.scan("공공누리 제1유형").licences == ["LicenseRef-KOGL-Type1"]
    off = {"detectors": {"copyright_statement": {}, "licence_text": {"enabled": False}, "kogl": {"enabled": False}}}
    assert RightsScanner.from_config(off).scan("공공누리 제1유형").licences == []
    assert RightsScanner.from_config({"detectors": {"copyright_statement": {}}}).licences is False
    new = {"detectors": {"licences": {"enabled": False}, "kogl": {}}}  # the new entry wins
    assert RightsScanner.from_config(new).licences is False


def test_the_licence_index_is_built_once_per_process():
    from haetae.pipelines.rights.licences import default_index

    first, second = ScoreRights(), ScoreRights()
    first.setup()
    builds = default_index.cache_info().misses
    second.setup()
    first.preload()
    assert default_index.cache_info().misses == builds <= 1
    assert first._scanner._index is second._scanner._index is default_index()


def test_score_rights_in_beam():
    records = [
        {"id": "a", "text": "본문\nⓒ 한겨레 무단전재 및 재배포 금지", "lang": "ko"},
        {"id": "b", "text": "# SPDX-License-Identifier: MIT\nprint()", "lang": "en"},
        {"id": "c", "text": "대한민국은 민주공화국이다.", "lang": "ko"},
    ]
    p = BeamTestPipeline(runner="haetae.pipelines.runners.options.DirectRunner", options=PipelineOptions(["--direct_running_mode=in_memory"]))
    out = (
        p
        | beam.Create(records)
        | beam.ParDo(ScoreRights())
        | beam.Map(
            lambda r: (r["id"], r["lang"], tuple(r["copyright_signals"]), tuple(r["copyright_holders"]), r["licence"],
                       tuple(r["licences"]), r["licence_score"], r["registry_fraction"], r["registry_shingles"])
        )
    )
    assert_that(
        out,
        equal_to(
            [
                # 한겨레 has no suffix that marks an organisation (신문, 일보 ...): counted as <HOLDER>, not named
                ("a", "ko", ("copyright_symbol", "ko_no_redistribution"), ("<HOLDER>",), None, (), None, None, None),
                ("b", "en", (), (), "MIT", ("MIT",), 1.0, None, None),
                ("c", "ko", (), (), None, (), None, None, None),
            ]
        ),
    )
    result = p.run()
    result.wait_until_finish()
    counters = runner_counters(result)
    assert counters["rights.records"] == 3
    assert counters["rights.records_with_copyright"] == 1
    assert counters["rights.licence_MIT"] == 1
    assert counters["rights.copyright_ko_no_redistribution"] == 2


def test_gates_do_not_change_results(scanner, monkeypatch):
    """The substring gates only skip work: with every gate open the signals are identical."""
    texts = [
        "<저작권자 ⓒ 뉴스1, 무단 전재, 재배포 및 AI학습 이용 금지>",
        "Copyright (C) 2020 X. All Rights Reserved. Licensed under the Apache License, Version 2.0",
        "This content must never be used for training AI. CC BY-SA 4.0 https://creativecommons.org/licenses/by/4.0/",
        "공공누리 제4유형, 모든 권리 보유, GNU Lesser General Public License v2.1 or later",
        "Text and data mining rights are reserved. SPDX-License-Identifier: MIT\n" + MIT + BSD3,
        (DATA / "ko_constitution.txt").read_text(encoding="utf-8"),
    ]
    gated = [scanner.scan(t) for t in texts]
    monkeypatch.setattr("haetae.pipelines.rights.score.Detector.may_match", lambda self, lowered: True)
    assert [scanner.scan(t) for t in texts] == gated
    assert sum(len(g.licences) + len(g.copyright) for g in gated) >= 15
