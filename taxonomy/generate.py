"""Seed-driven safety data: ``haetae safety generate``.

Steps, each timed and counted in ``manifest.json``:

    build_items (seeds -> eval / train prompts, attack-library mutations) -> contrast (over-refusal pairs)
        -> dedup_seeds (a seed near-duplicating another seed of its area and language) -> decontaminate (drop every
        training item that near-duplicates any evaluation or contrast prompt, all languages, project MinHash)
        -> responses (SFT targets from safe_help, preference groups of real responses) -> audit -> write

Outputs in OUT: eval.jsonl, train_redteam.jsonl, train_sft.jsonl, preference.jsonl, contrast.jsonl, dropped.jsonl
(one row per item and file it was not written to, with step and reason), manifest.json, coverage.html, optionally
Parquet. Counts reconcile per file: generated = written + dropped, checked before the manifest is written.
Areas without seeds are skipped and counted (``no_seeds``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from haetae.taxonomy.audit_step import audit_documents
from haetae.taxonomy.backends import GenerationBackend, TemplateBackend
from haetae.taxonomy.contrast import ContrastPair, contrast_dir, load_contrast
from haetae.taxonomy.coverage import Coverage, render_html
from haetae.taxonomy.items import ItemConfig, build_items, prompt_text, request_text
from haetae.taxonomy.leakage import Signatures, cross_split_leaks, duplicates_within_groups
from haetae.taxonomy.model import COMMITTEE_LANGUAGES, Area, Taxonomy
from haetae.taxonomy.responses import MAX_GROUP_SIZE, has_target_language, response_group, target_text
from haetae.taxonomy.seeds import AreaSeeds, load_seeds
from haetae.taxonomy.unsafe_members import UNAVAILABLE_OFFLINE, unsafe_members

OUTPUT_FILES = ("eval", "train_redteam", "train_sft", "preference", "contrast")
NO_TARGET_LANGUAGE = "no_target_language"


@dataclass(frozen=True)
class GenerateConfig:
    items: ItemConfig = field(default_factory=ItemConfig)
    group_size: int = MAX_GROUP_SIZE
    audit: str = "pipeline"  # pipeline | inline | off
    parquet: bool = False
    workers: int = 4  # concurrent backend requests
    dedup: dict = field(default_factory=dict)  # DedupParams overrides for the MinHash steps


class Run:
    """Book-keeping of one run: step timings, what each file was offered, and every drop with its reason."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.steps: dict[str, dict] = {}
        self.dropped: list[dict] = []
        self.generated: Counter = Counter()
        self._t = time.time()

    def step(self, name: str, **counts) -> None:
        now = time.time()
        seconds = now - self._t
        self._t = now
        self.steps[name] = {**counts, "seconds": round(seconds, 2)}
        self.log(f"  {name}: " + ", ".join(f"{k}={v}" for k, v in counts.items()) + f" ({seconds:.1f}s)")

    def drop(self, item: dict, files: tuple[str, ...], step: str, reason: str) -> None:
        for name in files:
            self.dropped.append({"id": item["id"], "file": name, "split": item["split"], "kind": item["kind"],
                                 "area": item["area"], "language": item["language"], "mutation": item["mutation"],
                                 "seed_id": item["seed_id"], "step": step, "reason": reason})

    def dropped_by(self, name: str) -> Counter:
        return Counter(d["reason"].split(":")[0] for d in self.dropped if d["file"] == name)


def files_of(item: dict) -> tuple[str, ...]:
    """The output files an item is offered to."""
    if item["split"] == "eval":
        return ("contrast",) if item["kind"] == "contrast" else ("eval",)
    if item["kind"] == "benign":
        return ("train_sft", "preference")
    return ("train_redteam", "train_sft", "preference")


def _criteria(area: Area) -> list[dict[str, str]]:
    return [{lang: c[lang] for lang in COMMITTEE_LANGUAGES} for c in area.criteria]


def _common(item: dict, area: Area | None) -> dict:
    keys = ("id", "area", "domain", "severity", "language", "mutation", "family", "seed_id", "split", "shape", "kind")
    return {**{k: item[k] for k in keys}, "area_name": area.name["en"] if area else ""}


def _eval_record(item: dict, area: Area) -> dict:
    return {**_common(item, area), "messages": item["messages"], "expected": "safe", "frame": item["frame"],
            "criterion": item["criterion"], "criteria": _criteria(area),
            "positive_policy": [dict(p) for p in area.positive_policy], "harm_type": area.harm_type,
            "detail_scale": {k: dict(v) for k, v in area.detail_scale.items()}}


