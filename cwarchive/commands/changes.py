"""`cwarchive changes`: the changes of a range of runs as a feed (Atom, JSON or Markdown).

A thin shell: the range and fields from the options, the changes from
`storage.changes`, the rendering from `cwarchive.digest`. Storage and the renderer are
imported when the command runs, not when the CLI starts.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cwarchive.errors import CliError
from cwarchive.options import db_option
from cwarchive.output import emit, to_json

if TYPE_CHECKING:
    from storage.changes import ChangeSet, RunRange

FORMATS = ("atom", "json", "markdown")


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(changes_command)


def run_range(
    since: int | None, from_run: int | None, to_run: int | None, default: RunRange
) -> RunRange:
    """The range the options name; `default` (the last completed run) when none does."""
    from storage.changes import RunRange

    if since is not None and (from_run is not None or to_run is not None):
        raise CliError("--since RUN or --from/--to, not both")
    if since is not None:
        return RunRange(after=since)
    if from_run is not None and to_run is not None and to_run <= from_run:
        raise CliError(f"--to {to_run} must be after --from {from_run}: the range is empty")
    if from_run is None and to_run is None:
        return default
    return RunRange(after=from_run, through=to_run)


def check_fields(fields: tuple[str, ...]) -> tuple[str, ...]:
    from storage.changes import CHANGE_FIELDS, DEFAULT_FIELDS

    for field in fields:
        if field not in CHANGE_FIELDS:
            raise CliError(f"--field {field}: not a field; one of {', '.join(CHANGE_FIELDS)}")
    return tuple(dict.fromkeys(fields)) or DEFAULT_FIELDS


def read_changes(
    db_url: str,
    fields: tuple[str, ...],
    since: int | None,
    from_run: int | None,
    to_run: int | None,
) -> ChangeSet:
    from cwarchive.archives import reading
    from storage.changes import changes, default_range

    with reading(db_url) as conn:
        wanted = run_range(since, from_run, to_run, default_range(conn))
        return changes(conn, wanted, fields)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` in one step: a web server serving the feed never sends half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a feed is for reading
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@click.command("changes")
@click.option(
    "--since", type=int, metavar="RUN", help="Changes of every run after RUN (RUN excluded)."
)
@click.option(
    "--from", "from_run", type=int, metavar="RUN", help="Changes of runs after RUN (with --to)."
)
@click.option("--to", "to_run", type=int, metavar="RUN", help="Changes of runs up to RUN.")
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="FIELD",
    help="reviewed, title, reviewers, body_text, removed (the default: all five), or any "
    "field `cwarchive diff` compares; repeatable.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="An Atom feed (the default), a JSON array of the same entries, or a Markdown digest.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print exactly one JSON document (--format json)."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file, replaced in one step, instead of stdout.",
)
@db_option
def changes_command(
    since: int | None,
    from_run: int | None,
    to_run: int | None,
    fields: tuple[str, ...],
    fmt: str | None,
    as_json: bool,
    output: Path | None,
    db_url: str,
) -> None:
    """Print the changes of a range of runs as an Atom feed, JSON or a Markdown digest.

    A change belongs to the run its new value first appeared in: `--from 3 --to 5`
    lists runs 4 and 5, `--since 5` every run after 5; without a range, the last
    completed run. Removed articles are changes of the field `removed`. Entry ids are
    stable: a feed regenerated after every crawl shows each change once.

    \b
    Examples:
      cwarchive changes --format markdown                  # the last run's changes
      cwarchive changes --since 10 --field reviewed -o feed.xml
      cwarchive changes --from 3 --to 5 --format json
    """
    from cwarchive import digest

    if as_json and fmt not in (None, "json"):
        raise CliError(f"--json prints JSON: not with --format {fmt}")
    fmt = "json" if as_json else fmt or "atom"
    found = read_changes(db_url, check_fields(fields), since, from_run, to_run)
    if fmt == "json":
        entries = digest.entries(found)
        if output is None:
            emit(entries, True, lambda console: None)
            return
        data = (to_json(entries) + "\n").encode()
    elif fmt == "markdown":
        data = digest.markdown(found).encode()
    else:
        data = digest.atom(found) + b"\n"
    if output is not None:
        write_atomically(output, data)
    else:
        click.echo(data, nl=False)
