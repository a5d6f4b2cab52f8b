"""Every third-party module the project, its tests and its benchmarks import is a declared dependency.

A module that only arrives as another package's dependency (psutil through accelerate, safetensors through
transformers) works until that package drops it; then ``make`` installs a set that cannot run the tests. The
check reads every import statement (functions included) and maps the module to its installed distribution.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = ("haetae", "pipelines", "alignment", "taxonomy", "policies", "reports", "tests", "bench")
LOCAL_MODULES = {"haetae", "tests"}  # the package and the test package
OTHER_INTERPRETER = {"bench/pii_baseline_worker.py"}
"""Scripts the project's interpreter never runs: bench/pii_detection.py starts this one in a throwaway virtualenv
that holds the PyPI packages it compares against (ko-pii, maskingtape, presidio-evaluator), which are not
project dependencies on purpose."""


def sibling_modules(path: Path) -> set[str]:
    """Modules a script imports from its own folder (bench/ scripts import each other and their helpers)."""
    return {p.stem for p in path.parent.glob("*.py")} if path.parent.name == "bench" else set()


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = [*project["dependencies"], *(s for extra in project["optional-dependencies"].values() for s in extra)]
    return {normalise(re.match(r"[A-Za-z0-9_.\-]+", spec).group(0)) for spec in specs}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_third_party_import_is_declared_in_pyproject():
    owners = packages_distributions()
    declared = declared_distributions()
    undeclared: dict[str, set[str]] = {}
    for folder in SOURCE_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if str(path.relative_to(ROOT)) in OTHER_INTERPRETER:
                continue
            for module in imported_modules(path) - LOCAL_MODULES - sibling_modules(path) - set(sys.stdlib_module_names):
                distributions = {normalise(d) for d in owners.get(module, [module])}
                if not distributions & declared:
                    undeclared.setdefault(module, set()).add(str(path.relative_to(ROOT)))
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
