"""Checks that need the whole taxonomy: area counts, near-duplicate areas, boilerplate criteria.

Near-duplicate detection uses the project's own MinHash dedup (``haetae.pipelines.dedup.transforms``) over each area's
name + description + criteria, once in Korean and once in English.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from haetae.taxonomy.model import COMMITTEE_LANGUAGES, Taxonomy


@dataclass
class CheckReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def clusters_from_mapping(mapping: dict) -> list[list]:
    """Group ``{id: representative}`` into clusters of two or more ids (order of first appearance)."""
    groups: dict = defaultdict(set)
    for item_id, rep in mapping.items():
        groups[rep].update((item_id, rep))
    return [sorted(m, key=str) for m in groups.values() if len(m) > 1]


def near_duplicate_groups(items: Iterable[tuple[str, str]], params=None) -> list[list[str]]:
    """Clusters (>= 2 ids) of near-duplicate texts, found with the project's MinHash dedup."""
    from haetae.pipelines.dedup.transforms import DedupParams, near_duplicate_clusters

    return clusters_from_mapping(near_duplicate_clusters(list(items), params or DedupParams()))


def near_duplicate_area_errors(taxonomy: Taxonomy, params=None) -> list[str]:
    """One error per group of areas whose Korean or English text is a near-duplicate of another's."""
    source = {a.id: Path(d.source).name for d, a in taxonomy.iter_areas()}
    groups: set[tuple[str, ...]] = set()
    for lang in COMMITTEE_LANGUAGES:
        items = [(a.id, a.text_for_similarity(lang)) for a in taxonomy.areas]
        for group in near_duplicate_groups(items, params):
            groups.add(tuple(sorted(group)))
    errors = []
    for group in sorted(groups):
        where = ", ".join(f"{source[i]}:{i}" for i in group)
        errors.append(f"{source[group[0]]}: areas[id={group[0]}]: near-duplicate areas (name/description/criteria): {where}")
    return errors


def count_errors(taxonomy: Taxonomy) -> list[str]:
    errors = []
    for d in taxonomy.domains:
        want = taxonomy.expected_areas.get(d.id)
        if want is not None and len(d.areas) != want:
            errors.append(f"{Path(d.source).name}: areas: manifest expects {want} areas, file has {len(d.areas)}")
    return errors


def repeated_criteria_warnings(taxonomy: Taxonomy) -> list[str]:
    """Criteria copied verbatim across areas are boilerplate: they should be specific to the area."""
    seen: dict[str, list[str]] = defaultdict(list)
    for a in taxonomy.areas:
        for i, c in enumerate(a.criteria):
            seen[" ".join(c["en"].lower().split())].append(f"{a.id}.criteria[{i}]")
    return [
        f"criterion repeated verbatim in {len(where)} places ({', '.join(where[:5])}{', ...' if len(where) > 5 else ''}): {text[:80]!r}"
        for text, where in seen.items()
        if len(where) > 1
    ]


def severity_errors(taxonomy: Taxonomy) -> list[str]:
    """An area's severity must be the rubric applied to its scores."""
    from haetae.taxonomy.severity import rubric_for

    rubric = rubric_for(taxonomy.root) if taxonomy.root else rubric_for(".")
    errors = []
    for d, a in taxonomy.iter_areas():
        if a.severity_scores:
            want = rubric.severity(a.severity_scores)
            if want != a.severity:
                total = sum(a.severity_scores.values())
                errors.append(f"{Path(d.source).name}: areas[id={a.id}].severity: {a.severity!r}, but its scores "
                              f"total {total}, which the rubric makes {want!r}")
    return errors


def reference_errors(taxonomy: Taxonomy) -> list[str]:
    """``see_also`` and precedence pairs must name areas that exist."""
    ids = {a.id for a in taxonomy.areas}
    errors = []
    for d, a in taxonomy.iter_areas():
        for other in a.see_also:
            if other not in ids:
                errors.append(f"{Path(d.source).name}: areas[id={a.id}].see_also: no area {other!r}")
    for i, p in enumerate(taxonomy.precedence):
        for other in p.areas:
            if other not in ids:
                errors.append(f"precedence.yaml: pairs[{i}].areas: no area {other!r}")
    return errors


def seed_errors(taxonomy: Taxonomy) -> list[str]:
    """Seed files must parse; areas of schema_version-2 domains must have the full set of seeds."""
    from haetae.taxonomy.seeds import SEED_DIR, SeedError, coverage_errors, load_seeds

    try:
        seeds = load_seeds(taxonomy)
    except SeedError as exc:
        return exc.errors
    errors = []
    for d, a in taxonomy.iter_areas():
        if d.schema_version < 2:
            continue
        if a.id not in seeds:
            errors.append(f"{SEED_DIR}/{a.id}.yaml: (file): missing (schema_version 2: every area needs seeds)")
        else:
            errors.extend(coverage_errors(seeds[a.id]))
    return errors


def run_checks(taxonomy: Taxonomy, *, near_duplicates: bool = True, dedup_params=None) -> CheckReport:
    """Everything ``haetae taxonomy validate`` checks beyond the per-file schema."""
    report = CheckReport()
    report.errors.extend(count_errors(taxonomy))
    report.errors.extend(severity_errors(taxonomy))
    report.errors.extend(reference_errors(taxonomy))
    report.errors.extend(seed_errors(taxonomy))
    if near_duplicates:
        report.errors.extend(near_duplicate_area_errors(taxonomy, dedup_params))
    report.warnings.extend(repeated_criteria_warnings(taxonomy))
    v1 = [a.id for d, a in taxonomy.iter_areas() if d.schema_version < 2 and not a.has_v2]
    if v1:
        report.warnings.append(f"{len(v1)} area(s) have no v2 fields yet (scope, positive policy, severity scores, "
                               f"seeds), e.g. {', '.join(v1[:3])}")
    if taxonomy.national is None:
        report.warnings.append("no domain is marked national: true (the swappable national domain)")
    return report
