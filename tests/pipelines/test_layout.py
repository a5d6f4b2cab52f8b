"""The role-folder layout of ``pipelines/``: every package re-exports names that exist, imports none of its
submodules until a name is used, and no new module lands beside the folders."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["haetae.pipelines", "haetae.pipelines.audit", "haetae.pipelines.commands", "haetae.pipelines.dedup",
            "haetae.pipelines.detectors", "haetae.pipelines.io", "haetae.pipelines.pii",
            "haetae.pipelines.pii.recognizers", "haetae.pipelines.policy", "haetae.pipelines.rights",
            "haetae.pipelines.runners"]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_reexport_resolves(package):
    module = importlib.import_module(package)
    assert module.__all__, package
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


def test_a_package_import_loads_no_submodule():
    """``import haetae.pipelines.io.records`` must not pay for Beam or Presidio through an ``__init__``."""
    code = ("import sys, haetae.pipelines, haetae.pipelines.io.records; "
            "print(sorted(m for m in ('apache_beam', 'presidio_analyzer') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_modules_live_in_role_folders():
    top = sorted(p.name for p in (ROOT / "pipelines").glob("*.py"))
    assert top == ["__init__.py", "steps.py"], "a new module belongs in one of the role folders"
    packages = {p.parent.relative_to(ROOT).as_posix().replace("/", ".") for p in (ROOT / "pipelines").rglob("__init__.py")}
    assert {p.replace("haetae.", "", 1) for p in PACKAGES} == packages
