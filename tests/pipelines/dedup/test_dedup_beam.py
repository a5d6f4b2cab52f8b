"""The Beam Deduplicate transform and the `haetae dedup` stage job, on real Beam (DirectRunner)."""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from haetae.pipelines.commands.dedup import run_dedup
from haetae.pipelines.dedup.minhash import UnionFind
from haetae.pipelines.dedup.transforms import (
    NAMESPACE,
    Deduplicate,
    DedupParams,
    StarComponents,
    dedup_assignments,
    exact_key,
)

ROOT = Path(__file__).resolve().parents[3]
CONSTITUTION = ROOT / "pipelines" / "data" / "legal" / "ko_constitution.txt"

EN_DOCS = [
    "Licensed under the Apache License, Version 2.0 (the \"License\"); you may not use this file except in "
    "compliance with the License. You may obtain a copy of the License at the project website. Unless required "
    "by applicable law or agreed to in writing, software distributed under the License is distributed on an "
    "\"AS IS\" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.",
    "Permission is hereby granted, free of charge, to any person obtaining a copy of this software and "
    "associated documentation files (the \"Software\"), to deal in the Software without restriction, including "
    "without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell "
    "copies of the Software, and to permit persons to whom the Software is furnished to do so.",
    "Redistribution and use in source and binary forms, with or without modification, are permitted provided "
    "that the following conditions are met: redistributions of source code must retain the above copyright "
    "notice, this list of conditions and the following disclaimer, and redistributions in binary form must "
    "reproduce the above copyright notice in the documentation and other materials provided with the distribution.",
]


def constitution_paragraphs(n: int) -> list[str]:
    """The first n lines of the Constitution that are long enough to be paragraph-level documents."""
    lines = [ln.strip() for ln in CONSTITUTION.read_text(encoding="utf-8").splitlines()]
    return [ln for ln in lines if len(ln) >= 120][:n]


def korean_particle_swap(text: str) -> str:
    swaps = {"은": "는", "는": "은", "이": "가", "가": "이", "을": "를", "를": "을"}
    words = text.split(" ")
    return " ".join(w[:-1] + swaps[w[-1]] if i % 3 == 0 and len(w) > 1 and w[-1] in swaps else w
                    for i, w in enumerate(words))


def respace(text: str, seed: int) -> str:
    rng = random.Random(seed)
    return "".join("" if c == " " and rng.random() < 0.4 else c + (" " if rng.random() < 0.03 else "")
                   for c in text)


