"""Coverage of generated safety data: area x style x language counts, gaps, and a self-contained HTML page."""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass

from haetae.taxonomy.model import Taxonomy
from haetae.taxonomy.templates import STYLES

#: Columns of the matrix: the red-team training styles, then benign training, evaluation and over-refusal sets.
COLUMNS: tuple[str, ...] = (*STYLES, "benign", "eval", "over_refusal")


def column_of(record: dict) -> str:
    if record["split"] == "eval":
        return "over_refusal" if record["kind"] == "benign" else "eval"
    return "benign" if record["kind"] == "benign" else record["style"]


@dataclass
class Coverage:
    languages: tuple[str, ...]
    counts: Counter  # (area, column, language) -> count

    @classmethod
    def from_records(cls, records, languages) -> Coverage:
        return cls(tuple(languages), Counter((r["area"], column_of(r), r["language"]) for r in records))

    def gaps(self, taxonomy: Taxonomy, columns=COLUMNS) -> list[tuple[str, str, str]]:
        """(area, column, language) cells with no item. Eval is spread over languages, so it is gapped per area."""
        out = []
        for area in taxonomy.areas:
            for col in columns:
                if col == "eval":
                    if not any(self.counts[(area.id, col, lang)] for lang in self.languages):
                        out.append((area.id, col, "*"))
                    continue
                out.extend((area.id, col, lang) for lang in self.languages if not self.counts[(area.id, col, lang)])
        return out

    def summary(self, taxonomy: Taxonomy) -> dict:
        gaps = self.gaps(taxonomy)
        return {
            "cells": len(taxonomy.areas) * (len(COLUMNS) - 1) * len(self.languages) + len(taxonomy.areas),
            "gaps": len(gaps),
            "gap_examples": ["/".join(g) for g in gaps[:20]],
            "by_style_language": {col: {lang: sum(n for (_, c, lg), n in self.counts.items() if c == col and lg == lang)
                                        for lang in self.languages} for col in COLUMNS},
        }


_CSS = """
body{font-family:system-ui,'Noto Sans KR',sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f3f3f3} td.name{text-align:left;max-width:28em}
td.gap{background:#fbd5d5;font-weight:bold} td.ok{background:#e3f4e3}
caption{font-weight:bold;text-align:left;padding:4px 0}
"""


def render_html(coverage: Coverage, taxonomy: Taxonomy, title: str, meta: dict | None = None) -> str:
    langs = coverage.languages
    e = html.escape
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>"
             f"<style>{_CSS}</style></head><body><h1>{e(title)}</h1>"]
    if meta:
        parts.append("<p>" + " &middot; ".join(f"<b>{e(str(k))}</b>: {e(str(v))}" for k, v in meta.items()) + "</p>")
    gaps = coverage.gaps(taxonomy)
    parts.append(f"<p>{len(taxonomy.areas)} areas, {len(langs)} languages ({e(', '.join(langs))}), "
                 f"{len(gaps)} gap cell(s). A red cell has a language with no item (hover for which).</p>")
    # style x language totals
    parts.append("<table><caption>Items by column and language</caption><tr><th>column</th>"
                 + "".join(f"<th>{e(lang)}</th>" for lang in langs) + "<th>total</th></tr>")
    for col in COLUMNS:
        row = [sum(n for (_, c, lg), n in coverage.counts.items() if c == col and lg == lang) for lang in langs]
        parts.append(f"<tr><th>{e(col)}</th>" + "".join(f"<td>{n}</td>" for n in row) + f"<td>{sum(row)}</td></tr>")
    parts.append("</table>")
    for domain in taxonomy.domains:
        parts.append(f"<table><caption>{e(domain.id)} {e(domain.name['en'])} / {e(domain.name['ko'])} "
                     f"({len(domain.areas)} areas)</caption><tr><th>area</th><th>name</th>"
                     + "".join(f"<th>{e(c)}</th>" for c in COLUMNS) + "</tr>")
        for area in domain.areas:
            cells = []
            for col in COLUMNS:
                per_lang = {lang: coverage.counts[(area.id, col, lang)] for lang in langs}
                total = sum(per_lang.values())
                missing = [lang for lang, n in per_lang.items() if not n]
                bad = total == 0 if col == "eval" else bool(missing)
                tip = ", ".join(f"{lang}:{n}" for lang, n in per_lang.items())
                cells.append(f"<td class='{'gap' if bad else 'ok'}' title='{e(tip)}'>{total}</td>")
            parts.append(f"<tr><th>{e(area.id)}</th><td class='name'>{e(area.name['en'])}</td>{''.join(cells)}</tr>")
        parts.append("</table>")
    if gaps:
        shown = gaps[:500]
        parts.append(f"<h2>Gaps ({len(gaps)})</h2><ul>" + "".join(f"<li>{e(a)} / {e(c)} / {e(lg)}</li>" for a, c, lg in shown)
                     + ("<li>...</li>" if len(gaps) > len(shown) else "") + "</ul>")
    parts.append("</body></html>")
    return "".join(parts)
