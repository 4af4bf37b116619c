"""`cwarchive query`: one read-only statement, on SQLite and on PostgreSQL (`archive_url`).

Every refused statement is followed by a check that no table, view, index or setting
changed (every table's rows hashed before and after) and, on SQLite, that no file
appeared beside the archive.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import time
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import inspect, text

from cwarchive.commands import research
from storage import Archive
from storage import db as storage_db
from tests.storage_records import article, listing, raw_page, sidebar

T0 = dt.datetime(2026, 8, 19, 12, 0, tzinfo=dt.UTC)
QUOTED_TITLE = "It's \"quoted\"; a title with 'quotes'"
REVIEWER = {"name": "Therese Bevers, M.D.", "url": "https://faculty.mdanderson.org/x.html"}


# -- an archive with several runs and changes (test_export.py uses it too) ------------------


def build_archive(url: str, *, runs: int = 3) -> None:
    """Runs 1..`runs` of five articles: re-reviews, retitles, a body edit, a new article.

    - story-a: reviewed and given a reviewer in run 2, unchanged after;
    - story-b: retitled in every run (the last title has quotes in it);
    - story-c: never changes; story-d: first seen in run 2; story-e: body edited in run 3;
    - a facet listing per run with the sidebar counts moving.
    """
    archive = Archive.open(url, batch_size=7)
    try:
        for number in range(1, runs + 1):
            run = archive.start_run("full", "https://www.mdanderson.org", "1")
            records = [
                article(
                    "cancerwise/story-a",
                    reviewed="2025-07-01" if number >= 2 else None,
                    reviewers=[REVIEWER] if number >= 2 else [],
                    authors=["José Müller", "Jane Doe"],
                ),
                article(
                    "cancerwise/story-b",
                    title=QUOTED_TITLE if number == runs else f"Story b, take {number}",
                ),
                article("cancerwise/story-c"),
                article("cancerwise/story-e", body_text="Edited." if number >= 3 else "First."),
            ]
            if number >= 2:
                records.append(article("cancerwise/story-d", published="2026-01-02"))
            for minute, record in enumerate(records):
                archive.save_article(
                    run,
                    record,
                    raw=raw_page(record),
                    url=record["url"],
                    http_status=200,
                    fetched_at=T0 + dt.timedelta(days=number, minutes=minute),
                )
            page = listing(
                links=[r["url"] for r in records], tag_counts=sidebar(breast=700 + number)
            )
            archive.save_listing(
                run,
                page,
                raw=repr(page).encode(),
                url=page["url"],
                fetched_at=T0 + dt.timedelta(days=number, minutes=30),
            )
            archive.finish_run(run, "completed", pages_fetched=len(records) + 1)
    finally:
        archive.close()


def rows_of(url: str, sql: str) -> list[dict[str, Any]]:
    """The rows of `sql` through an ordinary connection, as dicts."""
    engine = storage_db.make_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def snapshot(url: str) -> dict[str, Any]:
    """Every table's row count and a hash of its rows; the views, indexes and settings."""
    engine = storage_db.make_engine(url)
    state: dict[str, Any] = {}
    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            for name in sorted(inspector.get_table_names()):
                rows = sorted(
                    repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{name}"'))
                )
                digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
                state[f"table {name}"] = (len(rows), digest)
                state[f"indexes {name}"] = sorted(
                    i["name"] or "" for i in inspector.get_indexes(name)
                )
            state["views"] = sorted(inspector.get_view_names())
            if conn.dialect.name == "sqlite":
                for pragma in ("user_version", "journal_mode", "schema_version"):
                    state[pragma] = conn.exec_driver_sql(f"PRAGMA {pragma}").scalar()
            else:
                state["sequences"] = conn.execute(
                    text("SELECT last_value FROM runs_id_seq")
                ).scalar()
    finally:
        engine.dispose()
    return state


def files_beside(url: str) -> set[str]:
    """Files in the SQLite archive's directory, but for its own -wal and -shm."""
    path = storage_db.sqlite_file(url)
    if path is None:
        return set()
    folder = Path(path).parent
    return {p.name for p in folder.iterdir()} - {f"{Path(path).name}-wal", f"{Path(path).name}-shm"}


