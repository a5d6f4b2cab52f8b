"""Load a taxonomy from its manifest (or a folder of domain files) into typed objects.

A taxonomy folder holds ``manifest.yaml`` naming the domain files, the expected area count of each and which
domain is the national one. ``national=`` (CLI: ``--national FILE``) replaces the national domain by another
country's file with no code change. A folder without a manifest is loaded as every ``*.yaml`` file in it.
Every problem found is collected and raised together as :class:`TaxonomyError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from haetae.errors import UsageError
from haetae.pipelines.policy.loader import YamlProblem, parse_yaml, read_yaml_file
from haetae.taxonomy.model import Area, Domain, Precedence, Taxonomy
from haetae.taxonomy.schema import (
    AREA_ID,
    SCHEMA_VERSIONS,
    _check_text,
    _Collector,
    detail_level,
    validate_domain_document,
)

MANIFEST = "manifest.yaml"
PRECEDENCE = "precedence.yaml"


class TaxonomyError(UsageError):
    """The taxonomy is invalid; ``errors`` lists every problem as '<file>: <field>: <message>'."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        shown = "\n  ".join(self.errors[:50])
        more = f"\n  ... and {len(self.errors) - 50} more" if len(self.errors) > 50 else ""
        super().__init__(f"{len(self.errors)} taxonomy error(s):\n  {shown}{more}")


def default_taxonomy_dir() -> Path:
    """The K-AUT-style taxonomy shipped with Haetae (package data)."""
    return Path(__file__).resolve().parent / "data" / "kaut"


def read_yaml(path: Path) -> tuple[Any, list[str]]:
    """Parse one YAML file (Haetae's strict loader: a repeated key is an error); errors name the file and line."""
    if not path.exists():
        return None, [f"{path.name}: (file): not found at {path}"]
    try:
        return parse_yaml(read_yaml_file(path))[0], []
    except YamlProblem as exc:
        if exc.syntax:
            where = f"line {exc.line}, column {exc.column}" if exc.line else "(file)"
            return None, [f"{path.name}: {where}: YAML syntax error: {exc.problem}"]
        return None, [f"{path.name}: {f'line {exc.line}' if exc.line else '(file)'}: {exc.problem}"]


def _area(raw: dict, domain_id: str) -> Area:
    return Area(
        id=raw["id"],
        domain=domain_id,
        name=dict(raw["name"]),
        description=dict(raw["description"]),
        severity=raw["severity"],
        topic=dict(raw["topic"]),
        criteria=tuple(dict(c) for c in raw["criteria"]),
        benign_lookalikes=tuple(dict(b) for b in raw["benign_lookalikes"]),
        references=tuple(raw["references"]),
        harm_type=raw.get("harm_type", ""),
        severity_scores=dict(raw.get("severity_scores") or {}),
        scope_in=dict((raw.get("scope") or {}).get("in") or {}),
        scope_out=dict((raw.get("scope") or {}).get("out") or {}),
        see_also=tuple(raw.get("see_also") or ()),
        positive_policy=tuple(dict(p) for p in raw.get("positive_policy") or ()),
        detail_scale={detail_level(k): dict(v) for k, v in (raw.get("detail_scale") or {}).items()},
        safe_help=dict(raw.get("safe_help") or {}),
        reference_facts=tuple(dict(f) for f in raw.get("reference_facts") or ()),
        citations=tuple(dict(c) for c in raw.get("citations") or ()),
        crosswalk={k: tuple(v) for k, v in (raw.get("crosswalk") or {}).items()},
        provenance=dict(raw.get("provenance") or {}),
    )


def load_domain_file(path: str | Path) -> Domain:
    """Load and validate one domain file; raises :class:`TaxonomyError`."""
    path = Path(path)
    doc, errors = read_yaml(path)
    if not errors:
        errors = validate_domain_document(doc, path.name)
    if errors:
        raise TaxonomyError(errors)
    d = doc["domain"]
    return Domain(
        id=d["id"],
        name=dict(d["name"]),
        description=dict(d["description"]),
        grounded_in=tuple(d.get("grounded_in", [])),
        national=bool(d.get("national", False)),
        areas=tuple(_area(a, d["id"]) for a in doc["areas"]),
        source=str(path),
        schema_version=int(doc["schema_version"]),
    )


def _manifest_entries(manifest_path: Path, errors: list[str]) -> tuple[dict, list[dict]]:
    doc, parse_errors = read_yaml(manifest_path)
    errors.extend(parse_errors)
    name = manifest_path.name
    if parse_errors:
        return {}, []
    if not isinstance(doc, dict):
        errors.append(f"{name}: (top level): expected a mapping, got {type(doc).__name__}")
        return {}, []
    if doc.get("schema_version") not in SCHEMA_VERSIONS:
        errors.append(f"{name}: schema_version: expected one of {', '.join(map(str, SCHEMA_VERSIONS))}, "
                      f"got {doc.get('schema_version')!r}")
    for key in ("name", "version"):
        if not isinstance(doc.get(key), str | int | float) or not str(doc.get(key)).strip():
            errors.append(f"{name}: {key}: missing")
    entries = doc.get("domains")
    if not isinstance(entries, list) or not entries:
        errors.append(f"{name}: domains: expected a non-empty list of {{file, id, expected_areas}}")
        return doc, []
    good = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            errors.append(f"{name}: domains[{i}].file: missing")
            continue
        expected = entry.get("expected_areas")
        if expected is not None and (not isinstance(expected, int) or expected < 1):
            errors.append(f"{name}: domains[{i}].expected_areas: expected a positive integer, got {expected!r}")
            continue
        good.append(entry)
    if sum(bool(e.get("national")) for e in good) > 1:
        errors.append(f"{name}: domains: more than one entry has national: true")
    return doc, good


