"""The audit's rights step: copyright notices and holders, licences as SPDX expressions, and the share of each
document found in a protected-works registry (``ScoreRights``).

- Copyright notice *kinds* (``copyright_statement``, ``ko_no_redistribution``, ``ai_training_reserved`` ...)
  come from the small regex detectors below, switched on and off by policies/rights_detectors.yaml.
- Copyright *holders* come from :func:`haetae.pipelines.rights.copyright.notice_holders`; a holder that is not
  recognisably an organisation is written ``<HOLDER>`` (the ledger and the report are shared more widely than
  the data: no personal name goes there).
- Licences come from :mod:`haetae.pipelines.rights.licences` (ScanCode's reference texts, SPDX headers, 공공누리 and
  Korean CC notices): ``licences`` is the list of expressions found, strongest first, ``licence`` their ``AND``
  (None when none), ``licence_score`` the weakest evidence among them. 공공누리 is ``LicenseRef-KOGL-TypeN``.
  The index is built once per process: in ``setup`` on Beam workers, in the local runner's driver before it
  forks its workers (``preload``), which share it.
- With a registry (:mod:`haetae.pipelines.rights.registry`), ``registry_fraction`` and ``registry_shingles``.

The regex licence detectors of earlier versions (``spdx_header``, ``licence_text``, ``creative_commons``,
``kogl``, ``licence_reference``) are retired: a detector config that names them still loads; each such entry
is read as the ``licences`` entry (licence identification on or off) and a note says so once per process.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from haetae.pipelines.policy.loader import ConfigError, did_you_mean, fail, load_config_file
from haetae.pipelines.steps import Step

log = logging.getLogger(__name__)

DEFAULT_CONFIG = "rights_detectors.yaml"
SCHEMA = "rights_detectors"
"""policies/schemas/rights_detectors.schema.json"""
_FLAGS = re.IGNORECASE | re.MULTILINE

LICENCES_ENTRY = "licences"
"""The config entry that switches licence identification (:mod:`haetae.pipelines.rights.licences`) on or off."""
RETIRED_LICENCE_DETECTORS = ("spdx_header", "licence_text", "creative_commons", "kogl", "licence_reference")


class RightsConfigError(ConfigError):
    """The rights detector configuration is invalid; the message names the key (and line, for files)."""


@dataclass(frozen=True)
class Evidence:
    """Where a copyright signal was found: detector name, signal (notice kind) and character offsets."""

    detector: str
    signal: str
    start: int
    end: int


@dataclass
class RightsSignals:
    """Scan result. ``copyright``: notice kinds (sorted, unique); ``holders``: copyright holders (organisations
    by name, others ``<HOLDER>``); ``licences``: SPDX expressions, strongest first, with their scores."""

    copyright: list[str] = field(default_factory=list)
    copyright_spans: list[Evidence] = field(default_factory=list)
    holders: list[str] = field(default_factory=list)
    licences: list[str] = field(default_factory=list)
    licence_scores: list[float] = field(default_factory=list)

    @property
    def licence(self) -> str | None:
        """The document's licence: one SPDX expression, the ``AND`` of every one found (None when none)."""
        from haetae.pipelines.rights.licences import licence_expression

        return licence_expression(list(zip(self.licences, self.licence_scores)))

    @property
    def licence_score(self) -> float | None:
        """The weakest evidence among the licences found (0-1), None when none was found."""
        return min(self.licence_scores) if self.licence_scores else None


# ---------------------------------------------------------------------------------------------- detectors


class Detector:
    """Base class: ``find(text)`` yields :class:`Evidence` of copyright notice kinds."""

    name: ClassVar[str]
    kind: ClassVar[str] = "copyright"
    gates: ClassVar[tuple[str, ...]] = ()
    """Lower-case substrings, one of which every match contains; texts with none skip the detector."""

    def may_match(self, lowered: str) -> bool:
        return not self.gates or any(g in lowered for g in self.gates)

    def find(self, text: str) -> list[Evidence]:
        raise NotImplementedError


DETECTORS: dict[str, type[Detector]] = {}


def register_detector(cls: type[Detector]) -> type[Detector]:
    """Class decorator: add a detector under ``cls.name`` (the key in policies/rights_detectors.yaml)."""
    if cls.name in DETECTORS:
        raise ValueError(f"detector {cls.name!r} is already registered")
    DETECTORS[cls.name] = cls
    return cls