def _prompt_record(item: dict, area: Area) -> dict:
    """A prompt row: ``messages`` for chat readers, the same turns as ``prompt`` for TRL's prompt-only trainers."""
    return {**_common(item, area), "messages": item["messages"], "prompt": item["messages"], "frame": item["frame"],
            "criterion": item["criterion"]}


def _contrast_record(item: dict, area: Area | None) -> dict:
    pair: ContrastPair = item["_pair"]
    return {**_common(item, area), "messages": item["messages"], "expected": "answer", "trigger": pair.trigger,
            "type": pair.type, "harmful_contrast": pair.harmful,
            "partial_refusal_acceptable": pair.partial_refusal_acceptable}


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _sft_record(item: dict, area: Area, target: dict) -> dict:
    cited = item["criterion"] if item["kind"] == "redteam" and item["frame"] in ("how_to", "agentic") else None
    return {**_common(item, area), "id": f"{item['id']}.sft", "prompt_id": item["id"],
            "messages": item["messages"] + _assistant(target["content"]), "response_kind": target["kind"],
            "frame": item["frame"], "criterion_cited": cited, "source": item.get("_target_source", "seed")}


def _preference_record(item: dict, area: Area, group: list[dict]) -> dict:
    best = max(group, key=lambda r: r["reward"])
    worst = min(group, key=lambda r: r["reward"])
    return {
        **_common(item, area), "id": f"{item['id']}.pref", "prompt_id": item["id"],
        "prompt": item["messages"], "messages": item["messages"],
        "completions": [_assistant(r["content"]) for r in group],
        "response_kinds": [r["kind"] for r in group],
        "rubric": [{"criteria": r["criteria"], "helpfulness": r["helpfulness"]} for r in group],
        "rewards": [r["reward"] for r in group],
        "chosen": _assistant(best["content"]), "rejected": _assistant(worst["content"]),
    }


def _write_jsonl(path: Path, records: list[dict]) -> str:
    digest = hashlib.sha256()
    with path.open("w", encoding="utf-8") as f:
        for rec in records:
            line = json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n"
            digest.update(line.encode("utf-8"))
            f.write(line)
    return digest.hexdigest()


def _contrast_items(pairs: list[ContrastPair], areas: dict[str, Area], languages: tuple[str, ...],
                    run: Run) -> list[dict]:
    items = []
    for p in sorted(pairs, key=lambda p: p.id):
        if p.language not in languages:
            continue
        area = areas.get(p.area)
        item = {"id": f"{p.id}.contrast", "area": p.area, "domain": area.domain if area else p.area.split("-")[0],
                "severity": area.severity if area else "", "language": p.language, "mutation": "none",
                "family": "none", "seed_id": p.id, "split": "eval", "shape": "single_turn", "kind": "contrast",
                "frame": "benign", "criterion": None, "messages": [{"role": "user", "content": p.benign}], "_pair": p}
        run.generated["contrast"] += 1
        if area is None:
            run.drop(item, ("contrast",), "contrast", f"area_not_in_taxonomy: {p.area}")
            continue
        items.append(item)
    return items


