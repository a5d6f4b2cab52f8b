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

    def text_for_similarity(self, language: str) -> str:
        """Name, description and criteria in one language: what the near-duplicate check compares."""
        parts = [self.name[language], self.description[language], *(c[language] for c in self.criteria)]
        return " ".join(parts)


@dataclass(frozen=True)
class Domain:
    id: str
    name: Text
    description: Text
    grounded_in: tuple[str, ...]
    national: bool
    areas: tuple[Area, ...]
    source: str  # file the domain was loaded from


@dataclass(frozen=True)
class Taxonomy:
    name: str
    version: str
    domains: tuple[Domain, ...]
    expected_areas: dict[str, int] = field(default_factory=dict)  # domain id -> count the manifest promises
    root: str = ""

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
