"""The audit report: one self-contained HTML file (inline SVG charts, no scripts, no external assets).

It shows counts by decision and rule, quarantine reasons, PII by entity type, licences (SPDX ids and the
documents' expressions), copyright notices and holders, the protected-works registry, duplicate-cluster sizes,
language mix, the validation results and masked examples. Examples are masked upstream (every detected PII
span becomes <TYPE>, personal copyright holders and reporters <HOLDER>, digit runs and e-mail-like strings are
hidden); quarantine rows are shown by reason and location only, never by content. Copyright holders are named
only when they are organisations: the ledger already holds every other holder as <HOLDER>, counted here. The page is ``templates/audit_report.html``
(Jinja2, autoescape), its charts the shared helper of every Haetae report.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from haetae import __version__
from haetae.pipelines.rights.copyright import PERSONAL_HOLDER
from haetae.reports.charts import bar_chart

_COLORS = {"keep": "#2e7d32", "redact": "#1565c0", "drop": "#c62828", "quarantine": "#ef6c00"}


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def audit_context(aggregates: dict[str, Any], validation: dict[str, Any], seconds: float | None = None) -> dict:
    d = aggregates["decisions"]
    cluster_sizes = {f"size {k}": v for k, v in sorted(aggregates["cluster_sizes"].items(), key=lambda kv: int(kv[0]))}
    chart = lambda data, title, colors=None: Markup(bar_chart(data, title, colors))  # noqa: E731
    examples = [{"rule": rule, **ex} for rule, items in sorted(aggregates.get("examples", {}).items()) for ex in items]
    return {**_rights_context(aggregates),
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "version": __version__, "seconds": seconds,
        "policy": aggregates.get("policy", {}), "inputs": aggregates.get("inputs", []),
        "total": aggregates.get("input", aggregates["rows"]), "decisions": d, "colors": _COLORS,
        "mb_in": aggregates["bytes_in"] / 1e6, "mb_kept": aggregates["bytes_kept"] / 1e6,
        "redactions": aggregates["redactions"], "validation_ok": validation.get("success", False),
        "validation_failed": validation.get("failed", []),
        "rules": sorted(aggregates["rules"].items(), key=lambda kv: -kv[1]),
        "dup_kinds": ", ".join(f"{k} {v}" for k, v in sorted(aggregates["dup_kinds"].items())),
        "validation": [{"suite": r["suite"], "notes": r["meta"].get("notes", ""), "expectation": r["expectation"],
                        "success": r["success"],
                        "observed": ", ".join(f"{k.replace('_', ' ')}: {_fmt(v)}" for k, v in (r.get("observed") or {}).items())}
                       for r in validation.get("results", [])],
        "examples": examples,
        "charts": {"decisions": chart(d, "Records by decision", _COLORS),
                   "quarantine": chart(aggregates["quarantine_reasons"], "Quarantine reasons"),
                   "pii_docs": chart(aggregates["pii_docs"], "Documents with each PII type"),
                   "pii_spans": chart(aggregates["pii_spans"], "PII spans by entity type"),
                   "licences": chart(aggregates["licences"], "Licences found (SPDX)"),
                   "copyright": chart(aggregates["copyright"], "Copyright notices"),
                   "clusters": chart(cluster_sizes, "Duplicate clusters by size"),
                   "languages": chart(aggregates["languages"], "Language mix")},
    }


def _rights_context(aggregates: dict[str, Any]) -> dict[str, Any]:
    """The Licences, Copyright and Registry sections."""
    from haetae.pipelines.audit.job import REGISTRY_BUCKETS

    rules = aggregates["rules"]
    holders = dict(aggregates.get("copyright_holders", {}))
    unnamed = holders.pop(PERSONAL_HOLDER, 0)
    bands = aggregates.get("registry_fractions", {})
    return {
        "licence_docs": aggregates.get("licence_docs", 0),
        "licence_expressions": sorted(aggregates.get("licence_expressions", {}).items(), key=lambda kv: (-kv[1], kv[0])),
        "licence_rules": {r: n for r, n in sorted(rules.items()) if r.startswith("rights.licences.")},
        "copyright_docs": aggregates.get("copyright_docs", 0),
        "copyright_rule": rules.get("rights.copyright.notice_without_allowed_licence", 0),
        "organisation_holders": sorted(holders.items(), key=lambda kv: (-kv[1], kv[0]))[:30],
        "more_holders": max(0, len(holders) - 30), "unnamed_holders": unnamed,
        "registry": aggregates.get("registry"), "registry_checked": aggregates.get("registry_checked", 0),
        "registry_matched": aggregates.get("registry_matched", 0), "registry_rule": rules.get("rights.registry", 0),
        "registry_chart": Markup(bar_chart({label: bands.get(label, 0) for _, label in REGISTRY_BUCKETS},
                                           "Documents by registry fraction")),
    }


def render_audit_report(aggregates: dict[str, Any], validation: dict[str, Any], seconds: float | None = None) -> str:
    env = Environment(loader=PackageLoader("haetae.reports", "templates"), autoescape=select_autoescape(["html"]))
    return env.get_template("audit_report.html").render(**audit_context(aggregates, validation, seconds))


def write_audit_report(out_dir: str, aggregates: dict[str, Any], validation: dict[str, Any],
                       seconds: float | None = None) -> str:
    path = os.path.join(out_dir, "report.html")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(render_audit_report(aggregates, validation, seconds))
    return path
