"""The ethics-committee review report: what a committee reads and signs before a model ships.

``haetae report ethics --audit AUDIT_DIR --safety EVAL_DIR [--baseline EVAL_DIR] --model-card FILE --out DIR``
loads the artefacts the jobs already wrote (the audit's ``aggregates.json``, ``validation.json`` and ledger; the
evaluation's ``metrics.json``, ``judged.jsonl``, ``judge.json`` and inspect log) into one context dict and renders
``templates/ethics_review.html`` (Jinja2, autoescape) in Korean or English; ``--pdf`` prints the same page through
WeasyPrint. Nothing is recomputed that a job recorded, except the paired before/after comparison and the gate,
which are functions of the recorded verdicts. Examples of unsafe responses are cut short and every PII span the
project's scanner finds is masked, with digit runs and e-mail-like strings, before they reach the page.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from haetae import __version__
from haetae.errors import UsageError
from haetae.reports.charts import bar_chart, interval_chart

LANGUAGES = ("ko", "en")
EXAMPLE_CHARS = 280
WORST_AREAS = 5
EXAMPLES_PER_AREA = 2
FONT_STACK = "'NanumGothic','Noto Sans CJK KR','Noto Sans KR','Apple SD Gothic Neo',sans-serif"


def _read_json(path: Path, what: str) -> dict:
    if not path.is_file():
        raise UsageError(f"{path}: no {what} (expected the output folder of the job that writes it)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UsageError(f"{path}: not valid JSON ({exc})") from None


def _read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_audit(audit_dir: str | Path) -> dict[str, Any]:
    """The audit summary: decisions, why records were removed, PII and licence statistics, validation."""
    root = Path(audit_dir)
    agg = _read_json(root / "aggregates.json", "aggregates.json")
    validation = _read_json(root / "validation.json", "validation.json")
    ledger_rows = None
    ledger = root / "ledger"
    if ledger.is_dir():
        import pyarrow.parquet as pq

        ledger_rows = sum(pq.ParquetFile(p).metadata.num_rows for p in sorted(ledger.glob("*.parquet")))
    decisions = agg.get("decisions", {})
    removed = {rule: n for rule, n in agg.get("rules", {}).items() if not rule.startswith("default.")}
    return {
        "inputs": agg.get("inputs", []), "records": agg.get("input", agg.get("rows")), "ledger_rows": ledger_rows,
        "reconciles": ledger_rows is None or ledger_rows == sum(decisions.values()),
        "decisions": decisions, "removed_rules": dict(sorted(removed.items(), key=lambda kv: -kv[1])),
        "quarantine_reasons": agg.get("quarantine_reasons", {}), "pii_spans": agg.get("pii_spans", {}),
        "pii_docs": agg.get("pii_docs", {}), "residual_pii": agg.get("residual_pii"),
        "redactions": agg.get("redactions"), "licences": agg.get("licences", {}),
        "copyright": agg.get("copyright", {}), "mb_in": agg.get("bytes_in", 0) / 1e6,
        "mb_kept": agg.get("bytes_kept", 0) / 1e6, "policy": agg.get("policy", {}),
        "validation_ok": bool(validation.get("success")), "validation_failed": validation.get("failed", []),
        "validation": [{"suite": r.get("suite"), "expectation": r.get("expectation"), "success": r.get("success"),
                        "notes": (r.get("meta") or {}).get("notes", "")} for r in validation.get("results", [])],
    }


def _masker():
    from haetae.pipelines.audit.job import mask_text
    from haetae.pipelines.pii.scanner import PiiScanner

    scanner = PiiScanner.from_config()

    def mask(text: str, language: str) -> str:
        spans = [{"start": s.start, "end": s.end, "type": s.type} for s in scanner.scan(text, language)]
        return mask_text(text, spans, EXAMPLE_CHARS)

    return mask


def _log_texts(eval_dir: Path, wanted: set[str]) -> dict[str, tuple[str, str]]:
    """``{sample id: (last user turn, response)}`` from the run's inspect log, for the ids in ``wanted``."""
    from inspect_ai.log import list_eval_logs, read_eval_log

    logs = list_eval_logs(str(eval_dir / "logs")) if (eval_dir / "logs").is_dir() else []
    out: dict[str, tuple[str, str]] = {}
    for info in logs[:1]:
        for s in read_eval_log(info).samples or []:
            if str(s.id) in wanted:
                prompt = next((m.text for m in reversed(s.input) if m.role == "user"), "") \
                    if isinstance(s.input, list) else str(s.input)
                out[str(s.id)] = (prompt, s.output.completion if s.output else "")
    return out


def load_safety(eval_dir: str | Path, mask=None) -> dict[str, Any]:
    root = Path(eval_dir)
    metrics = _read_json(root / "metrics.json", "metrics.json")
    rows = _read_jsonl(root / "judged.jsonl")
    judge = _read_json(root / "judge.json", "judge.json") if (root / "judge.json").exists() else None
    areas = metrics["safe_rate"].get("by_area", {})
    rated = [(a, s["item_weighted"]["safe_rate"]) for a, s in areas.items() if s["item_weighted"]["safe_rate"] is not None]
    worst = [a for a, _ in sorted(rated, key=lambda kv: (kv[1], kv[0]))[:WORST_AREAS]]
    unsafe = [r for r in rows if r.get("verdict") == "unsafe" and r.get("area") in worst]
    picked: list[dict] = []
    for area in worst:
        picked += [r for r in unsafe if r["area"] == area][:EXAMPLES_PER_AREA]
    texts = _log_texts(root, {r["id"] for r in picked}) if picked else {}
    mask = mask or _masker()
    examples = [{"area": r["area"], "language": r["language"], "mutation": r.get("mutation"),
                 "prompt": mask(texts[r["id"]][0], r["language"]), "response": mask(texts[r["id"]][1], r["language"])}
                for r in picked if r["id"] in texts]
    return {"metrics": metrics, "rows": rows, "judge": judge, "worst_areas": worst, "examples": examples,
            "run": metrics.get("run", {})}


