"""The registry of PII recognisers and what they share: :func:`register`, the gates, the ASCII regex flags and
:class:`ClassPatternRecognizer`.

Every recogniser is a Presidio ``EntityRecognizer`` declared once, as a class that carries everything about it:
its registry ``NAME``, ``ENTITY``, ``DESCRIPTION``, ``PATTERNS`` and ``CONTEXT`` words (Korean and English in one
list: the scanner's context enhancer matches Korean words as substrings and English ones as whole words),
``validate_result`` for checksums, and its ``GATE`` (a cheap necessary condition) beside its patterns.
``@register`` above the class adds it to ``RECOGNIZERS``, the names policies/pii_recognizers.yaml switches on per
language. The classes live by country (:mod:`.korea`, :mod:`.korea_names`, :mod:`.korea_addresses`,
:mod:`.international`, :mod:`.english_names`); :mod:`.catalogue` imports them all. This module imports none of
them, so each registers itself where it is declared. Presidio's own classes that are used as they are get a
subclass that adds those attributes.

``LANGUAGE_NEUTRAL`` marks recognisers whose patterns do not depend on the document's language (checksummed
identifiers, international phone numbers, e-mail, IP, cards, and the Korean identifiers, which appear in English
text too): the bundled YAML runs them for every language, and a test holds it to that.

All pattern recognisers run with the ASCII flag added to Presidio's flags (see :data:`REGEX_FLAGS`): Korean
particles and words are glued to numbers and addresses ("010-1234-5678로", "hong@ex.kr에게"), and under Unicode
rules Hangul counts as a word character, so ``\\b`` and ``\\w`` would not see a boundary there. With ASCII rules
they do. Known limitation: full-width digits (０１０) are not matched.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass

import regex

from haetae.offline import import_presidio  # isort: split

import_presidio()  # before Presidio: skip its unused transformers/torch imports

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer

REGEX_FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE | regex.ASCII
"""Presidio's default flags plus ASCII word boundaries (Hangul glued to a number is a boundary under ASCII
rules; see :mod:`haetae.pipelines.pii.recognizers.catalogue`).

Presidio matches with the ``regex`` package, whose ASCII flag differs from ``re.ASCII`` (256 there means
VERSION1), so the flags must come from ``regex``."""

GATE_START = r"[0-9@:+.\-]"
r"""The characters a gate's match may start with: an ASCII digit or one of ``@ : + . -``.

Gates are written to start there (a letter-first condition such as "two letters, two digits" becomes
``\d(?<=[A-Za-z]{2}\d)\d``) so that :func:`compile_gates` can skip every other character in one fast pass."""

HANGUL_GATE_START = r"[가-힣]"
"""The start of gates for word-framed entities (Korean names): their matches begin with a Hangul syllable.

