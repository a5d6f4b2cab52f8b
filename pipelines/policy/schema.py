"""Data policy: loading and validation (errors name the YAML line).

The file is validated against its schema (policies/schemas/data_policy.schema.json) through the one
configuration path (:mod:`haetae.pipelines.policy.loader`), then by the checks a schema cannot state:
``dedup.minhash``'s parameters, the detector files it names, entity names that their recognisers report and
operator parameters as Presidio reads them. The decision rules are :mod:`haetae.pipelines.policy.rules`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from haetae.pipelines.dedup.minhash import DedupParams
from haetae.pipelines.policy.loader import (
    ConfigError,
    YamlProblem,
    at_line,
    did_you_mean,
    fail,
    load_schema,
    node_line,
    parse_yaml,
    read_yaml_file,
    schema_problem,
)
from haetae.pipelines.rights.spdx import LicenceLists

if TYPE_CHECKING:
    from haetae.pipelines.pii.pseudonyms import PiiKey

__all__ = ["ACTIONS", "POLICY_SCHEMA", "Policy", "PolicyError", "load_policy"]

SCHEMA = "data_policy"
POLICY_SCHEMA: dict[str, Any] = load_schema(SCHEMA)
"""policies/schemas/data_policy.schema.json, as a dict."""
ACTIONS = tuple(POLICY_SCHEMA["$defs"]["action"]["enum"])


class PolicyError(ConfigError):
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
        from haetae.pipelines.pii import scanner as pii
        from haetae.pipelines.pii.pseudonyms import is_keyed, load_key

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
    try:
        problem = schema_problem(doc, SCHEMA)
        if problem is not None:
            raise fail(PolicyError, *problem)
        try:
            params = DedupParams.from_dict((doc.get("dedup") or {}).get("minhash") or {})
        except ValueError as exc:
            raise fail(PolicyError, ("dedup", "minhash"), str(exc)) from None
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        policy = Policy(name=doc["name"], path=str(path.resolve()), sha256=digest, doc=doc, dedup_params=params)
        check_detector_names_and_operators(policy)
    except PolicyError as exc:
        raise PolicyError(at_line(path, root, exc), exc.key_path) from None
    return policy


def check_detector_names_and_operators(policy: Policy) -> None:
    """Load the detector configurations the policy names, then check its entity names and operators.

    An entity name no configured recogniser reports is an error, not a rule that never fires: ``KR_RNN: drop``
    would leave resident registration numbers on the default action. Operator parameters are checked by
    Presidio's own operator classes here, so a bad one fails before the job, not in a worker.
    """
    from haetae.pipelines.pii import scanner as pii
    from haetae.pipelines.rights import score as rights

    section = policy.section("pii")
    configs = {}
    for key, default, loader in (("pii.recognizers", pii.DEFAULT_CONFIG, pii.load_config),
                                 ("rights.detectors", rights.DEFAULT_CONFIG, rights.load_config)):
        where = key.split(".")
        try:
            configs[key] = loader(policy.resolve(policy.section(where[0]).get(where[1], default)))
        except ConfigError as exc:
            raise fail(PolicyError, key, str(exc)) from None
    known = pii.configured_entities(configs["pii.recognizers"])
    entities = section.get("entities") or {}
    for entity in entities:
        if entity not in known:
            recognizers = section.get("recognizers", pii.DEFAULT_CONFIG)
            raise fail(PolicyError, ("pii", "entities", entity), f"unknown entity {entity!r}: no recogniser in "
                       f"{recognizers} reports it; {did_you_mean(entity, known)}")
    rules = {("entities", entity): rule for entity, rule in entities.items()}
    if "default" in section:
        rules[("default",)] = section["default"]
    for where, rule in rules.items():
        problem = pii.operator_problem(rule["operator"]) if "operator" in rule else None
        if problem:
            key, message = problem
            raise fail(PolicyError, ("pii", *where, "operator", *([key] if key else [])), message)
