"""Every module that declares PII recognisers, imported once: after ``import catalogue``,
:data:`~haetae.pipelines.pii.recognizers.base.RECOGNIZERS` holds them all by name (the names
policies/pii_recognizers.yaml switches on per language). A new module of recognisers is added here.

Korean identifiers and phones are in :mod:`.korea`, names and addresses in :mod:`.korea_names` and
:mod:`.korea_addresses`, the rest in :mod:`.international`, English names through NER in :mod:`.english_names`;
the registry, the gates and the pattern base class in :mod:`.base`."""

from __future__ import annotations

from haetae.pipelines.pii.recognizers import (  # noqa: F401  (each registers its classes on import)
    english_names,
    international,
    korea,
    korea_addresses,
    korea_names,
)
from haetae.pipelines.pii.recognizers.base import RECOGNIZERS

__all__ = ["RECOGNIZERS"]
