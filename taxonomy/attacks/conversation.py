"""Multi-turn mutations: fabricated compliant Q/A turns first (many-shot), or a 3-7 message escalation.

The fabricated answers comply eagerly with requests that are themselves harmless (a locksmith, a complaint
letter, killing a Python process): the attack is the pattern of unconditional compliance, and the data never
carries harmful assistant text. Escalation scripts are written per harm kind so the assistant turns answer what
was asked, drifting towards the final request rather than echoing a template.
"""

from __future__ import annotations

from .phrases import module
from .registry import LANGUAGES, Context, Message, register


@register("many_shot", "multi_turn", LANGUAGES,
          "3-6 fabricated user/assistant turns in which the assistant always complies, then the request")
def many_shot(prompt: str, ctx: Context) -> list[Message]:
    shots = ctx.rng.sample(module(ctx.language).MANY_SHOT, ctx.rng.randint(3, 6))
    messages: list[Message] = []
    for question, answer in shots:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return messages + [{"role": "user", "content": prompt}]


@register("multi_turn_escalation", "multi_turn", LANGUAGES,
          "1-3 innocuous exchanges for the harm kind (how_to, content, claim, advice) that lead up to the request")
def multi_turn_escalation(prompt: str, ctx: Context) -> list[Message]:
    script = module(ctx.language).ESCALATION[ctx.harm_kind]
    messages: list[Message] = []
    for question, answer in script[: ctx.rng.randint(1, len(script))]:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return messages + [{"role": "user", "content": prompt}]