def word_edits(text: str, seed: int) -> str:
    rng = random.Random(seed)
    words = text.split(" ")
    for _ in range(max(1, len(words) // 25)):
        words[rng.randrange(len(words))] = "변경된"
    return " ".join(words)


def heavy_edit(text: str, seed: int) -> str:
    rng = random.Random(seed)
    vocab = sorted(set(" ".join(EN_DOCS).split()) | {"국가", "법률", "조약", "선거", "예산", "국회", "법원"})
    return " ".join(rng.choice(vocab) if rng.random() < 0.65 else w for w in text.split(" "))


def labelled_corpus() -> tuple[list[tuple[str, str]], dict[str, str], list[str]]:
    """(items, expected cluster-mates {variant id: base id}, ids that must stay alone)."""
    items, same, alone = [], {}, []
    for i, doc in enumerate(constitution_paragraphs(12) + EN_DOCS):
        base = f"d{i:02d}"
        items.append((base, doc))
        variants = {
            "space": respace(doc, i),
            "particle": korean_particle_swap(doc),
            "footer": doc + "\n출처: 국가법령정보센터 (무단 전재 및 재배포 금지)",
            "edit": word_edits(doc, i),
            "exact": "  " + doc.upper() + "\n",
        }
        for name, text in variants.items():
            items.append((f"{base}-{name}", text))
            same[f"{base}-{name}"] = base
        items.append((f"{base}-heavy", heavy_edit(doc, i)))
        alone.append(f"{base}-heavy")
    return items, same, alone


def run_beam(items, params=None):
    options = PipelineOptions(["--runner=haetae.pipelines.runners.options.DirectRunner", "--direct_running_mode=in_memory"])
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = beam.Pipeline(options=options)
        _ = (pipeline | beam.Create(items, reshuffle=False) | Deduplicate(params) | beam.Map(json.dumps)
             | beam.io.WriteToText(f"{tmp}/out", num_shards=1, shard_name_template=""))
        result = pipeline.run()
        result.wait_until_finish()
        lines = Path(tmp, "out").read_text(encoding="utf-8").splitlines()
    counters = {c.key.metric.name: c.committed
                for c in result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]}
    return [tuple(json.loads(r)) for r in lines], counters


@pytest.fixture(scope="module")
def corpus():
    return labelled_corpus()


@pytest.fixture(scope="module")
def beam_run(corpus):
    items, _, _ = corpus
    return run_beam(items)


def test_beam_clusters_korean_and_english_near_duplicates(corpus, beam_run):
    items, same, alone = corpus
    rows, _ = beam_run
    out = dict(rows)
    assert len(rows) == len(items) and set(out) == {i for i, _ in items}  # every id exactly once
    for variant, base in same.items():
        assert out[variant]["cluster"] == out[base]["cluster"], (variant, out[variant])
    for doc_id in alone:
        assert out[doc_id]["cluster"] == doc_id and out[doc_id]["kind"] == "unique", (doc_id, out[doc_id])
    bases = {out[f"d{i:02d}"]["cluster"] for i in range(15)}
    assert len(bases) == 15  # distinct paragraphs are never merged
    for r in out.values():
        assert r["cluster"] == min(i for i, s in out.items() if s["cluster"] == r["cluster"])
        assert r["cluster_size"] == sum(1 for s in out.values() if s["cluster"] == r["cluster"])
    d0 = {k: v for k, v in out.items() if k.startswith("d00")}
    assert d0["d00"]["kind"] == "representative" and d0["d00-exact"] == {
        "cluster": "d00", "cluster_size": 6, "kind": "exact", "similarity": 1.0}
    assert d0["d00-footer"]["kind"] == "near" and 0.5 <= d0["d00-footer"]["similarity"] < 1.0


def test_beam_equals_in_memory_reference_and_counts(corpus, beam_run):
    items, _, _ = corpus
    rows, counters = beam_run
    assert dict(rows) == dedup_assignments(items)
    assert counters["documents"] == len(items)
    assert counters["exact_duplicates"] == len(items) - len({exact_key(t) for _, t in items}) >= 15
    assert counters["candidate_pairs"] == counters["verified_edges"] + counters.get("rejected_pairs", 0)
    assert counters["near_duplicate_clusters"] == 15


def test_beam_is_deterministic_across_input_order(corpus, beam_run):
    items, _, _ = corpus
    shuffled = list(items)
    random.Random(3).shuffle(shuffled)
    rows, _ = run_beam(shuffled)
    assert sorted(rows) == sorted(beam_run[0])


def test_oversized_buckets_are_capped_and_counted():
    base = constitution_paragraphs(1)[0]
    items = [(f"n{i:02d}", base + f" 부칙 {i}") for i in range(12)] + [("z", EN_DOCS[0])]
    params = DedupParams(max_bucket_size=4)
    rows, counters = run_beam(items, params)
    out = dict(rows)
    assert counters["lsh_buckets_oversized"] > 0
    assert counters["candidate_pairs"] < 12 * 11 // 2
    assert {out[f"n{i:02d}"]["cluster"] for i in range(12)} == {"n00"} and out["z"]["kind"] == "unique"
    assert dict(rows) == dedup_assignments(items, params)


def _policy_with_minhash(path, minhash: str):
    """The default data policy (``--policy`` is a whole policy, validated strictly) with ``dedup.minhash``."""
    from haetae.policies import DEFAULT_DATA_POLICY

    shipped = Path(DEFAULT_DATA_POLICY)
    text = shipped.read_text(encoding="utf-8").replace("  minhash: {}", f"  minhash: {minhash}")
    for name in ("pii_recognizers.yaml", "rights_detectors.yaml"):  # named relative to the policy file
        text = text.replace(f": {name}", f": {shipped.parent / name}")
    path.write_text(text, encoding="utf-8")
    return path


def _job_args(inputs, out, policy=None):
    return argparse.Namespace(inputs=inputs, out=str(out), text_field="body", id_field="doc_id", policy=policy,
                              runner="DirectRunner")


def test_dedup_job_writes_clusters_and_quarantine(tmp_path, corpus):
    items, same, _ = corpus
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"doc_id": i, "body": t, "extra": 1}, ensure_ascii=False) for i, t in items]
    lines += ["{not json", "[1, 2]", json.dumps({"doc_id": "x"}), json.dumps({"doc_id": "y", "body": 5}),
              json.dumps({"doc_id": "d00", "body": "a second record with an existing id"})]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    policy = _policy_with_minhash(tmp_path / "policy.yaml", "{threshold: 0.5, ngram: 5}")
    out = tmp_path / "out"
    assert run_dedup(_job_args([str(src)], out, str(policy)), ["--direct_running_mode=in_memory"]) == 0
    rows = [json.loads(line) for line in (out / "clusters.jsonl").read_text(encoding="utf-8").splitlines()]
    clusters = {r["id"]: r["cluster"] for r in rows}
    assert len(rows) == len(clusters) == len(items)
    assert clusters == {i: r["cluster"] for i, r in dedup_assignments(items).items()}
    quarantine = [json.loads(line) for line in (out / "quarantine.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(q["reason"] for q in quarantine) == [
        "duplicate_id", "malformed_json", "missing_text", "non_string_text", "not_an_object"]
    dup = next(q for q in quarantine if q["reason"] == "duplicate_id")
    assert dup["line"] == len(items) + 5 and dup["id"] == "d00"
    summary = json.loads((out / "dedup_summary.json").read_text(encoding="utf-8"))
    assert summary["counts"]["records"] == len(lines)
    assert summary["counts"]["clusters"] == len(set(clusters.values()))
    assert not list(out.glob("*-part-*"))
    assert summary["params"]["threshold"] == 0.5


def test_dedup_job_default_multiprocessing_runner(tmp_path):
    src = tmp_path / "in.jsonl"
    docs = {"a": EN_DOCS[0], "b": EN_DOCS[0] + " Source: example.", "c": EN_DOCS[1]}
    src.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in docs.items()), encoding="utf-8")
    args = argparse.Namespace(inputs=[str(src)], out=str(tmp_path / "o"), text_field="text", id_field="id",
                              policy=None, runner="DirectRunner")
    assert run_dedup(args, []) == 0
    rows = [json.loads(x) for x in (tmp_path / "o" / "clusters.jsonl").read_text().splitlines()]
    assert sorted((r["id"], r["cluster"]) for r in rows) == [("a", "a"), ("b", "a"), ("c", "c")]


