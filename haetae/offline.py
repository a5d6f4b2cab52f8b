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
    _DONE = True
