"""Offline language identification: a script check first (Hangul, kana), py3langid's bundled model after."""

from __future__ import annotations

import functools
import re
import unicodedata

import numpy as np

from haetae.pipelines.detectors.chars import code_point_table, code_points
from haetae.pipelines.io.array_cache import cache_key, cached_arrays

UNDETERMINED = "und"
_SAMPLE_CHARS = 600  # the first 600 characters decide the script; longer samples only cost time
_CLASSIFIER_CHARS = 300  # py3langid's cost grows with the text; 300 characters separate en/es/de/vi/... well


_LETTER = re.compile(r"[^\W\d_]")
_SCRIPTS = {
    "hangul": re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]"),
    "kana": re.compile(r"[\u3040-\u30ff]"),
    "han": re.compile(r"[\u4e00-\u9fff]"),
    "latin": re.compile(r"[A-Za-z\u00c0-\u024f]"),
}
# One bit per class in a code-point table: bit 0 letters, then one bit per script (a script range also
# holds non-letters, such as unassigned code points and kana marks, and the counts keep them like the regexes).
_CLASSES = {"letters": _LETTER, **_SCRIPTS}
_BITS = {name: 1 << i for i, name in enumerate(_CLASSES)}
CLASS_BITS = dict(_BITS)
_VALUES = 1 << len(_CLASSES)
# _MEMBERSHIP[value, i] = 1 when table value ``value`` has bit i: bincount @ _MEMBERSHIP counts each class.
_MEMBERSHIP = (np.arange(_VALUES)[:, None] >> np.arange(len(_CLASSES))) & 1


@functools.cache
def _class_table() -> np.ndarray:
    return code_point_table((_BITS[name], rx) for name, rx in _CLASSES.items())


def char_classes(text: str) -> np.ndarray:
    """The class bits of each character of ``text`` (:data:`CLASS_BITS`: letters, then one bit per script)."""
    return _class_table()[code_points(text)]


def class_counts(text: str) -> dict[str, int]:
    """Number of letters and of Hangul, kana, Han and Latin characters in ``text``, as the regexes count them."""
    counts = np.bincount(_class_table()[code_points(text)], minlength=_VALUES) @ _MEMBERSHIP
    return dict(zip(_CLASSES, counts.tolist()))


def script_shares(text: str) -> dict[str, float]:
    """Shares of letters that are Hangul, kana, Han and Latin in ``text``."""
    counts = class_counts(text)
    letters = counts["letters"]
    return {name: (counts[name] / letters if letters else 0.0) for name in _SCRIPTS}


def _load_py3langid():
    """py3langid's bundled model (normalised probabilities) with its feature table as float32 instead of float16.

    Scores are bit-identical: float16 -> float32 is exact, and numpy converted the gathered float16 rows to
    float32 for the product anyway; converting once at load (+28 MB) instead of ~30,000 half floats per call
    saves about a third of ``classify``. The decompressed model is cached per machine (:mod:`.array_cache`):
    decompressing it costs ~0.35 s in every worker process.
    """
    from py3langid.langid import MODEL_DIR, MODEL_FILE
    from py3langid.langid import LanguageIdentifier as Py3LangId
    from py3langid.modelio import _to_array

    path = MODEL_DIR / MODEL_FILE
    stat = path.stat()
    model = cached_arrays("py3langid", cache_key(str(path), stat.st_size, stat.st_mtime_ns),
                          lambda: _model_arrays(path))
    return Py3LangId(model["ptc"], model["pc"], model["classes"].tolist(), _to_array(model["nextmove"]),
                     model["out_feat"].tolist(), norm_probs=True, tk_row=_to_array(model["nextmove_row"]))


def _model_arrays(path) -> dict[str, np.ndarray]:
    """The arrays of py3langid's model file as its ``load_model`` reads them, the feature table as float32."""
    from py3langid.modelio import load_model

    ptc, pc, classes, nextmove, row, output = load_model(path)
    return {"ptc": np.asarray(ptc, dtype=np.float32), "pc": np.asarray(pc), "classes": np.array(classes),
            "nextmove": _unsigned(nextmove), "nextmove_row": _unsigned(row),
            "out_feat": np.asarray(output, dtype=np.int64)}


def _unsigned(values) -> np.ndarray:
    """A stdlib ``array`` of unsigned ints as a numpy array of the same item size."""
    return np.frombuffer(values, dtype=f"<u{values.itemsize}").copy()


class LanguageIdentifier:
    """Identifies the main language of a text; build once per worker (it loads a model)."""

    def __init__(self, min_letters: int = 3):
        self._langid = _load_py3langid()
        self.min_letters = min_letters

    def detect(self, text: str) -> tuple[str, float]:
        """Return ``(ISO 639-1 code or "und", confidence)``."""
        sample = unicodedata.normalize("NFC", text[:_SAMPLE_CHARS])
        counts = class_counts(sample)
        letters = counts["letters"]
        if letters < self.min_letters:
            return UNDETERMINED, 0.0
        for lang, script, min_share in (("ko", "hangul", 0.3), ("ja", "kana", 0.1)):
            share = counts[script] / letters
            if share >= min_share:
                return lang, round(min(1.0, 0.5 + share), 3)
        lang, prob = self._langid.classify(sample[:_CLASSIFIER_CHARS])
        return lang, round(float(prob), 3)
