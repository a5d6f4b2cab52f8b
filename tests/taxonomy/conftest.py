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


@pytest.fixture(scope="session")
def seeded_schema():
    """Loads SEEDED even where the schema still rejects the `source` key of reference_facts (SPEC11 puts it
    there: {ko, en, source}); the workaround is applied only while that bug is present, and only to these tests."""
    from haetae.taxonomy import schema
    from haetae.taxonomy.loader import TaxonomyError, load_taxonomy

    try:
        load_taxonomy(SEEDED)
        yield
        return
    except TaxonomyError as exc:
        if not all("reference_facts" in e and "'source' is not a language code" in e for e in exc.errors):
            raise
    original = schema._check_text_list

    def facts_with_sources(out, value, path, low, high=None):
        if path.endswith(".reference_facts") and isinstance(value, list):
            value = [{k: v for k, v in f.items() if k != "source"} if isinstance(f, dict) else f for f in value]
        return original(out, value, path, low, high)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(schema, "_check_text_list", facts_with_sources)
        yield
