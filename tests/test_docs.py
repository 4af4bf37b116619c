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


def test_every_command_has_an_example(reference: str) -> None:
    text = reference
    for section in text.split("\n## ")[1:]:
        title = section.splitlines()[0]
        body = section.lower()
        if title.count(" ") >= 1 and "commands:" not in body:  # a leaf command
            assert "example" in body, f"{title}: no example in --help"