def cli() -> click.Group:
    group = click.Group()
    research.register(group)
    return group


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli(), list(args), input=input, catch_exceptions=False)


def query(url: str, sql: str, *args: str) -> Result:
    return invoke("query", sql, *args, "--db", url)


def assert_one_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def archive(archive_url: str) -> str:
    build_archive(archive_url)
    return archive_url


# -- refusals -------------------------------------------------------------------------------

REFUSED = [
    "INSERT INTO runs (started_at, site_root, mode, status, parser_version) "
    "VALUES ('2026-01-01 00:00:00', 'x', 'full', 'completed', '1')",
    "UPDATE versions SET title = 'changed'",
    "DELETE FROM observations",
    "DROP TABLE raw_pages",
    "DROP VIEW current_articles",
    "CREATE TABLE notes (x INTEGER)",
    "CREATE INDEX ix_notes ON versions (title)",
    "CREATE VIEW mine AS SELECT 1 AS x",
    "ALTER TABLE runs ADD COLUMN note TEXT",
    "ATTACH DATABASE '{tmp}/attached.sqlite' AS other",
    "VACUUM INTO '{tmp}/copy.sqlite'",
    "VACUUM",
    "PRAGMA writable_schema=1",
    "PRAGMA user_version=7",
    "PRAGMA journal_mode=DELETE",
    "BEGIN",
    "COMMIT; DROP TABLE runs",
    "SELECT 1; DELETE FROM runs",
    "SELECT count(*) FROM runs; DROP TABLE articles",
]


@pytest.mark.parametrize("statement", REFUSED)
def test_writes_are_refused_and_nothing_changes(
    archive: str, tmp_path: Path, statement: str
) -> None:
    statement = statement.format(tmp=tmp_path)
    before, files = snapshot(archive), files_beside(archive)
    result = query(archive, statement)
    assert_one_error(result, "refused")
    assert snapshot(archive) == before
    assert files_beside(archive) == files
    assert not (tmp_path / "attached.sqlite").exists()
    assert not (tmp_path / "copy.sqlite").exists()


@pytest.mark.parametrize(
    "statement",
    [
        # Data-modifying CTE: a syntax error on SQLite, a refusal on PostgreSQL.
        "WITH gone AS (DELETE FROM runs RETURNING id) SELECT * FROM gone",
        "SELECT * FROM runs FOR UPDATE",
        "SELECT nextval('runs_id_seq')",
        "SELECT load_extension('/tmp/nothing')",
        "SELECT set_config('transaction_read_only', 'off', true)",
        "UPDATE sqlite_master SET sql = 'x' WHERE name = 'runs'",
    ],
)
def test_backend_specific_writes_fail_cleanly(archive: str, statement: str) -> None:
    before = snapshot(archive)
    assert_one_error(query(archive, statement))
    assert snapshot(archive) == before


def test_a_refused_attach_leaves_no_file_anywhere(archive: str, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "attached.sqlite"
    target.parent.mkdir()
    assert_one_error(query(archive, f"ATTACH '{target}' AS x"))
    assert_one_error(query(archive, f"VACUUM INTO '{target}'"))
    assert list(target.parent.iterdir()) == []


# -- what runs ------------------------------------------------------------------------------


def test_parameters_are_bound_not_pasted(archive: str) -> None:
    sql = "SELECT article_key, title FROM current_articles WHERE title = :t"
    result = query(archive, sql, "--param", f"t={QUOTED_TITLE}", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"article_key": "cancerwise/story-b", "title": QUOTED_TITLE}
    ]
    # Pasted into the SQL this would be always true; bound, it matches no title.
    injection = query(archive, sql, "--param", "t=x' OR '1'='1", "--json")
    assert injection.exit_code == 0 and json.loads(injection.stdout) == []


def test_a_date_parameter(archive: str) -> None:
    result = query(
        archive,
        "SELECT article_key FROM current_articles WHERE reviewed >= :d ORDER BY article_key",
        "--param",
        "d=2025-01-01",
        "--format",
        "jsonl",
    )
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"article_key": "cancerwise/story-a"}
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "placeholder without a value: :d"),
        (("--param", "d=1", "--param", "e=2"), "no placeholder for e"),
        (("--param", "d"), "expected NAME=VALUE"),
        (("--param", "d=1", "--param", "d=2"), "given twice"),
    ],
)
def test_parameter_mistakes(archive: str, args: tuple[str, ...], message: str) -> None:
    assert_one_error(query(archive, "SELECT :d AS d", *args), message)


