"""Taxonomy-driven safety data: ``haetae safety generate``.

Steps, each counted in ``manifest.json`` (counts reconcile: generated = written + dropped per step):

    build_items -> vary (backend) -> dedup_within_area -> decontaminate (drop train near-duplicates of eval)
        -> responses (SFT targets, GrouPER groups) -> audit (PII, rights, exact duplicates) -> write

Outputs in OUT: train_sft.jsonl, train_redteam.jsonl, preference.jsonl, eval.jsonl, benign.jsonl
(over-refusal set), dropped.jsonl (every removed item with its step and reason), manifest.json, coverage.html;
optionally the same splits as Parquet. Records use the chat ``messages`` format TRL and ``datasets`` load.
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
from haetae.taxonomy.coverage import Coverage, render_html
from haetae.taxonomy.items import ItemConfig, build_items, prompt_text, request_text
from haetae.taxonomy.leakage import Signatures, cross_split_leaks, duplicates_within_groups
from haetae.taxonomy.model import COMMITTEE_LANGUAGES, Area, Taxonomy
from haetae.taxonomy.responses import MAX_GROUP_SIZE, response_group, sft_choice
from haetae.taxonomy.unsafe_members import UNAVAILABLE_OFFLINE, unsafe_members

OUTPUT_FILES = ("train_sft", "train_redteam", "preference", "eval", "benign")
NO_VARIATION_STYLES = ("obfuscation", "injection")  # their structure (encoding, embedded document) must survive


@dataclass(frozen=True)
class GenerateConfig:
    items: ItemConfig = field(default_factory=ItemConfig)
    group_size: int = MAX_GROUP_SIZE  # a larger request writes MAX_GROUP_SIZE members and counts the rest
    audit: str = "pipeline"  # pipeline | inline | off
    parquet: bool = False
    workers: int = 4  # concurrent backend requests
    dedup: dict = field(default_factory=dict)  # DedupParams overrides for the MinHash steps


class Run:
    """Book-keeping of one run: step timings, per-step drops (with reasons), and the dropped log."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.steps: dict[str, dict] = {}
        self.dropped: list[dict] = []
        self._t = time.time()

    def step(self, name: str, **counts) -> None:
        now = time.time()
        seconds = now - self._t
        self._t = now
        self.steps[name] = {**counts, "seconds": round(seconds, 2)}
        self.log(f"  {name}: " + ", ".join(f"{k}={v}" for k, v in counts.items()) + f" ({seconds:.1f}s)")

    def drop(self, item: dict, step: str, reason: str) -> None:
        self.dropped.append({"id": item["id"], "split": item["split"], "kind": item["kind"], "area": item["area"],
                             "language": item["language"], "style": item["style"], "step": step, "reason": reason})


def plausible_paraphrase(original: str, candidate: str) -> bool:
    """A paraphrase keeps roughly the original's length (a refusal or an essay in its place does not)."""
    return bool(candidate.strip()) and 0.4 <= len(candidate) / max(1, len(original)) <= 2.5


def _vary(items: list[dict], backend: GenerationBackend, workers: int) -> tuple[int, int]:
    """Paraphrase the last user turn of each item through the backend (no-op for the template backend).
    Returns (varied, kept) where kept counts implausible paraphrases that left the template text in place."""
    if isinstance(backend, TemplateBackend):
        return 0, 0
    targets = [it for it in items if it["style"] not in NO_VARIATION_STYLES]

    def one(item: dict) -> str:
        return backend.paraphrase(item["messages"][-1]["content"], item["language"])

    varied = kept = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for item, text in zip(targets, pool.map(one, targets)):
            if not plausible_paraphrase(item["messages"][-1]["content"], text):
                kept += 1
                continue
            item["messages"][-1] = {"role": "user", "content": text}
            item["source"] = backend.name
            varied += 1
    return varied, kept


def _common(item: dict, area: Area) -> dict:
    keys = ("id", "area", "domain", "severity", "language", "style", "split", "kind", "template")
    return {**{k: item[k] for k in keys}, "area_name": area.name["en"], "source": item.get("source", "template")}


