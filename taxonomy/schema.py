"""Structural validation of one domain file, with errors that name the file and the field.

Every error reads ``<file>: <field path>: <what is wrong>``, e.g.
``korean_sensitivity.yaml: areas[12].criteria: expected exactly 5 items, got 4``.
The checks are explicit (not a generic JSON-schema dump) so the message tells a content author what to fix.
"""

from __future__ import annotations

import re
from typing import Any

from haetae.taxonomy.model import (
    COMMITTEE_LANGUAGES,
    CRITERIA_PER_AREA,
    DETAIL_LEVELS,
    GENERATION_LANGUAGES,
    HARM_TYPES,
    OPERATIONAL_HARM_TYPES,
    SEVERITIES,
)

#: Version 1: criteria and topics. Version 2 adds, and requires on every area, scope, positive policy, severity
#: scores, safe help, crosswalk and provenance (a v1 file may carry some of them; each present one is checked).
SCHEMA_VERSION = 2
SCHEMA_VERSIONS = (1, 2)
DOMAIN_ID = re.compile(r"^[A-Z]{2,4}$")
AREA_ID = re.compile(r"^(?P<domain>[A-Z]{2,4})-\d{3}$")
BENIGN_PER_AREA_MIN = 1
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")

_DOMAIN_KEYS = {"id", "name", "description", "grounded_in", "national"}
_AREA_KEYS = {"id", "name", "description", "severity", "topic", "criteria", "benign_lookalikes", "references"}
_V2_REQUIRED = {"harm_type", "severity_scores", "scope", "see_also", "positive_policy", "safe_help", "crosswalk",
                "provenance"}
_V2_OPTIONAL = {"detail_scale", "reference_facts", "citations"}
SEVERITY_DIMENSIONS = ("magnitude", "reversibility", "breadth", "uplift")
POSITIVE_POLICY_RANGE = (2, 3)
LLAMA_GUARD = tuple(f"S{i}" for i in range(1, 15))
MLCOMMONS = ("vcr", "src", "cse", "ssh", "iwp", "ipv", "dfm", "ncr", "hte", "prv", "spc_ele", "spc_fin", "spc_hlt",
             "spc_lgl", "sxc_prn")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


class _Collector:
    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append(f"{self.file}: {path}: {message}")


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _check_text(out: _Collector, value: Any, path: str, languages: tuple[str, ...]) -> None:
    """A mapping language -> non-empty string holding at least ``languages``."""
    if not isinstance(value, dict):
        out.add(path, f"expected a mapping of language -> text, got {_type_name(value)}")
        return
    for lang in languages:
        text = value.get(lang)
        if text is None:
            out.add(f"{path}.{lang}", "missing")
        elif not isinstance(text, str) or not text.strip():
            out.add(f"{path}.{lang}", f"expected non-empty text, got {text!r}")
    for lang, text in value.items():
        if not isinstance(lang, str) or not LANGUAGE_CODE.match(lang):
            out.add(f"{path}", f"key {str(lang)[:40]!r} is not a language code (a comma inside an unquoted flow value?)")
        elif lang not in languages and (not isinstance(text, str) or not text.strip()):
            out.add(f"{path}.{lang}", f"expected non-empty text, got {text!r}")


def _check_unknown(out: _Collector, value: dict, allowed: set[str], path: str) -> None:
    for key in value:
        if key not in allowed:
            out.add(f"{path}.{key}" if path else str(key), f"unknown field (allowed: {', '.join(sorted(allowed))})")


def detail_level(key: Any) -> str | None:
    """``0``, ``"0"``, ``0.5``, ``"0.5"``, ``1``, ``1.0`` -> the canonical level name, else None."""
    try:
        value = float(key)
    except (TypeError, ValueError):
        return None
    return next((lvl for lvl in DETAIL_LEVELS if float(lvl) == value), None)