def test_a_long_query_is_cancelled(archive: str) -> None:
    endless = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    )
    started = time.monotonic()
    result = query(archive, endless, "--timeout", "1")
    # Never finishing on its own, the query can only end this early by being cancelled.
    assert time.monotonic() - started < 30
    assert_one_error(result, "ran longer than 1 s", "--timeout")


def test_output_formats_parse_back(archive: str) -> None:
    sql = (
        "SELECT article_key, title, versions, reviewers, removed_run "
        "FROM current_articles ORDER BY article_key"
    )
    expected = rows_of(archive, sql)
    assert len(expected) == 5

    as_json = query(archive, sql, "--format", "json")
    assert as_json.exit_code == 0, as_json.stderr
    assert json.loads(as_json.stdout) == expected  # one array of row objects

    assert query(archive, sql, "--json").stdout == as_json.stdout

    lines = query(archive, sql, "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in lines] == expected

    read = list(csv.DictReader(io.StringIO(query(archive, sql, "--format", "csv").stdout)))
    assert read == [{k: "" if v is None else str(v) for k, v in row.items()} for row in expected]

    table = query(archive, sql)
    assert table.exit_code == 0 and "5 rows" in table.stdout
    assert "cancerwise/story-a" in table.stdout


def test_no_rows_and_duplicate_names(archive: str) -> None:
    empty = query(archive, "SELECT article_key FROM current_articles WHERE 1 = 0", "--json")
    assert empty.exit_code == 0 and json.loads(empty.stdout) == []
    header = query(
        archive, "SELECT article_key FROM current_articles WHERE 1 = 0", "--format", "csv"
    )
    assert header.stdout.splitlines() == ["article_key"]
    both = query(
        archive, "SELECT r.id, s.id FROM runs AS r JOIN runs AS s ON s.id = r.id + 1", "--json"
    )
    assert json.loads(both.stdout) == [{"id": 1, "id_2": 2}, {"id": 2, "id_2": 3}]


def test_sql_from_stdin_and_a_trailing_semicolon(archive: str) -> None:
    result = invoke(
        "query", "-", "--json", "--db", archive, input="SELECT count(*) AS n FROM runs;\n"
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [{"n": 3}]


def test_sqlite_pragmas_that_only_report_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    build_archive(url, runs=1)
    result = query(url, "PRAGMA table_info(runs)", "--json")
    assert result.exit_code == 0, result.stderr
    assert "started_at" in [row["name"] for row in json.loads(result.stdout)]
    pragma_function = query(url, "SELECT name FROM pragma_table_info('runs')", "--json")
    assert pragma_function.exit_code == 0, pragma_function.stderr
    each = query(url, "SELECT value FROM json_each('[1, 2]')", "--json")
    assert json.loads(each.stdout) == [{"value": 1}, {"value": 2}]
    assert query(url, "PRAGMA user_version", "--json").exit_code == 0


def test_errors_the_user_can_fix(archive_url: str, tmp_path: Path) -> None:
    assert_one_error(query(archive_url, "SELECT 1"), "no archive")  # empty database
    missing = tmp_path / "missing.sqlite"
    assert_one_error(query(str(missing), "SELECT 1"), "no archive")
    assert not missing.exists()  # a read-only open creates nothing
    build_archive(archive_url, runs=1)
    assert_one_error(query(archive_url, "SELECT * FROM no_such_table"), "no_such_table")
    assert_one_error(query(archive_url, "SELEC 1"), "syntax error")
    assert_one_error(query(archive_url, "   "), "no SQL")


def test_an_archive_that_cannot_be_opened(tmp_path: Path) -> None:
    not_sqlite = tmp_path / "notes.sqlite"
    not_sqlite.write_text("not a database")
    assert_one_error(query(str(not_sqlite), "SELECT 1"), "cannot open the archive", str(not_sqlite))
    assert not_sqlite.read_text() == "not a database"
    unreachable = "postgresql://nobody@127.0.0.1:1/archive"  # no server listens on port 1
    assert_one_error(query(unreachable, "SELECT 1"), "cannot open the archive")
