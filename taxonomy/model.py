"""Typed view of a loaded taxonomy: domains, areas, criteria (plain frozen dataclasses)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

#: Languages every area's request ``topic`` and benign look-alikes are written in.
GENERATION_LANGUAGES: tuple[str, ...] = ("ko", "en", "es", "de", "ja", "vi")
#: Languages every name, description and criterion is written in (committee languages).
COMMITTEE_LANGUAGES: tuple[str, ...] = ("ko", "en")
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low")
CRITERIA_PER_AREA = 5
#: The frame most harmful requests of an area take; it decides what a good answer looks like (refuse and help,
#: decline the content, correct the claim, give safe advice, refuse to act).
HARM_TYPES: tuple[str, ...] = ("how_to", "content", "claim", "advice", "agentic")
#: Harm types whose criteria are operational, so the area carries a level-of-detail scale.
OPERATIONAL_HARM_TYPES: tuple[str, ...] = ("how_to", "agentic")
DETAIL_LEVELS: tuple[str, ...] = ("0", "0.5", "1")

Text = dict[str, str]  # language code -> text


@dataclass(frozen=True)
class Area:
    id: str
    domain: str
    name: Text
    description: Text
    severity: str
    topic: Text
    criteria: tuple[Text, ...]
    benign_lookalikes: tuple[Text, ...]
    references: tuple[str, ...]
    # v2 (schema_version 2): what the area covers, what a good answer does, how severe, where it maps
    harm_type: str = ""
    severity_scores: dict[str, int] = field(default_factory=dict)
    scope_in: Text = field(default_factory=dict)
    scope_out: Text = field(default_factory=dict)
    see_also: tuple[str, ...] = ()
    positive_policy: tuple[Text, ...] = ()
    detail_scale: dict[str, Text] = field(default_factory=dict)  # "0" | "0.5" | "1" -> text
    safe_help: Text = field(default_factory=dict)
    reference_facts: tuple[dict[str, str], ...] = ()  # {ko, en, source}
    citations: tuple[dict, ...] = ()  # {law, article, effective?, verify?}
    crosswalk: dict[str, tuple[str, ...]] = field(default_factory=dict)  # llama_guard / mlcommons -> codes
    provenance: dict = field(default_factory=dict)  # {origin, version, changes}

    @property
    def has_v2(self) -> bool:
        return bool(self.harm_type)

    def text_for_similarity(self, language: str) -> str:
        """Name, description and criteria in one language: what the near-duplicate check compares."""
        parts = [self.name[language], self.description[language], *(c[language] for c in self.criteria)]
        return " ".join(parts)


@dataclass(frozen=True)
class Precedence:
    """Which of two overlapping areas an item is attributed to, and when (e.g. UHV-020 vs KOR-026)."""

    areas: tuple[str, str]
    prefer: str
    rule: Text


@dataclass(frozen=True)
class Domain:
    id: str
    name: Text
    description: Text
    grounded_in: tuple[str, ...]
    national: bool
    areas: tuple[Area, ...]
    source: str  # file the domain was loaded from
    schema_version: int = 1


@dataclass(frozen=True)
class Taxonomy:
    name: str
    version: str
    domains: tuple[Domain, ...]
    expected_areas: dict[str, int] = field(default_factory=dict)  # domain id -> count the manifest promises
    root: str = ""
    precedence: tuple[Precedence, ...] = ()

    @property
    def areas(self) -> list[Area]:
        return [a for d in self.domains for a in d.areas]

    def iter_areas(self) -> Iterator[tuple[Domain, Area]]:
        for d in self.domains:
            for a in d.areas:
                yield d, a

    def domain(self, domain_id: str) -> Domain:
        for d in self.domains:
            if d.id == domain_id:
                return d
        raise KeyError(domain_id)

    @property
    def national(self) -> Domain | None:
        return next((d for d in self.domains if d.national), None)
