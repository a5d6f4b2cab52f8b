"""The severity rubric: four 0-3 scores per area and the thresholds that turn their total into a severity.

Declared once in ``severity_rubric.yaml`` beside the manifest, so an area's severity is the rule applied to its
scores, not a separate judgement, and ``haetae taxonomy validate`` can say which areas disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from haetae.taxonomy.model import SEVERITIES

RUBRIC = "severity_rubric.yaml"


@dataclass(frozen=True)
class Rubric:
    dimensions: tuple[str, ...]
    thresholds: tuple[tuple[str, int], ...]  # (severity, minimum total), highest first
    worked_examples: tuple[dict, ...]

    def severity(self, scores: dict[str, int]) -> str:
        total = sum(scores[d] for d in self.dimensions)
        return next(sev for sev, low in self.thresholds if total >= low)


def load_rubric(path: str | Path) -> Rubric:
    """Read and check a rubric file; raises ``TaxonomyError`` naming the field."""
    from haetae.taxonomy.loader import TaxonomyError, read_yaml

    path = Path(path)
    doc, errors = read_yaml(path)
    if errors:
        raise TaxonomyError(errors)
    dims = tuple(doc.get("dimensions") or ())
    raw = doc.get("thresholds") or []
    thresholds = tuple(sorted(((t["severity"], int(t["min_total"])) for t in raw), key=lambda t: -t[1]))
    problems = []
    if not dims:
        problems.append(f"{path.name}: dimensions: missing")
    if sorted(s for s, _ in thresholds) != sorted(SEVERITIES) or (thresholds and thresholds[-1][1] != 0):
        problems.append(f"{path.name}: thresholds: expected one entry per severity ({', '.join(SEVERITIES)}), "
                        "the lowest at min_total 0")
    rubric = Rubric(dims, thresholds, tuple(doc.get("worked_examples") or ()))
    examples = {e.get("severity") for e in rubric.worked_examples}
    if not problems and examples != set(SEVERITIES):
        problems.append(f"{path.name}: worked_examples: expected one per severity, got {sorted(map(str, examples))}")
    for i, e in enumerate(rubric.worked_examples if not problems else ()):
        if rubric.severity(e["scores"]) != e["severity"]:
            problems.append(f"{path.name}: worked_examples[{i}]: scores give {rubric.severity(e['scores'])}, "
                            f"not {e['severity']}")
    if problems:
        raise TaxonomyError(problems)
    return rubric


def rubric_for(root: str | Path) -> Rubric:
    """The taxonomy's own rubric, or the shipped one when its folder has none."""
    from haetae.taxonomy.loader import default_taxonomy_dir

    own = Path(root) / RUBRIC
    return load_rubric(own if own.exists() else default_taxonomy_dir() / RUBRIC)