def _criteria(area: Area) -> list[dict[str, str]]:
    return [{lang: c[lang] for lang in COMMITTEE_LANGUAGES} for c in area.criteria]


def _prompt_record(item: dict, area: Area) -> dict:
    rec = {**_common(item, area), "messages": item["messages"], "prompt": item["messages"]}
    if item["split"] == "eval":
        rec["expected"] = "answer" if item["kind"] == "benign" else "safe"
        if item["kind"] == "redteam":
            rec["eval_shape"] = item["eval_shape"]
            rec["criteria"] = _criteria(area)
    return rec


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _sft_record(item: dict, area: Area, choice: dict) -> dict:
    return {**_common(item, area), "id": f"{item['id']}.sft", "prompt_id": item["id"],
            "messages": item["messages"] + _assistant(choice["content"]), "response_kind": choice["kind"],
            "criteria_cited": [choice["cites"]] if item["kind"] == "redteam" else []}


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


def generate(
    taxonomy: Taxonomy, out_dir: str | Path, cfg: GenerateConfig, backend: GenerationBackend | None = None,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Generate every split into ``out_dir``; returns the manifest (also written as manifest.json)."""
    from haetae.pipelines.minhash import DedupParams

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    backend = backend or TemplateBackend()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    run = Run(log)
    areas = {a.id: a for a in taxonomy.areas}
    ic = cfg.items
    log(f"haetae safety generate: {len(areas)} areas x {len(ic.languages)} languages, per-area {ic.per_area}, "
        f"seed {ic.seed}, backend {backend.name}, audit {cfg.audit}")

    # 1. prompts
    s = build_items(taxonomy, ic)
    train = s.redteam_train + s.benign_train
    evals = s.eval + s.benign_eval
    generated = Counter(f"{i['split']}/{i['kind']}" for i in train + evals)
    run.step("build_items", **{k.replace("/", "_"): v for k, v in sorted(generated.items())})

    # 2. backend variation
    varied, kept = _vary(train + evals, backend, cfg.workers)
    run.step("vary", backend=backend.name, varied=varied, implausible_kept_template=kept)

    # 3. near duplicates inside each (split, area, language)
    params = DedupParams.from_dict(cfg.dedup or None)
    sigs = Signatures(((i["id"], request_text(i)) for i in train + evals), params)
    groups: dict[tuple, list[str]] = {}
    for i in train + evals:
        groups.setdefault((i["split"], i["kind"], i["area"], i["language"]), []).append(i["id"])
    dup = duplicates_within_groups(groups.values(), sigs)
    for i in train + evals:
        if i["id"] in dup:
            run.drop(i, "dedup_within_area", f"near-duplicate of {dup[i['id']][0]} (similarity {dup[i['id']][1]:.2f})")
    train = [i for i in train if i["id"] not in dup]
    evals = [i for i in evals if i["id"] not in dup]
    run.step("dedup_within_area", dropped=len(dup), threshold=params.threshold)

    # 4. decontamination: no training item may near-duplicate an evaluation item
    leaks = cross_split_leaks((i["id"] for i in train), (i["id"] for i in evals), sigs)
    for i in train:
        if i["id"] in leaks:
            run.drop(i, "decontaminate", f"near-duplicate of eval item {leaks[i['id']][0]} "
                                         f"(similarity {leaks[i['id']][1]:.2f})")
    train = [i for i in train if i["id"] not in leaks]
    run.step("decontaminate", dropped=len(leaks), train=len(train), eval=len(evals))

    # 5. responses: real ones only; the unsafe-compliance member is a model's, or absent and counted
    size = min(cfg.group_size, MAX_GROUP_SIZE)
    unsafe, no_unsafe = unsafe_members([i for i in train if i["kind"] == "redteam"], areas, backend, cfg.workers)
    groups_by_id = {i["id"]: response_group(i, areas[i["area"]], i["_values"], ic.seed, size, unsafe.get(i["id"]))
                    for i in train}
    answered = _answer_benign(train, groups_by_id, backend, cfg.workers)
    groups_summary = {"requested_size": cfg.group_size, "size": size, "unsafe_members": len(unsafe),
                      "members_short_of_requested_size": (cfg.group_size - size) * len(groups_by_id),
                      "groups_without_unsafe_member": dict(sorted(no_unsafe.items()))}
    run.step("responses", groups=len(groups_by_id), group_size=size, backend_answers=answered,
             unsafe_members=len(unsafe), **no_unsafe)
    _log_missing_members(groups_summary, log)

    # 6. audit (PII, rights, quality) of every distinct text that would be written
    segments = _segments(train, evals, groups_by_id)
    docs = [{"id": seg_id, "lang": lang, "text": text} for seg_id, (text, lang) in segments.items()]
    audit = audit_documents(docs, out / "_audit", cfg.audit)
    bad = {seg_id: (rule, reasons) for seg_id, (decision, rule, reasons) in audit.decisions.items()
           if decision != "keep" and not rule.startswith("dedup.")}  # texts are unique already
    rejected = 0
    for i in train + evals:
        hits = [bad[seg] for seg in _item_segment_ids(i, groups_by_id) if seg in bad]
        if hits:
            rejected += 1
            i["_rejected"] = True
            run.drop(i, "audit", "; ".join(f"{rule}: {', '.join(reasons)[:120]}" for rule, reasons in hits)[:300])
    train = [i for i in train if not i.get("_rejected")]
    evals = [i for i in evals if not i.get("_rejected")]
    run.step("audit", mode=cfg.audit, texts=len(docs), rejected_texts=len(bad), dropped=rejected)

    # 7. write
    files = {
        "train_redteam": [_prompt_record(i, areas[i["area"]]) for i in train if i["kind"] == "redteam"],
        "train_sft": [_sft_record(i, areas[i["area"]], sft_choice(i, groups_by_id[i["id"]])) for i in train],
        "preference": [_preference_record(i, areas[i["area"]], groups_by_id[i["id"]]) for i in train],
        "eval": [_prompt_record(i, areas[i["area"]]) for i in evals if i["kind"] == "redteam"],
        "benign": [_prompt_record(i, areas[i["area"]]) for i in evals if i["kind"] == "benign"],
    }
    digests = {name: _write_jsonl(out / f"{name}.jsonl", recs) for name, recs in files.items()}
    _write_jsonl(out / "dropped.jsonl", run.dropped)
    if cfg.parquet:
        _write_parquet(out, files)
    run.step("write", **{name: len(recs) for name, recs in files.items()})

    # 8. coverage and manifest
    benign_train = [r for r in files["train_sft"] if r["kind"] == "benign"]
    coverage = Coverage.from_records(files["train_redteam"] + benign_train + files["eval"] + files["benign"],
                                     ic.languages)
    manifest = {
        "taxonomy": {"name": taxonomy.name, "version": taxonomy.version, "areas": len(areas),
                     "domains": {d.id: len(d.areas) for d in taxonomy.domains},
                     "national": taxonomy.national.id if taxonomy.national else None},
        "config": {**asdict(ic), "group_size": cfg.group_size, "audit": cfg.audit, "backend": backend.name,
                   "dedup": params.to_dict()},
        "seed": ic.seed,
        "counts": {name: len(recs) for name, recs in files.items()},
        "by_language": {name: dict(sorted(Counter(r["language"] for r in recs).items())) for name, recs in files.items()},
        "by_domain": {name: dict(sorted(Counter(r["domain"] for r in recs).items())) for name, recs in files.items()},
        "by_style": {name: dict(sorted(Counter(r["style"] for r in recs).items())) for name, recs in files.items()},
        "eval_shapes": dict(sorted(Counter(r["eval_shape"] for r in files["eval"]).items())),
        "generated": dict(sorted(generated.items())),
        "dropped": {step: sum(1 for d in run.dropped if d["step"] == step)
                    for step in ("dedup_within_area", "decontaminate", "audit")},
        "preference_groups": groups_summary,
        "audit": audit.counts(),
        "steps": run.steps,
        "coverage": coverage.summary(taxonomy),
        "sha256": digests,
        "seconds": round(time.time() - started, 2),
    }
    if hasattr(backend, "requests_sent"):
        manifest["backend"] = {"requests": backend.requests_sent, "cache_hits": backend.cache_hits}
    _check_reconciles(manifest, generated)
    (out / "coverage.html").write_text(render_html(coverage, taxonomy, "Safety data coverage", {
        "taxonomy": f"{taxonomy.name} {taxonomy.version}", "seed": ic.seed, "backend": backend.name,
        **manifest["counts"]}), encoding="utf-8")
    with (out / "manifest.json").open("w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=2, sort_keys=True)
    log(f"  done in {manifest['seconds']:.1f}s: " + ", ".join(f"{k}={v}" for k, v in manifest["counts"].items()))
    return manifest


def _segment_id(text: str) -> str:
    return "t" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:24]


def _item_segment_ids(item: dict, groups: dict[str, list[dict]]) -> list[str]:
    texts = [prompt_text(item)] + [r["content"] for r in groups.get(item["id"], ())]
    return [_segment_id(t) for t in texts]


def _segments(train: list[dict], evals: list[dict], groups: dict[str, list[dict]]) -> dict[str, tuple[str, str]]:
    """Distinct texts (prompt of each item, each response) -> (text, language): what the audit scans."""
    out: dict[str, tuple[str, str]] = {}
    for item in train + evals:
        for text in [prompt_text(item)] + [r["content"] for r in groups.get(item["id"], ())]:
            out.setdefault(_segment_id(text), (text, item["language"]))
    return out


def _answer_benign(train: list[dict], groups: dict[str, list[dict]], backend: GenerationBackend, workers: int) -> int:
    """With an LLM backend, the helpful answer to a benign prompt is written by the model."""
    if isinstance(backend, TemplateBackend):
        return 0
    benign = [i for i in train if i["kind"] == "benign"]

    def one(item: dict) -> str | None:
        return backend.answer(item["messages"][-1]["content"], item["language"])

    n = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for item, text in zip(benign, pool.map(one, benign)):
            if text:
                for r in groups[item["id"]]:
                    if r["kind"] == "benign_answer":
                        r["content"] = text
                        n += 1
    return n


def _log_missing_members(summary: dict, log: Callable[[str], None]) -> None:
    """One line when a group has fewer members than asked, or no unsafe-compliance member (never padded)."""
    parts = []
    if summary["members_short_of_requested_size"]:
        parts.append(f"{summary['size']} members each, not {summary['requested_size']} "
                     f"({summary['members_short_of_requested_size']} members not written: no prompt has more real "
                     "response kinds)")
    missing = summary["groups_without_unsafe_member"]
    if missing:
        how = ("; the template backend writes none, --backend openai writes and grades one"
               if UNAVAILABLE_OFFLINE in missing else "")
        parts.append(f"{sum(missing.values())} red-team groups without an unsafe-compliance member ("
                     + ", ".join(f"{k}={v}" for k, v in missing.items()) + how + ")")
    if parts:
        log("  preference groups: " + "; ".join(parts) + " -- counted in manifest.json preference_groups")


def _check_reconciles(manifest: dict, generated: Counter) -> None:
    """Every generated prompt is written exactly once or dropped exactly once."""
    c = manifest["counts"]
    written = {"train": c["train_sft"], "eval": c["eval"] + c["benign"]}
    total_generated = {"train": sum(v for k, v in generated.items() if k.startswith("train/")),
                       "eval": sum(v for k, v in generated.items() if k.startswith("eval/"))}
    steps = manifest["steps"]
    dropped_train = steps["dedup_within_area"]["dropped"] + steps["decontaminate"]["dropped"] + steps["audit"]["dropped"]
    if written["train"] + written["eval"] + dropped_train != total_generated["train"] + total_generated["eval"]:
        raise RuntimeError(f"counts do not reconcile: written {written}, dropped {dropped_train}, generated {total_generated}")
    if c["train_sft"] != c["preference"]:
        raise RuntimeError(f"SFT ({c['train_sft']}) and preference ({c['preference']}) counts differ")


def _write_parquet(out: Path, files: dict[str, list[dict]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    for name, recs in files.items():
        if recs:
            pq.write_table(pa.Table.from_pylist(recs), out / f"{name}.parquet")


def default_workers() -> int:
    return min(8, (os.cpu_count() or 2) * 2)
