"""Shared fixtures: the mini taxonomy (3 domains, 7 areas) and helpers to write broken copies of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

FIXTURES = Path(__file__).parent / "fixtures"
MINI = FIXTURES / "mini"
REPO = Path(__file__).resolve().parents[2]
GERMANY = REPO / "taxonomy" / "data" / "countries" / "de" / "national.yaml"


@pytest.fixture
def mini_copy(tmp_path: Path) -> Path:
    """A writable copy of the mini taxonomy."""
    dest = tmp_path / "mini"
    shutil.copytree(MINI, dest)
    return dest


def edit_yaml(path: Path, change) -> None:
    """Load a YAML file, let ``change(doc)`` modify it, write it back."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


SEEDED = FIXTURES / "seeded"  # v2 taxonomy with hand-written seeds and a contrast set (4 seeded areas + 1 without)