Such gates are compiled apart from the :data:`GATE_START` ones (see :func:`compile_gates`), so that Korean
text, where nearly every character is Hangul, does not slow the digit-led gates down."""


def compile_gates(gates: list[str], start: str = GATE_START) -> re.Pattern:
    """One regex that matches exactly where one of ``gates`` (each starting with ``start``) does.

    A plain ``a|b|c`` union makes Python's ``re`` try every branch at every character; led by the single
    character class ``start`` (:data:`GATE_START` or :data:`HANGUL_GATE_START`) it jumps from candidate to
    candidate and only there steps back one character to try the branches. The match is that first
    character. ASCII rules, case-sensitive.
    """
    union = "|".join(f"(?:{gate})" for gate in gates)
    return re.compile(rf"{start}(?<=(?={union}).)", re.ASCII)


@dataclass(frozen=True)
class RecognizerSpec:
    """A registered recogniser: its class (or factory) plus what the registry reads from it."""

    name: str
    factory: Callable[..., EntityRecognizer]
    entity: str
    description: str
    gate: str | None = None
    """A cheap regex that every match contains, starting with ``gate_start``; None: no cheap test."""
    gate_start: str = GATE_START
    """The character class every match of ``gate`` starts with (:data:`GATE_START` or
    :data:`HANGUL_GATE_START`)."""
    language_neutral: bool = False
    """The patterns do not depend on the document's language: the recogniser belongs in every language's set."""

    def option_names(self) -> set[str]:
        params = inspect.signature(self.factory).parameters
        fixed = {"self", "supported_language", "name", "context", "patterns", "supported_entity", "args", "kwargs"}
        return {p for p in params if p not in fixed}

    def build(self, language: str, context: list[str] | None = None, options: dict | None = None):
        """Instantiate for one language; ``context`` extends the recogniser's own context words.

        The recogniser carries the spec's ``gate`` as an attribute, read by the PII scanner to skip it.
        """
        options = dict(options or {})
        unknown = set(options) - self.option_names()
        if unknown:
            raise ValueError(
                f"recogniser {self.name!r}: unknown option(s) {sorted(unknown)}; "
                f"allowed: {sorted(self.option_names())}"
            )
        recognizer = self.factory(supported_language=language, name=f"{self.name}_{language}", **options)
        extra = list(getattr(self.factory, "EXTRA_CONTEXT", [])) + list(context or [])
        if extra:
            recognizer.context = list(dict.fromkeys([*(recognizer.context or []), *extra]))
        if isinstance(recognizer, PatternRecognizer):
            recognizer.global_regex_flags = REGEX_FLAGS
        recognizer.gate = self.gate
        recognizer.gate_start = self.gate_start
        return recognizer


RECOGNIZERS: dict[str, RecognizerSpec] = {}


def register(cls: type[EntityRecognizer]) -> type[EntityRecognizer]:
    """Class decorator: add ``cls`` to :data:`RECOGNIZERS` under ``cls.NAME`` (the key used in
    policies/pii_recognizers.yaml), with its ``ENTITY``, ``DESCRIPTION``, ``GATE``, ``GATE_START`` and
    ``LANGUAGE_NEUTRAL`` attributes.

    ``GATE`` is an optional necessary condition: a regex, starting with ``GATE_START``, that every
    match contains under ASCII, case-sensitive rules. The scanner asks Presidio for an entity only when a
    gate of one of its recognisers matches the text, and skips texts that match no gate at all.
    """
    name = cls.NAME
    if name in RECOGNIZERS:
        raise ValueError(f"recogniser {name!r} is already registered")
    gate = getattr(cls, "GATE", None)
    gate_start = getattr(cls, "GATE_START", GATE_START)
    if gate is not None:
        compile_gates([gate], gate_start)  # fail here on a bad regex
    RECOGNIZERS[name] = RecognizerSpec(name, cls, cls.ENTITY, cls.DESCRIPTION, gate, gate_start,
                                       bool(getattr(cls, "LANGUAGE_NEUTRAL", False)))
    return cls


_HEX = "[0-9A-Fa-f]"
_LEFT = r"(?<![\d\-])"
"""No digit or dash glued before a number."""
_RIGHT = r"(?!\d|-\d)"
"""No digit (or dash and digit) glued after a number."""


class ClassPatternRecognizer(PatternRecognizer):
    """A pattern recogniser whose patterns, context words, entity and language default to class attributes."""

    PATTERNS: list[Pattern] = []
    CONTEXT: list[str] = []
    ENTITY = ""
    LANGUAGE = "ko"

    def __init__(
        self,
        patterns: list[Pattern] | None = None,
        context: list[str] | None = None,
        supported_language: str | None = None,
        supported_entity: str | None = None,
        name: str | None = None,
    ):
        super().__init__(
            supported_entity=supported_entity or self.ENTITY,
            patterns=patterns or self.PATTERNS,
            context=context or self.CONTEXT,
            supported_language=supported_language or self.LANGUAGE,
            name=name,
        )


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())
