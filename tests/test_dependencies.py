"""Declared dependencies are the imported ones: nothing arrives only through another.

Every third-party module the package imports (at module level or inside a function)
must be declared in pyproject.toml, and every declared distribution must be imported,
save the few named below with the reason they are declared anyway.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("crawler", "pipelines", "storage", "cwarchive")
# Declared but never imported by name, and why.
NOT_IMPORTED = {
    "psycopg": "the PostgreSQL driver: SQLAlchemy loads it for postgresql:// URLs",
}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def _declared(requirements: list[str]) -> set[str]:
    return {_normalized(Requirement(text).name) for text in requirements}


def _imported_distributions(directories: list[Path]) -> dict[str, set[str]]:
    """Distribution -> the files importing it, for every third-party import under `dirs`."""
    first_party = {*PACKAGES, "tests", "benchmarks"}
    by_module = packages_distributions()
    found: dict[str, set[str]] = {}
    for directory in directories:
        for file in sorted(directory.rglob("*.py")):
            tree = ast.parse(file.read_text("utf-8"), str(file))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in first_party:
                        continue
                    if top == "__future__":
                        continue
                    distributions = by_module.get(top)
                    assert distributions, f"{file}: imports {top}, which no installed package has"
                    for distribution in distributions:
                        found.setdefault(_normalized(distribution), set()).add(
                            str(file.relative_to(ROOT))
                        )
    return found


def test_the_package_declares_what_it_imports_and_imports_what_it_declares() -> None:
    declared = _declared(_pyproject()["project"]["dependencies"])
    imported = _imported_distributions([ROOT / name for name in PACKAGES])
    undeclared = {name: sorted(files) for name, files in imported.items() if name not in declared}
    assert not undeclared, f"imported but not declared in [project].dependencies: {undeclared}"
    unused = declared - set(imported) - set(NOT_IMPORTED)
    assert not unused, f"declared but never imported (say why in NOT_IMPORTED, or drop): {unused}"


def test_tests_and_benchmarks_import_only_declared_extras() -> None:
    project = _pyproject()["project"]
    declared = _declared(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared |= _declared(extra)
    imported = _imported_distributions([ROOT / "tests", ROOT / "benchmarks"])
    undeclared = {name: sorted(files) for name, files in imported.items() if name not in declared}
    assert not undeclared, f"imported by tests or benchmarks, not declared: {undeclared}"
