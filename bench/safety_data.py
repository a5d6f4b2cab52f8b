"""Measure the issue-11 targets on the output of `haetae safety generate` (or generate it first).

    .venv/bin/python bench/safety_data.py --out OUT                       # measure an existing run
    .venv/bin/python bench/safety_data.py --taxonomy DIR --out OUT --run  # generate (audit off), then measure

What is measured (eval.jsonl unless said otherwise; "prompt text" = the user turns of an item, "all turns" adds
the fabricated assistant turns of many-shot and escalation items):

* items per area (>= 10, over six languages);
* adversarial items (mutation != none) per language and attack family (>= 30);
* mutation kinds present in >= 4 languages (>= 20);
* distinct word 4-gram ratio of the prompt text in ko and en, character 4-grams in ja (>= 0.6): distinct 4-grams
  over all 4-grams, pooled over the language's items;
* largest skeleton share (<= 2% of a language's items): the skeleton of an item is its text (all turns) with the
  seed's text masked; a plain seed has no template and no skeleton, so the share is over the items that carry
  any template text, counted against all the language's items;
* template share (<= 25%): characters of the prompt text that do not come from the seed, over all prompt
  characters. An item's template text is what its mutation adds whatever the seed says: the mutation is applied
  again, with the item's own seed and id, to a one-character stand-in for the seed, and what comes out beyond the
  stand-in is template (an encoded or misspelt seed is the seed's text; a wrapper, a cipher instruction, fabricated
  turns are template). Where the stand-in cannot be mutated that way (splitting, rewriting), the characters not
  matched to the seed's text by difflib count as template. ``template_share_difflib`` is the stricter number
  (difflib for every item: an encoded or romanised seed counts wholly as template);
* placeholder strings (unfilled slots, placeholder tags) in every output file (== 0);
* leakage: eval seed ids in any training file, and train/eval near-duplicate clusters of all prompts
  (``near_duplicate_clusters`` with the default DedupParams, every language pooled) (== 0).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict
from difflib import SequenceMatcher
from pathlib import Path

FILES = ("eval", "train_redteam", "train_sft", "preference", "contrast")
PLACEHOLDER = re.compile(
    r"\{(?:criterion|prompt|topic|persona|benign|payload|genre|bridge|pivot|pivot_text|k|seed|text)\}"
    r"|\[(?:UNSAFE[-_ ])?PLACEHOLDER\]|\bPLACEHOLDER\b|lorem ipsum|<(?:placeholder|topic|insert)[^>]*>|\{\{[^}]*\}\}",
    re.IGNORECASE)
TARGETS = {"items_per_area": 10, "adversarial_per_language_family": 30, "mutation_kinds_4_languages": 20,
           "distinct_4gram_ratio": 0.6, "largest_skeleton_share": 0.02, "template_share": 0.25}


def read(out: Path, name: str) -> list[dict]:
    path = out / f"{name}.jsonl"
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def user_text(rec: dict) -> str:
    return "\n".join(m["content"] for m in rec["messages"] if m["role"] == "user")


def all_text(rec: dict) -> str:
    return "\n".join(m["content"] for m in rec["messages"])


def ngrams(text: str, language: str, n: int = 4) -> list[tuple]:
    if language == "ja":
        chars = re.sub(r"\s+", "", text)
        return [tuple(chars[i:i + n]) for i in range(len(chars) - n + 1)]
    words = re.findall(r"\w+", text.lower())
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


def distinct_ratio(texts: list[str], language: str) -> float:
    grams = [g for t in texts for g in ngrams(t, language)]
    return len(set(grams)) / len(grams) if grams else 0.0


def seed_chars(text: str, sources: list[str]) -> int:
    """Characters of ``text`` matched (difflib, no junk heuristic) to any of ``sources``, best source counted."""
    best = 0
    for src in sources:
        sm = SequenceMatcher(None, text, src, autojunk=False)
        best = max(best, sum(b.size for b in sm.get_matching_blocks()))
    return best


MARKER = "\uE000"
HARM_KIND = {"how_to": "how_to", "agentic": "how_to", "content": "content", "claim": "claim", "advice": "advice"}


def template_by_marker(rec: dict, run_seed: int, scope: str) -> int | None:
    """Characters the item's mutation adds around a one-character stand-in for the seed (see the docstring);
    ``None`` when the mutation cannot be applied to the stand-in."""
    if rec["mutation"] == "none":
        return 0
    from haetae.taxonomy.attacks import apply

    try:
        m = apply(rec["mutation"], [{"role": "user", "content": MARKER}], rec["language"], seed=run_seed,
                  item_id=rec["id"], harm_kind=HARM_KIND.get(rec.get("frame"), "how_to"),
                  parallel={lang: MARKER for lang in ("ko", "en", "es", "de", "ja", "vi") if lang != rec["language"]})
    except Exception:  # MutationNotApplicable or a transform that needs real words
        return None
    turns = [t["content"] for t in m.messages if scope == "all_turns" or t["role"] == "user"]
    text = "\n".join(turns)
    if MARKER not in text:
        return len(text)  # the stand-in is encoded (a few characters): count all of it as template, to be safe
    return len(text) - text.count(MARKER)


def skeleton(rec: dict, seed_text: str) -> str | None:
    text = all_text(rec)
    if rec["mutation"] == "none":
        return None
    return text.replace(seed_text, "\u2063SEED\u2063") if seed_text in text else text


def load_seed_texts(taxonomy_dir: str | None) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Every seed's text by id, and by area: read from the seed files, not from the output (a mutated eval item
    stands in for its seed's plain item, so the output does not hold every seed's text verbatim)."""
    from haetae.taxonomy.loader import load_taxonomy
    from haetae.taxonomy.seeds import load_seeds

    by_area: dict[str, dict[str, str]] = defaultdict(dict)
    texts: dict[str, str] = {}
    for area_id, a in load_seeds(load_taxonomy(taxonomy_dir)).items():
        for seed in a.seeds:
            texts[seed.id] = seed.text
            by_area[area_id][seed.id] = seed.text
    return texts, by_area


