"""PII scoring with Presidio, Korean first: the scanner, redaction and the ``ScorePii`` Beam step.

The analyzer runs Presidio's ``no_op`` NLP engine (no spaCy model): every recogniser is pattern based
(see :mod:`haetae.pipelines.pii.recognizers.catalogue`). Context words are matched as substrings in a character
window around each match, which works for Korean text that a word tokenizer would split badly.
Raw PII never goes to logs, exception messages or counter names; only entity types and offsets do.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from haetae.offline import import_presidio  # isort: split

import_presidio()  # before Presidio: skip its unused transformers/torch imports

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine, NoOpNlpEngine

from haetae.errors import one_line
from haetae.pipelines.detectors.script_spans import HANGUL, LATIN, may_mix, script_spans
from haetae.pipelines.pii.fields import FieldSelection
from haetae.pipelines.pii.pseudonyms import (
    CUSTOM_OPERATORS,
    PSEUDONYM,
    STATE,
    PiiKey,
    Pseudonymizer,
    presidio_spec,
)
from haetae.pipelines.pii.recognizers import catalogue as pii_recognizers  # noqa: F401 (importing it registers every recogniser)
from haetae.pipelines.pii.recognizers.base import GATE_START, RECOGNIZERS, compile_gates
from haetae.pipelines.policy.loader import ConfigError, KeyPath, did_you_mean, fail, load_config_file
from haetae.pipelines.steps import Step

DEFAULT_CONFIG = "pii_recognizers.yaml"
SCHEMA = "pii_recognizers"
"""policies/schemas/pii_recognizers.schema.json"""

OPERATOR_PARAMS: dict[str, tuple[str, ...]] = {
    "replace": ("new_value",),
    "mask": ("masking_char", "chars_to_mask", "from_end"),
    "hash": ("hash_type", "salt", "keyed"),
    "redact": (),
    "keep": (),
    "pseudonym": ("keyed", "length"),
}
"""The presidio-anonymizer operators a policy may use, with the parameters each one reads: Presidio's own and
``pseudonym`` (:mod:`haetae.pipelines.pii.pseudonyms`); ``hash`` with ``keyed: true`` is an HMAC under the user's
key. ``encrypt`` is left out: reversible redaction is not a goal."""
OPERATOR_TYPES = tuple(OPERATOR_PARAMS)


SCRIPT_LANGUAGES = {HANGUL: "ko", LATIN: "en"}
"""The language whose recognisers scan a stretch of each script (:mod:`.script_spans`), when it is configured."""


class PiiConfigError(ConfigError):
    """The PII recogniser configuration is invalid; the message names the key (and line, for files)."""


@dataclass(frozen=True, order=True)
class PiiSpan:
    """One detected entity: character offsets into the text, Presidio entity type, confidence."""

    start: int
    end: int
    type: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------- config


def load_config(source: dict | str | Path | None = None) -> dict:
    """Return a validated copy of the recogniser configuration.

    ``source`` is a parsed dict, a YAML path, or None for the bundled policies/pii_recognizers.yaml.
    Errors in a file name the file and line.
    """
    return load_config_file(source, default_name=DEFAULT_CONFIG, kind="PII config", schema=SCHEMA,
                            check=check_config, error=PiiConfigError)


def _fail(path: KeyPath, message: str) -> PiiConfigError:
    """A :class:`PiiConfigError` for the dotted key ``path`` ("" for the top level)."""
    return fail(PiiConfigError, path, message)


def check_config(config: dict) -> None:
    """The rules the schema cannot state: languages that are configured, recognisers and their options that
    are registered, operator parameters, and operators only for entities that a recogniser reports."""
    languages = config["languages"]
    fallback = config.get("fallback_language", languages[0])
    if fallback not in languages:
        raise _fail("fallback_language", f"{fallback!r} is not in languages {languages}")
    for name, settings in config["recognizers"].items():
        path = ("recognizers", name)
        if name not in RECOGNIZERS:
            raise _fail(path, f"unknown recogniser; {did_you_mean(name, RECOGNIZERS)}")
        settings = settings or {}
        bad_langs = [lang for lang in settings.get("languages", []) if lang not in languages]
        if bad_langs:
            raise _fail((*path, "languages"), f"{bad_langs} not in languages {languages}")
        allowed = RECOGNIZERS[name].option_names()
        unknown_opts = set(settings.get("options", {})) - allowed
        if unknown_opts:
            raise _fail(
                (*path, "options"), f"unknown option(s) {sorted(unknown_opts)}; allowed: {sorted(allowed)}"
            )
    operators = config.get("operators") or {}
    validate_operators(operators)
    known = configured_entities(config) | {"DEFAULT"}
    for entity in operators:
        if entity not in known:
            raise _fail(("operators", entity), f"unknown entity: no recogniser above reports it; "
                        f"{did_you_mean(entity, known)}")


def configured_entities(config: dict) -> set[str]:
    """The entity types the recognisers named in a validated config report (also those switched off there:
    a rule for them is not a typo, and takes effect when they are switched on)."""
    return {RECOGNIZERS[name].entity for name in config["recognizers"]}


def validate_operators(operators: Any) -> None:
    """Check operator specs (``{entity: {type, **params}}``) with :func:`operator_problem`."""
    if not isinstance(operators, dict):
        raise _fail("operators", f"must be a mapping, got {type(operators).__name__}")
    for entity, spec in operators.items():
        problem = operator_problem(spec)
        if problem:
            key, message = problem
            raise _fail(("operators", entity, *([key] if key else [])), message)


def operator_problem(spec: Any) -> tuple[str, str] | None:
    """``(key, message)`` for the first problem of one operator spec (key "" for the spec itself), or None.

    The rules are Presidio's: its operator class validates the parameters and is run on a dummy text (the
    hash salt is only checked there). Added here: the parameter names (Presidio ignores a misspelt one),
    one masking character (Presidio accepts "") and a non-negative integer ``chars_to_mask``.
    """
    from presidio_anonymizer.entities import InvalidParamError
    from presidio_anonymizer.operators import OperatorType

    if not isinstance(spec, dict):
        return "", f"must be a mapping {{type: {'|'.join(OPERATOR_TYPES)}, ...}}"
    kind = spec.get("type")
    if kind not in OPERATOR_PARAMS:
        return "type", f"must be one of {list(OPERATOR_TYPES)}, got {kind!r}"
    params = {k: v for k, v in spec.items() if k != "type"}
    allowed = OPERATOR_PARAMS[kind]
    for key in params:
        if key not in allowed:
            return key, (f"unknown parameter of {kind}; allowed: {list(allowed)}" if allowed
                         else f"{kind} takes no parameters")
    masking_char = params.get("masking_char", "*")
    if not (isinstance(masking_char, str) and len(masking_char) == 1):
        return "masking_char", f"must be one character, got {masking_char!r}"
    count = params.get("chars_to_mask", 0)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        return "chars_to_mask", f"must be an integer >= 0, got {count!r}"
    if not isinstance(params.get("salt", ""), str):
        return "salt", f"must be a string, got {type(params['salt']).__name__}"
    if not isinstance(params.get("keyed", False), bool):
        return "keyed", f"must be true or false, got {params['keyed']!r}"
    name, params = presidio_spec(spec)
    operator = _anonymizer().operators_factory.create_operator_class(name, OperatorType.Anonymize)
    params = {**params, "entity_type": "PII", STATE: Pseudonymizer(PiiKey(b"a key to check the spec", "check"))}
    try:
        operator.validate(params=params)
        operator.operate("0123456789", params)
    except InvalidParamError as exc:
        return "", f"{kind}: {one_line(exc)}"
    return None


@functools.lru_cache(maxsize=256)
def context_pattern(words: tuple[str, ...]) -> re.Pattern | None:
    """One case-insensitive regex for a recogniser's context words.

    A word with Hangul (or any non-ASCII) matches as a substring, since Korean glues particles and
    compounds to it ("연락처는", "주민등록번호:"). An ASCII word must stand alone among ASCII letters and
    digits, with an optional plural s, so "tel" does not fire inside "hotel" (it still fires in "Tel:" or
    "IP주소").
    """
    parts = []
    for word in sorted({w.strip() for w in words if w and w.strip()}):
        escaped = re.escape(word)
        parts.append(rf"(?<![A-Za-z0-9]){escaped}(?:e?s)?(?![A-Za-z0-9])" if word.isascii() else escaped)
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


class SubstringContextEnhancer(ContextAwareEnhancer):
    """Raise a span's score when one of its recogniser's context words occurs near it.

    Presidio's lemma enhancer needs tokens from an NLP engine; with ``no_op`` there are none. Here a
    context word counts when it occurs within ``window`` characters before or after the span (see
    :func:`context_pattern`), which also works for Korean, where context words are glued to particles.
    """

    def __init__(self, window: int = 30, boost: float = 0.35, min_score: float = 0.4):
        super().__init__(boost, min_score, 0, 0)
        self.window = window

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        by_id = {r.id: r for r in recognizers}
        for result in raw_results:
            meta = result.recognition_metadata or {}
            if meta.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY) or result.score >= self.MAX_SCORE:
                continue
            recognizer = by_id.get(meta.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
            pattern = context_pattern(
                tuple(getattr(recognizer, "context", None) or []) + tuple(context or [])
            )
            if pattern is None:
                continue
            if pattern.search(text, max(0, result.start - self.window), result.start) or pattern.search(
                text, result.end, result.end + self.window
            ):
                boosted = max(
                    result.score + self.context_similarity_factor, self.min_score_with_context_similarity
                )
                result.score = min(self.MAX_SCORE, boosted)
                meta[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
        return raw_results


def build_analyzer(config: dict | str | Path | None = None) -> AnalyzerEngine:
    """Build a Presidio AnalyzerEngine with the no_op NLP engine and the recognisers the config enables."""
    config = load_config(config)
    presidio_log = logging.getLogger("presidio-analyzer")
    if presidio_log.level == logging.NOTSET:  # it logs at INFO on every analyze() call; keep workers quiet
        presidio_log.setLevel(logging.WARNING)
    recognizers = []
    for name, language in enabled_recognizers(config):
        settings = config["recognizers"][name] or {}
        recognizers.append(RECOGNIZERS[name].build(language, settings.get("context"), settings.get("options")))
    return analyzer_for(recognizers, config)


def enabled_recognizers(config: dict) -> list[tuple[str, str]]:
    """``(recogniser name, language)`` for every recogniser the validated config builds, in config order."""
    pairs = []
    for name, settings in config["recognizers"].items():
        settings = settings or {}
        if settings.get("enabled", True):
            pairs.extend((name, language) for language in settings.get("languages", config["languages"]))
    return pairs


def analyzer_for(recognizers: list[EntityRecognizer], config: dict,
                 nlp_engine: NlpEngine | None = None) -> AnalyzerEngine:
    """An AnalyzerEngine over ``recognizers`` with the config's threshold and context settings; ``nlp_engine``
    defaults to a new ``no_op`` one (the scanner passes its own to the analyzers of its mixed-language stretches)."""
    languages = list(config["languages"])
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=languages)
    nlp_engine = nlp_engine or NoOpNlpEngine(models=[{"lang_code": lang, "model_name": "no_op"}
                                                     for lang in languages])
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=languages,
        default_score_threshold=float(config.get("score_threshold", 0.4)),
        context_aware_enhancer=SubstringContextEnhancer(
            window=int(config.get("context_window", 30)),
            boost=float(config.get("context_boost", 0.35)),
            min_score=float(config.get("context_min_score", 0.4)),
        ),
    )


def resolve_overlaps(spans: list[PiiSpan]) -> list[PiiSpan]:
    """Keep a deterministic non-overlapping subset, sorted by start.

    Higher score wins, then the longer span, then the earlier start, then the entity name.
    """
    ranked = sorted(spans, key=lambda s: (-s.score, -(s.end - s.start), s.start, s.type))
    kept: list[PiiSpan] = []
    for span in ranked:
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept)


# ---------------------------------------------------------------------------------------------- redaction


@functools.lru_cache(maxsize=1)
def _anonymizer():
    """Presidio's engine with Haetae's operators (``pseudonym``, the keyed hash) added."""
    from presidio_anonymizer import AnonymizerEngine

    engine = AnonymizerEngine()
    for operator in CUSTOM_OPERATORS:
        engine.add_anonymizer(operator)
    return engine


def entity_specs(spans: list[PiiSpan], operators: dict[str, dict] | None) -> dict[str, dict]:
    """The operator spec of each span's entity type: its own, else ``DEFAULT``'s, else ``<TYPE>``."""
    operators = operators or {}
    return {s.type: operators.get(s.type) or operators.get("DEFAULT") or {"type": "replace", "new_value": f"<{s.type}>"}
            for s in spans}


def redact_items(
    text: str, spans: list[PiiSpan], operators: dict[str, dict] | None = None,
    pseudonyms: Pseudonymizer | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """The redacted text and where each replacement now stands in it (``{"type", "start", "end"}``, sorted).

    Overlapping spans are first resolved as the scanner resolves them (:func:`resolve_overlaps`), and every
    kept span is one replacement: Presidio's merging of same-type neighbours separated by spaces is off, since
    two names side by side are two people. ``pseudonyms`` is the document's :class:`Pseudonymizer` (pass one
    for all fields of a document); it is primed with the pseudonymised spans in text order before Presidio
    runs, which replaces from the end, so numbers follow the order of first appearance.
    """
    from presidio_anonymizer.entities import OperatorConfig

    spans = resolve_overlaps(spans)
    if not spans:
        return text, []
    specs = entity_specs(spans, operators)
    pseudonyms = pseudonyms if pseudonyms is not None else Pseudonymizer()
    for span in spans:
        spec = specs[span.type]
        if spec["type"] == PSEUDONYM and not spec.get("keyed", False):
            pseudonyms.number(span.type, text[span.start:span.end])
    configs = {}
    for entity, spec in specs.items():
        name, params = presidio_spec(spec)
        configs[entity] = OperatorConfig(name, {**params, STATE: pseudonyms})
    results = [RecognizerResult(s.type, s.start, s.end, s.score) for s in spans]
    result = _anonymizer().anonymize(text=text, analyzer_results=results, operators=configs,
                                     merge_entities_with_spaces=False)
    items = sorted(({"type": i.entity_type, "start": i.start, "end": i.end} for i in result.items),
                   key=lambda i: (i["start"], i["end"]))
    return result.text, items


def redact(
    text: str, spans: list[PiiSpan], operators: dict[str, dict] | None = None,
    pseudonyms: Pseudonymizer | None = None,
) -> str:
    """Apply presidio-anonymizer operators; by default each span becomes ``<TYPE>``.

    ``operators`` maps an entity type (or ``DEFAULT``, for types not named) to ``{"type": "replace"|"mask"|
    "hash"|"redact"|"keep"|"pseudonym", **params}``, e.g. ``{"PHONE_NUMBER": {"type": "mask", "masking_char":
    "*", "chars_to_mask": 4, "from_end": True}}``. ``hash`` without a ``salt`` uses a random salt per call
    (Presidio's default); see :func:`redact_items` for ``pseudonyms``.
    """
    return redact_items(text, spans, operators, pseudonyms)[0]


# ---------------------------------------------------------------------------------------------- scanner


class EntityGates:
    """Which entities a text can contain in one language, judged by the recognisers' gates alone.

    A gate is a cheap regex that every match of a recogniser contains (see
    :func:`haetae.pipelines.pii.recognizers.base.register`). An entity is worth asking Presidio for when
    a gate of one of its recognisers matches; an entity with an ungated recogniser always is. One combined
    pass over the text first settles the common case, a text that matches no gate at all.
    """

    def __init__(self, gates: dict[str, list[tuple[str, str] | None]]):
        """``gates``: entity -> ``(gate, start class)`` of each of its recognisers, None for one without.

        Gates with different start classes (digit-led, Hangul-led) are compiled apart: one combined pass
        per start class.
        """
        gated = {entity: regexes for entity, regexes in gates.items() if None not in regexes}
        self.always = [entity for entity in gates if entity not in gated]
        by_start: dict[str, list[str]] = {}
        for entity, regexes in gated.items():
            for _gate, start in regexes:
                by_start.setdefault(start, []).append(entity)
        self.any_gates = {start: compile_gates([g for regexes in gated.values() for g, s in regexes if s == start],
                                               start) for start in by_start}
        # an entity alone in its start class is settled by that class's combined search: no second search
        self._sole = {start: entities[0] for start, entities in by_start.items() if len(set(entities)) == 1}
        self.gated = [
            (entity, [(start, compile_gates([g for g, s in regexes if s == start], start))
                      for start in dict.fromkeys(s for _, s in regexes)])
            for entity, regexes in gated.items()
        ]

    @classmethod
    def for_language(cls, analyzer: AnalyzerEngine, language: str) -> EntityGates:
        """Gates of the analyzer's recognisers for ``language`` (their ``gate`` attribute; None without)."""
        gates: dict[str, list[tuple[str, str] | None]] = {}
        for recognizer in analyzer.registry.recognizers:
            if recognizer.supported_language == language:
                gate = getattr(recognizer, "gate", None)
                start = getattr(recognizer, "gate_start", GATE_START)
                for entity in recognizer.supported_entities:
                    gates.setdefault(entity, []).append(None if gate is None else (gate, start))
        return cls(gates)

    def entities(self, text: str) -> list[str]:
        """The entities whose recognisers could match ``text`` (ungated ones first); [] when none can."""
        firsts = {start: gate.search(text) for start, gate in self.any_gates.items()}
        found = [match.start() for match in firsts.values() if match is not None]
        if not found:
            return list(self.always)
        first = min(found)  # no gate matches before the first match of any gate

        def passes(entity: str, start: str, gate: re.Pattern) -> bool:
            if firsts[start] is None:
                return False
            return self._sole.get(start) == entity or gate.search(text, first) is not None

        return self.always + [
            entity for entity, compiled in self.gated if any(passes(entity, s, g) for s, g in compiled)
        ]


def _empty_nlp_artifacts(analyzer: AnalyzerEngine, languages: tuple[str, ...]) -> dict[str, NlpArtifacts]:
    """The ``no_op`` engine's artifacts per language, made once: they hold nothing about the text.

    Passing them to ``analyze`` saves building an empty spaCy ``Doc`` per call; the recognisers and the
    :class:`SubstringContextEnhancer` never read them. Empty (Presidio builds its own) for another engine.
    """
    if not isinstance(analyzer.nlp_engine, NoOpNlpEngine):
        return {}
    return {language: analyzer.nlp_engine.process_text("", language) for language in languages}


def _nonempty_text(text: str) -> bool:
    """Whether there is text to scan; a non-string is a TypeError (a caller's bug, not input to skip)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    return bool(text)


class PiiScanner:
    """Scan and redact text. Build once per process/worker; ``scan`` is thread-compatible, not shared-state."""

    def __init__(self, analyzer: AnalyzerEngine, config: dict):
        self.analyzer = analyzer
        self.config = config
        self.languages = tuple(config["languages"])
        self.fallback_language = config.get("fallback_language", self.languages[0])
        self.operators = dict(config.get("operators") or {})
        self.gates = {lang: EntityGates.for_language(analyzer, lang) for lang in self.languages}
        self._nlp_artifacts = _empty_nlp_artifacts(analyzer, self.languages)
        self._validated_operators: set[str] = set()
        self.mixed_language_spans = bool(config.get("mixed_language_spans", True))
        self._span_scans = self._span_analyzers() if self.mixed_language_spans else {}
        self._all_languages: tuple[AnalyzerEngine, EntityGates] | None = None  # built on first use

    def _span_analyzers(self) -> dict[str, dict[str, tuple[str, AnalyzerEngine, EntityGates]]]:
        """Document language -> script -> (the script's language, an analyzer of the recognisers that language
        has and the document's has not, their gates). The recogniser objects are the main analyzer's."""
        built = {(r.supported_language, r.name): r for r in self.analyzer.registry.recognizers}
        names: dict[str, set[str]] = {}
        for name, language in enabled_recognizers(self.config):
            names.setdefault(language, set()).add(name)
        scans: dict[str, dict[str, tuple[str, AnalyzerEngine, EntityGates]]] = {}
        for doc_language in self.languages:
            for script, language in SCRIPT_LANGUAGES.items():
                if language == doc_language or language not in self.languages:
                    continue
                own = sorted(names.get(language, set()) - names.get(doc_language, set()))
                recognizers = [built[(language, f"{name}_{language}")] for name in own
                               if (language, f"{name}_{language}") in built]
                if recognizers:
                    analyzer = analyzer_for(recognizers, self.config, nlp_engine=self.analyzer.nlp_engine)
                    scans.setdefault(doc_language, {})[script] = (
                        language, analyzer, EntityGates.for_language(analyzer, language))
        return scans

    @classmethod
    def from_config(cls, config: dict | str | Path | None = None) -> PiiScanner:
        config = load_config(config)
        return cls(build_analyzer(config), config)

    def resolve_language(self, language: str | None) -> str:
        """Map a record's language code to one the analyzer has ('ko-KR' -> 'ko'; others -> fallback)."""
        code = (language or "").lower().replace("_", "-").split("-")[0]
        return code if code in self.languages else self.fallback_language

    def scan(self, text: str, language: str | None) -> list[PiiSpan]:
        """Detected PII spans, non-overlapping and sorted by start offset.

        Presidio runs only the recognisers of the entities whose gates match (see :class:`EntityGates`). With
        ``mixed_language_spans`` (the default), each stretch of the text in another script than the document's
        language (:func:`~haetae.pipelines.detectors.script_spans.script_spans`: an English paragraph in a Korean
        document, a Korean form line in an English one) is also scanned with the recognisers its own language
        has and the document's has not; their spans are mapped back and overlaps resolved with the rest.
        """
        return self._scan(text, language, mixed=True)

    def _scan(self, text: str, language: str | None, mixed: bool) -> list[PiiSpan]:
        if not _nonempty_text(text):
            return []
        language = self.resolve_language(language)
        spans = self._analyze(self.analyzer, self.gates[language], text, language)
        by_script = self._span_scans.get(language) if mixed else None
        if by_script and any(may_mix(text, script) for script in by_script):
            for part in script_spans(text):
                if part.script in by_script:
                    other, analyzer, gates = by_script[part.script]
                    spans += [PiiSpan(s.start + part.start, s.end + part.start, s.type, s.score)
                              for s in self._analyze(analyzer, gates, text[part.start:part.end], other)]
        return resolve_overlaps(spans)

    def _analyze(self, analyzer: AnalyzerEngine, gates: EntityGates, text: str, language: str) -> list[PiiSpan]:
        entities = gates.entities(text)
        if not entities:  # no recogniser's gate matches: Presidio would find nothing
            return []
        results = analyzer.analyze(
            text=text, language=language, entities=entities, nlp_artifacts=self._nlp_artifacts.get(language)
        )
        return [PiiSpan(r.start, r.end, r.entity_type, round(float(r.score), 4)) for r in results]

    def scan_all_languages(self, text: str) -> list[PiiSpan]:
        """Spans found with every language's recognisers (overlaps resolved): for strings with no language
        of their own, such as ids and quarantined raw lines.

        One Presidio call over the union of the languages' recognisers, each once: a recogniser that several
        languages run (the language-neutral ones: phones, cards, Korean identifiers ...) has the same patterns,
        context words and options in each, so scanning per language found every one of its spans twice, and an
        id with a run of digits paid two calls. The spans are the same (tests/pipelines/pii/test_pii.py checks
        them against one scan per language)."""
        if not _nonempty_text(text):
            return []
        if self._all_languages is None:
            self._all_languages = self._union_analyzer()
        analyzer, gates = self._all_languages
        return resolve_overlaps(self._analyze(analyzer, gates, text, self.languages[0]))

    def _union_analyzer(self) -> tuple[AnalyzerEngine, EntityGates]:
        """An analyzer, under the first language's code, of every enabled recogniser once: the first language's
        own objects, and the others' recognisers that it lacks built again for that code."""
        first = self.languages[0]
        built = {r.name: r for r in self.analyzer.registry.recognizers if r.supported_language == first}
        recognizers, seen = [], set()
        for name, _language in enabled_recognizers(self.config):
            if name in seen:
                continue
            seen.add(name)
            if f"{name}_{first}" in built:
                recognizers.append(built[f"{name}_{first}"])
            else:
                settings = self.config["recognizers"][name] or {}
                recognizers.append(RECOGNIZERS[name].build(first, settings.get("context"), settings.get("options")))
        analyzer = analyzer_for(recognizers, self.config, nlp_engine=self.analyzer.nlp_engine)
        return analyzer, EntityGates.for_language(analyzer, first)

    def redact(self, text: str, spans: list[PiiSpan], operators: dict[str, dict] | None = None,
               pseudonyms: Pseudonymizer | None = None) -> str:
        """Redact ``spans`` in ``text``; ``operators`` overrides the config's operators per entity type."""
        return self.redact_items(text, spans, operators, pseudonyms)[0]

    def redact_items(self, text: str, spans: list[PiiSpan], operators: dict[str, dict] | None = None,
                     pseudonyms: Pseudonymizer | None = None) -> tuple[str, list[dict[str, Any]]]:
        """:func:`redact_items` with the config's operators under ``operators``."""
        if operators:
            key = json.dumps(operators, sort_keys=True, default=str)
            if key not in self._validated_operators:
                validate_operators(operators)
                self._validated_operators.add(key)
        return redact_items(text, spans, {**self.operators, **(operators or {})}, pseudonyms)


def count_by_type(spans: list[PiiSpan]) -> dict[str, int]:
    """Entity type -> number of spans, keys sorted."""
    return dict(sorted(Counter(s.type for s in spans).items()))


def measure_scan_speed(
    docs: list[tuple[str, str | None]], scanner: PiiScanner | None = None
) -> dict[str, float]:
    """Single-process scan speed over ``(text, language)`` pairs, for bench/ scripts.

    Returns docs, bytes (UTF-8), seconds, docs_per_s, mb_per_s and spans. The scanner is built first
    (outside the timing) when not given.
    """
    import time

    scanner = scanner or PiiScanner.from_config()
    size = sum(len(text.encode("utf-8")) for text, _ in docs)
    started = time.perf_counter()
    spans = sum(len(scanner.scan(text, language)) for text, language in docs)
    seconds = max(time.perf_counter() - started, 1e-9)
    return {
        "docs": len(docs),
        "bytes": size,
        "seconds": round(seconds, 4),
        "docs_per_s": round(len(docs) / seconds, 1),
        "mb_per_s": round(size / 1e6 / seconds, 3),
        "spans": spans,
    }


# ---------------------------------------------------------------------------------------------- Beam


class SharedScanner:
    """A :class:`PiiScanner` built once per worker process and shared by the DoFns that hold this handle
    (Beam's ``Shared``): the audit scans in ``ScorePii`` and re-scans redacted text in its final step."""

    def __init__(self, config: dict | str | Path | None = None):
        from apache_beam.utils.shared import Shared

        self.config = load_config(config)
        self._handle = Shared()

    def acquire(self) -> PiiScanner:
        return self._handle.acquire(lambda: PiiScanner.from_config(self.config))


class ScorePii(Step):
    """Add "pii_spans" (list of {"start","end","type","score"}) and "pii_counts" ({type: n}) to each record.

    With ``fields`` (a :class:`~haetae.pipelines.pii.fields.FieldSelection`), the strings of the record's
    other fields (``record["fields"]``, nested too) are scanned in the record's language as well: they add
    "field_spans" ([path, spans] for each string that holds PII) and count in "pii_counts", which then
    counts every scanned field; "pii_spans" stay the text's own.

    The analyzer is built in ``setup()`` (once per worker). Steps of one job that scan with the same config
    pass one :class:`SharedScanner` so each worker process builds it once. Counters (namespace "pii"):
    ``records``, ``records_with_pii``, ``chars`` (of the text), and ``entity_<TYPE>`` per entity type.
    """

    NAMESPACE = "pii"

    def __init__(
        self, config: dict | str | Path | None = None, text_field: str = "text", lang_field: str = "lang",
        scanner: SharedScanner | None = None, fields: FieldSelection | None = None,
    ):
        self._shared = scanner or SharedScanner(config)  # loads the config: fails before the job starts
        self._text_field = text_field
        self._lang_field = lang_field
        self._fields = fields
        self._scanner: PiiScanner | None = None

    def setup(self) -> None:
        self._scanner = self._shared.acquire()

    def process(self, record: dict):
        text = record.get(self._text_field)
        if not isinstance(text, str):  # the id is not named: it may itself be personal data
            raise TypeError(f"field {self._text_field!r} must be a string, got {type(text).__name__}")
        language = record.get(self._lang_field)
        spans = self._scanner.scan(text, language)
        found = list(spans)
        scored = {**record, "pii_spans": [s.to_dict() for s in spans]}
        if self._fields is not None:
            scored["field_spans"] = []
            for path, value in self._fields.string_leaves(record.get("fields") or {}):
                in_field = self._scanner.scan(value, language)
                if in_field:
                    scored["field_spans"].append([list(path), [s.to_dict() for s in in_field]])
                    found += in_field
        counts = count_by_type(found)
        self.count("records")
        self.count("chars", len(text))
        if found:
            self.count("records_with_pii")
        for entity, n in counts.items():
            self.count(f"entity_{entity}", n)
        scored["pii_counts"] = counts
        yield scored
