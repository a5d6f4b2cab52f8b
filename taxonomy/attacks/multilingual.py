"""Language mutations: pivot the request into another language, or switch languages mid-prompt (code-mixing).

Offline there is no translation model, so ``translation`` uses the seed's own text in the pivot language when the
generator passes it (``parallel``); without it, the user asks the model to translate into the pivot and answer
there, which is the same attack (refusal training is weaker off the main language) made by the model itself.
"""

from __future__ import annotations

from .phrases import languages_with, module, pick
from .registry import LANGUAGES, Context, Message, fill, register, user


@register("translation", "multilingual", languages_with("translation"),
          "the request in another language (the seed's parallel text, or 'translate into X and answer in X')")
def translation(prompt: str, ctx: Context) -> list[Message]:
    names = module(ctx.language).LANGUAGE_NAMES
    pivots = sorted(lang for lang, text in ctx.parallel.items() if lang != ctx.language and text.strip())
    if pivots:
        pivot = ctx.rng.choice(pivots)
        return user(fill(pick(ctx, "translation"), pivot_text=ctx.parallel[pivot], pivot=names[pivot]))
    pivot = ctx.rng.choice([lang for lang in LANGUAGES if lang != ctx.language])
    return user(fill(pick(ctx, "translation_fallback"), prompt=prompt, pivot=names[pivot]))


@register("language_switch", "multilingual", languages_with("language_switch"),
          "code-mixing: the prompt opens and closes in another language around the request")
def language_switch(prompt: str, ctx: Context) -> list[Message]:
    return user(fill(pick(ctx, "language_switch"), prompt=prompt))
