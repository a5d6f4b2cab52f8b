"""Data policy: schema validation (errors name the YAML line), and the decision rules' entry points.

The rules themselves are :mod:`haetae.pipelines.policy_rules` (an ordered list of :class:`Rule` objects),
re-exported here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema

from haetae.errors import UsageError
from haetae.pipelines.config_files import (
    ConfigError,
    YamlProblem,
    did_you_mean,
    node_line,
    parse_yaml,
    read_yaml_file,
)
from haetae.pipelines.minhash import DEDUP_PARAMS_SCHEMA, DedupParams
from haetae.pipelines.policy_rules import (
    FINAL,
    FINAL_RULES,
    PRE_DEDUP,
    PRE_DEDUP_RULES,
    REGISTRY_DEFAULTS,
    RULES,
    Rule,
    Verdict,
    final_verdict,
    first_verdict,
    pre_dedup_verdict,
    registry_rule,
    rules_named,
    spans_to_redact,
)
from haetae.pipelines.spdx import LicenceLists

if TYPE_CHECKING:
    from haetae.pipelines.pseudonyms import PiiKey

__all__ = [
    "ACTIONS", "FINAL", "FINAL_RULES", "POLICY_SCHEMA", "PRE_DEDUP", "PRE_DEDUP_RULES", "REGISTRY_DEFAULTS",
    "RULES", "Policy", "PolicyError", "Rule", "Verdict", "final_verdict", "first_verdict", "load_policy",
    "pre_dedup_verdict", "registry_rule", "rules_named", "spans_to_redact",
]

ACTIONS = ("redact", "drop", "keep")
_ACTION = {"enum": list(ACTIONS)}
_OPERATOR = {
    "type": "object",
    "properties": {"type": {"enum": ["replace", "mask", "hash", "redact", "keep", "pseudonym"]}},
    "required": ["type"],
}
_ENTITY_RULE = {
    "type": "object",
    "properties": {"action": _ACTION, "operator": _OPERATOR},
    "required": ["action"],
    "additionalProperties": False,
}
_RATE = {"type": "number", "minimum": 0, "maximum": 1}

POLICY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "version", "limits", "pii", "rights", "dedup", "validation"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "version": {"type": ["integer", "string"]},
        "limits": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "max_bytes": {"type": "integer", "minimum": 1},
                "min_chars": {"type": "integer", "minimum": 0},
            },
        },
        "pii": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "recognizers": {"type": "string"},
                "default": _ENTITY_RULE,
                "entities": {"type": "object", "additionalProperties": _ENTITY_RULE},
                "max_redactions": {"type": "integer", "minimum": 0},
                "key": {  # where keyed operators find the key (never the key itself): haetae.pipelines.pseudonyms
                    "type": "object", "additionalProperties": False,
                    "properties": {
                        "env": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                        "file": {"type": "string", "minLength": 1},
                    },
                },
                "fields": {  # PII outside the text field: haetae.pipelines.pii_fields
                    "type": "object", "additionalProperties": False,
                    "properties": {
                        "scan": {"anyOf": [{"const": "all_strings"},
                                           {"type": "array", "items": {"type": "string", "minLength": 1}}]},
                        "ids": {"enum": ["hash", "keep"]},
                        "id_hash_key_file": {"type": "string", "minLength": 1},
                    },
                },
            },
        },
        "rights": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "detectors": {"type": "string"},
                "licences": {
                    "type": "object", "additionalProperties": False,
                    "properties": {
                        "allow": {"type": "array", "items": {"type": "string"}},
                        "deny": {"type": "array", "items": {"type": "string"}},
                        "unknown": _ACTION,
                    },
                },
                "copyright": {
                    "type": "object", "additionalProperties": False,
                    "properties": {"notice_without_allowed_licence": {"enum": ["drop", "keep", "quarantine"]}},
                },
                "registry": {  # protected works: haetae.pipelines.registry, haetae.pipelines.rights_registry
                    "type": "object", "additionalProperties": False,
                    "properties": {
                        "path": {"type": "string", "minLength": 1},
                        "max_fraction": _RATE,
                        "action": {"enum": ["drop", "keep", "quarantine"]},
                    },
                },
            },
        },
        "dedup": {
            "type": "object", "additionalProperties": False,
            "properties": {"exact": _ACTION, "near": _ACTION, "minhash": DEDUP_PARAMS_SCHEMA},
        },
        "quality": {
            "type": "object", "additionalProperties": False,
            "properties": {"max_symbol_ratio": _RATE, "max_repeated_line_ratio": _RATE},
        },
        "languages": {
            "type": "object", "additionalProperties": False,
            "properties": {"allow": {"type": "array", "items": {"type": "string"}}},
        },
        "quarantine": {  # the quarantine at rest: haetae.pipelines.quarantine
            "type": "object", "additionalProperties": False,
            "properties": {
                "raw": {"enum": ["keep", "redact", "encrypt"]},
                "key_file": {"type": "string", "minLength": 1},
            },
        },
        "validation": {
            "type": "object", "additionalProperties": False,
            "properties": {"max_duplicate_rate": _RATE, "max_quarantine_rate": _RATE},
        },
        "inputs": {  # a file that cannot be read to its end: stop the job, or quarantine the file (io.py)
            "type": "object", "additionalProperties": False,
            "properties": {"on_corrupt_file": {"enum": ["fail", "quarantine"]}},
        },
    },
}


class PolicyError(UsageError):
    """A policy file that cannot be used; the message names the file and line."""


@dataclass
class Policy:
    """A validated data policy."""

    name: str
    path: str
    sha256: str
    doc: dict[str, Any]
    dedup_params: DedupParams = field(default_factory=DedupParams)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.sha256[:12]}"

    def section(self, name: str) -> dict[str, Any]:
        return self.doc.get(name) or {}

    def resolve(self, relative: str) -> str:
        """A path named in the policy, relative to the policy file."""
        return str((Path(self.path).parent / relative).resolve())

    def licence_lists(self) -> LicenceLists:
        """``rights.licences`` allow and deny lists (``KOGL-TypeN`` read as ``LicenseRef-KOGL-TypeN``)."""
        if not hasattr(self, "_licence_lists"):
            licences = self.section("rights").get("licences") or {}
            self._licence_lists = LicenceLists(licences.get("allow") or [], licences.get("deny") or [])
        return self._licence_lists

    def entity_rule(self, entity: str) -> dict[str, Any]:
        pii = self.section("pii")
        return (pii.get("entities") or {}).get(entity) or pii.get("default") or {"action": "redact"}

    def operators(self) -> dict[str, dict[str, Any]]:
        """Presidio anonymizer operator configs per entity type (typed placeholders unless set)."""
        pii = self.section("pii")
        out = {e: r["operator"] for e, r in (pii.get("entities") or {}).items() if "operator" in r}
        default = (pii.get("default") or {}).get("operator")
        if default:
            out["DEFAULT"] = default
        return out

    def redaction_key(self, key_file: str | None = None, flag: str | None = None) -> PiiKey | None:
        """The key of keyed operators (``pii.key``; ``key_file``, given by the command's ``flag``, first): a
        :class:`PiiKeyError` naming the rules that need it when there is none; None when no rule needs one and
        none is set."""
        from haetae.pipelines import pii
        from haetae.pipelines.pseudonyms import is_keyed, load_key

        section = self.section("pii")
        rules = {f"pii.entities.{e}": r for e, r in (section.get("entities") or {}).items()}
        rules["pii.default"] = section.get("default") or {}
        needed = [name for name, rule in rules.items() if is_keyed(rule.get("operator") or {})]
        config = pii.load_config(self.resolve(section.get("recognizers", pii.DEFAULT_CONFIG)))
        needed += [f"operators.{e} of {section.get('recognizers', pii.DEFAULT_CONFIG)}"
                   for e, spec in (config.get("operators") or {}).items() if is_keyed(spec)]
        return load_key(section.get("key"), self.resolve, key_file, needed, flag, origin=self.path)


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate a policy file; ``None`` loads the shipped default."""
    from haetae.policies import DEFAULT_DATA_POLICY

    path = Path(path or DEFAULT_DATA_POLICY)
    try:
        text = read_yaml_file(path)
        doc, root = parse_yaml(text)
    except YamlProblem as exc:
        raise PolicyError(exc.located(path)) from None
    if root is None:
        raise PolicyError(f"{path}: the file is empty; a policy is a YAML mapping (see policies/data_policy.yaml)")
    if not isinstance(doc, dict):
        raise PolicyError(f"{path}:line {node_line(root, [])}: a policy must be a YAML mapping, not a "
                          f"{type(doc).__name__}")
    errors = sorted(jsonschema.Draft202012Validator(POLICY_SCHEMA).iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        err = errors[0]
        where = list(err.path)
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            if extra:
                where = [*where, extra[0]]
                msg = f"unknown key {extra[0]!r}"
            else:
                msg = err.message
        elif where[:2] == ["pii", "key"] and err.validator in ("type", "pattern"):  # a key value must not be echoed
            msg = {"env": "must name an environment variable (letters, digits and _), not hold the key",
                   "file": "must be the path of a key file"}.get(
                where[2] if len(where) > 2 else "",
                "must be a mapping {env: VARIABLE} and/or {file: PATH}; the key itself never goes here")
        else:
            msg = err.message
        dotted = ".".join(str(p) for p in where) or "(top level)"
        raise PolicyError(f"{path}:line {node_line(root, where)}: {dotted}: {msg}")
    try:
        params = DedupParams.from_dict((doc.get("dedup") or {}).get("minhash") or {})
    except ValueError as exc:
        raise PolicyError(f"{path}:line {node_line(root, ['dedup', 'minhash'])}: dedup.minhash: {exc}") from exc
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    policy = Policy(name=doc["name"], path=str(path.resolve()), sha256=digest, doc=doc, dedup_params=params)
    check_detector_names_and_operators(policy, root, path)
    return policy


def _at(policy_path: str | Path, root: Any, where: list[str], message: str) -> PolicyError:
    """A :class:`PolicyError` ``FILE:line N: dotted.key: message`` for the node at ``where``."""
    return PolicyError(f"{policy_path}:line {node_line(root, where)}: {'.'.join(where)}: {message}")


def check_detector_names_and_operators(policy: Policy, root: Any, path: str | Path) -> None:
    """Load the detector configurations the policy names, then check its entity names and operators.

    An entity name no configured recogniser reports is an error, not a rule that never fires: ``KR_RNN: drop``
    would leave resident registration numbers on the default action. Operator parameters are checked by
    Presidio's own operator classes here, so a bad one fails before the job, not in a worker.
    """
    from haetae.pipelines import pii, rights

    section = policy.section("pii")
    configs = {}
    for key, default, loader in (("pii.recognizers", pii.DEFAULT_CONFIG, pii.load_config),
                                 ("rights.detectors", rights.DEFAULT_CONFIG, rights.load_config)):
        where = key.split(".")
        try:
            configs[key] = loader(policy.resolve(policy.section(where[0]).get(where[1], default)))
        except ConfigError as exc:
            raise _at(path, root, where, str(exc)) from None
    known = pii.configured_entities(configs["pii.recognizers"])
    entities = section.get("entities") or {}
    for entity in entities:
        if entity not in known:
            recognizers = section.get("recognizers", pii.DEFAULT_CONFIG)
            raise _at(path, root, ["pii", "entities", entity], f"unknown entity {entity!r}: no recogniser in "
                      f"{recognizers} reports it; {did_you_mean(entity, known)}")
    rules = {("entities", entity): rule for entity, rule in entities.items()}
    if "default" in section:
        rules[("default",)] = section["default"]
    for where, rule in rules.items():
        problem = pii.operator_problem(rule["operator"]) if "operator" in rule else None
        if problem:
            key, message = problem
            raise _at(path, root, ["pii", *where, "operator", *([key] if key else [])], message)