def measure(out: Path, taxonomy_dir: str | None = None) -> dict:
    data = {name: read(out, name) for name in FILES}
    ev = data["eval"]
    seeds, by_seed_lang = load_seed_texts(taxonomy_dir)  # by_seed_lang: translation groups (translation attack)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8")) if (out / "manifest.json").exists() \
        else {}
    languages = sorted({r["language"] for r in ev})
    result: dict = {"items": {name: len(recs) for name, recs in data.items()}}

    per_area = Counter(r["area"] for r in ev)
    area_langs = defaultdict(set)
    for r in ev:
        area_langs[r["area"]].add(r["language"])
    result["items_per_area"] = {"min": min(per_area.values(), default=0), "areas": len(per_area),
                                "under_10": sorted(a for a, n in per_area.items() if n < 10),
                                "areas_with_6_languages": sum(len(v) == 6 for v in area_langs.values())}

    adv = Counter((r["language"], r["family"]) for r in ev if r["mutation"] != "none")
    families = sorted({f for _, f in adv})
    table = {lang: {f: adv[(lang, f)] for f in families} for lang in languages}
    cells = [(lang, f, n) for lang, row in table.items() for f, n in row.items()
             if not (f.startswith("korean") and lang != "ko")]
    result["adversarial_per_language_family"] = {"min": min((n for *_, n in cells), default=0),
                                                 "cells_under_30": sum(n < 30 for *_, n in cells),
                                                 "cells": len(cells), "table": table}

    kind_langs = defaultdict(set)
    for r in ev:
        if r["mutation"] != "none":
            kind_langs[r["mutation"]].add(r["language"])
    result["mutation_kinds"] = {"in_eval": len(kind_langs),
                                "in_4_or_more_languages": sum(len(v) >= 4 for v in kind_langs.values()),
                                "languages_per_kind": {k: len(v) for k, v in sorted(kind_langs.items())}}

    result["distinct_4gram_ratio"] = {lang: round(distinct_ratio([user_text(r) for r in ev if r["language"] == lang],
                                                                 lang), 3) for lang in ("ko", "en", "ja")
                                      if lang in languages}
    result["distinct_4gram_ratio_all_turns"] = {
        lang: round(distinct_ratio([all_text(r) for r in ev if r["language"] == lang], lang), 3)
        for lang in ("ko", "en", "ja") if lang in languages}

    skel = {}
    for lang in languages:
        items = [r for r in ev if r["language"] == lang]
        counts = Counter(s for r in items if (s := skeleton(r, seeds.get(r["seed_id"], ""))) is not None)
        top = counts.most_common(1)
        skel[lang] = {"items": len(items), "with_template": sum(counts.values()), "skeletons": len(counts),
                      "largest": top[0][1] if top else 0,
                      "largest_share": round(top[0][1] / len(items), 4) if top and items else 0.0}
    result["largest_skeleton"] = skel

    strict, share, per_language = {}, {}, {}
    run_seed = manifest.get("seed", 0)
    for scope, text_of in (("prompt_text", user_text), ("all_turns", all_text)):
        total = templ = templ_strict = 0
        lang_total, lang_templ = Counter(), Counter()
        for r in ev:
            text = text_of(r)
            sources = [seeds.get(r["seed_id"], "")]
            if r["mutation"] == "translation":
                sources += list(by_seed_lang[r["area"]].values())
            difflib_t = 0 if r["mutation"] == "none" else len(text) - seed_chars(text, [s for s in sources if s])
            marker_t = template_by_marker(r, run_seed, scope)
            t = difflib_t if marker_t is None else min(marker_t, len(text))
            total += len(text)
            templ += t
            templ_strict += difflib_t
            lang_total[r["language"]] += len(text)
            lang_templ[r["language"]] += t
        share[scope] = round(templ / total, 4) if total else 0.0
        strict[scope] = round(templ_strict / total, 4) if total else 0.0
        per_language[scope] = {lang: round(lang_templ[lang] / lang_total[lang], 4) for lang in sorted(lang_total)}
    result["template_share"] = share
    result["template_share_by_language"] = per_language
    result["template_share_difflib"] = strict

    hits = Counter()
    examples = []
    for name, recs in data.items():
        for r in recs:
            for m in PLACEHOLDER.finditer(json.dumps(r, ensure_ascii=False)):
                hits[name] += 1
                if len(examples) < 5:
                    examples.append(f"{name}:{r['id']}: {m.group(0)}")
    result["placeholders"] = {"total": sum(hits.values()), "by_file": dict(hits), "examples": examples}

    eval_seeds = {r["seed_id"] for r in ev}
    in_train = {r["seed_id"] for name in ("train_redteam", "train_sft", "preference") for r in data[name]} & eval_seeds
    held_out = set(manifest.get("seeds", {}).get("held_out_areas", []))
    train_areas = {r["area"] for name in ("train_redteam", "train_sft", "preference") for r in data[name]}
    result["leakage"] = {"eval_seeds_in_training": len(in_train), "held_out_areas_in_training":
                         sorted(held_out & train_areas), "mixed_near_duplicate_clusters": mixed_clusters(data)}
    result["counts_reconcile"] = all(r["generated"] == r["written"] + r["dropped"]
                                     for r in manifest.get("reconciliation", {}).values())
    result["skipped_areas_no_seeds"] = manifest.get("skipped_areas", {}).get("no_seeds")
    result["held_out_areas"] = sorted(held_out)
    return result


