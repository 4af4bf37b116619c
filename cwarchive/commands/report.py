"""`cwarchive report`: the static HTML report (docs/report.md).

A thin shell: `storage.report_data` reads one snapshot of the archive, `cwarchive.report`
writes the pages and charts; every failure the user can fix is one `error:` line.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cwarchive.errors import CliError
from cwarchive.options import db_option, json_option
from cwarchive.output import emit

if TYPE_CHECKING:
    from rich.console import Console


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(report)


def _shown(db_url: str) -> str:
    """The URL for an error message, its password masked."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from storage.locations import normalize_url

    try:
        return make_url(normalize_url(db_url)).render_as_string(hide_password=True)
    except ArgumentError:
        return db_url


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@click.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write index.html, images/ and articles/ into: new, empty, or an "
    "earlier report (replaced).",
)
@click.option(
    "--from",
    "from_run",
    type=click.IntRange(min=0),
    metavar="RUN",
    help="Only runs after this run (as in `cwarchive diff`).",
)
@click.option(
    "--to", "to_run", type=click.IntRange(min=0), metavar="RUN", help="Only runs up to this run."
)
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="TAG",
    help="Also chart this tag's counts: a tag id or a label (repeatable).",
)
@db_option
@json_option
def report(
    out_dir: Path,
    from_run: int | None,
    to_run: int | None,
    tags: tuple[str, ...],
    db_url: str,
    as_json: bool,
) -> None:
    """Write a static HTML report of the archive into DIR: charts and the changes.

    DIR/index.html opens offline (charts are PNG files beside it): articles per run,
    re-reviews per month, days from publication to last review, tag counts per run
    (the ten largest and every --tag), and a table of every change of review date,
    title and reviewers in the range, newest first, each linking to a page with the
    article's versions and body text diffs (DIR/articles/). A run is in the range
    when FROM < run <= TO. Needs the optional extra: pip install 'cwarchive[report]'.

    \b
    Examples:
      cwarchive report --out report && xdg-open report/index.html
      cwarchive report --out report --from 3 --to 5 --tag "Breast Cancer"
    """
    from sqlalchemy.exc import SQLAlchemyError

    from cwarchive.report import MissingMatplotlib, ReportError, require, write_report
    from storage import ArchiveError, report_data

    if from_run is not None and to_run is not None and from_run > to_run:
        raise CliError(f"--from {from_run} is after --to {to_run}: the range is empty")
    try:
        # Before reading anything: without matplotlib there is no report to write.
        require()
    except MissingMatplotlib as error:
        raise CliError(str(error)) from None
    started = time.perf_counter()
    try:
        with report_data.snapshot(db_url) as conn:
            data = report_data.load(conn, from_run=from_run, to_run=to_run, tags=tags)
    except (ArchiveError, report_data.UnknownTag) as error:
        raise CliError(str(error)) from None
    except SQLAlchemyError as error:  # a bad URL, an unreachable server
        raise CliError(f"cannot read the archive {_shown(db_url)}: {_first_line(error)}") from None
    try:
        written = write_report(data, out_dir)
    except ReportError as error:
        raise CliError(str(error)) from None
    summary = {
        "index": str(written.index),
        "runs": len(data.runs),
        "changes": len(data.changes),
        "article_pages": len(written.articles),
        "images": [str(path) for path in written.images],
        "seconds": round(time.perf_counter() - started, 2),
    }

    def readable(console: Console) -> None:
        console.print(
            f"report written: {written.index} ({summary['runs']} runs, "
            f"{summary['changes']} changes, {summary['article_pages']} article pages, "
            f"{summary['seconds']} s)",
            highlight=False,
            soft_wrap=True,
        )
        console.print(f"open: {written.index.resolve().as_uri()}", highlight=False, soft_wrap=True)

    emit(summary, as_json, readable)