def generate(
    taxonomy: Taxonomy, out_dir: str | Path, cfg: GenerateConfig, backend: GenerationBackend | None = None,
    log: Callable[[str], None] | None = None, seeds: dict[str, AreaSeeds] | None = None,
    contrast: list[ContrastPair] | None = None,
) -> dict:
    """Generate every file into ``out_dir``; returns the manifest (also written as manifest.json). ``seeds`` and
    ``contrast`` default to the taxonomy's ``seeds/`` and ``contrast/`` folders."""
    from haetae.pipelines.dedup.minhash import DedupParams

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    backend = backend or TemplateBackend()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    run = Run(log)
    areas = {a.id: a for a in taxonomy.areas}
    ic = cfg.items
    seeds = load_seeds(taxonomy) if seeds is None else seeds
    pairs = load_contrast(contrast_dir(taxonomy.root), ic.languages) if contrast is None else contrast
    log(f"haetae safety generate: {len(areas)} areas ({sum(1 for a in areas if a in seeds)} with seeds) x "
        f"{len(ic.languages)} languages, seed {ic.seed}, backend {backend.name}, audit {cfg.audit}")

    # 1. prompts from seeds
    s = build_items(taxonomy, seeds, ic)
    train = s.train_redteam + s.train_benign
    evals = list(s.eval)
    for item in train + evals:
        for name in files_of(item):
            run.generated[name] += 1
    run.step("build_items", eval=len(s.eval), train_redteam=len(s.train_redteam), train_benign=len(s.train_benign),
             held_out_areas=len(s.holdout_areas), no_seeds=len(s.areas_without_seeds),
             mutations_not_applicable=sum(s.not_applicable.values()))
    overlap = set(s.eval_seeds) & set(s.train_seeds)
    if overlap:  # split by seed: impossible by construction, checked anyway
        raise RuntimeError(f"seeds in both splits: {sorted(overlap)[:5]}")

    contrast_items = _contrast_items(pairs, areas, ic.languages, run)
    evals += contrast_items
    run.step("contrast", pairs=len(pairs), items=len(contrast_items))

    # 2. seeds that near-duplicate another seed of their (split, area, language): all their items go
    params = DedupParams.from_dict(cfg.dedup or None)
    sigs = Signatures(((i["id"], request_text(i)) for i in train + evals), params)
    plain = [i for i in train + evals if i["mutation"] == "none"]
    groups: dict[tuple, list[str]] = {}
    for i in plain:
        groups.setdefault((i["split"], i["kind"], i["area"], i["language"]), []).append(i["id"])
    dup = duplicates_within_groups(groups.values(), sigs)
    dup_seeds = {i["seed_id"]: dup[i["id"]] for i in plain if i["id"] in dup}
    for i in train + evals:
        if i["seed_id"] in dup_seeds:
            kept, sim = dup_seeds[i["seed_id"]]
            run.drop(i, files_of(i), "dedup_seeds", f"near_duplicate_seed: of {kept} (similarity {sim:.2f})")
    train = [i for i in train if i["seed_id"] not in dup_seeds]
    evals = [i for i in evals if i["seed_id"] not in dup_seeds]
    run.step("dedup_seeds", seeds_dropped=len(dup_seeds), threshold=params.threshold)

    # 3. decontamination: no training item may near-duplicate any evaluation or contrast prompt, in any language
    leaks = cross_split_leaks((i["id"] for i in train), (i["id"] for i in evals), sigs)
    for i in train:
        if i["id"] in leaks:
            run.drop(i, files_of(i), "decontaminate",
                     f"near_duplicate_of_eval: {leaks[i['id']][0]} (similarity {leaks[i['id']][1]:.2f})")
    train = [i for i in train if i["id"] not in leaks]
    run.step("decontaminate", dropped=len(leaks), train=len(train), eval=len(evals))

    # 4. responses: composed targets (ko/en), a model's where the generator has none, real groups only
    size = min(cfg.group_size, MAX_GROUP_SIZE)
    model_targets = _model_targets([i for i in train if i["kind"] == "redteam" and not has_target_language(i["language"])],
                                   areas, backend, cfg.workers, ic.seed)
    answerable = [i for i in train if i["kind"] == "benign" or has_target_language(i["language"])
                  or i["id"] in model_targets]
    answerable_ids = {i["id"] for i in answerable}
    for i in train:
        if i["id"] not in answerable_ids:
            run.drop(i, ("train_sft", "preference"), "responses",
                     f"{NO_TARGET_LANGUAGE}: the area's safe_help is written in ko and en only")
    redteam = [i for i in answerable if i["kind"] == "redteam"]
    unsafe, no_unsafe = unsafe_members(redteam, areas, backend, cfg.workers)
    groups_by_id: dict[str, list[dict]] = {}
    short = 0
    for i in answerable:
        if i["id"] in model_targets:
            i["_target_source"] = backend.name
        group = response_group(i, areas[i["area"]], ic.seed, size, unsafe.get(i["id"]), model_targets.get(i["id"]))
        groups_by_id[i["id"]] = group
        if len(group) < size:
            short += 1
    groups_summary = {"requested_size": cfg.group_size, "size": size, "unsafe_members": len(unsafe),
                      "members_short_of_requested_size": (cfg.group_size - size) * len(groups_by_id),
                      "groups_short_of_size": short, "groups_without_unsafe_member": dict(sorted(no_unsafe.items())),
                      "model_written_targets": len(model_targets)}
    run.step("responses", groups=len(groups_by_id), group_size=size, model_targets=len(model_targets),
             unsafe_members=len(unsafe), **no_unsafe)
    _log_missing_members(groups_summary, log)

    # 5. audit (PII, rights) of every distinct text that would be written
    segments = _segments(train + evals, groups_by_id)
    docs = [{"id": seg_id, "lang": lang, "text": text} for seg_id, (text, lang) in segments.items()]
    audit = audit_documents(docs, out / "_audit", cfg.audit)
    bad = {seg_id: (rule, reasons) for seg_id, (decision, rule, reasons) in audit.decisions.items()
           if decision != "keep" and not rule.startswith("dedup.")}  # repeated texts (a wrapper, a refusal) are fine
    rejected = 0
    for i in train + evals:
        hits = [bad[seg] for seg in _item_segment_ids(i, groups_by_id) if seg in bad]
        if hits:
            rejected += 1
            i["_rejected"] = True
            files = files_of(i) if i["kind"] == "contrast" or i["split"] == "eval" or i["id"] in groups_by_id \
                else ("train_redteam",)
            run.drop(i, files, "audit", "audit: " + "; ".join(f"{rule} {', '.join(r)[:100]}" for rule, r in hits)[:300])
    train = [i for i in train if not i.get("_rejected")]
    evals = [i for i in evals if not i.get("_rejected")]
    run.step("audit", mode=cfg.audit, texts=len(docs), rejected_texts=len(bad), dropped=rejected)

    # 6. write
    files = {
        "eval": [_eval_record(i, areas[i["area"]]) for i in evals if i["kind"] == "redteam"],
        "train_redteam": [_prompt_record(i, areas[i["area"]]) for i in train if i["kind"] == "redteam"],
        "train_sft": [_sft_record(i, areas[i["area"]], groups_by_id[i["id"]][0]) for i in train if i["id"] in groups_by_id],
        "preference": [],
        "contrast": [_contrast_record(i, areas.get(i["area"])) for i in evals if i["kind"] == "contrast"],
    }
    for i in train:
        if i["id"] not in groups_by_id:
            continue
        if len(groups_by_id[i["id"]]) < size:
            run.drop(i, ("preference",), "responses", f"group_short: {len(groups_by_id[i['id']])} real responses, "
                                                      f"group size {size}")
            continue
        files["preference"].append(_preference_record(i, areas[i["area"]], groups_by_id[i["id"]]))
    digests = {name: _write_jsonl(out / f"{name}.jsonl", recs) for name, recs in files.items()}
    _write_jsonl(out / "dropped.jsonl", run.dropped)
    if cfg.parquet:
        _write_parquet(out, files)
    run.step("write", **{name: len(recs) for name, recs in files.items()})

    # 7. coverage and manifest
    coverage = Coverage.from_files(files, ic.languages, s.holdout_areas, s.areas_without_seeds)
    reconciliation = {name: {"generated": run.generated[name], "written": len(files[name]),
                             "dropped": sum(run.dropped_by(name).values())} for name in OUTPUT_FILES}
    held_out_seeds = sorted(sd.id for a in s.holdout_areas if a in seeds for sd in seeds[a].seeds
                            if sd.language in ic.languages)
    manifest = {
        "taxonomy": {"name": taxonomy.name, "version": taxonomy.version, "areas": len(areas),
                     "domains": {d.id: len(d.areas) for d in taxonomy.domains},
                     "national": taxonomy.national.id if taxonomy.national else None},
        "config": {**asdict(ic), "group_size": cfg.group_size, "audit": cfg.audit, "backend": backend.name,
                   "dedup": params.to_dict()},
        "seed": ic.seed,
        "seeds": {
            "areas_with_seeds": len(areas) - len(s.areas_without_seeds),
            "held_out_areas": list(s.holdout_areas),
            "held_out_seeds": held_out_seeds,
            "eval_seeds": s.eval_seeds, "train_seeds": s.train_seeds, "benign_seeds": s.benign_seeds,
            "excluded": dict(sorted(s.excluded.items())),
            "dropped_as_near_duplicate": sorted(dup_seeds),
        },
        "skipped_areas": {"no_seeds": len(s.areas_without_seeds), "ids": s.areas_without_seeds},
        "counts": {name: len(recs) for name, recs in files.items()},
        "by_language": {name: dict(sorted(Counter(r["language"] for r in recs).items())) for name, recs in files.items()},
        "by_mutation": {name: dict(sorted(Counter(r["mutation"] for r in recs).items())) for name, recs in files.items()},
        "by_family": {name: dict(sorted(Counter(r["family"] for r in recs).items())) for name, recs in files.items()},
        "by_domain": {name: dict(sorted(Counter(r["domain"] for r in recs).items())) for name, recs in files.items()},
        "eval_shapes": dict(sorted(Counter(r["shape"] for r in files["eval"]).items())),
        "mutations_not_applicable": dict(sorted(s.not_applicable.items())),
        "mutation_shortfall": dict(sorted(s.shortfall.items())),
        "generated": dict(sorted(run.generated.items())),
        "dropped": {name: dict(sorted(run.dropped_by(name).items())) for name in OUTPUT_FILES},
        "reconciliation": reconciliation,
        "preference_groups": groups_summary,
        "audit": audit.counts(),
        "steps": run.steps,
        "coverage": coverage.summary(taxonomy),
        "sha256": digests,
        "seconds": round(time.time() - started, 2),
    }
    if hasattr(backend, "requests_sent"):
        manifest["backend"] = {"requests": backend.requests_sent, "cache_hits": backend.cache_hits}
    _check_reconciles(reconciliation, len(run.dropped))
    (out / "coverage.html").write_text(render_html(coverage, taxonomy, "Safety data coverage", {
        "taxonomy": f"{taxonomy.name} {taxonomy.version}", "seed": ic.seed, "backend": backend.name,
        **manifest["counts"]}), encoding="utf-8")
    with (out / "manifest.json").open("w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=2, sort_keys=True)
    log(f"  done in {manifest['seconds']:.1f}s: " + ", ".join(f"{k}={v}" for k, v in manifest["counts"].items())
        + f"; {len(s.areas_without_seeds)} area(s) without seeds skipped")
    return manifest


def _model_targets(items: list[dict], areas: dict[str, Area], backend: GenerationBackend, workers: int,
                   seed: int) -> dict[str, str]:
    """Targets a model writes for training items in languages without safe_help, from the English target."""
    if isinstance(backend, TemplateBackend) or not items:
        return {}
    import random

    def one(item: dict) -> str | None:
        rng = random.Random(f"{seed}|{item['id']}|responses")
        reference = target_text(areas[item["area"]], item["frame"], item["criterion"], "en", rng)
        return backend.safe_reply(item["messages"], reference, item["language"])

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return {i["id"]: text for i, text in zip(items, pool.map(one, items)) if text}


def _segment_id(text: str) -> str:
    return "t" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:24]


