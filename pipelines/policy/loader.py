"""The one loading and validation path of Haetae's configuration files (policy, detector configs, gate, taxonomy).

:func:`read_yaml_file` and :func:`parse_yaml` turn an unreadable, non-UTF-8 or malformed file, and a mapping
that repeats a key at any depth, into a :class:`YamlProblem` with the line; callers wrap it in their own error
class with the file name. YAML itself lets the last of two equal keys win silently, so a second
``KR_RRN: {action: keep}`` further down would quietly undo the first.

Each configuration file has one JSON schema, shipped as package data in ``policies/schemas/NAME.schema.json``
(a schema may ``$ref`` another by its ``$id``, ``urn:haetae:schema:NAME``). :func:`schema_problem` validates a
document against it and turns the first error (in key-path order) into a key path and a one-line message: an
unknown key with a did-you-mean, a missing key, a wrong type or bound in words; a schema node's ``x-message``
replaces the message of errors found at that node (the key file of a policy never echoes a value that could be
the key). What a schema cannot say (recogniser names in their registry, operator parameters, ``bands * rows``)
is checked after it by small functions of the module that owns the file. :func:`load_config_file` runs both for
the detector configurations and the gate: a parsed dict, a YAML path, or ``None`` for the file shipped in
``policies/``; errors carry the dotted key path, and for files ``FILE:line N:`` from the YAML node.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import re
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from haetae.errors import UsageError

SCHEMA_PACKAGE, SCHEMA_FOLDER, SCHEMA_SUFFIX = "haetae.policies", "schemas", ".schema.json"
MESSAGE_KEY = "x-message"
"""A schema node's own message for the errors found at it (not for unknown or missing keys below it)."""

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


def did_you_mean(name: object, known: Iterable[str], label: str = "known") -> str:
    """``"did you mean 'KR_RRN'?"`` for the closest known name, else ``"LABEL: [the known names]"``."""
    known = sorted(known)
    close = difflib.get_close_matches(str(name), known, n=1)
    return f"did you mean {close[0]!r}?" if close else f"{label}: {known}"


class ConfigError(UsageError):
    """An invalid configuration; the message names the key (and line, for files)."""

    def __init__(self, message: str, key_path: tuple[Any, ...] = ()):
        super().__init__(message)
        self.key_path = key_path


KeyPath = str | tuple[Any, ...]
"""A dotted key path (``"recognizers.kr_phone"``, ``""`` for the top level) or its parts (list indices as ints)."""


def dotted(path: KeyPath) -> str:
    return path if isinstance(path, str) else ".".join(str(part) for part in path)


def fail(error: type[ConfigError], path: KeyPath, message: str) -> ConfigError:
    """An ``error`` ``"dotted.key.path: message"`` for the key ``path`` (just the message at the top level)."""
    parts = tuple(path.split(".")) if isinstance(path, str) and path else () if isinstance(path, str) else path
    return error(f"{dotted(path)}: {message}" if parts else message, tuple(parts))


def at_line(where: object, root: yaml.Node | None, exc: ConfigError) -> str:
    """``WHERE:line N: dotted.key: message``, the line that of the YAML node at the error's key path."""
    return f"{where}:line {node_line(root, list(exc.key_path))}: {exc}"


# ---------------------------------------------------------------------------------------------- schemas


@functools.lru_cache(maxsize=1)
def _schemas() -> dict[str, dict]:
    folder = resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FOLDER)
    return {entry.name[: -len(SCHEMA_SUFFIX)]: json.loads(entry.read_text(encoding="utf-8"))
            for entry in folder.iterdir() if entry.name.endswith(SCHEMA_SUFFIX)}


def load_schema(name: str) -> dict:
    """A copy of the schema ``policies/schemas/NAME.schema.json``."""
    return copy.deepcopy(_schemas()[name])


@functools.cache
def schema_validator(name: str):
    """A Draft 2020-12 validator of the schema ``name`` that resolves ``$ref``s to the other shipped schemas."""
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    schemas = _schemas()
    registry = Registry().with_resources(
        (schema["$id"], DRAFT202012.create_resource(schema)) for schema in schemas.values())
    return Draft202012Validator(schemas[name], registry=registry)


def _path_order(path: Iterable[Any]) -> tuple:
    """Errors sort by key path (list indices numerically), as the document's keys would be listed."""
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in path)


_TYPE_NAMES = {"boolean": "true/false", "integer": "an integer", "number": "a number", "string": "a string",
               "array": "a list", "object": "a mapping", "null": "null"}


def _type_of(value: Any) -> str:
    return "true/false" if isinstance(value, bool) else "null" if value is None else type(value).__name__


def _bounds(schema: dict) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"must be between {low} and {high}"
    parts = [f"{op} {schema[key]}" for key, op in (("minimum", ">="), ("exclusiveMinimum", ">"),
                                                    ("maximum", "<="), ("exclusiveMaximum", "<")) if key in schema]
    return "must be " + " and ".join(parts)


def _explain(error) -> tuple[tuple[Any, ...], str]:
    """The key path and message of one jsonschema error."""
    where, schema = tuple(error.path), error.schema if isinstance(error.schema, dict) else {}
    kind = error.validator
    if kind == "additionalProperties":
        allowed = schema.get("properties") or {}
        extra = sorted((key for key in error.instance if key not in allowed), key=str)
        if extra:
            return (*where, str(extra[0])), f"unknown key; {did_you_mean(extra[0], allowed, label='allowed')}"
    if kind == "required":
        missing = next((key for key in error.validator_value if key not in error.instance), None)
        return where, f"missing required key {missing!r}"
    if MESSAGE_KEY in schema:
        return where, schema[MESSAGE_KEY]
    if kind == "type":
        expected = [error.validator_value] if isinstance(error.validator_value, str) else error.validator_value
        return where, f"must be {' or '.join(_TYPE_NAMES[t] for t in expected)}, got {_type_of(error.instance)}"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return where, _bounds(schema)
    if kind in ("minLength", "minItems") and error.validator_value == 1:
        return where, "must not be empty"
    return where, error.message


def schema_problem(doc: Any, schema: str) -> tuple[tuple[Any, ...], str] | None:
    """``(key path, message)`` of the first error of ``doc`` against the shipped schema ``schema``, or None."""
    first = min(schema_validator(schema).iter_errors(doc), key=lambda e: _path_order(e.path), default=None)
    return None if first is None else _explain(first)


def check_schema(doc: Any, schema: str, error: type[ConfigError]) -> None:
    """Raise ``error`` (``dotted.key: message``, with the key path) for the first schema error of ``doc``."""
    problem = schema_problem(doc, schema)
    if problem is not None:
        raise fail(error, *problem)


def load_config_file(
    source: dict | str | Path | None, *, default_name: str, kind: str, schema: str,
    error: type[ConfigError], check: Callable[[dict], None] | None = None,
) -> dict:
    """Return a validated copy of a configuration: the schema ``schema``, then ``check`` (the cross-field
    rules), which raises ``error`` with a key path."""
    def validate(config: Any) -> None:
        check_schema(config, schema, error)
        if check is not None:
            check(config)

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
        raise error(at_line(where, root, exc), exc.key_path) from None
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
