"""Archive commands that write or maintain: reparse, ingest, db upgrade, db check.

Thin shells: `storage.reparse` re-extracts, `cwarchive.ingest` stores saved pages,
`storage.db` migrates and `storage.check` verifies (read-only). Registered with the
`cwarchive.cli` as their own module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from cwarchive.archives import first_line, writing
from cwarchive.errors import CliError
from cwarchive.options import db_option, json_option, usable_cores
from cwarchive.output import emit

if TYPE_CHECKING:
    from rich.console import Console


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    for command in (reparse, ingest, db):
        group.add_command(command)


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
    with writing(db_url) as archive:
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
    from cwarchive.ingest import SavedFile
    from cwarchive.ingest import ingest as ingest_files

    if url and len(files) > 1:
        raise CliError("--url applies to one FILE; the pages' own canonical links are used")
    saved = []
    for name in files:
        path = Path(name)
        try:
            saved.append(SavedFile(name, path.read_bytes(), path.stat().st_mtime))
        except OSError as error:
            raise CliError(f"{name}: {error.strerror or error}") from None
    with writing(db_url) as archive:
        done = ingest_files(archive, saved, url)
    run, results = done.run, done.files
    summary = {
        "run": run,
        **{k: done.totals[k] for k in ("new", "changed", "unchanged", "listings", "errors")},
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
        raise CliError(f"cannot upgrade {db_url}: {first_line(error)}") from None
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
    from storage.check import verify_archive

    parse = None
    if deep:
        from crawler.parsers import parse_page

        parse = parse_page
    try:
        problems = verify_archive(db_url, parse=parse)
    except ArchiveError as error:
        raise CliError(str(error)) from None
    except SQLAlchemyError as error:  # a bad URL, an unreachable server, not a database
        raise CliError(f"cannot check the archive {db_url}: {first_line(error)}") from None
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
