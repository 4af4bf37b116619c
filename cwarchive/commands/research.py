"""Research commands: `query` (one read-only SQL statement) and `export` (a view to a file).

A thin shell over `storage.readonly` and `storage.export`: options in, rows streamed
out, every failure the user can fix one `error:` line (exit status 2).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from cwarchive.errors import CliError
from cwarchive.options import db_option
from cwarchive.output import Column, console, table, to_json
from storage import vocabulary

QUERY_FORMATS = ("table", "csv", "json", "jsonl")


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    for command in (query, export):
        group.add_command(command)


@contextmanager
def _clean_errors() -> Iterator[None]:
    """Storage's one-line errors, and a closed pipe (`| head`), become clean exits."""
    from storage import ArchiveError, statement

    try:
        yield
    except statement.QueryTimeout as error:
        raise CliError(f"{error} (--timeout {error.seconds:g})") from None
    except ArchiveError as error:
        raise CliError(str(error)) from None
    except BrokenPipeError:
        # The reader went away: stop quietly, and keep Python from complaining about
        # the unflushable stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(0) from None


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip().removeprefix(":")
        if not sep or not name:
            raise CliError(f"--param {pair!r}: expected NAME=VALUE")
        if name in params:
            raise CliError(f"--param {name} given twice")
        params[name] = value
    return params


@click.command()
@click.argument("sql")
@click.option(
    "--param",
    "param_pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="A value for the placeholder :NAME (repeatable); bound, never pasted into the SQL.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(QUERY_FORMATS),
    default="table",
    show_default=True,
    help="table, csv (with a header), json (one array of objects) or jsonl.",
)
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=vocabulary.QUERY_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="Cancel the query after this much database time.",
)
@db_option
def query(
    sql: str,
    param_pairs: tuple[str, ...],
    fmt: str,
    as_json: bool,
    timeout: float,
    db_url: str,
) -> None:
    """Run one read-only SQL statement on the archive and print its rows.

    SQL is one SELECT (or WITH, VALUES; PRAGMAs that only report on SQLite); `-` reads
    it from stdin. The archive is opened read-only: a statement that would write
    (INSERT, UPDATE, DELETE, CREATE, DROP, ATTACH, VACUUM INTO, a PRAGMA that sets
    something) or several statements are refused with exit status 2, and nothing
    changes. Placeholders `:name` take their values from --param (as text; write
    CAST(:n AS INTEGER) where a number is needed, `\\:` for a literal colon before a
    word). The views are described in docs/research.md.

    \b
    Examples:
      cwarchive query "SELECT * FROM current_articles WHERE reviewed >= :d" --param d=2026-01-01
      cwarchive query "SELECT field, count(*) AS n FROM field_changes GROUP BY field" --json
      cwarchive query "SELECT * FROM tag_count_series WHERE tag_id = :t" \\
          --param t=md-anderson:diseases/breast-cancer --format csv > series.csv
    """
    if as_json:
        fmt = "json"
    if sql == "-":
        sql = sys.stdin.read()
    if not sql.strip():
        raise CliError("no SQL given")
    from storage import export as exporting
    from storage import statement

    params = _params(param_pairs)
    with _clean_errors(), statement.run_readonly(db_url, sql, params, timeout=timeout) as result:
        columns = [exporting.Column(name) for name in result.columns]
        if fmt == "table":
            _print_table(result.columns, result.rows)
            return
        writer = {
            "csv": exporting.write_csv,
            "json": exporting.write_json_array,
            "jsonl": exporting.write_jsonl,
        }[fmt]
        # One-row batches: each row is printed as soon as it is fetched.
        writer(columns, ([row] for row in result.rows), sys.stdout)
        sys.stdout.flush()


def _print_table(names: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    from storage import export as exporting

    records = [
        {name: exporting.csv_value(value) for name, value in zip(names, row, strict=True)}
        for row in rows
    ]
    columns: dict[str, Column] = {name: name for name in names}
    console().print(table(f"{len(records)} rows", records, columns))


@click.command()
@click.option(
    "--what",
    type=click.Choice(vocabulary.EXPORT_WHATS),
    required=True,
    help="articles (current_articles), versions (article_versions + body_text), changes "
    "(field_changes), tags (tag_count_series) or runs.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(vocabulary.EXPORT_FORMATS),
    help="csv, jsonl or parquet [default: from the --out suffix].",
)
@click.option(
    "--out", required=True, metavar="FILE", help="The file to write; `-`: stdout (csv, jsonl)."
)
@click.option(
    "--field",
    type=click.Choice(vocabulary.DIFF_FIELDS),
    help="With --what changes: only this field's changes.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=vocabulary.EXPORT_BATCH_SIZE,
    show_default=True,
    help="Rows fetched and written at a time.",
)
@db_option
def export(
    what: str, fmt: str | None, out: str, field: str | None, batch_size: int, db_url: str
) -> None:
    """Export a research view as CSV, JSON Lines or Parquet, streaming in constant memory.

    CSV has a header row; dates are ISO text; lists (authors, reviewers) are JSON text
    in CSV and lists in JSON Lines and Parquet. Parquet needs the optional extra:
    pip install 'cwarchive[parquet]'. A file appears only once complete; the row count
    is printed as one JSON document (on stderr when the rows go to stdout).

    \b
    Examples:
      cwarchive export --what articles --format csv --out articles.csv
      cwarchive export --what versions --format parquet --out versions.parquet
      cwarchive export --what changes --field reviewed --format jsonl --out -
    """
    from storage import export as exporting

    if fmt is None:
        suffix = os.path.splitext(out)[1].lstrip(".").lower()
        if suffix not in vocabulary.EXPORT_FORMATS:
            raise CliError("--format csv, jsonl or parquet (the --out name does not say)")
        fmt = suffix
    if field is not None and what != "changes":
        raise CliError("--field applies to --what changes")
    if fmt == "parquet":
        if out == "-":
            raise CliError("Parquet goes to a file: --out FILE.parquet")
        with _clean_errors():
            exporting.require_pyarrow()
    target: Any = sys.stdout if out == "-" else out
    with _clean_errors():
        try:
            rows = exporting.export(db_url, what, fmt, target, field=field, batch_size=batch_size)
        except OSError as error:
            if isinstance(error, BrokenPipeError):
                raise
            raise CliError(f"{out}: {error.strerror or error}") from None
        if out == "-":
            sys.stdout.flush()
    summary = {"what": what, "format": fmt, "out": out, "rows": rows}
    if field is not None:
        summary["field"] = field
    click.echo(to_json(summary, compact=True), err=out == "-")
