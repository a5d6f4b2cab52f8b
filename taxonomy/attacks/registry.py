"""The mutation registry: every attack is declared once with a name, a family, its languages and one line.

Like Presidio's recognisers or verl's advantage estimators, a mutation is a plain function registered under a
name; the generator only ever calls :func:`apply` and :func:`available`, so adding an attack is one decorated
function, and the registry is the single list a coverage report or a test can enumerate.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from haetae.errors import UsageError

LANGUAGES: tuple[str, ...] = ("ko", "en", "ja", "es", "de", "vi")
HARM_KINDS: tuple[str, ...] = ("how_to", "content", "claim", "advice")

Message = dict[str, str]


class MutationNotApplicable(UsageError):
    """The mutation would leave this prompt unchanged (e.g. 마약 은어 for a prompt naming no drug): count it, do not
    record an unmutated prompt under the mutation's name."""


@dataclass(frozen=True)
class Context:
    """What a mutation may read besides the prompt: its seeded RNG and optional helpers from the generator."""

    language: str
    rng: random.Random
    harm_kind: str = "how_to"
    parallel: Mapping[str, str] = field(default_factory=dict)  # the same seed written in other languages
    keywords: tuple[str, ...] = ()  # the words that carry the harm (Korean script attacks hide these first)


@dataclass(frozen=True)
class Mutated:
    messages: list[Message]
    mutation: str


MutationFn = Callable[[str, Context], list[Message]]


@dataclass(frozen=True)
class Mutation:
    name: str
    family: str
    languages: tuple[str, ...]
    description: str
    fn: MutationFn


REGISTRY: dict[str, Mutation] = {}


def register(name: str, family: str, languages: Sequence[str], description: str) -> Callable[[MutationFn], MutationFn]:
    """Declare a mutation: ``fn(prompt, ctx)`` returns the full mutated messages list ending with a user turn."""
    unknown = set(languages) - set(LANGUAGES)
    if unknown:
        raise ValueError(f"mutation {name}: unknown language(s) {sorted(unknown)}")

    def decorate(fn: MutationFn) -> MutationFn:
        if name in REGISTRY:
            raise ValueError(f"mutation {name} registered twice")
        REGISTRY[name] = Mutation(name, family, tuple(languages), description, fn)
        return fn

    return decorate


def available(language: str) -> list[str]:
    """Names of the mutations that apply to ``language``, sorted."""
    return sorted(name for name, m in REGISTRY.items() if language in m.languages)


def rng_for(seed: int | str, item_id: str, name: str) -> random.Random:
    return random.Random(f"{seed}|{item_id}|{name}")


def _content_id(messages: Sequence[Message]) -> str:
    joined = "\x1e".join(f"{m['role']}\x1f{m['content']}" for m in messages)
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()[:16]


def _check_messages(messages: Sequence[Message], where: str) -> None:
    if not messages:
        raise UsageError(f"{where}: empty messages list")
    for turn in messages:
        if not isinstance(turn, Mapping) or turn.get("role") not in ("system", "user", "assistant") \
                or not isinstance(turn.get("content"), str):
            raise UsageError(f"{where}: each message needs role system|user|assistant and string content: {turn!r}")
    if messages[-1]["role"] != "user" or not messages[-1]["content"].strip():
        raise UsageError(f"{where}: the last message must be a non-empty user turn (the prompt to mutate)")


def apply(name: str, messages: Sequence[Message], language: str, seed: int | str = 0, *,
          item_id: str | None = None, harm_kind: str = "how_to",
          parallel: Mapping[str, str] | None = None, keywords: Sequence[str] = ()) -> Mutated:
    """Mutate the last user turn of ``messages``; earlier turns are kept in front of the result.

    Deterministic given (seed, item_id, name); ``item_id`` defaults to a hash of the messages. ``parallel`` maps
    other languages to this seed's text in them (translation uses it when present); ``keywords`` names the words
    the Korean script attacks should hide (default: the longest words of the prompt). Raises ``UsageError`` for an
    unknown mutation, a language it does not cover or malformed messages, and ``MutationNotApplicable`` when the
    prompt gives the mutation nothing to change.
    """
    mutation = REGISTRY.get(name)
    if mutation is None:
        raise UsageError(f"unknown mutation {name!r}; known: {', '.join(sorted(REGISTRY))}")
    if language not in mutation.languages:
        raise UsageError(f"mutation {name} does not cover language {language!r} (covers {', '.join(mutation.languages)})")
    if harm_kind not in HARM_KINDS:
        raise UsageError(f"unknown harm kind {harm_kind!r}; known: {', '.join(HARM_KINDS)}")
    _check_messages(messages, f"mutation {name}")
    history = [dict(m) for m in messages[:-1]]
    prompt = messages[-1]["content"]
    ctx = Context(language, rng_for(seed, item_id or _content_id(messages), name), harm_kind, dict(parallel or {}),
                  tuple(keywords))
    mutated = mutation.fn(prompt, ctx)
    _check_messages(mutated, f"mutation {name} (output)")
    return Mutated(history + mutated, name)


def user(text: str) -> list[Message]:
    return [{"role": "user", "content": text}]


def fill(template: str, **values: str) -> str:
    """``{prompt}``-style substitution that leaves any other braces in the prompt alone."""
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template