class PatternDetector(Detector):
    """A detector defined by ``PATTERNS``: (signal, regex) pairs; every match is evidence for its signal."""

    PATTERNS: ClassVar[list[tuple[str, str]]] = []

    def __init__(self) -> None:
        self._compiled = [(signal, re.compile(rx, _FLAGS)) for signal, rx in self.PATTERNS]

    def find(self, text: str) -> list[Evidence]:
        return [
            Evidence(self.name, signal, m.start(), m.end())
            for signal, rx in self._compiled
            for m in rx.finditer(text)
        ]


# ---------------------------------------------------------------------------------------------- copyright

_YEAR = r"(?:19|20)\d{2}(?:\s*[-–~,]\s*(?:(?:19|20)\d{2}|present))*"
_SYMBOL = r"(?:©|ⓒ|Ⓒ|\(c\))"


@register_detector
class CopyrightStatement(PatternDetector):
    """'Copyright 2024 Name', 'Copyright (c) ACME', '© 2021 Name', '(c) 2019 ...', 'Copyrights ⓒ 신문사'.

    The word alone ("the Copyright Act") is no notice: a symbol or a year must follow. A circled ⓒ is also
    used to enumerate items (ⓐ ⓑ ⓒ), so a ⓒ shortly after a ⓑ is ignored.
    """

    name = "copyright_statement"
    gates = ("copyright", "©", "ⓒ", "(c)")
    PATTERNS = [
        ("copyright_statement", r"\bcopyrights?\s*(?:" + _SYMBOL + r"|:?\s*" + _YEAR + r")"),
        ("copyright_symbol", r"(?:©|ⓒ|Ⓒ)\s*(?:" + _YEAR + r"|[^\W\d_])"),
        ("copyright_symbol", r"(?<![\w(])\(c\)\s*" + _YEAR),
    ]

    def find(self, text: str) -> list[Evidence]:
        return [
            e
            for e in super().find(text)
            if not (text[e.start] in "ⓒⒸ" and "ⓑ" in text[max(0, e.start - 300) : e.start])
        ]


@register_detector
class AllRightsReserved(PatternDetector):
    """'All rights reserved', 'All Rights Reserved.' and the Korean '판권 소유' / '모든 권리 보유'."""

    name = "all_rights_reserved"
    gates = ("reserved", "판권", "보유")
    PATTERNS = [
        ("all_rights_reserved", r"\ball\s+rights\s+reserved\b"),
        ("all_rights_reserved", r"판권\s*소유|모든\s*권리\s*(?:를\s*)?보유"),
    ]


@register_detector
class KoreanNoRedistribution(PatternDetector):
    """News-style footers: '무단 전재 및 재배포 금지', '무단전재-재배포금지', '무단 복제 금지', '재배포 금지'."""

    name = "ko_no_redistribution"
    gates = ("무단", "배포")
    PATTERNS = [
        ("ko_no_redistribution", r"무단\s*전재"),
        (
            "ko_no_redistribution",
            r"무단\s*(?:복제|배포|복사)\s*(?:및|[-,·ㆍ&/])?\s*(?:재?배포|복제|전재)?\s*금지",
        ),
        ("ko_no_redistribution", r"재\s*배포\s*금지"),
    ]


@register_detector
class KoreanCopyrightHolder(PatternDetector):
    """'저작권자 ⓒ 연합뉴스', '<저작권자(c) 한겨레>', '이 기사의 저작권은 OO에 있습니다'."""

    name = "ko_copyright_holder"
    gates = ("저작권",)
    PATTERNS = [
        ("ko_copyright_holder", r"저작권자\s*[(<\[]?\s*(?:©|ⓒ|Ⓒ|\(c\)|c\))"),
        ("ko_copyright_holder", r"저작권은\s*\S{1,30}?\s*에\s*(?:게\s*)?있"),
    ]


