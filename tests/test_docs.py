"""The CLI reference is generated from --help and kept current; every command documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def reference() -> str:
    # A fresh process: click caches each command's help option, so in-process tests that
    # invoke a subcommand on its own would change what --help prints here.
    return subprocess.run(
        [sys.executable, "-m", "cwarchive.clidoc"], capture_output=True, text=True, check=True
    ).stdout


def test_cli_reference_is_current(reference: str) -> None:
    assert (DOCS / "cli.md").read_text("utf-8") == reference, (
        "docs/cli.md is out of date: python -m cwarchive.clidoc > docs/cli.md"
    )


def test_every_command_has_help_with_an_example(reference: str) -> None:
    """The one check of every command's help: text, an example, the example runs it."""
    leaves = 0
    for section in reference.split("\n## ")[1:]:
        title = section.splitlines()[0]
        usage = section.split("```", 2)[1]
        description = usage.split("\n\n", 2)[1] if usage.count("\n\n") >= 2 else ""
        assert description.strip(), f"{title}: no help text"
        if title.count(" ") >= 1 and "Commands:" not in section:  # a leaf command
            leaves += 1
            assert "Example" in section, f"{title}: no example in --help"
            assert f"{title} " in section.split("Example", 1)[1], (
                f"{title}: the example does not run `{title}`"
            )
    assert leaves >= 15, f"only {leaves} commands found in the reference"


def test_architecture_names_every_module() -> None:
    """docs/architecture.md names each module by its path, or by its folder and name."""
    text = (DOCS / "architecture.md").read_text("utf-8")
    root = DOCS.parent
    missing = []
    for package in ("common", "crawler", "pipelines", "storage", "cwarchive"):
        for file in sorted((root / package).rglob("*.py")):
            relative = file.relative_to(root).as_posix()
            if file.name == "__init__.py" or "/migrations/" in relative:
                continue
            if "/testing/sitegen/" in relative:  # one row for the generator: docs/sitegen.md
                continue
            folder = relative.rsplit("/", 1)[0] + "/"
            named = f"`{relative}`" in text or (f"`{folder}`" in text and file.name in text)
            if not named and file.parent.name in ("pipelines", "cwarchive"):
                named = f"`{file.name}`" in text
            if not named:
                missing.append(relative)
    assert not missing, f"not in docs/architecture.md: {missing}"


def test_generated_blocks_are_current() -> None:
    """The settings and migrations of docs/architecture.md and the research views' column
    tables of docs/research.md are generated (`cwarchive.docblocks`)."""
    from cwarchive import docblocks

    text = (DOCS / "architecture.md").read_text("utf-8")
    assert "<!-- generated: settings -->" in text and "<!-- generated: migrations -->" in text
    assert "<!-- generated: view:current_articles -->" in (DOCS / "research.md").read_text()
    stale = [path.name for path in docblocks.out_of_date()]
    assert not stale, f"{stale} out of date: python -m cwarchive.docblocks"