def _check_text_list(out: _Collector, value: Any, path: str, low: int, high: int | None = None) -> None:
    if not isinstance(value, list) or len(value) < low or (high is not None and len(value) > high):
        want = f"{low}-{high}" if high is not None else f"at least {low}"
        got = len(value) if isinstance(value, list) else _type_name(value)
        out.add(path, f"expected a list of {want} {{ko, en}} items, got {got}")
        return
    for i, item in enumerate(value):
        _check_text(out, item, f"{path}[{i}]", COMMITTEE_LANGUAGES)


def _check_codes(out: _Collector, value: Any, path: str, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, list):
        out.add(path, f"expected a list of codes ([] if none fits), got {_type_name(value)}")
        return
    for code in value:
        if code not in allowed:
            out.add(path, f"unknown code {code!r} (allowed: {', '.join(allowed)})")


def _check_v2(out: _Collector, area: dict, path: str, required: bool) -> None:
    """The v2 fields: each present one is checked; with ``required`` (schema_version 2) every one must be there."""
    if required:
        for key in sorted(_V2_REQUIRED - set(area)):
            out.add(f"{path}.{key}", "missing (schema_version 2)")
    harm = area.get("harm_type")
    if "harm_type" in area and harm not in HARM_TYPES:
        out.add(f"{path}.harm_type", f"expected one of {', '.join(HARM_TYPES)}, got {harm!r}")
    scores = area.get("severity_scores")
    if "severity_scores" in area:
        if not isinstance(scores, dict) or set(scores) != set(SEVERITY_DIMENSIONS):
            out.add(f"{path}.severity_scores", f"expected {{{', '.join(SEVERITY_DIMENSIONS)}}}, got {scores!r}")
        elif not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 3 for v in scores.values()):
            out.add(f"{path}.severity_scores", f"every score must be an integer 0-3, got {scores!r}")
    scope = area.get("scope")
    if "scope" in area:
        if not isinstance(scope, dict) or set(scope) != {"in", "out"}:
            out.add(f"{path}.scope", f"expected {{in: {{ko, en}}, out: {{ko, en}}}}, got {_type_name(scope)}")
        else:
            for key in ("in", "out"):
                _check_text(out, scope[key], f"{path}.scope.{key}", COMMITTEE_LANGUAGES)
    if "see_also" in area:
        see = area["see_also"]
        if not isinstance(see, list) or not all(isinstance(s, str) and AREA_ID.match(s) for s in see):
            out.add(f"{path}.see_also", f"expected a list of area ids, got {see!r}")
        elif area.get("id") in see:
            out.add(f"{path}.see_also", "an area cannot list itself")
    if "positive_policy" in area:
        _check_text_list(out, area["positive_policy"], f"{path}.positive_policy", *POSITIVE_POLICY_RANGE)
    scale = area.get("detail_scale")
    if "detail_scale" in area:
        levels = {detail_level(k) for k in scale} if isinstance(scale, dict) else set()
        if levels != set(DETAIL_LEVELS) or len(scale) != len(DETAIL_LEVELS):
            out.add(f"{path}.detail_scale", f"expected exactly the levels {', '.join(DETAIL_LEVELS)}, got "
                                            f"{sorted(map(str, scale)) if isinstance(scale, dict) else _type_name(scale)}")
        else:
            for key, text in scale.items():
                _check_text(out, text, f"{path}.detail_scale.{detail_level(key)}", COMMITTEE_LANGUAGES)
    elif harm in OPERATIONAL_HARM_TYPES and (required or "harm_type" in area):
        out.add(f"{path}.detail_scale", f"missing (required for harm_type {harm})")
    if "safe_help" in area:
        _check_text(out, area["safe_help"], f"{path}.safe_help", COMMITTEE_LANGUAGES)
    facts = area.get("reference_facts")
    if "reference_facts" in area:
        texts = [{k: v for k, v in f.items() if k not in ("source", "verify")} if isinstance(f, dict) else f
                 for f in (facts if isinstance(facts, list) else [])]
        _check_text_list(out, texts if isinstance(facts, list) else facts, f"{path}.reference_facts", 1)
        for i, fact in enumerate(facts if isinstance(facts, list) else []):
            if isinstance(fact, dict) and not (isinstance(fact.get("source"), str) and fact["source"].strip()):
                out.add(f"{path}.reference_facts[{i}].source", "missing (name the source of every fact)")
            if isinstance(fact, dict) and "verify" in fact and not isinstance(fact["verify"], bool):
                out.add(f"{path}.reference_facts[{i}].verify", f"expected true or false, got {fact['verify']!r}")
    elif harm == "claim":
        out.add(f"{path}.reference_facts", "missing (required for harm_type claim)")
    if "citations" in area:
        _check_citations(out, area["citations"], f"{path}.citations")
    walk = area.get("crosswalk")
    if "crosswalk" in area:
        if not isinstance(walk, dict) or set(walk) != {"llama_guard", "mlcommons"}:
            out.add(f"{path}.crosswalk", f"expected {{llama_guard: [...], mlcommons: [...]}}, got {walk!r}")
        else:
            _check_codes(out, walk["llama_guard"], f"{path}.crosswalk.llama_guard", LLAMA_GUARD)
            _check_codes(out, walk["mlcommons"], f"{path}.crosswalk.mlcommons", MLCOMMONS)
    prov = area.get("provenance")
    if "provenance" in area:
        if not isinstance(prov, dict) or prov.get("origin") != "haetae" or not str(prov.get("version", "")).strip() \
                or not isinstance(prov.get("changes"), list) or not prov["changes"]:
            out.add(f"{path}.provenance", f"expected {{origin: haetae, version, changes: [...]}}, got {prov!r}")