@register_detector
class AiTrainingReservation(PatternDetector):
    """An explicit reservation against AI training or text-and-data mining: 'AI 학습 이용 금지' (Korean news
    footers), 'must not be used to train AI', 'AI training is prohibited', an EU TDM opt-out ('text and data
    mining ... reserved'), or a ``noai`` robots directive."""

    name = "ai_training_reservation"
    gates = (
        "금지",
        "금함",
        "train",
        "mining",
        "noai",
        "not be used",
        "never be used",
        "not used",
        "never used",
        "not be copied",
        "not copied",
        "not be reproduced",
        "not reproduced",
    )
    _AI = (
        r"(?:AI|A\.I\.|artificial\s+intelligence|machine[-\s]learning|(?:large\s+)?language\s+models?|LLMs?)"
    )
    PATTERNS = [
        (
            "ai_training_reserved",
            r"(?:AI|인공지능|기계\s*학습|머신\s*러닝)\s*(?:학습|훈련|학습용)?\s*(?:데이터\s*)?(?:으로의\s*|으로\s*|에\s*)?"
            r"(?:이용|활용|사용)\s*(?:을\s*|를\s*)?금(?:지|함)",
        ),
        ("ai_training_reserved", r"(?:AI|인공지능)\s*(?:학습|훈련)\s*금지"),
        (
            "ai_training_reserved",
            r"\b(?:not|never)\s+(?:be\s+)?(?:used|reproduced|copied)\s+(?:for|to\s+train|in)\s+(?:the\s+)?"
            r"(?:training\s+(?:of\s+)?)?(?:any\s+)?" + _AI,
        ),
        (
            "ai_training_reserved",
            _AI + r"\s+training\s+(?:is\s+)?(?:strictly\s+)?(?:prohibited|not\s+permitted|forbidden)",
        ),
        ("ai_training_reserved", r"\btext\s+and\s+data\s+mining\b[^\n]{0,80}?\breserv"),
        ("ai_training_reserved", r"\breserv\w*\s+(?:[\w-]+\s+){0,4}?text\s+and\s+data\s+mining\b"),
        ("ai_training_reserved", r"\bnoai\b"),
    ]


# ---------------------------------------------------------------------------------------------- config + scanner

_ENTRIES = (*DETECTORS, LICENCES_ENTRY, *RETIRED_LICENCE_DETECTORS)
_NOTED: set[tuple[str, str]] = set()


def load_config(source: dict | str | Path | None = None) -> dict:
    """Validated copy of the detector config: a dict, a YAML path, or None for the bundled default.

    Errors in a file name the file and line. A file naming a retired licence detector gets a note (once per
    process and file) saying how the entry is read.
    """
    config = load_config_file(source, default_name=DEFAULT_CONFIG, kind="rights config", schema=SCHEMA,
                              check=check_detector_names, error=RightsConfigError)
    if not isinstance(source, dict):
        where = str(source or DEFAULT_CONFIG)
        for name in (config.get("detectors") or {}):
            if name in RETIRED_LICENCE_DETECTORS and (where, name) not in _NOTED:
                _NOTED.add((where, name))
                log.warning("rights config %s: detectors.%s is retired (licences now come from "
                            "haetae.pipelines.rights.licences); read as %s: {enabled: %s}", where, name, LICENCES_ENTRY,
                            str(_enabled(config["detectors"], name)).lower())
    return config


def check_detector_names(config: dict) -> None:
    """Every entry names a registered detector, ``licences`` or a retired licence detector."""
    for name in config.get("detectors") or {}:
        if name not in _ENTRIES:
            raise fail(RightsConfigError, ("detectors", name),
                       f"unknown detector; {did_you_mean(name, [*DETECTORS, LICENCES_ENTRY])}")


def _enabled(settings: dict, name: str) -> bool:
    """A listed entry is on unless ``enabled: false``; an entry not listed is off."""
    return name in settings and (settings.get(name) or {}).get("enabled", True)


def licences_enabled(config: dict) -> bool:
    """Whether licence identification runs: the ``licences`` entry, else any retired licence detector that is
    on (an older config that lists none of them had no licence detection, and still has none)."""
    settings = config.get("detectors") or {}
    if LICENCES_ENTRY in settings:
        return _enabled(settings, LICENCES_ENTRY)
    return any(_enabled(settings, name) for name in RETIRED_LICENCE_DETECTORS)


