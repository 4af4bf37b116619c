"""`cwarchive browse`: the archive in Datasette, read-only (the work is in cwarchive.browse)."""

from __future__ import annotations

import click

from cwarchive.options import db_option


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(browse)


@click.command()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8001,
    show_default=True,
    help="The port to listen on.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on (0.0.0.0: every interface; anyone who can reach it "
    "can read the whole archive).",
)
@db_option
def browse(port: int, host: str, db_url: str) -> None:
    """Open the SQLite archive in Datasette, read-only, until Ctrl-C.

    Prints the archive's URL, then serves it: every table and view with its columns
    described, full-text search of the current articles and the canned queries
    search_current, reviewed_changes_between, article_history and tag_series. The file
    is opened immutable (Datasette's -i): nothing can write to it. The archive must be
    at the current schema, and not being written (restart browse after a crawl).
    Needs the optional extra: pip install 'cwarchive[browse]'. SQLite only: from
    PostgreSQL, use cwarchive export or cwarchive query.

    \b
    Examples:
      cwarchive browse
      cwarchive browse --db archive.sqlite --port 8002
    """
    from cwarchive import browse as browsing

    browsing.serve(db_url, host, port, echo=click.echo)
