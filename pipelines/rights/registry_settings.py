"""Which protected-works registry an audit checks against, resolved and verified before the job starts.

The registry comes from ``haetae audit --registry REG`` or the policy's ``rights.registry.path`` (relative to
the policy file); the flag wins. The driver opens it here, so a missing, damaged or foreign file is one
:class:`~haetae.pipelines.rights.registry.RegistryError` line (exit 2) before any output is touched, and hashes it for
the run manifest. Workers load it again (memory-mapped) in their ``setup``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from haetae.errors import one_line
from haetae.pipelines.policy.rules import registry_rule
from haetae.pipelines.policy.schema import Policy
from haetae.pipelines.rights.registry import Registry, RegistryError


@dataclass(frozen=True)
class RegistrySettings:
    """A verified registry file: absolute path, sha256 of its bytes, and the policy's rule for it."""

    path: str
    sha256: str
    max_fraction: float
    action: str

    def load(self) -> Registry:
        return open_registry(self.path)

    def manifest(self) -> dict[str, object]:
        return {"path": self.path, "sha256": self.sha256, "max_fraction": self.max_fraction, "action": self.action}


def open_registry(path: str) -> Registry:
    """:meth:`Registry.load`, with every way a file can be unusable (a folder, unreadable, a header with keys
    missing) as one :class:`RegistryError` line."""
    try:
        return Registry.load(path)  # its constructor reads the header's unit, ngram and seed
    except RegistryError:
        raise
    except IsADirectoryError:
        raise RegistryError(f"{path}: is a folder, not a registry file") from None
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read ({exc.strerror or one_line(exc)})") from None
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise RegistryError(f"{path}: damaged registry header ({one_line(exc) or type(exc).__name__})") from None


def resolve_registry(policy: Policy, cli_path: str | None = None) -> RegistrySettings | None:
    """The registry to check, or None when neither the flag nor the policy names one.

    A ``rights.registry`` section without a path and no flag is an error: the policy asks for a check that
    would silently not run."""
    import os

    section = policy.section("rights").get("registry")
    if cli_path:
        path = os.path.abspath(cli_path)
    elif section is not None and section.get("path"):
        path = policy.resolve(section["path"])
    elif section is not None:
        raise RegistryError(f"{policy.path}: rights.registry has no path; give one there or --registry REG")
    else:
        return None
    open_registry(path)
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    max_fraction, action = registry_rule(policy)
    return RegistrySettings(path, digest.hexdigest(), max_fraction, action)
