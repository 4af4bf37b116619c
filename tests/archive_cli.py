"""The archive commands run in-process through click, for tests of their behaviour."""

from __future__ import annotations

import json
from typing import Any

import click
from click.testing import CliRunner, Result

from cwarchive.commands import archive as archive_commands
from cwarchive.commands import maintenance


def cli() -> click.Group:
    """A group holding only the archive commands (no crawl, no test tooling)."""
    group = click.Group()
    archive_commands.register(group)
    maintenance.register(group)
    return group


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli(), list(args), catch_exceptions=False)


def as_json(*args: str) -> Any:
    """`args --json`, which must succeed and print exactly one JSON document."""
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