def _check_citations(out: _Collector, cites: Any, path: str) -> None:
    if not isinstance(cites, list):
        out.add(path, f"expected a list of {{law, article, effective}}, got {_type_name(cites)}")
        return
    for i, c in enumerate(cites):
        where = f"{path}[{i}]"
        if not isinstance(c, dict) or not all(isinstance(c.get(k), str) and c[k].strip() for k in ("law", "article")):
            out.add(where, f"expected {{law, article, effective?, verify?}}, got {c!r}")
            continue
        _check_unknown(out, c, {"law", "article", "effective", "verify"}, where)
        effective = c.get("effective")
        if effective is not None and not (isinstance(effective, str) and DATE.match(effective)):
            out.add(f"{where}.effective", f"expected YYYY-MM-DD (quoted), got {effective!r}")
        if effective is None and HANGUL.search(c["law"]):
            out.add(f"{where}.effective", "missing (Korean law is cited with the effective date of the version cited)")
        if "verify" in c and not isinstance(c["verify"], bool):
            out.add(f"{where}.verify", f"expected true or false, got {c['verify']!r}")


def _check_area(out: _Collector, area: Any, path: str, domain_id: str | None, version: int = 1) -> None:
    if not isinstance(area, dict):
        out.add(path, f"expected a mapping, got {_type_name(area)}")
        return
    _check_unknown(out, area, _AREA_KEYS | _V2_REQUIRED | _V2_OPTIONAL, path)
    for key in sorted(_AREA_KEYS - set(area)):
        out.add(f"{path}.{key}", "missing")
    _check_v2(out, area, path, required=version >= 2)
    area_id = area.get("id")
    if "id" in area:
        match = AREA_ID.match(area_id) if isinstance(area_id, str) else None
        if not match:
            out.add(f"{path}.id", f"expected an id like 'UHV-001' (domain id, '-', 3 digits), got {area_id!r}")
        elif domain_id and match["domain"] != domain_id:
            out.add(f"{path}.id", f"id {area_id!r} does not start with the domain id {domain_id!r}")
    for key in ("name", "description"):
        if key in area:
            _check_text(out, area[key], f"{path}.{key}", COMMITTEE_LANGUAGES)
    if "severity" in area and area["severity"] not in SEVERITIES:
        out.add(f"{path}.severity", f"expected one of {', '.join(SEVERITIES)}, got {area['severity']!r}")
    if "topic" in area:
        _check_text(out, area["topic"], f"{path}.topic", GENERATION_LANGUAGES)
    criteria = area.get("criteria")
    if "criteria" in area:
        if not isinstance(criteria, list):
            out.add(f"{path}.criteria", f"expected a list of {CRITERIA_PER_AREA} items, got {_type_name(criteria)}")
        else:
            if len(criteria) != CRITERIA_PER_AREA:
                out.add(f"{path}.criteria", f"expected exactly {CRITERIA_PER_AREA} items, got {len(criteria)}")
            for i, criterion in enumerate(criteria):
                _check_text(out, criterion, f"{path}.criteria[{i}]", COMMITTEE_LANGUAGES)
    benign = area.get("benign_lookalikes")
    if "benign_lookalikes" in area:
        if not isinstance(benign, list) or len(benign) < BENIGN_PER_AREA_MIN:
            got = len(benign) if isinstance(benign, list) else _type_name(benign)
            out.add(f"{path}.benign_lookalikes", f"expected a list of at least {BENIGN_PER_AREA_MIN} item, got {got}")
        else:
            for i, item in enumerate(benign):
                _check_text(out, item, f"{path}.benign_lookalikes[{i}]", GENERATION_LANGUAGES)
    refs = area.get("references")
    if "references" in area:
        if not isinstance(refs, list):
            out.add(f"{path}.references", f"expected a list of strings ([] if none), got {_type_name(refs)}")
        else:
            for i, ref in enumerate(refs):
                if not isinstance(ref, str) or not ref.strip():
                    out.add(f"{path}.references[{i}]", f"expected non-empty text, got {ref!r}")


