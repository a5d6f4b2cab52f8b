"""The data policy's decision rules: an ordered list of small :class:`Rule` objects, the order their precedence.

A record is decided by the first rule that fires. Before deduplication (:data:`PRE_DEDUP`): language, size and
quality limits, the protected-works registry, the licence deny list, licences on no list, a copyright notice
without an allowed licence, PII with a ``drop`` action, too many redactions; a record none of them decides goes
on to dedup. After it (:data:`FINAL`): duplicates (non-representative members), PII with a ``redact`` action,
keep. The reader's quarantine comes before all of them, in :mod:`haetae.pipelines.io.beam_io`.

A rule's ``name`` is the ledger's ``rule`` value; ``pii.entities`` fires as ``pii.entities.<TYPE>``. The audit's
steps (:func:`pre_dedup_verdict`, :func:`final_verdict`) and the taxonomy's inline audit (:func:`first_verdict`
over :func:`rules_named`) read this one list, so a rule is written once.

Licence lists are read on the document's SPDX expression (:mod:`haetae.pipelines.rights.spdx`): ``A OR B`` is allowed
when either is, ``A AND B`` when both are; it is denied when it cannot be used without a denied licence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from haetae.pipelines.io import records as R

if TYPE_CHECKING:
    from haetae.pipelines.policy.schema import Policy

PRE_DEDUP, FINAL = "pre-dedup", "final"
"""The phases: rules that decide a record before deduplication, and those that need its duplicate info."""

REGISTRY_DEFAULTS = {"max_fraction": 0.5, "action": "drop"}
"""``rights.registry`` without these keys (or ``--registry`` without the section): a document of which more
than half the 50-character windows are in the registry is dropped."""


@dataclass(frozen=True)
class Verdict:
    decision: str
    rule: str  # the policy rule that fired
    reasons: tuple[str, ...] = ()


Check = Callable[[dict[str, Any], "Policy", "dict[str, Any] | None"], "Verdict | None"]


@dataclass(frozen=True)
class Rule:
    """One policy rule: its ledger ``name``, its ``phase`` and the check that decides a record or passes it on."""

    name: str
    phase: str
    check: Check

    def applies(self, record: dict[str, Any], policy: Policy, dup: dict[str, Any] | None = None) -> Verdict | None:
        """The verdict of this rule for ``record`` (``dup``: its duplicate info, final rules only), or None."""
        return self.check(record, policy, dup)


# ---------------------------------------------------------------------------------------------- pre-dedup


def _language(rec: dict[str, Any], policy: Policy, _dup: Any) -> Verdict | None:
    langs = policy.section("languages").get("allow") or []
    if langs and rec.get("lang") not in langs:
        return Verdict(R.DROP, "languages.allow", (f"language {rec.get('lang')} not allowed",))
    return None


def _min_chars(rec: dict[str, Any], policy: Policy, _dup: Any) -> Verdict | None:
    min_chars = policy.section("limits").get("min_chars")
    if min_chars is not None and len(rec["text"].strip()) < min_chars:
        return Verdict(R.DROP, "limits.min_chars", (f"{len(rec['text'].strip())} chars < {min_chars}",))
    return None


def _quality(key: str, signal: str) -> Check:
    """``quality.<key>``: the record's quality ``signal`` above the policy's limit drops it."""
    def check(rec: dict[str, Any], policy: Policy, _dup: Any) -> Verdict | None:
        limit = policy.section("quality").get(key)
        signals = rec.get("quality") or {}
        if limit is not None and signals.get(signal, 0.0) > limit:
            return Verdict(R.DROP, f"quality.{key}", (f"{signal} {signals[signal]:.2f} > {limit}",))
        return None

    return check


def registry_rule(policy: Policy) -> tuple[float, str]:
    """``(max_fraction, action)`` of ``rights.registry``, with :data:`REGISTRY_DEFAULTS`."""
    section = {**REGISTRY_DEFAULTS, **(policy.section("rights").get("registry") or {})}
    return float(section["max_fraction"]), section["action"]


def _registry(rec: dict[str, Any], policy: Policy, _dup: Any) -> Verdict | None:
    fraction = rec.get("registry_fraction")
    if fraction is not None:
        max_fraction, action = registry_rule(policy)
        if fraction > max_fraction and action != "keep":
            return Verdict(action, "rights.registry", (f"registry fraction {fraction:.3f} > {max_fraction}",))
    return None


def licence_expression(rec: dict[str, Any]) -> str | None:
    """The document's licence expression: ``licence``, else the AND of the ``licences`` found (None: none)."""
    expression = rec.get("licence")
    if expression is None and rec.get("licences"):
        expression = " AND ".join(f"({e})" for e in rec["licences"])
    return expression


def _licence_allowed(rec: dict[str, Any], policy: Policy) -> bool:
    expression = licence_expression(rec)
    return expression is not None and policy.licence_lists().allowed(expression)


def _licence_denied(rec: dict[str, Any], policy: Policy, _dup: Any) -> Verdict | None:
    expression = licence_expression(rec)
    lists = policy.licence_lists()
    if expression is not None and lists.denied(expression):
        denied = lists.denied_ids(expression)
        reasons = (f"licence {expression} denied" + (f" ({', '.join(denied)} on the deny list)"
                                                     if [expression] != denied else ""),)
        return Verdict(R.DROP, "rights.licences.deny", reasons)
    return None


