"""Archive commands that read: runs, articles, history, diff, tags.

A thin shell over `storage`: each command opens the archive read-only
(`cwarchive.archives.reading`: never created, never migrated), asks one question of
`storage.queries` and prints the answer as one JSON document (`--json`) or as a
readable table. The commands that write (`reparse`, `ingest`, `db`) are
`cwarchive.commands.maintenance`.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

import click

from cwarchive.archives import reading
from cwarchive.distributed import WORKER_COLUMNS
from cwarchive.errors import CliError
from cwarchive.options import db_option, json_option
from cwarchive.output import Column, emit, short, table
from storage.vocabulary import DIFF_FIELDS

if TYPE_CHECKING:
    from rich.console import Console


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    for command in (runs, articles, history, diff, tags):
        group.add_command(command)


# -- reading commands -----------------------------------------------------------------


@click.command()
@db_option
@json_option
def runs(db_url: str, as_json: bool) -> None:
    """List the runs, oldest first, with their status and counters.

    A distributed run (`crawl --frontier`) also lists its processes under `workers`:
    the crawl that coordinated it and every worker that joined, with what each fetched.
    A crawl's extraction health is under `health` (per field, how many of the article
    pages it parsed had it, against the same articles' versions before), with the
    fields it stopped reading (`degraded`) and the versions it holds back (`held`).

    \b
    Examples:
      cwarchive runs
      cwarchive runs --db postgresql://localhost/cwarchive --json
    """
    from storage import queries

    with reading(db_url) as conn:
        rows = queries.runs(conn)
        processes = queries.run_workers(conn)
    by_run: dict[int, list[dict[str, object]]] = {}
    for process in processes:
        by_run.setdefault(int(process["run_id"]), []).append(process)
    for row in rows:
        # Only distributed runs have processes: a run of one process reads as before.
        if row["id"] in by_run:
            row["workers"] = [
                {k: v for k, v in p.items() if k != "run_id"} for p in by_run[row["id"]]
            ]

    columns: dict[str, Column] = {
        "run": "id",
        "started": lambda r: r["started_at"][:19],
        "mode": "mode",
        "status": "status",
        "parser": "parser_version",
        "pages": "pages_fetched",
        "new": "articles_new",
        "changed": "articles_changed",
        "unchanged": "articles_unchanged",
        "seen": "articles_seen",
        "removed": "articles_removed",
        "returned": "articles_returned",
        "listings": "listings",
        "errors": "errors",
        "degraded": lambda r: ", ".join(r["degraded"]),
        "held": "held",
    }

    def readable(console: Console) -> None:
        from cwarchive.commands.health import print_health

        console.print(table(f"{len(rows)} runs", rows, columns))
        for row in rows:
            if "workers" in row:
                title = f"run {row['id']}: {len(row['workers'])} processes"
                console.print(table(title, row["workers"], WORKER_COLUMNS))
        print_health(console, rows)

    emit(rows, as_json, readable)


@click.command()
@click.option(
    "--status", type=click.Choice(["active", "removed"]), help="Only articles with this status."
)
@db_option
@json_option
def articles(status: str | None, db_url: str, as_json: bool) -> None:
    """List the archived articles with their current title, dates and version count.

    `first_seen` and `last_seen` are run ids.

    \b
    Examples:
      cwarchive articles
      cwarchive articles --status removed --json
    """
    from storage import queries

    with reading(db_url) as conn:
        rows = queries.articles(conn, status)

    columns: dict[str, Column] = {
        "article_key": "article_key",
        "status": "status",
        "title": lambda r: short(r["title"], 50),
        "published": "published",
        "reviewed": "reviewed",
        "versions": "versions",
        "first_seen": "first_seen",
        "last_seen": "last_seen",
    }

    def readable(console: Console) -> None:
        console.print(table(f"{len(rows)} articles", rows, columns))

    emit(rows, as_json, readable)


@click.command()
@click.argument("key")
@db_option
@json_option
def history(key: str, db_url: str, as_json: bool) -> None:
    """Show every version of the article KEY, oldest first, and the URLs it was fetched at.

    KEY is the article key (`cancerwise/<slug>`) or any URL of the article.

    \b
    Examples:
      cwarchive history cancerwise/what-to-know-about-breast-cancer-screening
      cwarchive history https://www.mdanderson.org/cancerwise/x.h00-159.html --json
    """
    from storage import queries

    keys = [key]
    if "://" in key:
        from common.urls import article_key, twin_key

        # A twin's URL names the article keyed with its code; any other, its slug's.
        keys = [twin_key(key), article_key(key)]
    with reading(db_url) as conn:
        for key in dict.fromkeys(keys):
            try:
                versions = queries.history(conn, key)
                break
            except KeyError:
                continue
        else:
            raise CliError(
                f"no article {key!r} in the archive: `cwarchive articles` lists them"
            ) from None

    def readable(console: Console) -> None:
        for v in versions:
            console.print(
                f"[bold]{key} version {v['version']}[/bold]  runs {v['first_seen_run']}"
                f"–{v['last_seen_run']}, parser {v['parser_version']}",
                highlight=False,
            )
            for name, value in v.items():
                if name in ("article_key", "version", "first_seen_run", "last_seen_run"):
                    continue
                shown = short(value, 100) if name != "urls" else ", ".join(value)
                console.print(
                    f"  {name:<15} {shown}", highlight=False, markup=False, soft_wrap=True
                )
            console.print()

    emit(versions, as_json, readable)


@click.command()
@click.option(
    "--field",
    "field",
    required=True,
    type=click.Choice(DIFF_FIELDS),
    help="The record field to compare (reviewed, title, reviewers, body_text, ...).",
)
@click.option("--from", "from_run", type=int, help="Changes after this run (exclusive).")
@click.option("--to", "to_run", type=int, help="Changes up to this run (inclusive).")
@db_option
@json_option
def diff(field: str, from_run: int | None, to_run: int | None, db_url: str, as_json: bool) -> None:
    """List the changes of one field between consecutive versions of each article.

    A change belongs to the run in which the new value first appeared; `--from 3 --to 4`
    lists what changed in run 4. `body_text` is shown as a unified diff.

    \b
    Examples:
      cwarchive diff --field reviewed            # which articles were re-reviewed
      cwarchive diff --field title --from 3 --to 4 --json
      cwarchive diff --field body_text --to 2
    """
    from storage import queries

    with reading(db_url) as conn:
        changes = queries.diff(conn, field, from_run, to_run)

    def readable(console: Console) -> None:
        if field == "body_text":
            for c in changes:
                lines = difflib.unified_diff(
                    c["old"].split("\n"),
                    c["new"].split("\n"),
                    fromfile=f"{c['article_key']} (run {c['from_run']})",
                    tofile=f"{c['article_key']} (run {c['to_run']})",
                    lineterm="",
                )
                console.print("\n".join(lines), highlight=False, markup=False, soft_wrap=True)
                console.print()
            console.print(f"{len(changes)} changes of body_text", highlight=False)
            return
        columns: dict[str, Column] = {
            "article_key": "article_key",
            "from_run": "from_run",
            "to_run": "to_run",
            "old": lambda c: short(c["old"]),
            "new": lambda c: short(c["new"]),
        }
        console.print(table(f"{len(changes)} changes of {field}", changes, columns))

    emit(changes, as_json, readable)


@click.command()
@click.option("--tag", "tag", metavar="TAG_ID_OR_LABEL", help="One tag: its id or any label.")
@db_option
@json_option
def tags(tag: str | None, db_url: str, as_json: bool) -> None:
    """Show the consolidated count of every tag in every run, oldest run first.

    Pages of one run can disagree; the count shown is the one most pages showed (ties:
    the latest-fetched page), see docs/storage.md. `listed` is how many articles the
    tag's facet pages listed in that run.

    \b
    Examples:
      cwarchive tags
      cwarchive tags --tag md-anderson:diseases/uterine-cancer --json
      cwarchive tags --tag "Breast Cancer"
    """
    from storage import queries

    with reading(db_url) as conn:
        rows = queries.tags(conn, tag)
    if tag and not rows:
        raise CliError(f"no tag {tag!r} in the archive: `cwarchive tags` lists them")

    columns: dict[str, Column] = {
        "run": "run",
        "tag_id": "tag_id",
        "label": "label",
        "group": "group",
        "count": "count",
        "listed": "listed",
        "pages agreeing": lambda r: f"{r['pages_agreeing']}/{r['pages']}",
    }

    def readable(console: Console) -> None:
        console.print(table(f"{len(rows)} tag counts", rows, columns))

    emit(rows, as_json, readable)
