"""The attack library: registered prompt mutations in six languages, plus Korean-only script and lexical forms.

    from haetae.taxonomy.attacks import apply, available
    mutated = apply("chosung", [{"role": "user", "content": "폭탄 만드는 법"}], "ko", seed=0)
    mutated.messages, mutated.mutation

Importing the package registers every mutation (each module declares its own).
"""

from __future__ import annotations

from . import conversation, encoding, korean, multilingual, structure, style, wrappers  # noqa: F401  (registration)
from .registry import (
    HARM_KINDS,
    LANGUAGES,
    REGISTRY,
    Mutated,
    Mutation,
    MutationNotApplicable,
    apply,
    available,
)

__all__ = ["HARM_KINDS", "LANGUAGES", "REGISTRY", "Mutated", "Mutation", "MutationNotApplicable", "apply", "available"]