def _licence_unknown(rec: dict[str, Any], policy: Policy, _dup: Any) -> Verdict | None:
    expression = licence_expression(rec)
    unknown = (policy.section("rights").get("licences") or {}).get("unknown") or "keep"
    if expression is not None and unknown == "drop" and not _licence_allowed(rec, policy):
        return Verdict(R.DROP, "rights.licences.unknown", (f"licence {expression} not allowed by the lists",))
    return None


def _notice_without_licence(rec: dict[str, Any], policy: Policy, _dup: Any) -> Verdict | None:
    notices = rec.get("copyright_signals") or []
    if notices and not _licence_allowed(rec, policy):
        action = (policy.section("rights").get("copyright") or {}).get("notice_without_allowed_licence", "drop")
        if action != "keep":
            return Verdict(action, "rights.copyright.notice_without_allowed_licence",
                           tuple(f"copyright notice: {n}" for n in notices))
    return None


def _pii_drop(rec: dict[str, Any], policy: Policy, _dup: Any) -> Verdict | None:
    counts = rec.get("pii_counts") or {}
    for entity in sorted(counts):
        if policy.entity_rule(entity)["action"] == "drop":
            return Verdict(R.DROP, f"pii.entities.{entity}", (f"{counts[entity]} x {entity}",))
    return None


def _max_redactions(rec: dict[str, Any], policy: Policy, _dup: Any) -> Verdict | None:
    max_red = policy.section("pii").get("max_redactions")
    counts = rec.get("pii_counts") or {}
    n_red = sum(n for e, n in counts.items() if policy.entity_rule(e)["action"] == "redact")
    if max_red is not None and n_red > max_red:
        return Verdict(R.DROP, "pii.max_redactions", (f"{n_red} redactions > {max_red}",))
    return None


# ---------------------------------------------------------------------------------------------- final


def _duplicate(kind: str) -> Check:
    """``dedup.<kind>``: a non-representative member of an ``exact`` or ``near`` cluster, unless kept."""
    def check(rec: dict[str, Any], policy: Policy, dup: dict[str, Any] | None) -> Verdict | None:
        if dup and dup.get("kind") == kind and policy.section("dedup").get(kind, "drop") == "drop":
            return Verdict(R.DROP, f"dedup.{kind}", (f"{kind} duplicate of {dup['cluster']}",))
        return None

    return check


def _pii_redact(rec: dict[str, Any], policy: Policy, _dup: Any) -> Verdict | None:
    counts = rec.get("pii_counts") or {}
    redactable = sorted(e for e in counts if policy.entity_rule(e)["action"] == "redact")
    if redactable:
        return Verdict(R.REDACT, "pii.redact", tuple(f"{counts[e]} x {e}" for e in redactable))
    return None


def _keep(rec: dict[str, Any], policy: Policy, _dup: Any) -> Verdict:
    return Verdict(R.KEEP, "default.keep")


RULES: tuple[Rule, ...] = (
    Rule("languages.allow", PRE_DEDUP, _language),
    Rule("limits.min_chars", PRE_DEDUP, _min_chars),
    Rule("quality.max_symbol_ratio", PRE_DEDUP, _quality("max_symbol_ratio", "symbol_ratio")),
    Rule("quality.max_repeated_line_ratio", PRE_DEDUP, _quality("max_repeated_line_ratio", "repeated_line_ratio")),
    Rule("rights.registry", PRE_DEDUP, _registry),
    Rule("rights.licences.deny", PRE_DEDUP, _licence_denied),
    Rule("rights.licences.unknown", PRE_DEDUP, _licence_unknown),
    Rule("rights.copyright.notice_without_allowed_licence", PRE_DEDUP, _notice_without_licence),
    Rule("pii.entities", PRE_DEDUP, _pii_drop),
    Rule("pii.max_redactions", PRE_DEDUP, _max_redactions),
    Rule("dedup.exact", FINAL, _duplicate("exact")),
    Rule("dedup.near", FINAL, _duplicate("near")),
    Rule("pii.redact", FINAL, _pii_redact),
    Rule("default.keep", FINAL, _keep),
)
"""Every rule, in precedence order: the first one that returns a verdict decides."""

PRE_DEDUP_RULES = tuple(r for r in RULES if r.phase == PRE_DEDUP)
FINAL_RULES = tuple(r for r in RULES if r.phase == FINAL)


def rules_named(*prefixes: str) -> tuple[Rule, ...]:
    """The rules whose name starts with one of ``prefixes`` (``"pii."``, ``"dedup.exact"``), in precedence order."""
    return tuple(r for r in RULES if r.name.startswith(prefixes))


def first_verdict(rules: Iterable[Rule], policy: Policy, rec: dict[str, Any],
                  dup: dict[str, Any] | None = None) -> Verdict | None:
    """The verdict of the first of ``rules`` that fires, or None."""
    for rule in rules:
        verdict = rule.check(rec, policy, dup)  # applies() without its call: this runs per record
        if verdict is not None:
            return verdict
    return None


def pre_dedup_verdict(policy: Policy, rec: dict[str, Any]) -> Verdict | None:
    """Rules that decide a record before deduplication; ``None`` means it goes on to dedup."""
    return first_verdict(PRE_DEDUP_RULES, policy, rec)


def final_verdict(policy: Policy, rec: dict[str, Any], dup: dict[str, Any] | None) -> Verdict:
    """Decide a record that passed the pre-dedup rules, given its duplicate info (``default.keep`` at the end)."""
    return first_verdict(FINAL_RULES, policy, rec, dup)


def spans_to_redact(policy: Policy, spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in spans if policy.entity_rule(s["type"])["action"] == "redact"]
