"""Copyright notices and licence signals, in English and Korean, and the ``ScoreRights`` Beam step.

Detectors are small registered classes switched on and off by policies/rights_detectors.yaml. A copyright
detector reports notice *kinds* (e.g. ``all_rights_reserved``); a licence detector reports SPDX ids
(``MIT``, ``Apache-2.0``, ``GPL-3.0-or-later``, ``CC-BY-SA-4.0`` ...) or, for the Korea Open Government
Licence (공공누리), ``KOGL-Type1`` .. ``KOGL-Type4`` (SPDX has no id for it). The patterns are a curated set of
the phrases that headers and licence texts must contain; they need no network and no data download.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import apache_beam as beam

from haetae.pipelines.config_files import ConfigError, check_top_level, did_you_mean, fail, load_config_file

DEFAULT_CONFIG = "rights_detectors.yaml"
_FLAGS = re.IGNORECASE | re.MULTILINE


class RightsConfigError(ConfigError):
    """The rights detector configuration is invalid; the message names the key (and line, for files)."""


@dataclass(frozen=True)
class Evidence:
    """Where a signal was found: detector name, signal (kind or SPDX id) and character offsets."""

    detector: str
    signal: str
    start: int
    end: int


@dataclass
class RightsSignals:
    """Scan result. ``copyright``: notice kinds found (sorted, unique); ``licences``: SPDX ids, strongest first."""

    copyright: list[str] = field(default_factory=list)
    copyright_spans: list[Evidence] = field(default_factory=list)
    licences: list[str] = field(default_factory=list)
    licence_evidence: list[Evidence] = field(default_factory=list)

    @property
    def licence(self) -> str | None:
        """The primary licence: an explicit SPDX header wins, then the earliest licence text or reference."""
        return self.licences[0] if self.licences else None


# ---------------------------------------------------------------------------------------------- registry


class Detector:
    """Base class: ``find(text)`` yields :class:`Evidence`. ``kind`` is "copyright" or "licence"."""

    name: ClassVar[str]
    kind: ClassVar[str]
    priority: ClassVar[int] = 50  # lower wins when choosing the primary licence
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
    kind = "copyright"
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
    kind = "copyright"
    PATTERNS = [
        ("all_rights_reserved", r"\ball\s+rights\s+reserved\b"),
        ("all_rights_reserved", r"판권\s*소유|모든\s*권리\s*(?:를\s*)?보유"),
    ]


@register_detector
class KoreanNoRedistribution(PatternDetector):
    """News-style footers: '무단 전재 및 재배포 금지', '무단전재-재배포금지', '무단 복제 금지', '재배포 금지'."""

    name = "ko_no_redistribution"
    gates = ("무단", "배포")
    kind = "copyright"
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
    kind = "copyright"
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
    kind = "copyright"
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


# ---------------------------------------------------------------------------------------------- licences

_SPDX_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+\-]*")


@register_detector
class SpdxHeader(Detector):
    """``SPDX-License-Identifier: <expression>``; every licence id of the expression is reported."""

    name = "spdx_header"
    gates = ("spdx-license-identifier",)
    kind = "licence"
    priority = 0
    _LINE = re.compile(r"SPDX-License-Identifier:\s*([^\n\r*#]*)", re.IGNORECASE)

    def find(self, text: str) -> list[Evidence]:
        found = []
        for m in self._LINE.finditer(text):
            expr, offset = m.group(1), m.start(1)
            for tok in _SPDX_TOKEN.finditer(expr.rstrip().rstrip(".")):
                if tok.group(0).upper() in {"AND", "OR", "WITH"}:
                    continue
                if m.group(1)[: tok.start()].rstrip().upper().endswith("WITH"):
                    continue  # an exception id (e.g. Classpath-exception-2.0), not a licence
                found.append(Evidence(self.name, tok.group(0), offset + tok.start(), offset + tok.end()))
        return found


def _gpl_id(family: str, version: str, later: bool) -> str:
    return f"{family}-{version}-{'or-later' if later else 'only'}"


@register_detector
class LicenceText(Detector):
    """Recognisable text of common licences (full texts and standard notice headers)."""

    name = "licence_text"
    gates = (
        "permission",
        "apache",
        "mozilla",
        "unencumbered",
        "cc0",
        "boost",
        "general public",
        "redistribution",
    )
    kind = "licence"
    priority = 10
    SIMPLE: ClassVar[list[tuple[str, str]]] = [
        ("MIT", r"Permission is hereby granted, free of charge, to any person obtaining a copy"),
        ("Apache-2.0", r"Apache License,?\s+Version 2\.0"),
        ("MPL-2.0", r"Mozilla Public License,?\s+(?:v\.|Version)\s*2\.0"),
        ("Unlicense", r"This is free and unencumbered software released into the public domain"),
        ("CC0-1.0", r"\bCC0\s*1\.0\s+Universal|creativecommons\.org/publicdomain/zero/1\.0"),
        ("ISC", r"Permission to use, copy, modify, and(?:/or)? distribute this software for any purpose"),
        ("BSL-1.0", r"Boost Software License\s*-?\s*Version 1\.0"),
    ]
    _GPL = re.compile(
        r"GNU\s+(?P<fam>Affero\s+|Lesser\s+|Library\s+)?General\s+Public\s+Licen[sc]e"
        r"(?:[^.]{0,80}?(?:version|v\.?)\s*(?P<ver>[123](?:\.[01])?))?",
        _FLAGS,
    )
    _LATER = re.compile(r"(?:or\s*\(at\s+your\s+option\)\s*any\s+later\s+version|or\s+later)", _FLAGS)
    _BSD = re.compile(
        r"Redistribution and use in source and binary forms, with or without\s+modification, are permitted",
        _FLAGS,
    )
    _BSD3 = re.compile(r"Neither the name of", _FLAGS)

    def __init__(self) -> None:
        self._simple = [(spdx, re.compile(rx, _FLAGS)) for spdx, rx in self.SIMPLE]

    def find(self, text: str) -> list[Evidence]:
        found = [
            Evidence(self.name, spdx, m.start(), m.end())
            for spdx, rx in self._simple
            for m in rx.finditer(text)
        ]
        for m in self._GPL.finditer(text):
            fam = (m.group("fam") or "").strip().lower()
            family = {"affero": "AGPL", "lesser": "LGPL", "library": "LGPL"}.get(fam, "GPL")
            version = m.group("ver")
            if version is None:
                # "If the Program does not specify a version number of this License, you may choose any
                # version ever published": an unversioned mention means the first version or later.
                version, later = {"AGPL": "3.0", "LGPL": "2.0", "GPL": "1.0"}[family], True
            else:
                version = version if "." in version else f"{version}.0"
                later = bool(self._LATER.search(text, m.end(), m.end() + 300))
            found.append(Evidence(self.name, _gpl_id(family, version, later), m.start(), m.end()))
        for m in self._BSD.finditer(text):
            spdx = "BSD-3-Clause" if self._BSD3.search(text, m.end(), m.end() + 1500) else "BSD-2-Clause"
            found.append(Evidence(self.name, spdx, m.start(), m.end()))
        return found


_CC_KINDS = {
    "by": "BY",
    "by-sa": "BY-SA",
    "by-nc": "BY-NC",
    "by-nd": "BY-ND",
    "by-nc-sa": "BY-NC-SA",
    "by-nc-nd": "BY-NC-ND",
}
_CC_WORDS = [("NonCommercial", "NC"), ("ShareAlike", "SA"), ("NoDerivatives", "ND"), ("NoDerivs", "ND")]
_CC_KO_WORDS = [("비영리", "NC"), ("동일조건변경허락", "SA"), ("변경금지", "ND")]


def _cc_id(parts: set[str], version: str) -> str:
    order = [p for p in ("NC", "SA", "ND") if p in parts]
    if "SA" in order and "ND" in order:
        order.remove("SA")  # not a real combination; ND is the stricter reading
    return "-".join(["CC", "BY", *order, version])


@register_detector
class CreativeCommons(Detector):
    """Creative Commons licences by URL, name ('Attribution-ShareAlike 4.0'), short form ('CC BY-NC 4.0')
    and Korean name ('저작자표시-비영리 4.0')."""

    name = "creative_commons"
    gates = ("creative", "cc by", "cc-by", "저작자")
    kind = "licence"
    priority = 20
    _URL = re.compile(r"creativecommons\.org/licenses/(by(?:-nc)?(?:-sa|-nd)?)/(\d\.\d)", _FLAGS)
    _NAME = re.compile(
        r"Creative\s+Commons\s+Attribution((?:[-\s]+(?:NonCommercial|ShareAlike|NoDerivatives|NoDerivs))*)"
        r"\s+(\d\.\d)",
        _FLAGS,
    )
    _SHORT = re.compile(r"(?<![\w-])CC[-\s]BY((?:-(?:NC|SA|ND))*)[-\s](\d\.\d)(?!\.?\d)", _FLAGS)
    _KO = re.compile(
        r"저작자\s*표시((?:\s*[-·ㆍ]\s*(?:비영리|동일조건\s*변경\s*허락|변경\s*금지))*)\s*(\d\.\d)"
    )

    def find(self, text: str) -> list[Evidence]:
        found = []
        for m in self._URL.finditer(text):
            found.append(
                Evidence(self.name, f"CC-{_CC_KINDS[m.group(1).lower()]}-{m.group(2)}", m.start(), m.end())
            )
        for m in self._NAME.finditer(text):
            parts = {abbr for word, abbr in _CC_WORDS if word.lower() in m.group(1).lower()}
            found.append(Evidence(self.name, _cc_id(parts, m.group(2)), m.start(), m.end()))
        for m in self._SHORT.finditer(text):
            parts = {p.upper() for p in m.group(1).split("-") if p}
            found.append(Evidence(self.name, _cc_id(parts, m.group(2)), m.start(), m.end()))
        for m in self._KO.finditer(text):
            tail = re.sub(r"\s+", "", m.group(1))
            parts = {abbr for word, abbr in _CC_KO_WORDS if word in tail}
            found.append(Evidence(self.name, _cc_id(parts, m.group(2)), m.start(), m.end()))
        return found


@register_detector
class LicenceReference(PatternDetector):
    """Short references: 'Licensed under the MIT License', 'released under the Apache License 2.0'."""

    name = "licence_reference"
    gates = ("under",)
    kind = "licence"
    priority = 30
    _LEAD = r"(?:licen[sc]ed|released|distributed|available)\s+under\s+(?:the\s+(?:terms\s+of\s+the\s+)?)?"
    PATTERNS = [
        ("MIT", _LEAD + r"MIT\s+licen[sc]e"),
        ("Apache-2.0", _LEAD + r"Apache\s+(?:Licen[sc]e\s*,?\s*(?:Version\s*)?|)2\.0"),
        ("BSD-3-Clause", _LEAD + r"(?:the\s+)?(?:3-clause\s+BSD|BSD\s+3-clause)"),
        ("BSD-2-Clause", _LEAD + r"(?:the\s+)?(?:2-clause\s+BSD|BSD\s+2-clause)"),
        ("MPL-2.0", _LEAD + r"MPL[-\s]?2\.0"),
    ]


@register_detector
class KoreaOpenGovernmentLicence(Detector):
    """공공누리 (Korea Open Government Licence) types 1-4: '공공누리 제1유형', 'KOGL Type 3',
    or the conditions spelled out ('출처표시+상업적이용금지+변경금지' = type 4)."""

    name = "kogl"
    gates = ("공공누리", "kogl", "공공저작물")
    kind = "licence"
    priority = 20
    _TYPED = re.compile(
        r"(?:공공누리|KOGL|공공저작물\s*자유이용허락)[^\n]{0,20}?(?:제\s*)?([1-4])\s*(?:유형|type)|"
        r"KOGL[\s-]*Type[\s-]*([1-4])",
        _FLAGS,
    )
    _COND = re.compile(
        r"공공누리[^\n]{0,40}?출처\s*표시((?:\s*[+,·ㆍ]\s*(?:상업적\s*이용\s*금지|변경\s*금지))*)", _FLAGS
    )

    def find(self, text: str) -> list[Evidence]:
        found = []
        for m in self._TYPED.finditer(text):
            found.append(Evidence(self.name, f"KOGL-Type{m.group(1) or m.group(2)}", m.start(), m.end()))
        if not found:
            for m in self._COND.finditer(text):
                tail = re.sub(r"\s+", "", m.group(1))
                no_commercial, no_derivs = "상업적이용금지" in tail, "변경금지" in tail
                kogl_type = 1 + (1 if no_commercial else 0) + (2 if no_derivs else 0)
                found.append(Evidence(self.name, f"KOGL-Type{kogl_type}", m.start(), m.end()))
        return found


# ---------------------------------------------------------------------------------------------- config + scanner

_TOP_KEYS = {"version": int, "detectors": dict}


def load_config(source: dict | str | Path | None = None) -> dict:
    """Validated copy of the detector config: a dict, a YAML path, or None for the bundled default.

    Errors in a file name the file and line.
    """
    return load_config_file(source, default_name=DEFAULT_CONFIG, kind="rights config", validate=validate_config,
                            error=RightsConfigError)


def _fail(path: str, message: str) -> RightsConfigError:
    return fail(RightsConfigError, path, message)


def validate_config(config: Any) -> None:
    """Raise :class:`RightsConfigError` naming the dotted key path of the first problem."""
    check_top_level(config, _TOP_KEYS, RightsConfigError)
    for key, value in config.items():
        if not isinstance(value, _TOP_KEYS[key]) or isinstance(value, bool):
            raise _fail(key, f"must be a {_TOP_KEYS[key].__name__}")
    for name, settings in (config.get("detectors") or {}).items():
        path = f"detectors.{name}"
        if name not in DETECTORS:
            raise _fail(path, f"unknown detector; {did_you_mean(name, DETECTORS)}")
        settings = {} if settings is None else settings
        if not isinstance(settings, dict):
            raise _fail(path, "must be a mapping")
        for key, value in settings.items():
            if key != "enabled":
                raise _fail(f"{path}.{key}", "unknown key; allowed: ['enabled']")
            if not isinstance(value, bool):
                raise _fail(f"{path}.enabled", "must be true/false")


class RightsScanner:
    """Run the enabled detectors over a text and summarise them as :class:`RightsSignals`."""

    def __init__(self, detectors: list[Detector]):
        self.detectors = detectors

    @classmethod
    def from_config(cls, config: dict | str | Path | None = None) -> RightsScanner:
        config = load_config(config)
        settings = config.get("detectors") or {}
        enabled = [name for name in DETECTORS if (settings.get(name) or {}).get("enabled", name in settings)]
        return cls([DETECTORS[name]() for name in enabled])

    def scan(self, text: str) -> RightsSignals:
        signals = RightsSignals()
        licence_rank: dict[str, tuple[int, int]] = {}
        lowered = text.lower()
        for detector in self.detectors:
            if not detector.may_match(lowered):
                continue
            evidence = sorted(detector.find(text), key=lambda e: (e.start, e.end, e.signal))
            if detector.kind == "copyright":
                signals.copyright_spans.extend(evidence)
            else:
                signals.licence_evidence.extend(evidence)
                for e in evidence:
                    rank = (detector.priority, e.start)
                    licence_rank[e.signal] = min(licence_rank.get(e.signal, rank), rank)
        signals.copyright_spans.sort(key=lambda e: (e.start, e.end, e.signal))
        signals.licence_evidence.sort(key=lambda e: (e.start, e.end, e.signal))
        signals.copyright = sorted({e.signal for e in signals.copyright_spans})
        signals.licences = sorted(licence_rank, key=lambda s: (licence_rank[s], s))
        return signals


# ---------------------------------------------------------------------------------------------- Beam


class ScoreRights(beam.DoFn):
    """Add "copyright_signals" (kinds), "licence" (primary SPDX id or None) and "licences" to each record.

    Counters (namespace "rights"): ``records``, ``records_with_copyright``, ``records_with_licence``,
    ``copyright_<kind>`` and ``licence_<id>``.
    """

    def __init__(self, config: dict | str | Path | None = None, text_field: str = "text"):
        self._config = load_config(config)
        self._text_field = text_field
        self._counters: dict[str, Any] = {}

    def setup(self) -> None:
        self._scanner = RightsScanner.from_config(self._config)

    def _inc(self, name: str, n: int = 1) -> None:
        if name not in self._counters:
            self._counters[name] = beam.metrics.Metrics.counter("rights", name)
        self._counters[name].inc(n)

    def process(self, record: dict):
        text = record.get(self._text_field)
        if not isinstance(text, str):
            raise TypeError(f"record {record.get('id')!r}: field {self._text_field!r} must be a string")
        signals = self._scanner.scan(text)
        self._inc("records")
        if signals.copyright:
            self._inc("records_with_copyright")
        if signals.licences:
            self._inc("records_with_licence")
        for kind, n in Counter(e.signal for e in signals.copyright_spans).items():
            self._inc(f"copyright_{kind}", n)
        for spdx in signals.licences:
            self._inc(f"licence_{spdx}")
        yield {
            **record,
            "copyright_signals": signals.copyright,
            "licence": signals.licence,
            "licences": signals.licences,
        }
