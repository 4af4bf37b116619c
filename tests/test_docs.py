"""The CLI reference is generated from --help and kept current; every command documented."""

from __future__ import annotations

from pathlib import Path

from cwarchive.clidoc import reference

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_cli_reference_is_current() -> None:
    assert (DOCS / "cli.md").read_text("utf-8") == reference(), (
        "docs/cli.md is out of date: python -m cwarchive.clidoc > docs/cli.md"
    )


def test_every_command_has_an_example() -> None:
    text = reference()
    for section in text.split("\n## ")[1:]:
        title = section.splitlines()[0]
        body = section.lower()
        if title.count(" ") >= 1 and "commands:" not in body:  # a leaf command
            assert "example" in body, f"{title}: no example in --help"
