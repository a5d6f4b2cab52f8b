"""The data policy: one YAML loader with line-numbered errors for every configuration file, and
the decision rules."""

from haetae.lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "Policy": "schema",
    "PolicyError": "schema",
    "load_policy": "schema",
    "Rule": "rules",
    "RULES": "rules",
    "pre_dedup_verdict": "rules",
    "final_verdict": "rules",
    "ConfigError": "loader",
    "read_yaml_file": "loader",
    "load_config_file": "loader",
})
