"""Extraction health on the command line: `cwarchive accept RUN`, and the tables
`cwarchive runs` prints of each run's figures.

A run that stopped reading a field (`storage.health`, docs/crawl.md "Extraction
health") kept the articles' versions instead of saving readings that only lost it.
When the site really dropped the field, accepting the run stores those readings as the
versions they would have been.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from cwarchive.errors import CliError
from cwarchive.options import db_option, json_option
from cwarchive.output import Column, emit, table

if TYPE_CHECKING:
    from rich.console import Console


# A run's figures per field, as `cwarchive runs` shows them (docs/crawl.md).
HEALTH_COLUMNS: dict[str, Column] = {
    "field": "field",
    "pages": "pages",
    "present": "present",
    "compared": "compared",
    "before": "had_before",
    "after": "has_after",
    "lost": "lost",
    "degraded": lambda f: "yes" if f["degraded"] else "",
    "held": "held",
}


def print_health(console: Console, runs: list[dict[str, Any]]) -> None:
    """The figures of every run that degraded, and of the last run measured."""
    measured = [run for run in runs if run.get("health")]
    shown = [run for run in measured if run["degraded"]]
    if measured and measured[-1] not in shown:
        shown.append(measured[-1])
    for run in shown:
        title = f"run {run['id']}: extraction health"
        if run["degraded"]:
            title += (
                f"; stopped reading {', '.join(run['degraded'])}, {run['held']} versions held "
                f"back (`cwarchive accept {run['id']}` stores them)"
            )
        console.print(table(title, run["health"], HEALTH_COLUMNS))


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
    later run fetched again is not stored: the later reading stands. Accepting twice
    stores nothing more. `cwarchive runs` lists what each run held back (`held`).

    \b
    Examples:
      cwarchive accept 12
      cwarchive accept 12 --db postgresql://localhost/cwarchive --json
    """
    from storage import Archive, ArchiveError
    from storage.held import accept_run

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
