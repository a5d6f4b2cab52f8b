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
    GENERATION_LANGUAGES,
    SEVERITIES,
)

SCHEMA_VERSION = 1
DOMAIN_ID = re.compile(r"^[A-Z]{2,4}$")
AREA_ID = re.compile(r"^(?P<domain>[A-Z]{2,4})-\d{3}$")
BENIGN_PER_AREA_MIN = 1
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")

_DOMAIN_KEYS = {"id", "name", "description", "grounded_in", "national"}
_AREA_KEYS = {"id", "name", "description", "severity", "topic", "criteria", "benign_lookalikes", "references"}


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


def _check_area(out: _Collector, area: Any, path: str, domain_id: str | None) -> None:
    if not isinstance(area, dict):
        out.add(path, f"expected a mapping, got {_type_name(area)}")
        return
    _check_unknown(out, area, _AREA_KEYS, path)
    for key in sorted(_AREA_KEYS - set(area)):
        out.add(f"{path}.{key}", "missing")
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
    if doc.get("schema_version") != SCHEMA_VERSION:
        out.add("schema_version", f"expected {SCHEMA_VERSION}, got {doc.get('schema_version')!r}")
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
        _check_area(out, area, f"areas[{i}]", domain_id)
    return out.errors
