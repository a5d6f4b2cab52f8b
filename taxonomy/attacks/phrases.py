"""The wrapper texts of the six languages, one module per language (``phrases_<lang>.py``), behind one lookup."""

from __future__ import annotations

from types import ModuleType

from . import phrases_de, phrases_en, phrases_es, phrases_ja, phrases_ko, phrases_vi
from .registry import Context

BY_LANGUAGE: dict[str, ModuleType] = {"ko": phrases_ko, "en": phrases_en, "ja": phrases_ja, "es": phrases_es,
                                      "de": phrases_de, "vi": phrases_vi}


def languages_with(key: str) -> tuple[str, ...]:
    """Languages whose module writes wrapper ``key`` (a mutation registers exactly these)."""
    return tuple(lang for lang, module in BY_LANGUAGE.items() if module.WRAPPERS.get(key))


def pick(ctx: Context, key: str) -> str:
    """One variant of wrapper ``key`` in the context's language, chosen by the mutation's seeded RNG."""
    return ctx.rng.choice(BY_LANGUAGE[ctx.language].WRAPPERS[key])


def module(language: str) -> ModuleType:
    return BY_LANGUAGE[language]