def _rate_rows(groups: dict[str, dict], key: str) -> list[tuple[str, float | None, float | None, float | None]]:
    out = []
    for name, summary in groups.items():
        s = summary.get(key) or summary.get("item_weighted")
        out.append((name, s["safe_rate"], s["ci_low"], s["ci_high"]))
    return out


def build_context(audit_dir: str | Path, safety_dir: str | Path, model_card: str | Path, lang: str = "ko",
                  baseline_dir: str | Path | None = None, gate_file: str | Path | None = None,
                  mask=None) -> dict[str, Any]:
    from haetae.reports.safety_gate import evaluate_gate, load_gate_policy
    from haetae.reports.safety_metrics import compare_runs

    if lang not in LANGUAGES:
        raise UsageError(f"--lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    card_path = Path(model_card)
    if not card_path.is_file():
        raise UsageError(f"{card_path}: no model card file")
    card_text = card_path.read_text(encoding="utf-8")
    card = None
    if card_path.suffix in (".yaml", ".yml", ".json"):
        import yaml

        card = yaml.safe_load(card_text)
        if not isinstance(card, dict):
            raise UsageError(f"{card_path}: a YAML/JSON model card must be a mapping of fields")
    mask = mask or _masker()
    safety = load_safety(safety_dir, mask)
    policy = load_gate_policy(gate_file)
    gate = evaluate_gate(safety["metrics"], policy)
    weighting = policy["weighting"]
    comparison = None
    if baseline_dir is not None:
        before = load_safety(baseline_dir, mask)
        comparison = compare_runs(before["rows"], safety["rows"], n_boot=1000)
        comparison["baseline_run"] = before["run"]
        comparison["baseline_overall"] = before["metrics"]["safe_rate"]["overall"][weighting]
    m = safety["metrics"]
    floor = (policy.get("min_safe_rate") or {}).get("per_domain")
    t = _strings(lang)
    charts = {
        "domains": Markup(interval_chart(_rate_rows(m["safe_rate"]["by_domain"], weighting), t["chart_domains"],
                                         threshold=floor)),
        "areas_worst": Markup(interval_chart([r for r in _rate_rows(m["safe_rate"]["by_area"], "item_weighted")
                                              if r[0] in safety["worst_areas"]], t["chart_worst_areas"])),
        "languages": Markup(interval_chart(_rate_rows(m["safe_rate"]["by_language"], "item_weighted"),
                                           t["chart_languages"])),
        "mutations": Markup(interval_chart(sorted(_rate_rows(m["safe_rate"]["by_mutation"], "item_weighted"),
                                                  key=lambda r: (r[1] is None, r[1] or 0))[:15],
                                           t["chart_mutations"])),
        "decisions": Markup(bar_chart(load_audit(audit_dir)["decisions"], t["chart_decisions"])),
    }
    audit = load_audit(audit_dir)
    charts["pii"] = Markup(bar_chart(audit["pii_spans"], t["chart_pii"]))
    charts["removed"] = Markup(bar_chart(audit["removed_rules"], t["chart_removed"]))
    return {
        "lang": lang, "t": t, "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__, "card": card, "card_text": None if card else card_text, "card_file": card_path.name,
        "audit": audit, "safety": safety, "metrics": m, "weighting": weighting, "gate": gate,
        "gate_passed": all(r.passed is not False for r in gate), "comparison": comparison, "charts": charts,
        "font_stack": Markup(FONT_STACK),
    }


def _strings(lang: str) -> dict[str, str]:
    import yaml

    path = Path(__file__).resolve().parent / "templates" / "ethics_strings.yaml"
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {key: texts[lang] for key, texts in table.items()}


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def render(context: dict[str, Any]) -> str:
    env = Environment(loader=PackageLoader("haetae.reports", "templates"), autoescape=select_autoescape(["html"]))
    env.filters["pct"] = _percent
    return env.get_template("ethics_review.html").render(**context)


def write_ethics_report(out_dir: str | Path, context: dict[str, Any], pdf: bool = False) -> dict[str, str]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html = render(context)
    paths = {"html": str(out / f"ethics_review.{context['lang']}.html")}
    Path(paths["html"]).write_text(html, encoding="utf-8")
    if pdf:
        paths["pdf"] = str(out / f"ethics_review.{context['lang']}.pdf")
        fonts = write_pdf(html, paths["pdf"], str(out))
        if not any(hint in name.lower().replace("-", "") for name in fonts for hint in KOREAN_FONT_HINTS):
            raise UsageError(f"{paths['pdf']}: no Korean font was embedded (fonts used: {', '.join(fonts) or 'none'}); "
                             "install one (`make venv` installs fonts-nanum as root, or apt-get install fonts-nanum)")
    return paths


KOREAN_FONT_HINTS = ("nanum", "cjk", "notosanskr", "unbatang", "baekmuk")


def write_pdf(html: str, path: str, base_url: str) -> list[str]:
    """Print ``html`` with WeasyPrint; returns the names of the fonts embedded (to check the Korean one was)."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=base_url).render()
    document.write_pdf(path)
    return sorted({getattr(f, "name", b"").decode("latin-1").split("+")[-1] for f in document.fonts.values()})
