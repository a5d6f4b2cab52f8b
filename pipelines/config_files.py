"""Loading the YAML configuration files of the detectors (recognisers, rights detectors).

A configuration is a parsed dict, a YAML path, or ``None`` for the file shipped in ``policies/``. Validation
errors carry the dotted key path of the bad value; for files the message names the file and line.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from haetae.errors import UsageError


class ConfigError(UsageError):
    """An invalid configuration; the message names the key (and line, for files)."""

    def __init__(self, message: str, key_path: tuple[str, ...] = ()):
        super().__init__(message)
        self.key_path = key_path


def fail(error: type[ConfigError], path: str, message: str) -> ConfigError:
    """An ``error`` for the dotted key ``path`` ("" for the top level)."""
    return error(f"{path}: {message}" if path else message, tuple(path.split(".")) if path else ())


def check_top_level(config: Any, allowed: dict, error: type[ConfigError]) -> None:
    """The top level must be a mapping whose keys are all in ``allowed``."""
    if not isinstance(config, dict):
        raise fail(error, "", "the top level must be a mapping")
    for key in config:
        if key not in allowed:
            raise fail(error, str(key), f"unknown key; allowed: {sorted(allowed)}")


def load_config_file(
    source: dict | str | Path | None, *, default_name: str, kind: str,
    validate: Callable[[Any], None], error: type[ConfigError],
) -> dict:
    """Return a validated copy of a configuration; ``validate`` raises ``error`` with a key path."""
    from haetae.pipelines.policy import node_line  # YAML key path -> line, shared with the data policy

    if source is not None and not isinstance(source, str | Path):
        config = copy.deepcopy(source)
        try:
            validate(config)
        except error as exc:
            raise error(f"{kind}: {exc}", exc.key_path) from None
        return config
    if source is None:
        where = default_name
        text = resources.files("haetae.policies").joinpath(default_name).read_text(encoding="utf-8")
    else:
        where = str(source)
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise error(f"cannot read {kind} {where}: {exc.strerror}") from None
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{where}: invalid YAML: {exc}") from None
    try:
        validate(config)
    except error as exc:
        line = node_line(yaml.compose(text), list(exc.key_path))
        raise error(f"{where}:line {line}: {exc}", exc.key_path) from None
    return config
