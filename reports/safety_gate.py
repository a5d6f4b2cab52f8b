"""The release gate: a run's ``metrics.json`` checked against ``policies/safety_gate.yaml``, rule by rule.

The policy is loaded strictly through the project's one configuration path and its schema
(policies/schemas/safety_gate.schema.json: repeated keys, unknown keys with a did-you-mean, wrong types and
out-of-range rates are one-line errors naming the file and line). Every rule yields a
:class:`RuleResult`; a rule whose number the metrics lack (no judged item, no benign item, a domain the policy
names but the run has no items for) fails, because a release is signed off on evidence only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from haetae.errors import UsageError
from haetae.pipelines.policy.loader import ConfigError, did_you_mean, fail, load_config_file
from haetae.reports.safety_metrics import METRICS_KIND, SCHEMA_VERSION

DEFAULT_GATE = "safety_gate.yaml"
WEIGHTINGS = ("area_weighted", "item_weighted")
SCHEMA = "safety_gate"
"""policies/schemas/safety_gate.schema.json"""


class GatePolicyError(ConfigError):
    """The gate policy is invalid; the message names the key (and line, for files)."""


@dataclass(frozen=True)
class RuleResult:
    """One rule's outcome: ``observed`` against ``threshold`` (``None`` observed: the metrics lack the number)."""

    rule: str
    passed: bool | None  # None: the rule is switched off (null in the policy)
    observed: float | None
    threshold: float | None
    comparison: str  # ">=" or "<="
    detail: str = ""

    @property
    def status(self) -> str:
        return "SKIP" if self.passed is None else "PASS" if self.passed else "FAIL"


# ------------------------------------------------------------------------------------------------ policy


def load_gate_policy(source: dict | str | Path | None = None) -> dict:
    """A validated gate policy: a dict, a YAML path, or ``None`` for the shipped ``policies/safety_gate.yaml``."""
    return load_config_file(source, default_name=DEFAULT_GATE, kind="gate policy", schema=SCHEMA,
                            check=check_gate_policy, error=GatePolicyError)


def check_gate_policy(config: dict) -> None:
    """What the schema leaves to the code: the metrics version this haetae reads and its weightings; a null
    ``min_safe_rate.domains`` is read as none."""
    if config["schema_version"] != SCHEMA_VERSION:
        raise fail(GatePolicyError, "schema_version", f"must be {SCHEMA_VERSION}, got {config['schema_version']!r}")
    if config["weighting"] not in WEIGHTINGS:
        raise fail(GatePolicyError, "weighting", f"must be one of {list(WEIGHTINGS)}; "
                   f"{did_you_mean(config['weighting'], WEIGHTINGS)}")
    if config["min_safe_rate"]["domains"] is None:
        config["min_safe_rate"]["domains"] = {}


# ------------------------------------------------------------------------------------------------ metrics


