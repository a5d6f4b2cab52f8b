"""Coverage of generated safety data: what each file holds per area, language and mutation, and an HTML page."""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field

from haetae.taxonomy.model import Taxonomy

#: Columns of the per-area table: the files in the order a reader checks them.
FILES: tuple[str, ...] = ("eval", "train_redteam", "train_sft", "contrast")


@dataclass
class Coverage:
    languages: tuple[str, ...]
    counts: Counter  # (area, file, language) -> records
    mutations: Counter  # (file, mutation, language) -> records
    area_mutations: Counter  # (area, mutation) -> eval records
    held_out: tuple[str, ...] = ()
    without_seeds: list[str] = field(default_factory=list)

    @classmethod
    def from_files(cls, files: dict[str, list[dict]], languages, held_out=(), without_seeds=()) -> Coverage:
        counts: Counter = Counter()
        mutations: Counter = Counter()
        area_mutations: Counter = Counter()
        for name in FILES:
            for r in files.get(name, ()):
                counts[(r["area"], name, r["language"])] += 1
                mutations[(name, r["mutation"], r["language"])] += 1
                if name == "eval":
                    area_mutations[(r["area"], r["mutation"])] += 1
        return cls(tuple(languages), counts, mutations, area_mutations, tuple(held_out), list(without_seeds))

    def total(self, area: str, name: str) -> int:
        return sum(self.counts[(area, name, lang)] for lang in self.languages)

    def gaps(self, taxonomy: Taxonomy) -> list[tuple[str, str, str]]:
        """(area, file, language) cells a seeded area should fill and does not: eval in every language; training
        (not for held-out areas) in ko and en, the languages seeds and targets are written in."""
        out = []
        for area in taxonomy.areas:
            if area.id in self.without_seeds:
                continue
            out.extend((area.id, "eval", lang) for lang in self.languages if not self.counts[(area.id, "eval", lang)])
            if area.id in self.held_out:
                continue
            for name in ("train_redteam", "train_sft"):
                out.extend((area.id, name, lang) for lang in self.languages if lang in ("ko", "en")
                           and not self.counts[(area.id, name, lang)])
        return out

    def mutation_table(self, name: str) -> dict[str, dict[str, int]]:
        kinds = sorted({m for (f, m, _) in self.mutations if f == name})
        return {m: {lang: self.mutations[(name, m, lang)] for lang in self.languages} for m in kinds}

    def summary(self, taxonomy: Taxonomy) -> dict:
        gaps = self.gaps(taxonomy)
        return {
            "areas_without_seeds": len(self.without_seeds),
            "held_out_areas": list(self.held_out),
            "gaps": len(gaps),
            "gap_examples": ["/".join(g) for g in gaps[:20]],
            "eval_mutations_by_language": self.mutation_table("eval"),
            "eval_areas_under_10_items": sorted(a.id for a in taxonomy.areas if a.id not in self.without_seeds
                                                and self.total(a.id, "eval") < 10),
        }


_CSS = """
body{font-family:system-ui,'Noto Sans KR',sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f3f3f3} td.name{text-align:left;max-width:28em}
td.gap{background:#fbd5d5;font-weight:bold} td.ok{background:#e3f4e3} td.none{background:#eee;color:#888}
caption{font-weight:bold;text-align:left;padding:4px 0}
"""


def _mutation_table(coverage: Coverage, name: str, e) -> str:
    langs = coverage.languages
    table = coverage.mutation_table(name)
    rows = [f"<table><caption>{e(name)}: records by mutation and language</caption><tr><th>mutation</th>"
            + "".join(f"<th>{e(lang)}</th>" for lang in langs) + "<th>total</th></tr>"]
    for mutation, per_lang in table.items():
        rows.append(f"<tr><th>{e(mutation)}</th>" + "".join(
            f"<td class='{'ok' if n else 'none'}'>{n}</td>" for n in per_lang.values())
            + f"<td>{sum(per_lang.values())}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def render_html(coverage: Coverage, taxonomy: Taxonomy, title: str, meta: dict | None = None) -> str:
    langs = coverage.languages
    e = html.escape
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>"
             f"<style>{_CSS}</style></head><body><h1>{e(title)}</h1>"]
    if meta:
        parts.append("<p>" + " &middot; ".join(f"<b>{e(str(k))}</b>: {e(str(v))}" for k, v in meta.items()) + "</p>")
    gaps = coverage.gaps(taxonomy)
    parts.append(f"<p>{len(taxonomy.areas)} areas ({len(coverage.without_seeds)} without seeds, skipped; "
                 f"{len(coverage.held_out)} held out for evaluation: {e(', '.join(coverage.held_out) or 'none')}), "
                 f"{len(langs)} languages ({e(', '.join(langs))}), {len(gaps)} gap cell(s). Each cell is a record "
                 "count (hover for the languages); red: a language missing, grey: not expected (no seeds, or "
                 "training of a held-out area).</p>")
    parts.append(_mutation_table(coverage, "eval", e))
    parts.append(_mutation_table(coverage, "train_redteam", e))
    for domain in taxonomy.domains:
        parts.append(f"<table><caption>{e(domain.id)} {e(domain.name['en'])} / {e(domain.name['ko'])} "
                     f"({len(domain.areas)} areas)</caption><tr><th>area</th><th>name</th>"
                     + "".join(f"<th>{e(c)}</th>" for c in FILES) + "<th>eval mutations</th></tr>")
        for area in domain.areas:
            cells = []
            for name in FILES:
                per_lang = {lang: coverage.counts[(area.id, name, lang)] for lang in langs}
                total = sum(per_lang.values())
                expected = [lang for lang in langs if name == "eval" or lang in ("ko", "en")]
                not_expected = (area.id in coverage.without_seeds or name == "contrast"
                                or (area.id in coverage.held_out and name != "eval"))
                missing = [lang for lang in expected if not per_lang[lang]]
                cls = "none" if not_expected and not total else ("gap" if missing and not not_expected else "ok")
                tip = ", ".join(f"{lang}:{n}" for lang, n in per_lang.items())
                cells.append(f"<td class='{cls}' title='{e(tip)}'>{total}</td>")
            muts = sorted((m, n) for (a, m), n in coverage.area_mutations.items() if a == area.id)
            label = " (held out)" if area.id in coverage.held_out else (" (no seeds)" if area.id in
                                                                        coverage.without_seeds else "")
            parts.append(f"<tr><th>{e(area.id)}</th><td class='name'>{e(area.name['en'])}{e(label)}</td>"
                         f"{''.join(cells)}<td class='name'>{e(', '.join(f'{m} {n}' for m, n in muts))}</td></tr>")
        parts.append("</table>")
    if gaps:
        shown = gaps[:500]
        parts.append(f"<h2>Gaps ({len(gaps)})</h2><ul>" + "".join(f"<li>{e(a)} / {e(c)} / {e(lg)}</li>"
                                                               for a, c, lg in shown)
                     + ("<li>...</li>" if len(gaps) > len(shown) else "") + "</ul>")
    parts.append("</body></html>")
    return "".join(parts)