def load_taxonomy(path: str | Path | None = None, *, national: str | Path | None = None) -> Taxonomy:
    """Load a taxonomy folder (or manifest file); ``national`` swaps in another country's national domain.

    Raises :class:`TaxonomyError` listing every structural error, duplicate id and manifest mismatch.
    """
    root = Path(path) if path is not None else default_taxonomy_dir()
    errors: list[str] = []
    manifest_path = root if root.is_file() else root / MANIFEST
    if root.is_file() or manifest_path.exists():
        base = manifest_path.parent
        meta, entries = _manifest_entries(manifest_path, errors)
        tax_name, version = str(meta.get("name", base.name)), str(meta.get("version", "0"))
    elif root.is_dir():
        base = root
        files = sorted(p for p in root.glob("*.yaml") if p.name != MANIFEST)
        if not files:
            raise TaxonomyError([f"{root}: (folder): no manifest.yaml and no *.yaml domain files"])
        entries = [{"file": p.name} for p in files]
        tax_name, version = root.name, "0"
    else:
        raise TaxonomyError([f"{root}: (path): no such taxonomy folder or manifest"])

    if national is not None:
        national_entries = [e for e in entries if e.get("national")]
        if not national_entries:
            errors.append(f"{manifest_path.name}: domains: no entry has national: true, so --national cannot swap one")
        for e in national_entries:
            e.clear()
            e.update({"file": str(Path(national).resolve()), "national": True})

    domains: list[Domain] = []
    expected: dict[str, int] = {}
    for entry in entries:
        file = (base / entry["file"]).resolve()
        try:
            domain = load_domain_file(file)
        except TaxonomyError as exc:
            errors.extend(exc.errors)
            continue
        if entry.get("id") and entry["id"] != domain.id:
            errors.append(f"{file.name}: domain.id: manifest expects {entry['id']!r}, file declares {domain.id!r}")
        if bool(entry.get("national", False)) != domain.national:
            want = "true" if entry.get("national") else "false"
            errors.append(f"{file.name}: domain.national: manifest expects {want}, file declares {str(domain.national).lower()}")
        if entry.get("expected_areas"):
            expected[domain.id] = entry["expected_areas"]
        domains.append(domain)

    errors.extend(duplicate_id_errors(domains))
    precedence = load_precedence(base / PRECEDENCE, errors) if (base / PRECEDENCE).exists() else ()
    if errors:
        raise TaxonomyError(errors)
    return Taxonomy(name=tax_name, version=version, domains=tuple(domains), expected_areas=expected, root=str(base),
                    precedence=precedence)


def load_precedence(path: Path, errors: list[str]) -> tuple[Precedence, ...]:
    """``precedence.yaml``: pairs of overlapping areas, which one an item goes to, and the rule in ko and en."""
    doc, parse_errors = read_yaml(path)
    errors.extend(parse_errors)
    if parse_errors:
        return ()
    out = _Collector(path.name)
    pairs = doc.get("pairs") if isinstance(doc, dict) else None
    if not isinstance(pairs, list):
        out.add("pairs", "expected a list of {areas: [A, B], prefer, rule}")
        pairs = []
    if isinstance(doc, dict):
        _check_text(out, doc.get("default_rule"), "default_rule", ("ko", "en"))
    result = []
    for i, p in enumerate(pairs):
        where = f"pairs[{i}]"
        areas = p.get("areas") if isinstance(p, dict) else None
        if not (isinstance(areas, list) and len(areas) == 2 and all(isinstance(a, str) and AREA_ID.match(a) for a in areas)
                and areas[0] != areas[1]):
            out.add(f"{where}.areas", f"expected two different area ids, got {areas!r}")
            continue
        if p.get("prefer") not in areas:
            out.add(f"{where}.prefer", f"expected one of {areas}, got {p.get('prefer')!r}")
            continue
        _check_text(out, p.get("rule"), f"{where}.rule", ("ko", "en"))
        result.append(Precedence(areas=(areas[0], areas[1]), prefer=p["prefer"], rule=dict(p.get("rule") or {})))
    errors.extend(out.errors)
    return tuple(result)


def duplicate_id_errors(domains: list[Domain]) -> list[str]:
    """Domain ids and area ids must be unique across the whole taxonomy."""
    errors = []
    seen_domain: dict[str, str] = {}
    seen_area: dict[str, str] = {}
    for d in domains:
        file = Path(d.source).name
        if d.id in seen_domain:
            errors.append(f"{file}: domain.id: {d.id!r} already declared by {seen_domain[d.id]}")
        seen_domain.setdefault(d.id, file)
        for i, a in enumerate(d.areas):
            if a.id in seen_area:
                errors.append(f"{file}: areas[{i}].id: duplicate id {a.id!r} (first in {seen_area[a.id]})")
            seen_area.setdefault(a.id, file)
    return errors
