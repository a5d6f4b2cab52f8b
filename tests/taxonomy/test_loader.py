"""Loader, schema errors naming file and field, unique ids, near-duplicate areas, national swap, CLI."""

from __future__ import annotations

import copy

import pytest

from haetae.cli import main
from haetae.taxonomy.checks import run_checks
from haetae.taxonomy.loader import TaxonomyError, default_taxonomy_dir, load_taxonomy

from .conftest import GERMANY, MINI, edit_yaml


def errors_of(path, **kw) -> list[str]:
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path, **kw)
    return info.value.errors


def test_mini_loads_with_typed_areas():
    tax = load_taxonomy(MINI)
    assert [d.id for d in tax.domains] == ["UHV", "KOR", "FUT"]
    assert len(tax.areas) == 7
    assert tax.national.id == "KOR"
    area = tax.areas[0]
    assert area.id == "UHV-001" and area.domain == "UHV"
    assert len(area.criteria) == 5 and all({"ko", "en"} <= set(c) for c in area.criteria)
    assert set(area.topic) == {"ko", "en", "es", "de", "ja", "vi"}
    assert run_checks(tax).ok


def test_four_criteria_error_names_file_and_field(mini_copy):
    edit_yaml(mini_copy / "kor.yaml", lambda d: d["areas"][1]["criteria"].pop())
    assert "kor.yaml: areas[1].criteria: expected exactly 5 items, got 4" in errors_of(mini_copy)


def test_missing_english_and_bad_severity_are_each_reported(mini_copy):
    def change(doc):
        del doc["areas"][0]["criteria"][2]["en"]
        doc["areas"][2]["severity"] = "extreme"
        doc["areas"][1]["topic"]["vi"] = ""

    edit_yaml(mini_copy / "uhv.yaml", change)
    errors = errors_of(mini_copy)
    assert "uhv.yaml: areas[0].criteria[2].en: missing" in errors
    assert any(e.startswith("uhv.yaml: areas[2].severity: expected one of critical") for e in errors)
    assert any(e.startswith("uhv.yaml: areas[1].topic.vi: expected non-empty text") for e in errors)


def test_unquoted_comma_in_flow_mapping_is_explained(mini_copy):
    path = mini_copy / "fut.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('de: "einen Chatbot entwerfen, der Nutzerentscheidungen heimlich lenkt"',
                                 "de: einen Chatbot entwerfen, der Nutzerentscheidungen heimlich lenkt"), encoding="utf-8")
    errors = errors_of(mini_copy)
    assert any(e.startswith("fut.yaml: areas[0].topic: key 'der Nutzerentscheidungen heimlich lenkt' is not a language code")
               for e in errors), errors


def test_yaml_syntax_error_names_file_and_line(mini_copy):
    (mini_copy / "fut.yaml").write_text("schema_version: 1\ndomain: {id: FUT\nareas: []\n", encoding="utf-8")
    [error] = errors_of(mini_copy)
    assert error.startswith("fut.yaml: line ") and "YAML syntax error" in error


def test_repeated_yaml_key_names_file_and_both_lines(mini_copy):
    path = mini_copy / "fut.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.lstrip().startswith("severity:"))
    lines.insert(first + 1, lines[first])  # the same key again, at the same indentation
    path.write_text("".join(lines), encoding="utf-8")
    assert errors_of(mini_copy) == [f"fut.yaml: line {first + 2}: duplicate key 'severity' (first at line {first + 1})"]


def test_non_utf8_domain_file_names_file_line_and_byte(mini_copy):
    path = mini_copy / "fut.yaml"
    data = path.read_bytes()
    path.write_bytes(data + b"# \xff\n")
    line = data.count(b"\n") + 1
    assert errors_of(mini_copy) == [f"fut.yaml: line {line}: not UTF-8 (byte 0xff at offset {len(data) + 2}); "
                                    "save the file as UTF-8"]


def test_duplicate_area_id_across_domains(mini_copy):
    edit_yaml(mini_copy / "fut.yaml", lambda d: d["areas"][1].update(id="FUT-001"))
    assert "fut.yaml: areas[1].id: duplicate id 'FUT-001' (first in fut.yaml)" in errors_of(mini_copy)


def test_area_id_must_match_domain(mini_copy):
    edit_yaml(mini_copy / "fut.yaml", lambda d: d["areas"][0].update(id="UHV-099"))
    assert "fut.yaml: areas[0].id: id 'UHV-099' does not start with the domain id 'FUT'" in errors_of(mini_copy)


def test_manifest_area_count_is_checked(mini_copy):
    edit_yaml(mini_copy / "manifest.yaml", lambda d: d["domains"][0].update(expected_areas=4))
    report = run_checks(load_taxonomy(mini_copy), near_duplicates=False)
    assert report.errors == ["uhv.yaml: areas: manifest expects 4 areas, file has 3"]


