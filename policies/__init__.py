"""Shipped policies. ``DEFAULT_DATA_POLICY`` is the audit job's default policy file."""

from pathlib import Path

POLICY_DIR = Path(__file__).resolve().parent
DEFAULT_DATA_POLICY = POLICY_DIR / "data_policy.yaml"
