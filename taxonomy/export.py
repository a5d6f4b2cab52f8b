"""Committee-readable exports of a taxonomy (Markdown, self-contained HTML) and summary statistics."""

from __future__ import annotations

import html
from collections import Counter

from haetae.taxonomy.model import SEVERITIES, Taxonomy


def stats(taxonomy: Taxonomy) -> dict:
    areas = taxonomy.areas
    return {
        "name": taxonomy.name,
        "version": taxonomy.version,
        "domains": {d.id: {"name": d.name["en"], "areas": len(d.areas), "national": d.national,
                           "expected": taxonomy.expected_areas.get(d.id)} for d in taxonomy.domains},
        "areas": len(areas),
        "criteria": sum(len(a.criteria) for a in areas),
        "benign_lookalikes": sum(len(a.benign_lookalikes) for a in areas),
        "areas_with_references": sum(1 for a in areas if a.references),
        "severity": {s: n for s in SEVERITIES if (n := Counter(a.severity for a in areas)[s])},
        "severity_by_domain": {d.id: dict(Counter(a.severity for a in d.areas)) for d in taxonomy.domains},
    }


def format_stats(s: dict) -> str:
    lines = [f"{s['name']} {s['version']}: {s['areas']} areas, {s['criteria']} criteria, "
             f"{s['benign_lookalikes']} benign look-alikes, {s['areas_with_references']} areas with references"]
    for did, d in s["domains"].items():
        expected = f" (manifest expects {d['expected']})" if d["expected"] and d["expected"] != d["areas"] else ""
        sev = ", ".join(f"{k} {v}" for k, v in sorted(s["severity_by_domain"][did].items()))
        lines.append(f"  {did:<4} {d['name']:<28} {d['areas']:>4} areas{' [national]' if d['national'] else ''}"
                     f"{expected}  severity: {sev}")
    lines.append("  severity total: " + ", ".join(f"{k} {v}" for k, v in s["severity"].items()))
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(taxonomy: Taxonomy) -> str:
    out = [f"# {taxonomy.name} (version {taxonomy.version})", "",
           f"{len(taxonomy.areas)} risk areas in {len(taxonomy.domains)} domains. Each area lists five judgement "
           "criteria: a response that meets any one of them is unsafe.", "",
           "| domain | name | areas | grounded in |", "|---|---|---|---|"]
    for d in taxonomy.domains:
        out.append(f"| {d.id}{' (national)' if d.national else ''} | {_md(d.name['en'])} / {_md(d.name['ko'])} | "
                   f"{len(d.areas)} | {_md(', '.join(d.grounded_in))} |")
    for d in taxonomy.domains:
        out += ["", f"## {d.id}: {d.name['en']} / {d.name['ko']}", "", d.description["en"], "", d.description["ko"]]
        for a in d.areas:
            out += ["", f"### {a.id} {a.name['en']} / {a.name['ko']}", "",
                    f"**Severity:** {a.severity}  ", f"**Description:** {a.description['en']}  ",
                    f"**설명:** {a.description['ko']}  ",
                    f"**Request topic:** {a.topic['en']} / {a.topic['ko']}", "",
                    "| # | criterion (en) | 판단 기준 (ko) |", "|---|---|---|"]
            out += [f"| {k} | {_md(c['en'])} | {_md(c['ko'])} |" for k, c in enumerate(a.criteria, 1)]
            out += ["", "**Benign look-alikes (should be answered):** "
                    + "; ".join(f"{b['en']} / {b['ko']}" for b in a.benign_lookalikes) + "  ",
                    "**References:** " + ("; ".join(a.references) if a.references else "none")]
    return "\n".join(out) + "\n"


_CSS = """
body{font-family:system-ui,'Noto Sans KR',sans-serif;max-width:70em;margin:2em auto;color:#222;line-height:1.45}
table{border-collapse:collapse;width:100%;margin:.5em 0} th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
th{background:#f3f3f3;text-align:left} .area{border-top:2px solid #888;margin-top:1.5em;padding-top:.5em}
.sev{display:inline-block;padding:0 .5em;border-radius:3px;color:#fff;font-size:90%}
.critical{background:#a01818}.high{background:#d0620b}.medium{background:#b8960b}.low{background:#4a7c32}
nav a{margin-right:1em} .muted{color:#666}
"""


def to_html(taxonomy: Taxonomy) -> str:
    e = html.escape
    parts = [f"<!doctype html><html lang='ko'><head><meta charset='utf-8'><title>{e(taxonomy.name)}</title>"
             f"<style>{_CSS}</style></head><body><h1>{e(taxonomy.name)} <span class='muted'>v{e(taxonomy.version)}"
             f"</span></h1><p>{len(taxonomy.areas)} risk areas in {len(taxonomy.domains)} domains. A response that "
             "meets any one of an area's five criteria is unsafe. / 각 영역의 다섯 가지 기준 중 하나라도 해당하면 "
             "안전하지 않은 응답입니다.</p><nav>"
             + "".join(f"<a href='#{e(d.id)}'>{e(d.id)} {e(d.name['en'])} ({len(d.areas)})</a>" for d in taxonomy.domains)
             + "</nav>"]
    for d in taxonomy.domains:
        parts.append(f"<h2 id='{e(d.id)}'>{e(d.id)}: {e(d.name['en'])} / {e(d.name['ko'])}"
                     f"{' (national)' if d.national else ''}</h2><p>{e(d.description['en'])}<br>{e(d.description['ko'])}"
                     f"</p><p class='muted'>Grounded in: {e(', '.join(d.grounded_in))}</p>")
        for a in d.areas:
            crit = "".join(f"<tr><td>{k}</td><td>{e(c['en'])}</td><td>{e(c['ko'])}</td></tr>"
                           for k, c in enumerate(a.criteria, 1))
            benign = "".join(f"<li>{e(b['en'])} / {e(b['ko'])}</li>" for b in a.benign_lookalikes)
            refs = e("; ".join(a.references)) if a.references else "<span class='muted'>none</span>"
            parts.append(
                f"<div class='area' id='{e(a.id)}'><h3>{e(a.id)} {e(a.name['en'])} / {e(a.name['ko'])} "
                f"<span class='sev {e(a.severity)}'>{e(a.severity)}</span></h3>"
                f"<p>{e(a.description['en'])}<br>{e(a.description['ko'])}</p>"
                f"<p class='muted'>Request topic: {e(a.topic['en'])} / {e(a.topic['ko'])}</p>"
                f"<table><tr><th>#</th><th>Criterion (unsafe if the response...)</th><th>판단 기준</th></tr>{crit}</table>"
                f"<p><b>Benign look-alikes</b> (should be answered):</p><ul>{benign}</ul><p><b>References:</b> {refs}</p></div>")
    parts.append("</body></html>")
    return "".join(parts)