def validate_domain_document(doc: Any, file: str) -> list[str]:
    """Return every structural error of one parsed domain file (empty list when valid)."""
    out = _Collector(file)
    if not isinstance(doc, dict):
        out.add("(top level)", f"expected a mapping with schema_version, domain, areas; got {_type_name(doc)}")
        return out.errors
    _check_unknown(out, doc, {"schema_version", "domain", "areas"}, "")
    version = doc.get("schema_version")
    if version not in SCHEMA_VERSIONS:
        out.add("schema_version", f"expected one of {', '.join(map(str, SCHEMA_VERSIONS))}, got {version!r}")
        version = 1
    domain = doc.get("domain")
    domain_id = None
    if not isinstance(domain, dict):
        out.add("domain", f"expected a mapping, got {_type_name(domain)}")
    else:
        _check_unknown(out, domain, _DOMAIN_KEYS, "domain")
        domain_id = domain.get("id")
        if not isinstance(domain_id, str) or not DOMAIN_ID.match(domain_id):
            out.add("domain.id", f"expected 2-4 upper-case letters, got {domain_id!r}")
            domain_id = None
        for key in ("name", "description"):
            if key not in domain:
                out.add(f"domain.{key}", "missing")
            else:
                _check_text(out, domain[key], f"domain.{key}", COMMITTEE_LANGUAGES)
        grounded = domain.get("grounded_in", [])
        if not isinstance(grounded, list) or not all(isinstance(g, str) and g.strip() for g in grounded):
            out.add("domain.grounded_in", f"expected a list of non-empty strings, got {grounded!r}")
        if not isinstance(domain.get("national", False), bool):
            out.add("domain.national", f"expected true or false, got {domain.get('national')!r}")
    areas = doc.get("areas")
    if not isinstance(areas, list) or not areas:
        out.add("areas", f"expected a non-empty list of areas, got {_type_name(areas) if not isinstance(areas, list) else 'an empty list'}")
        return out.errors
    for i, area in enumerate(areas):
        _check_area(out, area, f"areas[{i}]", domain_id, version)
    return out.errors
