"""The one YAML loading path of Haetae's configuration files (policy, detector configs, taxonomy).

:func:`read_yaml_file` and :func:`parse_yaml` turn an unreadable, non-UTF-8 or malformed file, and a mapping
that repeats a key at any depth, into a :class:`YamlProblem` with the line; callers wrap it in their own error
class with the file name. YAML itself lets the last of two equal keys win silently, so a second
``KR_RRN: {action: keep}`` further down would quietly undo the first. :func:`load_config_file` loads the
detector configurations (recognisers, rights detectors): a parsed dict, a YAML path, or ``None`` for the file
shipped in ``policies/``; validation errors carry the dotted key path, and for files the file and line.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from haetae.errors import UsageError

_MERGE_TAG = "tag:yaml.org,2002:merge"
# YAML 1.2 (and JSON) read ``3e-3`` as a number; PyYAML's YAML 1.1 resolver needs a dot (``3.0e-3``) and turns
# the rest into the string "3e-3", which a learning rate or a threshold then refuses far from the file.
_EXPONENT_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")


class YamlProblem(ValueError):
    """A YAML file that cannot be used, found before any schema check: what, and the 1-based line if known."""

    def __init__(self, problem: str, line: int | None = None, column: int | None = None, syntax: bool = False):
        self.problem, self.line, self.column, self.syntax = problem, line, column, syntax
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"invalid YAML: {self.problem}" if self.syntax else self.problem

    def located(self, where: object) -> str:
        """``WHERE:line N: message`` (``WHERE: message`` without a line)."""
        return f"{where}:line {self.line}: {self.message}" if self.line else f"{where}: {self.message}"


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping names the same key twice; the mark is the second occurrence."""


class StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """PyYAML's safe loader (libyaml's parser when built with it) that rejects a key repeated in a mapping.

    Keys are compared as constructed (``yes`` and ``true`` are the same key); ``<<`` merge keys may be
    overridden by the mapping's own keys, as YAML intends. Numbers in exponent form without a dot (``3e-3``,
    ``1e5``, ``-2E-4``) are floats, as in YAML 1.2; quote them (``'1e5'``) to keep a string.
    """

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict:
        if isinstance(node, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    seen = first_line.get(key)
                except TypeError:  # an unhashable key: the base class reports it
                    continue
                if seen is not None:
                    raise DuplicateKeyError(None, None, f"duplicate key {key!r} (first at line {seen})",
                                            key_node.start_mark)
                first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT_FLOAT, list("-+0123456789"))


def load_yaml_value(text: str) -> Any:
    """One YAML value (a command-line ``KEY=VALUE``'s value) read exactly as the files are (:class:`StrictLoader`)."""
    return yaml.load(text, Loader=StrictLoader)


def read_yaml_file(path: str | Path) -> str:
    """The text of a YAML file; :class:`YamlProblem` for a folder, an unreadable or a non-UTF-8 file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise YamlProblem("is a folder, not a YAML file") from None
    except OSError as exc:
        raise YamlProblem(f"cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise YamlProblem(f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); save the file as "
                          "UTF-8", line) from None


def parse_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """The document and its node tree (for :func:`node_line`), parsed once with :class:`StrictLoader`.

    ``(None, None)`` for a file with no document (empty, or comments only).
    """
    loader = StrictLoader(text)
    try:
        root = loader.get_single_node()
        return (loader.construct_document(root) if root is not None else None), root
    except DuplicateKeyError as exc:
        raise YamlProblem(exc.problem, exc.problem_mark.line + 1) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise YamlProblem(str(getattr(exc, "problem", None) or exc), line, column, syntax=True) from None
    finally:
        loader.dispose()


def node_line(root: yaml.Node | None, path: list[Any]) -> int | None:
    """1-based line of the YAML node at ``path`` (or of its deepest existing parent)."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
            key = next((k for k, v in node.value if k.value == part), None)
            if match is None:
                return line
            node, line = match, key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def did_you_mean(name: object, known: Iterable[str]) -> str:
    """``"did you mean 'KR_RRN'?"`` for the closest known name, else the list of known names."""
    known = sorted(known)
    close = difflib.get_close_matches(str(name), known, n=1)
    return f"did you mean {close[0]!r}?" if close else f"known: {known}"


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
    if source is not None and not isinstance(source, str | Path):
        config = copy.deepcopy(source)
        try:
            validate(config)
        except error as exc:
            raise error(f"{kind}: {exc}", exc.key_path) from None
        return config
    where = default_name if source is None else str(source)
    try:
        if source is None:
            text = resources.files("haetae.policies").joinpath(default_name).read_text(encoding="utf-8")
        else:
            text = read_yaml_file(source)
        config, root = parse_yaml(text)
    except YamlProblem as exc:
        raise error(f"{kind} {exc.located(where)}") from None
    if root is None:
        raise error(f"{kind} {where}: the file is empty; a {kind} is a YAML mapping")
    try:
        validate(config)
    except error as exc:
        raise error(f"{where}:line {node_line(root, list(exc.key_path))}: {exc}", exc.key_path) from None
    return config


def read_key_file(path: str, what: str, error: type[UsageError] = UsageError) -> bytes:
    """The key in the file ``path`` (surrounding white space stripped); ``error`` naming the file and ``what``
    named it (e.g. "pii.key.file") when it cannot be read or is empty. The key never goes in a message."""
    try:
        with open(path, "rb") as fh:
            key = fh.read().strip()
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    if not key:
        raise error(f"{path}: {what} is empty; write a random key into it")
    return key
