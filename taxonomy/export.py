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


RECONSTRUCTION = ("These areas are Haetae's reconstruction of a K-AUT-style taxonomy from public sources, written for "
                  "Haetae; they are not LG AI Research's list. / 이 영역들은 공개 자료를 바탕으로 Haetae가 재구성한 "
                  "K-AUT 방식의 분류이며, LG AI연구원의 목록이 아닙니다.")


def _cite(c: dict) -> str:
    when = f", effective {c['effective']}" if c.get("effective") else ""
    return f"{c['law']} {c['article']}{when}{' (to verify)' if c.get('verify') else ''}"


def _v2_markdown(a) -> list[str]:
    """The v2 fields of one area as Markdown lines (nothing for a v1 area)."""
    if not a.has_v2:
        return []
    scores = ", ".join(f"{k} {v}" for k, v in a.severity_scores.items())
    out = ["", f"**Harm type:** {a.harm_type} · **severity scores:** {scores} (total {sum(a.severity_scores.values())})  ",
           f"**In scope:** {_md(a.scope_in.get('en', ''))} / {_md(a.scope_in.get('ko', ''))}  ",
           f"**Out of scope:** {_md(a.scope_out.get('en', ''))} / {_md(a.scope_out.get('ko', ''))}  ",
           "**A good response should:** " + " ".join(f"({k}) {_md(p['en'])} / {_md(p['ko'])}"
                                                    for k, p in enumerate(a.positive_policy, 1)) + "  "]
    if a.detail_scale:
        out.append("**Level of detail:** " + "; ".join(f"{lvl}: {_md(t['en'])}" for lvl, t in a.detail_scale.items()) + "  ")
    out.append(f"**Safe help:** {_md(a.safe_help.get('en', ''))}  ")
    for f in a.reference_facts:
        out.append(f"**Fact:** {_md(f['en'])} ({_md(f.get('source', ''))}{', to verify' if f.get('verify') else ''})  ")
    if a.citations:
        out.append("**Law:** " + "; ".join(_md(_cite(c)) for c in a.citations) + "  ")
    walk = a.crosswalk
    out.append(f"**Crosswalk:** Llama Guard {', '.join(walk.get('llama_guard', ())) or '–'} · MLCommons "
               f"{', '.join(walk.get('mlcommons', ())) or '–'} · see also {', '.join(a.see_also) or '–'}  ")
    prov = a.provenance
    out.append(f"**Provenance:** {prov.get('origin', '')} v{prov.get('version', '')}: {'; '.join(prov.get('changes', []))}")
    return out


def to_markdown(taxonomy: Taxonomy) -> str:
    out = [f"# {taxonomy.name} (version {taxonomy.version})", "",
           f"{len(taxonomy.areas)} risk areas in {len(taxonomy.domains)} domains. Each area lists five judgement "
           "criteria: a response that meets any one of them is unsafe.", "", RECONSTRUCTION, "",
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
            out += _v2_markdown(a)
    if taxonomy.precedence:
        out += ["", "## Precedence between overlapping areas", "", "| areas | attributed to | rule |", "|---|---|---|"]
        out += [f"| {' / '.join(p.areas)} | {p.prefer} | {_md(p.rule['en'])} |" for p in taxonomy.precedence]
    return "\n".join(out) + "\n"


_CSS = """
body{font-family:system-ui,'Noto Sans KR',sans-serif;max-width:70em;margin:2em auto;color:#222;line-height:1.45}
table{border-collapse:collapse;width:100%;margin:.5em 0} th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
th{background:#f3f3f3;text-align:left} .area{border-top:2px solid #888;margin-top:1.5em;padding-top:.5em}
.sev{display:inline-block;padding:0 .5em;border-radius:3px;color:#fff;font-size:90%}
.critical{background:#a01818}.high{background:#d0620b}.medium{background:#b8960b}.low{background:#4a7c32}
nav a{margin-right:1em} .muted{color:#666}
"""


def _v2_html(a) -> str:
    e = html.escape
    if not a.has_v2:
        return ""
    policy = "".join(f"<li>{e(p['en'])}<br>{e(p['ko'])}</li>" for p in a.positive_policy)
    scale = "".join(f"<tr><td>{e(lvl)}</td><td>{e(t['en'])}</td><td>{e(t['ko'])}</td></tr>"
                    for lvl, t in a.detail_scale.items())
    facts = "".join(f"<li>{e(f['en'])} <span class='muted'>({e(f.get('source', ''))}"
                    f"{', to verify' if f.get('verify') else ''})</span></li>" for f in a.reference_facts)
    cites = "; ".join(e(_cite(c)) for c in a.citations)
    scores = ", ".join(f"{e(k)} {v}" for k, v in a.severity_scores.items())
    walk = a.crosswalk
    return (f"<p><b>Harm type</b> {e(a.harm_type)} · <b>severity scores</b> {scores}</p>"
            f"<table><tr><th>in scope</th><td>{e(a.scope_in.get('en', ''))}<br>{e(a.scope_in.get('ko', ''))}</td></tr>"
            f"<tr><th>out of scope</th><td>{e(a.scope_out.get('en', ''))}<br>{e(a.scope_out.get('ko', ''))}</td></tr></table>"
            f"<p><b>A good response should</b> / 좋은 응답은:</p><ul>{policy}</ul>"
            + (f"<table><tr><th>detail</th><th>en</th><th>ko</th></tr>{scale}</table>" if scale else "")
            + f"<p><b>Safe help</b>: {e(a.safe_help.get('en', ''))}<br>{e(a.safe_help.get('ko', ''))}</p>"
            + (f"<p><b>Reference facts</b></p><ul>{facts}</ul>" if facts else "")
            + (f"<p><b>Law</b>: {cites}</p>" if cites else "")
            + f"<p class='muted'>Llama Guard {e(', '.join(walk.get('llama_guard', ())) or '–')} · MLCommons "
              f"{e(', '.join(walk.get('mlcommons', ())) or '–')} · see also {e(', '.join(a.see_also) or '–')} · "
              f"{e(a.provenance.get('origin', ''))} v{e(str(a.provenance.get('version', '')))}</p>")


def to_html(taxonomy: Taxonomy) -> str:
    e = html.escape
    parts = [f"<!doctype html><html lang='ko'><head><meta charset='utf-8'><title>{e(taxonomy.name)}</title>"
             f"<style>{_CSS}</style></head><body><h1>{e(taxonomy.name)} <span class='muted'>v{e(taxonomy.version)}"
             f"</span></h1><p>{len(taxonomy.areas)} risk areas in {len(taxonomy.domains)} domains. A response that "
             "meets any one of an area's five criteria is unsafe. / 각 영역의 다섯 가지 기준 중 하나라도 해당하면 "
             f"안전하지 않은 응답입니다.</p><p class='muted'>{e(RECONSTRUCTION)}</p><nav>"
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
                f"<p><b>Benign look-alikes</b> (should be answered):</p><ul>{benign}</ul><p><b>References:</b> {refs}</p>"
                f"{_v2_html(a)}</div>")
    if taxonomy.precedence:
        rows = "".join(f"<tr><td>{e(' / '.join(p.areas))}</td><td>{e(p.prefer)}</td><td>{e(p.rule['en'])}<br>"
                       f"{e(p.rule['ko'])}</td></tr>" for p in taxonomy.precedence)
        parts.append("<h2 id='precedence'>Precedence between overlapping areas / 겹치는 영역의 우선순위</h2>"
                     f"<table><tr><th>areas</th><th>attributed to</th><th>rule</th></tr>{rows}</table>")
    parts.append("</body></html>")
    return "".join(parts)
