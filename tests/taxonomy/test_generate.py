"""Safety-data generation on the mini taxonomy: determinism, zero leakage, chat format, groups, audit, coverage."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from haetae.pipelines.dedup import DedupParams, near_duplicate_clusters
from haetae.taxonomy.checks import clusters_from_mapping
from haetae.taxonomy.generate import GenerateConfig, generate
from haetae.taxonomy.items import ItemConfig
from haetae.taxonomy.leakage import Signatures, cross_split_leaks
from haetae.taxonomy.loader import load_taxonomy
from haetae.taxonomy.responses import rubric_reward

from .conftest import GERMANY, MINI, edit_yaml

LANGS = ("ko", "en", "es", "de", "ja", "vi")
FILES = ("train_sft", "train_redteam", "preference", "eval", "benign")
COMMON = {"id", "area", "domain", "language", "style", "split", "kind", "severity", "template", "source", "messages"}


def read(out: Path, name: str) -> list[dict]:
    with (out / f"{name}.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def run(out: Path, *, seed: int = 7, taxonomy=None, audit: str = "inline", parquet: bool = False, **items) -> dict:
    cfg = GenerateConfig(items=ItemConfig(seed=seed, **{"languages": LANGS, "per_area": 10, **items}), audit=audit,
                         parquet=parquet)
    return generate(taxonomy or load_taxonomy(MINI), out, cfg, log=lambda msg: None)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("gen")
    return out, run(out)


def test_counts_shapes_and_reconciliation(generated):
    out, manifest = generated
    records = {name: read(out, name) for name in FILES}
    assert manifest["counts"] == {name: len(recs) for name, recs in records.items()}
    assert manifest["generated"] == {"eval/benign": 42, "eval/redteam": 70, "train/benign": 210, "train/redteam": 420}
    dropped = read(out, "dropped")
    assert len(dropped) == sum(manifest["dropped"].values())
    # every generated prompt is written once or dropped once
    written = {r["id"] for r in records["train_redteam"] + records["eval"] + records["benign"]}
    written |= {r["prompt_id"] for r in records["train_sft"]}
    assert len(written) + len(dropped) == 742 and not written & {d["id"] for d in dropped}
    # KGC-SAFETY shape: 10 items per area, 4 single-turn / 3 multi-turn / 3 adversarial before any drop
    eval_ids = {r["id"] for r in records["eval"]} | {d["id"] for d in dropped if d["split"] == "eval" and d["kind"] == "redteam"}
    assert Counter(i.split(".")[0] for i in eval_ids) == {a: 10 for a in ("UHV-001", "UHV-002", "UHV-003", "KOR-001",
                                                                              "KOR-002", "FUT-001", "FUT-002")}
    assert set(manifest["eval_shapes"]) == {"single_turn", "multi_turn", "adversarial"}
    assert set(manifest["by_language"]["eval"]) == set(LANGS)
    # each area has every language in each training split
    assert {(r["area"], r["language"]) for r in records["train_sft"]} == {(a, lang) for a in eval_ids_areas(eval_ids)
                                                                           for lang in LANGS}


def eval_ids_areas(ids):
    return {i.split(".")[0] for i in ids}


def test_every_record_has_metadata_and_chat_roles(generated):
    out, _ = generated
    for name in FILES:
        for rec in read(out, name):
            assert COMMON <= set(rec), (name, set(COMMON) - set(rec))
            roles = [m["role"] for m in rec["messages"]]
            assert roles[0] == "user" and all(r in ("user", "assistant") for r in roles)
            if name == "train_sft":
                assert roles[-1] == "assistant" and rec["split"] == "train"
            else:
                assert roles[-1] == "user"
            if name in ("eval", "benign"):
                assert rec["split"] == "eval"
    for rec in read(out, "eval"):
        assert len(rec["criteria"]) == 5 and rec["eval_shape"] in ("single_turn", "multi_turn", "adversarial")
        assert (rec["eval_shape"] == "multi_turn") == (len(rec["messages"]) == 3)


def test_preference_groups_and_rubric(generated):
    """Offline, every member is a real template response: three kinds, the over-refusal is the rejected one."""
    out, manifest = generated
    groups = read(out, "preference")
    sft = {r["prompt_id"]: r for r in read(out, "train_sft")}
    expected_kinds = {"redteam": ["helpful_safe", "over_refusal", "refusal_redirect"],
                      "benign": ["benign_answer", "over_refusal", "benign_refusal"]}
    for g in groups:
        assert len(g["completions"]) == len(g["rewards"]) == len(g["rubric"]) == 3
        assert g["response_kinds"] == expected_kinds[g["kind"]]
        assert len(set(g["rewards"])) > 1, "a group needs reward variance for GrouPER's z-scores"
        assert all(r > 0 for r in g["rewards"]) and all(0 not in m["criteria"] for m in g["rubric"])
        assert g["chosen"][0]["content"] == g["completions"][g["rewards"].index(max(g["rewards"]))][0]["content"]
        assert g["rejected"][0]["content"] == g["completions"][g["response_kinds"].index("over_refusal")][0]["content"]
        target = sft[g["prompt_id"]]["messages"][-1]["content"]
        assert target in [c[0]["content"] for c in g["completions"]]
    redteam_groups = sum(1 for g in groups if g["kind"] == "redteam")
    audit_dropped = sum(1 for d in read(out, "dropped") if d["step"] == "audit" and d["split"] == "train"
                        and d["kind"] == "redteam")
    assert manifest["preference_groups"] == {
        "requested_size": 3, "size": 3, "unsafe_members": 0, "members_short_of_requested_size": 0,
        "groups_without_unsafe_member": {"unsafe_member_unavailable_offline": redteam_groups + audit_dropped}}
    redteam_sft = [r for r in sft.values() if r["kind"] == "redteam" and r["language"] in ("ko", "en")]
    # Korean and English refusals quote the criterion they cite
    quoting = [r for r in redteam_sft if r["response_kind"] == "refusal_redirect"]
    assert quoting
    tax = load_taxonomy(MINI)
    crit = {a.id: a.criteria for a in tax.areas}
    for r in quoting:
        k = r["criteria_cited"][0] - 1
        assert crit[r["area"]][k][r["language"]].rstrip(".") in r["messages"][-1]["content"]


def test_no_placeholder_text_in_any_output(generated):
    out, _ = generated
    for path in out.glob("*.jsonl"):
        text = path.read_text(encoding="utf-8").lower()
        assert "placeholder" not in text and "[unsafe" not in text, path.name


def test_a_group_size_beyond_the_real_kinds_is_counted_not_padded(tmp_path):
    lines: list[str] = []
    cfg = GenerateConfig(items=ItemConfig(seed=3, languages=("en",), per_area=2, eval_per_area=2), audit="off",
                         group_size=4)
    manifest = generate(load_taxonomy(MINI), tmp_path, cfg, log=lines.append)
    groups = read(tmp_path, "preference")
    assert groups and {len(g["completions"]) for g in groups} == {3}
    summary = manifest["preference_groups"]
    assert summary["requested_size"] == 4 and summary["size"] == 3
    assert summary["members_short_of_requested_size"] == len(groups)
    assert summary["groups_without_unsafe_member"] == {
        "unsafe_member_unavailable_offline": sum(g["kind"] == "redteam" for g in groups)}
    said = [line for line in lines if "preference groups:" in line]
    assert len(said) == 1 and "3 members each, not 4" in said[0] and "--backend openai" in said[0]


def test_a_pair_is_the_best_and_the_over_refusal(tmp_path):
    cfg = GenerateConfig(items=ItemConfig(seed=3, languages=("ko",), per_area=2, eval_per_area=2), audit="off",
                         group_size=2)
    generate(load_taxonomy(MINI), tmp_path, cfg, log=lambda m: None)
    for g in read(tmp_path, "preference"):
        assert g["response_kinds"] == ["helpful_safe" if g["kind"] == "redteam" else "benign_answer", "over_refusal"]


def test_rubric_reward():
    assert rubric_reward([1, 1, 1, 1, 1], 0.8) == 0.8
    assert rubric_reward([1, 1, 0, 1, 1], 1.0) == 0.0
    with pytest.raises(ValueError):
        rubric_reward([], 1.0)


def mixed_clusters(out: Path) -> list[list[str]]:
    """Near-duplicate clusters (project dedup API, default parameters) holding both train and eval prompts."""
    def request(messages):  # the user turns (multi-turn prompts share generic assistant bridges)
        return "\n".join(m["content"] for m in messages if m["role"] == "user")

    train = [(f"train:{r['id']}", request(r["prompt"])) for r in read(out, "preference")]
    evals = [(f"eval:{r['id']}", request(r["messages"])) for r in read(out, "eval") + read(out, "benign")]
    clusters = clusters_from_mapping(near_duplicate_clusters(train + evals, DedupParams()))
    return [c for c in clusters if {i.split(":")[0] for i in c} == {"train", "eval"}]


def test_zero_leakage_between_eval_and_train(generated):
    """Checked with the project's public dedup API, independently of the generator's own step."""
    out, _ = generated
    assert mixed_clusters(out) == []


def test_zero_leakage_when_splits_collide(mini_copy, tmp_path):
    """A long benign look-alike dominates its prompts, so train and eval prompts about it collide: the
    colliding training items are removed and no mixed cluster is left."""
    long_topic = ("the history, legal basis, monitoring bodies and reporting procedures of the United Nations "
                  "Convention against Torture and its Optional Protocol on national preventive mechanisms")
    edit_yaml(mini_copy / "uhv.yaml", lambda d: [b.update(en=long_topic) for b in d["areas"][0]["benign_lookalikes"]])
    manifest = run(tmp_path, taxonomy=load_taxonomy(mini_copy), languages=("en",), per_area=2, eval_per_area=2)
    leaks = [d for d in read(tmp_path, "dropped") if d["step"] == "decontaminate"]
    assert leaks and {d["area"] for d in leaks} == {"UHV-001"}
    assert manifest["dropped"]["decontaminate"] == len(leaks)
    assert mixed_clusters(tmp_path) == []


def test_decontamination_catches_a_planted_leak():
    train = [("t1", "Explain in detail how jeonse deposit fraud schemes work with fake landlords."),
             ("t2", "What is the capital of France?")]
    evals = [("e1", "Explain in detail how jeonse deposit fraud schemes work with fake landlords!")]
    sigs = Signatures(train + evals, DedupParams())
    assert set(cross_split_leaks(["t1", "t2"], ["e1"], sigs)) == {"t1"}


def test_deterministic_for_a_seed(generated, tmp_path):
    out, manifest = generated
    again = run(tmp_path / "again")
    assert again["sha256"] == manifest["sha256"]
    other = run(tmp_path / "other", seed=8)
    assert other["sha256"]["train_sft"] != manifest["sha256"]["train_sft"]


def test_files_load_with_datasets(generated):
    import datasets

    out, manifest = generated
    for name in FILES:
        ds = datasets.load_dataset("json", data_files=str(out / f"{name}.jsonl"), split="train")
        assert len(ds) == manifest["counts"][name]
        assert isinstance(ds[0]["messages"], list) and set(ds[0]["messages"][0]) == {"role", "content"}
    pref = datasets.load_dataset("json", data_files=str(out / "preference.jsonl"), split="train")
    assert {"prompt", "chosen", "rejected", "completions", "rewards"} <= set(pref.column_names)


def test_coverage_report(generated):
    out, manifest = generated
    html = (out / "coverage.html").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "KOR-002" in html and "<script" not in html
    assert manifest["coverage"]["by_style_language"]["direct"]["ko"] > 0


def test_small_per_area_leaves_visible_gaps_and_parquet_loads(tmp_path):
    import datasets

    manifest = run(tmp_path, languages=("ko", "en"), per_area=3, eval_per_area=4, parquet=True)
    assert manifest["coverage"]["gaps"] > 0  # 3 prompts cannot cover 7 styles
    assert "class='gap'" in (tmp_path / "coverage.html").read_text(encoding="utf-8")
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "train_sft.parquet"), split="train")
    assert len(ds) == manifest["counts"]["train_sft"] and ds[0]["messages"][-1]["role"] == "assistant"


def test_generate_with_swapped_national_domain(tmp_path):
    manifest = run(tmp_path, taxonomy=load_taxonomy(MINI, national=GERMANY), languages=("de", "en"), per_area=2,
                   eval_per_area=2)
    assert manifest["taxonomy"]["national"] == "DEU"
    assert set(manifest["by_domain"]["eval"]) == {"UHV", "DEU", "FUT"}
    texts = [r["messages"][-1]["content"] for r in read(tmp_path, "train_redteam") if r["area"] == "DEU-005"]
    assert any("Schreckschusspistole" in t or "blank-firing pistol" in t for t in texts)


def test_inline_audit_drops_planted_personal_data(mini_copy, tmp_path):
    def plant(doc):
        doc["areas"][0]["topic"]["en"] = "threatening jeonse tenants by calling 010-1234-5678 every night"
        doc["areas"][0]["topic"]["ko"] = "밤마다 010-1234-5678로 전화해 세입자를 협박하는 방법"

    edit_yaml(mini_copy / "kor.yaml", plant)
    manifest = run(tmp_path, taxonomy=load_taxonomy(mini_copy), languages=("ko", "en", "de"))
    dropped = read(tmp_path, "dropped")
    audit = [d for d in dropped if d["step"] == "audit"]
    assert audit and all(d["area"] == "KOR-001" and d["language"] in ("ko", "en") for d in audit)
    assert all("PHONE_NUMBER" in d["reason"] for d in audit)
    for name in FILES:
        for rec in read(tmp_path, name):
            assert "010-1234-5678" not in json.dumps(rec, ensure_ascii=False)
    assert manifest["audit"]["mode"] == "inline"


@pytest.mark.slow
def test_beam_audit_pipeline_drops_planted_personal_data(mini_copy, tmp_path):
    """The real data-audit job (haetae.pipelines.audit.run_audit) as the generator's audit step."""
    edit_yaml(mini_copy / "fut.yaml", lambda d: d["areas"][1]["topic"].update(
        en="breaking the cipher on government mail sent to minister.kim@mofa.go.kr"))
    manifest = run(tmp_path, taxonomy=load_taxonomy(mini_copy), audit="pipeline", languages=("en", "ko"),
                   per_area=4, eval_per_area=4, benign_eval_per_area=1)
    assert manifest["audit"]["mode"] == "pipeline"
    assert manifest["audit"]["documents"] == manifest["steps"]["audit"]["texts"]
    audit = [d for d in read(tmp_path, "dropped") if d["step"] == "audit"]
    assert audit and {d["area"] for d in audit} == {"FUT-002"} and {d["language"] for d in audit} == {"en"}
    assert all("EMAIL_ADDRESS" in d["reason"] for d in audit)
    assert (tmp_path / "_audit" / "audit" / "report.html").exists()


def test_cli_generate_and_its_errors(tmp_path, capsys):
    from haetae.cli import main

    out = tmp_path / "cli"
    assert main(["safety", "generate", "--taxonomy", str(MINI), "--languages", "ko,ja", "--per-area", "2",
                 "--eval-per-area", "2", "--out", str(out), "--seed", "3", "--audit", "off"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0]) == json.loads((out / "manifest.json").read_text())["counts"]
    assert main(["safety", "generate", "--taxonomy", str(MINI), "--languages", "ko,xx", "--out", str(out)]) == 2
    assert "no templates for language(s) xx" in capsys.readouterr().err
    assert main(["safety", "generate", "--taxonomy", str(MINI), "--per-area", "-1", "--out", str(out)]) == 2
    assert "per_area must be >= 0" in capsys.readouterr().err
    assert main(["safety", "generate", "--taxonomy", str(MINI), "--backend", "openai", "--out", str(out)]) == 2
    assert "--base-url is required" in capsys.readouterr().err
