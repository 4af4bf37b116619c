"""Archive commands: runs, articles, history, diff, tags, reparse, ingest, db upgrade.

A thin shell over `storage`: each command opens the archive, asks one question of
`storage.queries` (or writes through `storage.Archive`) and prints the answer as one
JSON document (`--json`) or as a readable table.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cwarchive.errors import CliError
from cwarchive.options import db_option, json_option, usable_cores
from cwarchive.output import Column, emit, short, table
from storage.vocabulary import DIFF_FIELDS

if TYPE_CHECKING:
    from rich.console import Console

    from storage import Archive


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    for command in (runs, articles, history, diff, tags, reparse, ingest, db):
        group.add_command(command)


# The processes of a distributed run, as `runs` and the coordinator's summary show them.
WORKER_COLUMNS: dict[str, Column] = {
    "worker": "worker",
    "role": "role",
    "status": "status",
    "pages": "pages_fetched",
    "new": "articles_new",
    "changed": "articles_changed",
    "unchanged": "articles_unchanged",
    "seen": "articles_seen",
    "listings": "listings",
    "errors": "errors",
}


# -- helpers ----------------------------------------------------------------------------


@contextmanager
def _archive(db_url: str, *, write: bool = False) -> Iterator[Archive]:
    """The archive, or one clean `error:` line (missing, out of date, unreachable)."""
    from storage import Archive, ArchiveError

    try:
        archive = Archive.open(db_url, create=write)
    except ArchiveError as error:
        raise CliError(str(error)) from None
    except Exception as error:  # a bad URL or an unreachable server
        raise CliError(f"cannot open the archive {db_url}: {_first_line(error)}") from None
    try:
        yield archive
    finally:
        archive.close()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


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

    with _archive(db_url) as archive, archive.engine.connect() as conn:
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

    with _archive(db_url) as archive, archive.engine.connect() as conn:
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
        from crawler.urls import article_key, twin_key

        # A twin's URL names the article keyed with its code; any other, its slug's.
        keys = [twin_key(key), article_key(key)]
    with _archive(db_url) as archive, archive.engine.connect() as conn:
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

    with _archive(db_url) as archive, archive.engine.connect() as conn:
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

    with _archive(db_url) as archive, archive.engine.connect() as conn:
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


# -- writing commands -----------------------------------------------------------------


@click.command()
@click.option("--batch-size", default=200, show_default=True, help="Saves per transaction.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    help="Processes that parse (default: the number of cores); 1 parses in this process. "
    "One process writes, in the pages' order: any N gives the same archive.",
)
@db_option
@json_option
def reparse(batch_size: int, jobs: int | None, db_url: str, as_json: bool) -> None:
    """Re-extract every stored article page with the current parser, in a `reparse` run.

    A version is added only where the new record differs from every version the article
    already has; it records the parser version that produced it. This is how a parser
    fix reaches the whole history.

    \b
    Examples:
      cwarchive reparse
      cwarchive reparse --db archive.sqlite --json
      cwarchive reparse --jobs 1
    """
    from crawler.parsers import PARSER_VERSION, PageError, parse_page

    jobs = jobs or usable_cores()
    with _archive(db_url, write=True) as archive:
        archive.batch_size = batch_size
        summary = archive.reparse(parse_page, PARSER_VERSION, page_errors=(PageError,), jobs=jobs)
    summary["parser_version"] = PARSER_VERSION
    summary["jobs"] = jobs

    def readable(console: Console) -> None:
        console.print(
            f"run {summary['run']}: {summary['pages']} pages reparsed with parser "
            f"{PARSER_VERSION} ({jobs} {'process' if jobs == 1 else 'processes'}): "
            f"{summary['versions_added']} versions added, "
            f"{summary['unchanged']} unchanged, {summary['errors']} errors",
            highlight=False,
        )

    emit(summary, as_json, readable)


@click.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--url", help="The page's URL, when the file does not carry it (one FILE only).")
@db_option
@json_option
def ingest(files: tuple[str, ...], url: str | None, db_url: str, as_json: bool) -> None:
    """Save saved pages (as `cwarchive parse` reads them) into the archive as one run.

    Articles become versions and observations, listings their tag counts and article
    tags; a page that does not parse is stored as a parse error. The fetch time is the
    file's modification time.

    \b
    Examples:
      cwarchive ingest pages/*.html
      cwarchive ingest saved.html --url https://www.mdanderson.org/cancerwise/x.h00-1.html
    """
    from crawler.parsers import PARSER_VERSION, PageError, parse_page
    from storage.pages import Page, store_page

    if url and len(files) > 1:
        raise CliError("--url applies to one FILE; the pages' own canonical links are used")
    pages = []
    for name in files:
        path = Path(name)
        try:
            pages.append((name, path.read_bytes(), path.stat().st_mtime))
        except OSError as error:
            raise CliError(f"{name}: {error.strerror or error}") from None

    results = []
    totals: Counter[str] = Counter()
    summary_key = {"listing": "listings", "error": "errors"}  # other outcomes: their own
    with _archive(db_url, write=True) as archive:
        run = archive.start_run("ingest", site_root="file://", parser_version=PARSER_VERSION)
        status = "failed"
        try:
            for name, raw, mtime in pages:
                fetched_at = dt.datetime.fromtimestamp(mtime, dt.UTC)
                try:
                    record = parse_page(raw, url)
                except PageError as error:
                    # A file that is not a record: stored as a parse error, no HTTP status.
                    page = Page(url=url or name, http_status=None, error=error.reason, raw=raw)
                    detail = {"reason": error.reason}
                else:
                    listing = record["page_type"] != "article"
                    page = Page(
                        url=record["url"],
                        http_status=200,
                        record=record,
                        raw=raw,
                        fetched_at=fetched_at,
                        listing=listing,
                    )
                    detail = (
                        {"url": record["url"]}
                        if listing
                        else {"article_key": record["article_key"]}
                    )
                outcome = store_page(archive, run, page)
                results.append({"file": name, "result": outcome, **detail})
                totals[summary_key.get(outcome, outcome)] += 1
            status = "completed"
        finally:
            archive.finish_run(run, status, pages_fetched=len(pages))
    summary = {
        "run": run,
        **{k: totals[k] for k in ("new", "changed", "unchanged", "listings", "errors")},
        "files": results,
    }

    def readable(console: Console) -> None:
        for r in results:
            detail = r.get("article_key") or r.get("url") or r.get("reason")
            console.print(
                f"{r['file']}: {r['result']} ({detail})",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
        console.print(
            f"run {run}: {summary['new']} new, {summary['changed']} changed, "
            f"{summary['unchanged']} unchanged, {summary['listings']} listings, "
            f"{summary['errors']} errors",
            highlight=False,
        )

    emit(summary, as_json, readable)


@click.group()
def db() -> None:
    """Manage the archive database: its schema, and checking it is sound.

    \b
    Examples:
      cwarchive db upgrade
      cwarchive db upgrade --db postgresql://localhost/cwarchive
      cwarchive db check --deep
    """


@db.command()
@db_option
@json_option
def upgrade(db_url: str, as_json: bool) -> None:
    """Apply the schema migrations to the archive (creating it when missing).

    \b
    Examples:
      cwarchive db upgrade
      CWARCHIVE_DB=postgresql://localhost/cwarchive cwarchive db upgrade --json
    """
    from storage import db as storage_db

    try:
        engine = storage_db.make_engine(db_url)
        try:
            before, after = storage_db.upgrade(engine)
        finally:
            engine.dispose()
    except Exception as error:
        raise CliError(f"cannot upgrade {db_url}: {_first_line(error)}") from None
    result = {"from": before, "to": after}

    def readable(console: Console) -> None:
        if before == after:
            console.print(f"already at schema {after}", highlight=False)
        else:
            console.print(f"upgraded from {before or 'an empty database'} to {after}")

    emit(result, as_json, readable)


@db.command()
@click.option(
    "--deep",
    is_flag=True,
    help="Also re-parse every stored article page with the current parser (slower).",
)
@db_option
@json_option
def check(deep: bool, db_url: str, as_json: bool) -> None:
    """Verify the archive, read-only, like `git fsck`: exit 0 when sound, 1 when not.

    Checks the database's integrity and every reference between rows; that raw pages
    decompress to their size and sha256; that versions hash to their content_hash and
    are numbered 1..n; that each article's current version is the one its last fetch
    (or reparse) set; and that run counters match the rows. One line per problem (a
    JSON list with --json); warnings (a run still `running`, parser drift with --deep)
    print but leave the exit status 0. Nothing is ever written. The rules are in
    docs/storage.md ("Verifying an archive").

    \b
    Examples:
      cwarchive db check
      cwarchive db check --deep --db postgresql://localhost/cwarchive --json
    """
    from sqlalchemy.exc import SQLAlchemyError

    from storage import ArchiveError
    from storage.check import check_archive

    parse = None
    if deep:
        from crawler.parsers import parse_page

        parse = parse_page
    try:
        problems = check_archive(db_url, parse=parse)
    except ArchiveError as error:
        raise CliError(str(error)) from None
    except SQLAlchemyError as error:  # a bad URL, an unreachable server, not a database
        raise CliError(f"cannot check the archive {db_url}: {_first_line(error)}") from None
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors

    def readable(console: Console) -> None:
        for problem in problems:
            console.print(problem.line(), highlight=False, markup=False, soft_wrap=True)
        verdict = f"{errors} problem{'s' * (errors != 1)}" if errors else "archive sound"
        console.print(f"{verdict}, {warnings} warning{'s' * (warnings != 1)}", highlight=False)

    emit([p.as_dict() for p in problems], as_json, readable)
    if errors:
        # Exit 1: problems found (2 stays the `error:` line of an archive not checked).
        raise SystemExit(1)
