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
PACKAGES = ("common", "crawler", "pipelines", "storage", "cwarchive")
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


def _imported_distributions(
    directories: list[Path], *, top_level_only: bool = False
) -> dict[str, set[str]]:
    """Distribution -> the files importing it, for every third-party import under `dirs`.

    `top_level_only`: only imports that run when the module is imported (not those
    inside a function, which run only when that code path is taken).
    """
    first_party = {*PACKAGES, "tests", "benchmarks"}
    by_module = packages_distributions()
    found: dict[str, set[str]] = {}
    for directory in directories:
        for file in sorted(directory.rglob("*.py")):
            tree = ast.parse(file.read_text("utf-8"), str(file))
            for node in _top_level_nodes(tree) if top_level_only else ast.walk(tree):
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


def _top_level_nodes(tree: ast.Module) -> list[ast.AST]:
    """The statements that run at import: the module body, into `if`/`try`, not defs."""
    nodes: list[ast.AST] = []
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        nodes.append(node)
        if isinstance(node, ast.If | ast.Try):
            for block in ("body", "orelse", "finalbody", "handlers"):
                pending.extend(getattr(node, block, []))
        elif isinstance(node, ast.ExceptHandler):
            pending.extend(node.body)
    return nodes


def _optional_extras() -> set[str]:
    """Distributions of the package's own optional features (not test or bench tools)."""
    extras = _pyproject()["project"]["optional-dependencies"]
    return set().union(*(_declared(v) for k, v in extras.items() if k not in ("test", "bench")))


def test_the_package_declares_what_it_imports_and_imports_what_it_declares() -> None:
    declared = _declared(_pyproject()["project"]["dependencies"])
    optional = _optional_extras()
    imported = _imported_distributions([ROOT / name for name in PACKAGES])
    undeclared = {
        name: sorted(files)
        for name, files in imported.items()
        if name not in declared and name not in optional
    }
    assert not undeclared, f"imported but not declared in [project].dependencies: {undeclared}"
    unused = declared - set(imported) - set(NOT_IMPORTED)
    assert not unused, f"declared but never imported (say why in NOT_IMPORTED, or drop): {unused}"


def test_optional_extras_are_imported_only_where_used() -> None:
    """An extra's module is imported inside the function that needs it: without the
    extra installed, every other command still imports and runs."""
    at_import = _imported_distributions([ROOT / name for name in PACKAGES], top_level_only=True)
    eager = {name: sorted(at_import[name]) for name in _optional_extras() if name in at_import}
    assert not eager, f"optional extras imported at module level: {eager}"


def test_tests_and_benchmarks_import_only_declared_extras() -> None:
    project = _pyproject()["project"]
    declared = _declared(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared |= _declared(extra)
    imported = _imported_distributions([ROOT / "tests", ROOT / "benchmarks"])
    undeclared = {name: sorted(files) for name, files in imported.items() if name not in declared}
    assert not undeclared, f"imported by tests or benchmarks, not declared: {undeclared}"
