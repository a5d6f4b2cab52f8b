"""The audit's rights step end to end: licences (SPDX, from pipelines/rights/licences.py), copyright holders, the
protected-works registry and the policy rules on them, on the Beam job and the local runner (real runs)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from haetae.pipelines.audit.job import run_audit
from haetae.pipelines.rights.registry import RegistryError, build_registry
from tests.pipelines.rights.test_licences import MIT_TEXT

ROOT = Path(__file__).resolve().parents[3]
IN_MEMORY = {"runner": "DirectRunner", "beam_args": ["--direct_running_mode=in_memory"]}

APACHE_HEADER = """# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
def area(width, height):
    return width * height
"""
PROTECTED = ("The lighthouse keeper counted the ships that passed each night and wrote their names in a ledger "
             "bound in green cloth. When the fog came in from the north he lit the second lamp, the one his "
             "grandfather had carried from the mainland, and listened for the bell buoy beyond the reef. ")
UNRELATED = ("Municipal budget hearings resume next week, when the council will review road repairs, library "
             "hours and the schedule for replacing water mains in the eastern districts of the city. ")
DOCS = {
    "mit-text": "A small utility for parsing dates.\n\n" + MIT_TEXT,
    "apache-header": APACHE_HEADER,
    "dual-or": "# SPDX-License-Identifier: MIT OR GPL-3.0-only\nprint('either licence may be chosen here')\n",
    "both-and": "# SPDX-License-Identifier: MIT AND GPL-3.0-only\nprint('both licences apply to this file')\n",
    "kogl-1": "이 자료는 행정안전부가 작성하였으며 공공누리 제1유형(출처표시) 조건에 따라 자유롭게 이용할 수 있습니다.",
    "kogl-2-header": "# SPDX-License-Identifier: KOGL-Type2\n지역별 인구 통계 요약 자료입니다. 분기마다 갱신됩니다.",
    "news": "(서울=가람뉴스) 지역 도서관이 다음 달부터 야간 개관을 시작한다고 밝혔다.\n"
            "<저작권자 ⓒ 가람뉴스, 무단 전재 및 재배포 금지>",
    "personal-holder": "Copyright (c) 2022 Jane Roe\n# SPDX-License-Identifier: MIT\nprint('weather station')\n",
    "copied": "Chapter one.\n" + PROTECTED * 2,
    "unrelated": UNRELATED * 2,
}


def _policy(tmp: Path, registry_section: str = "") -> Path:
    text = (ROOT / "policies" / "data_policy.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "recognizers: pii_recognizers.yaml", f"recognizers: {ROOT / 'policies' / 'pii_recognizers.yaml'}").replace(
        "detectors: rights_detectors.yaml", f"detectors: {ROOT / 'policies' / 'rights_detectors.yaml'}")
    # GPL-3.0-only denied; KOGL type 1 allowed under its older alias (read as LicenseRef-KOGL-Type1)
    text = text.replace("deny: [CC-BY-NC-4.0,", "deny: [GPL-3.0-only, CC-BY-NC-4.0,").replace(
        "LicenseRef-KOGL-Type1]", "KOGL-Type1]")
    assert "GPL-3.0-only" in text and "KOGL-Type1]" in text
    if registry_section:
        text = text.replace("  copyright:\n", registry_section + "  copyright:\n")
    path = tmp / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _ledger(out: Path) -> list[dict]:
    rows = pq.read_table(sorted((out / "ledger").glob("*.parquet"))).to_pylist()
    return sorted(rows, key=lambda r: r["key"])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rights")
    (tmp / "works.jsonl").write_text(json.dumps({"text": PROTECTED * 2}) + "\n", encoding="utf-8")
    build_registry([str(tmp / "works.jsonl")], str(tmp / "works.reg"))
    policy = _policy(tmp, "  registry: {max_fraction: 0.5, action: quarantine}\n")
    corpus = tmp / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in DOCS.items()),
                      encoding="utf-8")
    common = {"policy_path": str(policy), "progress": False, "registry": str(tmp / "works.reg")}
    beam = run_audit([str(corpus)], str(tmp / "beam"), **common, **IN_MEMORY)
    local = run_audit([str(corpus)], str(tmp / "local"), **common, workers=1)
    return tmp, beam, local


def test_beam_and_local_ledgers_are_identical(runs):
    tmp, beam, local = runs
    assert local.memory["workers"] == 1  # the rights step (index, registry) set up in a worker process
    assert _ledger(tmp / "local") == _ledger(tmp / "beam")
    assert local.counts == beam.counts and beam.ok and local.ok


def test_licences_in_the_ledger_are_spdx(runs):
    tmp, _, _ = runs
    rows = {r["id"]: r for r in _ledger(tmp / "beam")}
    expected = {
        "mit-text": "MIT", "apache-header": "Apache-2.0", "dual-or": "MIT OR GPL-3.0-only",
        "both-and": "MIT AND GPL-3.0-only", "kogl-1": "LicenseRef-KOGL-Type1",
        "kogl-2-header": "LicenseRef-KOGL-Type2", "personal-holder": "MIT", "news": None, "unrelated": None,
    }
    for doc_id, licence in expected.items():
        row = rows[doc_id]
        assert row["licence"] == licence, doc_id
        assert row["licences"] == ([] if licence is None else [licence]), doc_id
        assert (row["licence_score"] is None) == (licence is None), doc_id
        if licence:
            assert 0.5 <= row["licence_score"] <= 1.0
    assert rows["mit-text"]["licence_score"] > 0.9


def test_licence_lists_read_the_expression(runs):
    tmp, _, _ = runs
    rows = {r["id"]: r for r in _ledger(tmp / "beam")}
    # MIT OR GPL-3.0-only: MIT may be chosen, so neither denied nor a copyright problem
    assert rows["dual-or"]["decision"] == "keep" and rows["dual-or"]["rule"] == "default.keep"
    # MIT AND GPL-3.0-only: GPL-3.0-only cannot be avoided
    assert rows["both-and"]["rule"] == "rights.licences.deny" and rows["both-and"]["decision"] == "drop"
    assert rows["both-and"]["reasons"] == ["licence MIT AND GPL-3.0-only denied (GPL-3.0-only on the deny list)"]
    # the policy allows "KOGL-Type1" and denies "LicenseRef-KOGL-Type2"; the header said "KOGL-Type2"
    assert rows["kogl-1"]["decision"] == "keep"
    assert rows["kogl-2-header"]["rule"] == "rights.licences.deny"
    assert rows["kogl-2-header"]["reasons"] == ["licence LicenseRef-KOGL-Type2 denied"]
    # a copyright notice with an allowed licence is kept; without one it is dropped
    assert rows["mit-text"]["decision"] == "keep" and rows["mit-text"]["copyright_signals"]
    assert rows["news"]["rule"] == "rights.copyright.notice_without_allowed_licence"


def test_copyright_holders_name_organisations_only(runs):
    tmp, _, _ = runs
    rows = {r["id"]: r for r in _ledger(tmp / "beam")}
    assert rows["news"]["copyright_holders"] == ["가람뉴스"]  # dateline and footer: one holder
    assert rows["mit-text"]["copyright_holders"] == ["Example Maintainers"]
    assert rows["personal-holder"]["copyright_holders"] == ["<HOLDER>"]
    assert rows["unrelated"]["copyright_holders"] == []
    published = [tmp / "beam" / name for name in ("report.html", "aggregates.json")]
    published += sorted((tmp / "beam" / "ledger").glob("*.parquet"))
    for path in published:
        assert b"Jane Roe" not in path.read_bytes(), path.name
    aggregates = json.loads((tmp / "beam" / "aggregates.json").read_text(encoding="utf-8"))
    assert aggregates["copyright_holders"] == {"가람뉴스": 1, "Example Maintainers": 1, "<HOLDER>": 1}


def test_registry_fraction_and_rule(runs):
    tmp, _, _ = runs
    rows = {r["id"]: r for r in _ledger(tmp / "beam")}
    copied, unrelated = rows["copied"], rows["unrelated"]
    assert copied["registry_fraction"] > 0.9 and copied["registry_shingles"] > 300
    assert unrelated["registry_fraction"] < 0.01 and unrelated["registry_shingles"] > 100
    assert copied["decision"] == "quarantine" and copied["rule"] == "rights.registry"
    assert copied["reasons"][0].startswith("registry fraction ") and copied["reasons"][0].endswith(" > 0.5")
    assert unrelated["decision"] == "keep"
    assert all(r["registry_fraction"] is not None for r in rows.values())
    held = [json.loads(ln) for p in sorted((tmp / "beam" / "quarantine").glob("*.jsonl"))
            for ln in p.read_text(encoding="utf-8").splitlines()]
    assert [q["reason"] for q in held] == ["policy:rights.registry"]


def test_manifest_and_report_name_the_registry(runs):
    tmp, _, _ = runs
    digest = hashlib.sha256((tmp / "works.reg").read_bytes()).hexdigest()
    manifest = json.loads((tmp / "beam" / "_SUCCESS").read_text(encoding="utf-8"))
    assert manifest["config"]["registry"] == {"path": str(tmp / "works.reg"), "sha256": digest,
                                              "max_fraction": 0.5, "action": "quarantine"}
    html = (tmp / "beam" / "report.html").read_text(encoding="utf-8")
    for heading in ("<h2>Licences</h2>", "<h2>Copyright</h2>", "<h2>Registry</h2>"):
        assert heading in html
    assert str(tmp / "works.reg") in html and digest[:16] in html
    assert "MIT OR GPL-3.0-only" in html and "가람뉴스" in html and "&lt;HOLDER&gt;" in html
    aggregates = json.loads((tmp / "beam" / "aggregates.json").read_text(encoding="utf-8"))
    assert aggregates["registry_checked"] == len(DOCS) and aggregates["registry_matched"] >= 1
    assert aggregates["registry_fractions"]["<= 1"] == 1


def test_no_registry_leaves_the_columns_null(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "u", "text": UNRELATED}) + "\n", encoding="utf-8")
    run_audit([str(corpus)], str(tmp_path / "o"), policy_path=str(_policy(tmp_path)), progress=False,
              report=False, workers=0)
    (row,) = _ledger(tmp_path / "o")
    assert row["registry_fraction"] is None and row["registry_shingles"] is None
    assert json.loads((tmp_path / "o" / "_SUCCESS").read_text())["config"]["registry"] is None


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such registry file"),
    (lambda p: p.write_bytes(b"not a registry at all"), "not a haetae registry"),
    (lambda p: p.write_bytes(b"HTREGSB1" + (5).to_bytes(4, "little") + b"{bad"), "damaged registry header"),
    (lambda p: p.mkdir(), "is a folder"),
])
def test_a_bad_registry_is_one_line_before_the_job(tmp_path, make, message):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "u", "text": UNRELATED}) + "\n", encoding="utf-8")
    reg = tmp_path / "bad.reg"
    make(reg)
    with pytest.raises(RegistryError, match=message) as err:
        run_audit([str(corpus)], str(tmp_path / "o"), registry=str(reg), progress=False, workers=0)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "o").exists()


def test_truncated_registry_and_policy_without_path_via_the_cli(tmp_path):
    (tmp_path / "works.jsonl").write_text(json.dumps({"text": PROTECTED}) + "\n", encoding="utf-8")
    build_registry([str(tmp_path / "works.jsonl")], str(tmp_path / "w.reg"))
    data = (tmp_path / "w.reg").read_bytes()
    (tmp_path / "cut.reg").write_bytes(data[: len(data) - 100])
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "u", "text": UNRELATED}) + "\n", encoding="utf-8")
    no_path = _policy(tmp_path, "  registry: {max_fraction: 0.2}\n")
    for extra, message in ((["--registry", str(tmp_path / "cut.reg")], "truncated or damaged registry"),
                           (["--policy", str(no_path)], "rights.registry has no path")):
        proc = subprocess.run([sys.executable, "-m", "haetae.cli", "audit", str(corpus), "--out",
                               str(tmp_path / "o"), *extra], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2, proc.stderr
        errors = [ln for ln in proc.stderr.splitlines() if "error" in ln]
        assert len(errors) == 1 and message in errors[0], proc.stderr
        assert errors[0].startswith("haetae audit: error: ") and "Traceback" not in proc.stderr
        assert not (tmp_path / "o").exists()