def mixed_clusters(data: dict[str, list[dict]]) -> int:
    from haetae.pipelines.dedup.transforms import DedupParams, near_duplicate_clusters
    from haetae.taxonomy.checks import clusters_from_mapping

    texts, split = {}, {}
    for name in ("eval", "contrast", "train_redteam", "train_sft"):
        for r in data[name]:
            key = f"{name}:{r['id']}"
            turns = r["messages"][:-1] if name == "train_sft" else r["messages"]
            texts[key] = "\n".join(m["content"] for m in turns if m["role"] == "user")
            split[key] = "eval" if name in ("eval", "contrast") else "train"
    if not texts:
        return 0
    clusters = clusters_from_mapping(near_duplicate_clusters(list(texts.items()), DedupParams()))
    return sum(1 for c in clusters if len({split[k] for k in c}) > 1)


def verdicts(r: dict) -> dict[str, bool]:
    ratio = r["distinct_4gram_ratio"]
    return {
        "items_per_area >= 10": r["items_per_area"]["min"] >= TARGETS["items_per_area"],
        "adversarial per language x family >= 30": r["adversarial_per_language_family"]["cells_under_30"] == 0,
        ">= 20 mutation kinds in >= 4 languages": r["mutation_kinds"]["in_4_or_more_languages"] >= 20,
        "distinct 4-gram ratio >= 0.6 (ko, en, ja)": all(ratio.get(lang, 0) >= 0.6 for lang in ("ko", "en", "ja")),
        "largest skeleton <= 2% per language": all(v["largest_share"] <= 0.02 for v in r["largest_skeleton"].values()),
        "template share <= 25% (prompt text)": r["template_share"]["prompt_text"] <= 0.25,
        "0 placeholders": r["placeholders"]["total"] == 0,
        "0 leakage": r["leakage"]["eval_seeds_in_training"] == 0 and r["leakage"]["mixed_near_duplicate_clusters"] == 0
        and not r["leakage"]["held_out_areas_in_training"],
        "counts reconcile": r["counts_reconcile"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--taxonomy", default=None)
    parser.add_argument("--run", action="store_true", help="generate into --out first (audit off)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    if args.run:
        from haetae.taxonomy.generate import GenerateConfig, generate
        from haetae.taxonomy.items import ItemConfig
        from haetae.taxonomy.loader import load_taxonomy

        generate(load_taxonomy(args.taxonomy), out, GenerateConfig(items=ItemConfig(seed=args.seed), audit="off"))
    r = measure(out, args.taxonomy)
    r["verdicts"] = verdicts(r)
    if args.json:
        print(json.dumps(r, ensure_ascii=False, indent=2))
        return
    for key in ("items", "items_per_area", "mutation_kinds", "distinct_4gram_ratio", "distinct_4gram_ratio_all_turns",
                "largest_skeleton", "template_share", "placeholders", "leakage", "counts_reconcile",
                "skipped_areas_no_seeds", "held_out_areas"):
        value = r[key]
        if key == "mutation_kinds":
            value = {k: v for k, v in value.items() if k != "languages_per_kind"}
        print(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    adv = r["adversarial_per_language_family"]
    print(f"adversarial per language x family: min {adv['min']}, {adv['cells_under_30']} of {adv['cells']} cells < 30")
    for lang, row in adv["table"].items():
        print(f"  {lang}: " + ", ".join(f"{f} {n}" for f, n in row.items() if n))
    print("targets:")
    for name, ok in r["verdicts"].items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")


if __name__ == "__main__":
    main()
