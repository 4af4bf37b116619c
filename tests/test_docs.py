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
