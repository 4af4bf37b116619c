"""`cwarchive accept RUN`: store the versions a degraded run held back.

A run that stopped reading a field (`storage.health`, docs/crawl.md "When the site
changes") kept the articles' versions instead of saving readings that only lost it.
When the site really dropped the field, accepting the run stores those readings as the
versions they would have been.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cwarchive.errors import CliError
from cwarchive.options import db_option, json_option
from cwarchive.output import emit

if TYPE_CHECKING:
    from rich.console import Console


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(accept)


@click.command()
@click.argument("run", type=click.IntRange(min=1))
@db_option
@json_option
def accept(run: int, db_url: str, as_json: bool) -> None:
    """Store the versions run RUN held back when it stopped reading a field.

    Each becomes its article's next version, first seen in RUN, and current; the feed,
    `diff` and the research views then show the change. A held version of an article a
    later run observed again is not stored: the later reading stands. Accepting twice
    stores nothing more. `cwarchive runs` lists what each run held back (`held`).

    \b
    Examples:
      cwarchive accept 12
      cwarchive accept 12 --db postgresql://localhost/cwarchive --json
    """
    from storage import Archive, ArchiveError
    from storage.health import accept_run

    try:
        archive = Archive.open(db_url, create=False)
    except ArchiveError as error:
        raise CliError(str(error)) from None
    except Exception as error:  # a bad URL or an unreachable server
        raise CliError(f"cannot open the archive {db_url}: {error}") from None
    try:
        accepted = accept_run(archive.engine, run)
    except LookupError as error:
        raise CliError(str(error)) from None
    finally:
        archive.close()
    result = accepted.as_dict()

    def readable(console: Console) -> None:
        console.print(
            f"run {run}: {accepted.stored} versions stored, {accepted.superseded} superseded "
            f"by a later run (not stored), {accepted.already} accepted before",
            highlight=False,
        )

    emit(result, as_json, readable)
