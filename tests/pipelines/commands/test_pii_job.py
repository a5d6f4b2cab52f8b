"""The `haetae pii scan` stage command and the ScorePii step, run by Beam for real."""

from __future__ import annotations

import json

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from haetae.cli import main
from haetae.pipelines.audit.job import runner_counters
from haetae.pipelines.pii.scanner import ScorePii

IN_MEMORY = ["--direct_running_mode=in_memory"]


def test_score_pii_in_beam():
    records = [
        {"id": "k", "text": "홍길동(hong@ex.kr)에게 010-1234-5678로", "lang": "ko", "source": "s"},
        {"id": "e", "text": "mail jane@example.org", "lang": "en", "source": "s"},
        {"id": "n", "text": "대한민국은 민주공화국이다.", "lang": "ko", "source": "s"},
    ]
    p = BeamTestPipeline(runner="haetae.pipelines.runners.options.DirectRunner", options=PipelineOptions(["--direct_running_mode=in_memory"]))
    out = p | beam.Create(records) | beam.ParDo(ScorePii())
    assert_that(
        out
        | beam.Map(
            lambda r: (
                r["id"],
                r["source"],
                r["pii_counts"],
                [(s["start"], s["end"], s["type"]) for s in r["pii_spans"]],
            )
        ),
        equal_to(
            [
                (
                    "k",
                    "s",
                    {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1},
                    [(4, 14, "EMAIL_ADDRESS"), (18, 31, "PHONE_NUMBER")],
                ),
                ("e", "s", {"EMAIL_ADDRESS": 1}, [(5, 21, "EMAIL_ADDRESS")]),
                ("n", "s", {}, []),
            ]
        ),
    )
    result = p.run()
    result.wait_until_finish()
    counters = runner_counters(result)
    assert counters["pii.records"] == 3
    assert counters["pii.records_with_pii"] == 2
    assert counters["pii.entity_EMAIL_ADDRESS"] == 2
    assert counters["pii.entity_PHONE_NUMBER"] == 1


def test_score_pii_rejects_a_bad_config_before_the_job():
    with pytest.raises(ValueError, match="unknown recogniser"):
        ScorePii({"languages": ["ko"], "recognizers": {"kr_phonee": {}}})


def _write(path, rows):
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
        encoding="utf-8",
    )


def test_pii_scan_command(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    _write(
        src,
        [
            {"id": "b", "text": "홍길동(hong@ex.kr)에게 010-1234-5678로 연락"},
            {"id": "a", "text": "Call (212) 555-0123 or jane@example.org"},
            {"id": "c", "text": "대한민국은 민주공화국이다."},
            "not json {",
            {"id": "d", "text": ""},
            {"id": "a", "text": "duplicate id"},
            {"id": "e"},
        ],
    )
    out = tmp_path / "res" / "spans.jsonl"
    assert main(["pii", "scan", str(src), "--out", str(out), *IN_MEMORY]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c"]  # sorted by id
    assert rows[1]["spans"] == [
        {"start": 4, "end": 14, "type": "EMAIL_ADDRESS", "score": 1.0},
        {"start": 18, "end": 31, "type": "PHONE_NUMBER", "score": 0.75},
    ]
    assert [(s["start"], s["end"], s["type"]) for s in rows[0]["spans"]] == [
        (5, 19, "PHONE_NUMBER"),
        (23, 39, "EMAIL_ADDRESS"),
    ]
    assert rows[2]["spans"] == []
    quarantine = [
        json.loads(line) for line in (tmp_path / "res" / "spans.quarantine.jsonl").read_text().splitlines()
    ]
    assert [(q["line"], q["reason"]) for q in quarantine] == [
        (4, "malformed_json"),
        (5, "empty_text"),
        (6, "duplicate_id"),
        (7, "missing_text"),
    ]
    err = capsys.readouterr().err
    assert "3 records scanned, 2 with PII (EMAIL_ADDRESS 2, PHONE_NUMBER 2)" in err
    assert "4 input lines quarantined" in err
    assert "hong@ex.kr" not in err and "010-1234-5678" not in err


def test_pii_scan_fixed_language_and_custom_fields(tmp_path):
    src = tmp_path / "in.jsonl"
    _write(src, [{"doc": 1, "body": "536-90-4399"}])  # no letters, so no stretch of its own script: the given
    # language alone decides (a Hangul or Latin stretch would also get that script's recognisers)
    out = tmp_path / "out.jsonl"
    args = [
        "pii",
        "scan",
        str(src),
        "--out",
        str(out),
        "--text-field",
        "body",
        "--id-field",
        "doc",
        *IN_MEMORY,
    ]
    assert main([*args, "--language", "en"]) == 0
    assert json.loads(out.read_text())["spans"][0]["type"] == "US_SSN"
    assert main([*args, "--language", "ko"]) == 0  # the SSN recogniser is English-only in the default config
    assert json.loads(out.read_text()) == {"id": 1, "spans": []}  # the id keeps its JSON type


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--language", "k*"], "--language must be"),
        ([], "matches no file"),
    ],
)
def test_pii_scan_user_errors(tmp_path, capsys, argv, message):
    src = tmp_path / ("in.jsonl" if argv else "missing.jsonl")
    if argv:
        _write(src, [{"id": "a", "text": "x"}])
    assert main(["pii", "scan", str(src), "--out", str(tmp_path / "o.jsonl"), *argv, *IN_MEMORY]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
