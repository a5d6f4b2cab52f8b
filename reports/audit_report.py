"""The audit report: one self-contained HTML file (inline SVG charts, no scripts, no external assets).

It shows counts by decision and rule, quarantine reasons, PII by entity type, licence and copyright signals,
duplicate-cluster sizes, language mix, the validation results and masked examples. Examples are masked
upstream (every detected PII span becomes <TYPE>, digit runs and e-mail-like strings are hidden); quarantine
rows are shown by reason and location only, never by content.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from haetae import __version__
from haetae.reports.charts import bar_chart
from haetae.reports.charts import esc as _esc

_COLORS = {"keep": "#2e7d32", "redact": "#1565c0", "drop": "#c62828", "quarantine": "#ef6c00"}
_CSS = """
body{font-family:system-ui,-apple-system,'Noto Sans KR',sans-serif;margin:2rem auto;max-width:1080px;color:#222}
h1{margin-bottom:.2rem} .sub{color:#666;margin-top:0} h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:8px;padding:.6rem 1rem;min-width:120px}
.card b{display:block;font-size:1.5rem}.ok{color:#2e7d32}.fail{color:#c62828;font-weight:bold}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border-bottom:1px solid #eee;padding:.3rem .5rem;text-align:left;vertical-align:top}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1.5rem} code,pre{background:#f6f6f6;border-radius:4px}
pre{white-space:pre-wrap;padding:.4rem;margin:.2rem 0;font-size:.85rem}
"""


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_audit_report(aggregates: dict[str, Any], validation: dict[str, Any], seconds: float | None = None) -> str:
    d = aggregates["decisions"]
    total = aggregates.get("input", aggregates["rows"])
    ok = validation.get("success", False)
    cards = "".join(
        f'<div class="card">{_esc(name)}<b style="color:{_COLORS.get(name, "#222")}">{d.get(name, 0)}</b></div>'
        for name in ("keep", "redact", "drop", "quarantine"))
    status = '<span class="ok">all expectations met</span>' if ok else (
        '<span class="fail">validation failed: ' + _esc("; ".join(validation.get("failed", []))) + "</span>")
    policy = aggregates.get("policy", {})
    val_rows = [[_esc(r["suite"]), _esc(r["meta"].get("notes", "")), f"<code>{_esc(r['expectation'])}</code>",
                 '<span class="ok">pass</span>' if r["success"] else '<span class="fail">FAIL</span>',
                 _esc(", ".join(f"{k.replace('_', ' ')}: {_fmt(v)}" for k, v in (r.get("observed") or {}).items()))]
                for r in validation.get("results", [])]
    example_rows = []
    for rule, items in sorted(aggregates.get("examples", {}).items()):
        for ex in items:
            example_rows.append([f"<code>{_esc(rule)}</code>", _esc(ex["decision"]), _esc(ex["id"]),
                                 _esc("; ".join(ex["reasons"])), f"<pre>{_esc(ex['text'])}</pre>"])
    rules = [[f"<code>{_esc(r)}</code>", n] for r, n in sorted(aggregates["rules"].items(), key=lambda kv: -kv[1])]
    cluster_sizes = {f"size {k}": v for k, v in sorted(aggregates["cluster_sizes"].items(), key=lambda kv: int(kv[0]))}
    mb_in, mb_kept = aggregates["bytes_in"] / 1e6, aggregates["bytes_kept"] / 1e6
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Haetae data audit report</title><style>{_CSS}</style></head><body>
<h1>Haetae data audit</h1>
<p class="sub">Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by haetae {__version__}
{f'in {seconds:.1f} s' if seconds else ''} · policy <code>{_esc(policy.get('name'))}</code>
sha256 <code>{_esc(str(policy.get('sha256', ''))[:16])}</code></p>
<p>Inputs: {", ".join(f"<code>{_esc(i)}</code>" for i in aggregates.get("inputs", []))}</p>
<div class="cards"><div class="card">records read<b>{total}</b></div>{cards}
<div class="card">MB in / kept<b>{mb_in:.2f} / {mb_kept:.2f}</b></div>
<div class="card">redactions<b>{aggregates['redactions']}</b></div></div>
<p>Validation: {status}</p>
<h2>Decisions</h2><div class="grid">{bar_chart(d, "Records by decision", _COLORS)}
{bar_chart(aggregates["quarantine_reasons"], "Quarantine reasons")}</div>
{_table(["rule that fired", "records"], rules)}
<h2>Personal data</h2><div class="grid">{bar_chart(aggregates["pii_docs"], "Documents with each PII type")}
{bar_chart(aggregates["pii_spans"], "PII spans by entity type")}</div>
<h2>Copyright and licences</h2><div class="grid">{bar_chart(aggregates["licences"], "Licences found (SPDX)")}
{bar_chart(aggregates["copyright"], "Copyright notices")}</div>
<h2>Duplicates and languages</h2><div class="grid">{bar_chart(cluster_sizes, "Duplicate clusters by size")}
{bar_chart(aggregates["languages"], "Language mix")}</div>
<p>Duplicate roles: {_esc(", ".join(f"{k} {v}" for k, v in sorted(aggregates["dup_kinds"].items())))}</p>
<h2>Validation (Great Expectations)</h2>{_table(["suite", "check", "expectation", "result", "observed"], val_rows)}
<h2>Masked examples</h2><p>Every detected PII span is shown as &lt;TYPE&gt;; digit runs and e-mail-like strings are hidden.</p>
{_table(["rule", "decision", "id", "reasons", "text (masked)"], example_rows)}
</body></html>"""


def write_audit_report(out_dir: str, aggregates: dict[str, Any], validation: dict[str, Any],
                       seconds: float | None = None) -> str:
    path = os.path.join(out_dir, "report.html")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(render_audit_report(aggregates, validation, seconds))
    return path
