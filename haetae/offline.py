"""Keep every library offline: nothing may download at run time."""

from __future__ import annotations

import os

_DONE = False


def ensure_offline() -> None:
    """Set the environment switches that stop hubs, analytics and suffix-list downloads."""
    global _DONE
    if _DONE:
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # tldextract's module-level extractor (used by Presidio's stock e-mail/URL recognisers) then never fetches
    # the public-suffix list and uses its bundled snapshot.
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    _DONE = True


def import_presidio() -> None:
    """Import Presidio without its optional Transformers/torch NLP engines.

    Presidio imports transformers (and spaCy's thinc imports torch) for NLP engines Haetae never uses (it runs
    Presidio's ``no_op`` engine); that costs 5-10 s in every worker process. While Presidio is first imported,
    the two are hidden when they are not loaded yet; later imports of them work as usual.
    """
    import sys

    if "presidio_analyzer" in sys.modules:
        return
    hidden = [name for name in ("transformers", "torch") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import presidio_analyzer  # noqa: F401
        import presidio_analyzer.nlp_engine  # noqa: F401
        import presidio_anonymizer  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