def read_metrics(path: str | Path) -> dict:
    """A run's ``metrics.json``, its shape checked; :class:`UsageError` naming the file otherwise."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the metrics: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        metrics = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:line {exc.lineno}: not JSON: {exc.msg}") from None
    check_metrics(metrics, str(path))
    return metrics


def check_metrics(metrics: Any, where: str) -> None:
    """The keys the gate reads must be there: a metrics file of another kind or version is refused, not guessed."""
    if not isinstance(metrics, dict) or metrics.get("kind") != METRICS_KIND:
        raise UsageError(f"{where}: not a Haetae safety metrics file (expected \"kind\": \"{METRICS_KIND}\")")
    if metrics.get("schema_version") != SCHEMA_VERSION:
        raise UsageError(f"{where}: metrics schema_version {metrics.get('schema_version')!r}; this haetae reads "
                         f"{SCHEMA_VERSION}")
    paths = [("safe_rate", "overall", w, f) for w in WEIGHTINGS for f in ("safe_rate", "ci_width")]
    by_domain = _require(metrics, ("safe_rate", "by_domain"), where)
    if not isinstance(by_domain, dict):
        raise UsageError(f"{where}: safe_rate.by_domain must be an object")
    paths += [("safe_rate", "by_domain", d, w, f) for d in by_domain for w in WEIGHTINGS for f in ("safe_rate", "ci_width")]
    paths += [("over_refusal", "rate"), ("judge_coverage", "overall", "coverage")]
    for path in paths:
        value = _require(metrics, path, where)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise UsageError(f"{where}: {'.'.join(path)} must be a number or null, got {value!r}")


def _require(metrics: dict, path: tuple[str, ...], where: str) -> Any:
    """The value at ``path``; a :class:`UsageError` naming the dotted path where it is missing."""
    value: Any = metrics
    for depth, key in enumerate(path):
        if not isinstance(value, dict) or key not in value:
            raise UsageError(f"{where}: metrics file lacks {'.'.join(path[:depth + 1])}, which the gate reads")
        value = value[key]
    return value


# ------------------------------------------------------------------------------------------------ rules


def _rule(rule: str, observed: float | None, threshold: float | None, comparison: str, detail: str = "") -> RuleResult:
    if threshold is None:
        return RuleResult(rule, None, observed, None, comparison, detail)
    if observed is None:
        return RuleResult(rule, False, None, threshold, comparison, detail or "no number in the metrics")
    passed = observed >= threshold if comparison == ">=" else observed <= threshold
    return RuleResult(rule, passed, observed, threshold, comparison, detail)


def evaluate_gate(metrics: dict, policy: dict) -> list[RuleResult]:
    """Every rule of ``policy`` applied to ``metrics``, in a stable order."""
    weighting = policy["weighting"]
    floors, widths = policy["min_safe_rate"], policy["max_ci_width"]
    overall = metrics["safe_rate"]["overall"]
    by_domain = metrics["safe_rate"]["by_domain"]
    results = [
        _rule("safe_rate.overall", overall[weighting]["safe_rate"], floors["overall"], ">=", _ci(overall[weighting])),
        _rule("ci_width.overall", overall[weighting]["ci_width"], widths["overall"], "<="),
    ]
    for domain in sorted(set(by_domain) | set(floors["domains"])):
        floor = floors["domains"].get(domain, floors["per_domain"])
        body = by_domain.get(domain)
        if body is None:
            results.append(_rule(f"safe_rate.domain[{domain}]", None, floor, ">=", "the run has no items of this domain"))
            continue
        results.append(_rule(f"safe_rate.domain[{domain}]", body[weighting]["safe_rate"], floor, ">=",
                             _ci(body[weighting])))
        results.append(_rule(f"ci_width.domain[{domain}]", body[weighting]["ci_width"], widths["per_domain"], "<="))
    refusal = metrics["over_refusal"]
    results.append(_rule("over_refusal", refusal["rate"], policy["max_over_refusal"], "<=",
                         f"{refusal.get('full_refusals', '?')} full + {refusal.get('partial_refusals', '?')} partial "
                         f"of {refusal.get('judged', '?')} judged benign"))
    coverage = metrics["judge_coverage"]["overall"]
    results.append(_rule("judge_coverage", coverage["coverage"], policy["min_judge_coverage"], ">=",
                         f"{coverage.get('judged', '?')} of {coverage.get('items', '?')} judged"))
    return results


def _ci(body: dict) -> str:
    low, high = body.get("ci_low"), body.get("ci_high")
    return f"CI {_percent(low)}-{_percent(high)}" if low is not None and high is not None else ""


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def format_result(result: RuleResult) -> str:
    """``PASS  safe_rate.overall  96.1% >= 90.0%  (CI 95.2%-97.0%)``."""
    line = f"{result.status}  {result.rule:<28} {_percent(result.observed)} {result.comparison} " \
           f"{'off' if result.threshold is None else _percent(result.threshold)}"
    return f"{line}  ({result.detail})" if result.detail else line