def test_dedup_job_user_errors_exit_nonzero(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "x"}\n', encoding="utf-8")
    assert run_dedup(_job_args([str(tmp_path / "missing*.jsonl")], tmp_path / "o"), []) == 2
    assert "matches no file" in capsys.readouterr().err
    policy = _policy_with_minhash(tmp_path / "p.yaml", "{treshold: 0.7}")
    assert run_dedup(_job_args([str(src)], tmp_path / "o", str(policy)), []) == 2
    assert "dedup.minhash.treshold: unknown key; did you mean 'threshold'?" in capsys.readouterr().err
    _policy_with_minhash(policy, "{num_perm: 100}")
    assert run_dedup(_job_args([str(src)], tmp_path / "o", str(policy)), []) == 2
    assert "bands * rows must equal num_perm" in capsys.readouterr().err


def _components_by_beam(edges, rounds_list):
    options = PipelineOptions(["--runner=haetae.pipelines.runners.options.DirectRunner", "--direct_running_mode=in_memory"])
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = beam.Pipeline(options=options)
        pcoll = pipeline | beam.Create(edges, reshuffle=False)
        for rounds in rounds_list:
            _ = (pcoll | f"Star{rounds}" >> StarComponents(rounds) | f"Json{rounds}" >> beam.Map(json.dumps)
                 | f"Write{rounds}" >> beam.io.WriteToText(f"{tmp}/r{rounds}", num_shards=1, shard_name_template=""))
        pipeline.run().wait_until_finish()
        return {r: [tuple(json.loads(x)) for x in Path(tmp, f"r{r}").read_text().splitlines()] for r in rounds_list}


def test_star_components_match_union_find_for_any_round_count():
    rng = random.Random(5)
    nodes = [f"n{i:03d}" for i in range(80)]
    chain = [(nodes[i], nodes[i + 1]) for i in range(30)]  # a long path needs many rounds
    shuffled_chain = [(f"p{rng.randrange(10**6):06d}", f"q{rng.randrange(10**6):06d}") for _ in range(25)]
    random_edges = [tuple(sorted(rng.sample(nodes[30:], 2))) for _ in range(40)]
    edges = sorted(set(chain + shuffled_chain + random_edges))
    uf = UnionFind()
    for a, b in edges:
        uf.union(a, b)
    expected = uf.mapping()
    results = _components_by_beam(edges, [1, 4])
    for rounds, rows in results.items():
        assert len(rows) == len(expected), rounds
        assert dict(rows) == expected, rounds


def test_deduplicate_with_star_components_equals_default(corpus, beam_run):
    items, _, _ = corpus
    rows, _ = run_beam(items, DedupParams(star_rounds=2))
    assert sorted(rows) == sorted(beam_run[0])


def test_exact_shingle_verification_beam_equals_in_memory(corpus):
    items, same, alone = corpus
    params = DedupParams(verify="shingles")
    rows, counters = run_beam(items, params)
    out = dict(rows)
    assert out == dedup_assignments(items, params)
    assert all(out[v]["cluster"] == out[b]["cluster"] for v, b in same.items())
    assert all(out[d]["kind"] == "unique" for d in alone)
    assert counters["candidate_pairs"] == counters["verified_edges"] + counters.get("rejected_pairs", 0)
