"""docs/architecture.md's "may import" column holds: every import of a module that
crosses a package (crawler, pipelines, storage, cwarchive, common) or reaches a
third-party package is named in its row, as grimp (import-linter's graph) finds it.

A row names an import by its module (`common.urls`), its package (`storage`) or a
module's or package's last name (`freshness`, `parsers`); a third-party package by
its name (`scrapy`). Imports inside a package are the package's own business (the
contracts in pyproject.toml keep them acyclic). Imports under TYPE_CHECKING do not
count: they never run.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = tuple(
    name for name in ("common", "crawler", "pipelines", "storage", "cwarchive")
    if (ROOT / name / "__init__.py").exists()
)  # fmt: skip
# Third-party packages whose import name is not the one a reader knows them by.
ALIASES = {"yaml": "pyyaml"}


def rows() -> dict[str, str]:
    """Module name -> its row's "may import" cell, for every module the table names."""
    text = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    found: dict[str, str] = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        folder = ""
        for path in re.findall(r"`([^`]+)`", cells[0]):
            if "/" in path:
                folder = path.rsplit("/", 1)[0] + "/" if path.endswith(".py") else path
            full = path if "/" in path else folder + path
            if full.endswith(".py"):
                found[full[:-3].replace("/", ".").removesuffix(".__init__")] = cells[2]
            elif full.endswith("/"):
                found.setdefault(full.rstrip("/").replace("/", "."), cells[2])
    return found


def cell_for(module: str, table: dict[str, str]) -> str | None:
    """The row of a module: its own, or its folder's (`crawler/parsers/`)."""
    while module:
        if module in table:
            return table[module]
        module = module.rpartition(".")[0]
    return None


def named(imported: str, cell: str) -> bool:
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", cell.lower()))
    parts = imported.lower().split(".")
    candidates = {".".join(parts[:n]) for n in range(1, len(parts) + 1)} | set(parts[1:])
    candidates |= {ALIASES.get(parts[0], parts[0])}
    return bool(candidates & words)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(
        *PACKAGES,
        include_external_packages=True,
        exclude_type_checking_imports=True,
        cache_dir=None,
    )


def test_every_import_across_packages_is_in_its_row(graph: grimp.ImportGraph) -> None:
    table = rows()
    stdlib = set(sys.stdlib_module_names)
    missing: list[str] = []
    for module in sorted(graph.modules):
        package = module.split(".")[0]
        if package not in PACKAGES or "migrations" in module:
            continue
        cell = cell_for(module, table)
        if cell is None:
            continue  # tests/test_docs.py requires every module to be named
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            top = imported.split(".")[0]
            if top == package or top in stdlib:
                continue
            if not named(imported, cell):
                missing.append(f"{module} imports {imported}: not in its row ({cell!r})")
    assert not missing, "docs/architecture.md's may-import column is out of date:\n" + "\n".join(
        missing
    )


def test_the_check_reads_the_table() -> None:
    table = rows()
    assert cell_for("crawler.parsers.article", table) is not None
    assert cell_for("storage.check_pages", table) == cell_for("storage.check", table)
    assert named("common.urls", "standard library, `common.urls`")
    assert named("crawler.parsers.page", "lxml, parsers")
    assert not named("storage.archive", "standard library only (a leaf)")
