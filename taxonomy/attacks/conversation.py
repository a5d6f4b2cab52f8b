"""Multi-turn mutations: fabricated compliant Q/A turns first (many-shot), or a 3-8 user-turn escalation.

The fabricated answers comply eagerly with requests that are themselves harmless (a locksmith, a complaint
letter, killing a Python process): the attack is the pattern of unconditional compliance, and the data never
carries harmful assistant text. Escalation scripts are written per harm kind so the assistant turns answer what
was asked, drifting towards the final request rather than echoing a template.
"""

from __future__ import annotations

from .phrases import module
from .registry import LANGUAGES, Context, Message, register

MAX_ESCALATION_USER_TURNS = 8


@register("many_shot", "multi_turn", LANGUAGES,
          "3-6 fabricated user/assistant turns in which the assistant always complies, then the request")
def many_shot(prompt: str, ctx: Context) -> list[Message]:
    shots = ctx.rng.sample(module(ctx.language).MANY_SHOT, ctx.rng.randint(3, 6))
    messages: list[Message] = []
    for question, answer in shots:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return messages + [{"role": "user", "content": prompt}]


@register("multi_turn_escalation", "multi_turn", LANGUAGES,
          "a 3-8 user-turn conversation for the harm kind (how_to, content, claim, advice) drifting to the request")
def multi_turn_escalation(prompt: str, ctx: Context) -> list[Message]:
    """The script's opening exchanges in order (at least one), its bridging exchange, then the request: 3 to
    ``len(script) + 1`` user turns (8 in Korean and English, whose scripts hold six openings; 5 in the others)."""
    script = module(ctx.language).ESCALATION[ctx.harm_kind]
    openings, bridge = script[:-1], script[-1]
    chosen = openings[: ctx.rng.randint(1, min(len(openings), MAX_ESCALATION_USER_TURNS - 2))]
    messages: list[Message] = []
    for question, answer in (*chosen, bridge):
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return messages + [{"role": "user", "content": prompt}]
