"""Lazy re-exports for package ``__init__`` modules (PEP 562): the public names of a package without importing
its submodules until a name is used, so ``import haetae.pipelines.io.records`` does not pay for Beam or Presidio."""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[list[str], Callable, Callable]:
    """``exports`` maps a public name to the submodule (relative to ``package``) that defines it; returns
    ``__all__``, ``__getattr__`` and ``__dir__`` for the package's ``__init__``."""

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    def __dir__() -> list[str]:
        return sorted(exports)

    return sorted(exports), __getattr__, __dir__