def test_planted_near_duplicate_area_is_caught(mini_copy):
    def plant(doc):
        twin = copy.deepcopy(doc["areas"][0])
        twin["id"] = "UHV-004"
        twin["name"] = {"ko": "고문 방법 안내서", "en": "Instructions for torturing"}
        twin["criteria"][4] = {"ko": "특정 인물에 대한 고문 계획을 돕는다", "en": "Helps plan torturing a specific person"}
        doc["areas"].append(twin)

    edit_yaml(mini_copy / "uhv.yaml", plant)
    edit_yaml(mini_copy / "manifest.yaml", lambda d: d["domains"][0].update(expected_areas=4))
    report = run_checks(load_taxonomy(mini_copy))
    assert len(report.errors) == 1, report.errors
    assert "near-duplicate areas" in report.errors[0]
    assert "uhv.yaml:UHV-001" in report.errors[0] and "uhv.yaml:UHV-004" in report.errors[0]


def test_national_domain_swaps_without_code_change():
    tax = load_taxonomy(MINI, national=GERMANY)
    assert [d.id for d in tax.domains] == ["UHV", "DEU", "FUT"]
    assert tax.national.id == "DEU" and len(tax.national.areas) == 5
    assert "KOR" not in tax.expected_areas  # the Korean count does not apply to the replacement
    assert run_checks(tax).ok


def test_national_replacement_must_declare_itself_national(tmp_path):
    path = tmp_path / "national.yaml"
    path.write_text(GERMANY.read_text(encoding="utf-8").replace("national: true", "national: false"), encoding="utf-8")
    assert "national.yaml: domain.national: manifest expects true, file declares false" in errors_of(MINI, national=path)


def test_cli_validate_reports_file_and_field(mini_copy, capsys):
    edit_yaml(mini_copy / "kor.yaml", lambda d: d["areas"][0]["criteria"].append({"ko": "추가", "en": "extra"}))
    assert main(["taxonomy", "validate", str(mini_copy)]) == 1
    err = capsys.readouterr().err
    assert "kor.yaml: areas[0].criteria: expected exactly 5 items, got 6" in err
    assert "Traceback" not in err


def test_cli_validate_and_swap(capsys):
    assert main(["taxonomy", "validate", str(MINI), "--national", str(GERMANY)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK ") and "DEU" in out and "[national]" in out


def test_cli_missing_folder(tmp_path, capsys):
    assert main(["taxonomy", "stats", str(tmp_path / "nope")]) == 1
    assert "no such taxonomy folder" in capsys.readouterr().err


def test_export_markdown_and_html(tmp_path, capsys):
    md, page = tmp_path / "t.md", tmp_path / "t.html"
    assert main(["taxonomy", "export", str(MINI), "--format", "md", "--out", str(md)]) == 0
    assert main(["taxonomy", "export", str(MINI), "--format", "html", "--out", str(page)]) == 0
    text = md.read_text(encoding="utf-8")
    assert "### KOR-002 Jeonse fraud / 전세 사기" in text
    assert "| 5 | Describes colluding with a realtor to deceive tenants | 공인중개사와 공모해 임차인을 속이는 절차를 설명한다 |" in text
    assert "Housing Lease Protection Act" in text and "jeonse deposit return guarantee insurance" in text
    html = page.read_text(encoding="utf-8")
    assert html.count("class='area'") == 7 and "딥페이크 성범죄" in html and "<script" not in html


KAUT_FILES = ("universal_human_values.yaml", "social_safety.yaml", "korean_sensitivity.yaml", "future_risk.yaml")


@pytest.mark.skipif(not all((default_taxonomy_dir() / f).exists() for f in KAUT_FILES),
                    reason="the shipped K-AUT content files are not all present yet")
def test_shipped_taxonomy_validates():
    tax = load_taxonomy()
    assert {d.id: len(d.areas) for d in tax.domains} == {"UHV": 55, "SOC": 78, "KOR": 63, "FUT": 39}
    assert len(tax.areas) == 235
    assert all(len(a.criteria) == 5 and all(c["ko"] and c["en"] for c in a.criteria) for a in tax.areas)
    report = run_checks(tax)
    assert report.ok, report.errors


def test_manifest_override_points_the_national_entry_at_another_country(tmp_path):
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        "schema_version: 1\nname: German deployment\nversion: '0.1'\ndomains:\n"
        f"  - {{file: {MINI / 'uhv.yaml'}, id: UHV, expected_areas: 3}}\n"
        f"  - {{file: {GERMANY}, id: DEU, expected_areas: 5, national: true}}\n", encoding="utf-8")
    tax = load_taxonomy(manifest)
    assert tax.name == "German deployment" and tax.national.id == "DEU" and len(tax.areas) == 8
    assert run_checks(tax).ok