def _item_texts(item: dict, groups: dict[str, list[dict]]) -> list[str]:
    return [prompt_text(item)] + [r["content"] for r in groups.get(item["id"], ())]


def _item_segment_ids(item: dict, groups: dict[str, list[dict]]) -> list[str]:
    return [_segment_id(t) for t in _item_texts(item, groups)]


def _segments(items: list[dict], groups: dict[str, list[dict]]) -> dict[str, tuple[str, str]]:
    """Distinct texts (prompt of each item, each response) -> (text, language): what the audit scans."""
    out: dict[str, tuple[str, str]] = {}
    for item in items:
        for text in _item_texts(item, groups):
            out.setdefault(_segment_id(text), (text, item["language"]))
    return out


def _log_missing_members(summary: dict, log: Callable[[str], None]) -> None:
    """One line when groups are smaller than asked or lack the model's unsafe member (never padded)."""
    parts = []
    if summary["members_short_of_requested_size"]:
        parts.append(f"{summary['size']} members each, not {summary['requested_size']}")
    missing = summary["groups_without_unsafe_member"]
    if missing:
        how = ("; offline there is none, --backend openai writes and grades one"
               if UNAVAILABLE_OFFLINE in missing else "")
        parts.append(f"{sum(missing.values())} red-team groups without an unsafe-compliance member ("
                     + ", ".join(f"{k}={v}" for k, v in missing.items()) + how + ")")
    if parts:
        log("  preference groups: " + "; ".join(parts) + " -- counted in manifest.json preference_groups")


def _check_reconciles(reconciliation: dict, dropped_rows: int) -> None:
    """Every item offered to a file is written there exactly once or dropped from it exactly once."""
    for name, r in reconciliation.items():
        if r["generated"] != r["written"] + r["dropped"]:
            raise RuntimeError(f"{name}: counts do not reconcile: generated {r['generated']}, written "
                               f"{r['written']}, dropped {r['dropped']}")
    if dropped_rows != sum(r["dropped"] for r in reconciliation.values()):
        raise RuntimeError("dropped.jsonl rows and per-file drop counts differ")


def _write_parquet(out: Path, files: dict[str, list[dict]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    for name, recs in files.items():
        if recs:
            pq.write_table(pa.Table.from_pylist(recs), out / f"{name}.parquet")


def default_workers() -> int:
    return min(8, (os.cpu_count() or 2) * 2)