class RightsScanner:
    """Run the enabled copyright detectors, the holder extraction and (when on) licence identification."""

    def __init__(self, detectors: list[Detector], licences: bool = True):
        self.detectors = detectors
        self.licences = licences
        self._index = None

    @classmethod
    def from_config(cls, config: dict | str | Path | None = None) -> RightsScanner:
        config = load_config(config)
        settings = config.get("detectors") or {}
        return cls([DETECTORS[name]() for name in DETECTORS if _enabled(settings, name)], licences_enabled(config))

    def load_index(self) -> None:
        """Load the licence index (~0.15 s from the per-machine array cache, ~2 s when it builds it there; once
        per process: :func:`~haetae.pipelines.rights.licences.default_index` is cached), so the first record does not
        pay for it."""
        if self.licences and self._index is None:
            from haetae.pipelines.rights.licences import default_index

            self._index = default_index()

    def scan(self, text: str) -> RightsSignals:
        from haetae.pipelines.rights.copyright import notice_holders, public_holders

        signals = RightsSignals()
        lowered = text.lower()
        for detector in self.detectors:
            if detector.may_match(lowered):
                signals.copyright_spans.extend(detector.find(text))
        signals.copyright_spans.sort(key=lambda e: (e.start, e.end, e.signal))
        signals.copyright = sorted({e.signal for e in signals.copyright_spans})
        signals.holders = public_holders(notice_holders(text))
        if self.licences:
            from haetae.pipelines.rights.licences import detect_licences
            from haetae.pipelines.rights.spdx import normalise

            self.load_index()
            best: dict[str, float] = {}
            for expression, score in detect_licences(text, self._index):
                key = normalise(expression)  # "(MIT OR ISC)" -> "MIT OR ISC"; KOGL-Type1 -> LicenseRef-KOGL-Type1
                best[key] = max(best.get(key, 0.0), score)
            signals.licences, signals.licence_scores = list(best), list(best.values())
        return signals


# ---------------------------------------------------------------------------------------------- Beam


class ScoreRights(Step):
    """Add the rights keys of :class:`~haetae.pipelines.io.records.Record` to each record: ``copyright_signals``
    (kinds), ``copyright_holders``, ``licence`` (one SPDX expression or None), ``licences``, ``licence_score``,
    and with a ``registry``
    (:class:`~haetae.pipelines.rights.registry_settings.RegistrySettings`) ``registry_fraction`` and
    ``registry_shingles`` (None without one).

    Counters (namespace "rights"): ``records``, ``records_with_copyright``, ``records_with_licence``,
    ``records_in_registry`` (any shingle found), ``copyright_<kind>`` and ``licence_<expression>``.
    """

    NAMESPACE = "rights"

    def __init__(self, config: dict | str | Path | None = None, text_field: str = "text", registry=None):
        self._config = load_config(config)
        self._text_field = text_field
        self._registry_settings = registry

    def preload(self) -> None:
        """Load the process-wide licence index now (~0.15 s from the per-machine array cache, ~1.7 s CPU when it
        builds it there; ~170 MB). The local runner calls this in the driver before it forks its workers, which
        then share the index copy-on-write (its arrays are memory maps of the cache) instead of each loading
        their own; on other runners each worker process loads it once, in :meth:`setup`."""
        if licences_enabled(self._config):
            from haetae.pipelines.rights.licences import default_index

            default_index()

    def setup(self) -> None:
        self._scanner = RightsScanner.from_config(self._config)
        self._scanner.load_index()  # once per worker process (cached), not per record
        self._registry = self._registry_settings.load() if self._registry_settings is not None else None

    def process(self, record: dict):
        text = record.get(self._text_field)
        if not isinstance(text, str):
            raise TypeError(f"record {record.get('id')!r}: field {self._text_field!r} must be a string")
        signals = self._scanner.scan(text)
        self.count("records")
        if signals.copyright:
            self.count("records_with_copyright")
        if signals.licences:
            self.count("records_with_licence")
        for kind, n in Counter(e.signal for e in signals.copyright_spans).items():
            self.count(f"copyright_{kind}", n)
        for spdx in signals.licences:
            self.count(f"licence_{spdx}")
        fraction = shingles = None
        if self._registry is not None:
            match = self._registry.match(text)
            fraction, shingles = round(match.fraction, 6), match.shingles
            if match.found:
                self.count("records_in_registry")
        yield {
            **record,
            "copyright_signals": signals.copyright,
            "copyright_holders": signals.holders,
            "licence": signals.licence,
            "licences": signals.licences,
            "licence_score": signals.licence_score,
            "registry_fraction": fraction,
            "registry_shingles": shingles,
        }
