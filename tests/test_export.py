"""`cwarchive export`: each view, each format, read back, on SQLite and on PostgreSQL.

The archive (tests/test_query.py `build_archive`) has several runs with re-reviews,
retitles and a body edit; every export is read back (csv module, json, pyarrow) and
compared with the view it exports, row by row.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, event

from cwarchive.commands import research
from storage import Archive, queries
from storage import db as storage_db
from storage import export as exporting
from tests.storage_records import article, raw_page
from tests.test_query import assert_one_error, build_archive, rows_of

LISTS = {"articles": ("reviewers", "authors"), "versions": ("reviewers",)}


def cli() -> click.Group:
    group = click.Group()
    research.register(group)
    return group


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli(), list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def pyarrow_parquet() -> Any:
    return pytest.importorskip("pyarrow.parquet")


@pytest.fixture
def archive(archive_url: str) -> str:
    build_archive(archive_url)
    return archive_url


def view_rows(url: str, what: str, field: str | None = None) -> list[dict[str, Any]]:
    """The rows the export `what` must hold, read from its view, in the export's order."""
    if what == "articles":
        return rows_of(url, "SELECT * FROM current_articles ORDER BY article_key")
    if what == "versions":
        bodies = {
            (row["article_key"], row["number"]): row["body_text"]
            for row in rows_of(
                url,
                "SELECT a.article_key, v.number, v.body_text "
                "FROM versions AS v JOIN articles AS a ON a.id = v.article_id",
            )
        }
        rows = rows_of(url, "SELECT * FROM article_versions ORDER BY article_key, version")
        return [{**r, "body_text": bodies[r["article_key"], r["version"]]} for r in rows]
    if what == "changes":
        rows = rows_of(url, "SELECT * FROM field_changes ORDER BY article_key, field, to_version")
        return [r for r in rows if field is None or r["field"] == field]
    if what == "tags":
        rows = rows_of(url, "SELECT * FROM tag_count_series")
        return sorted(
            rows, key=lambda r: (r["run"], r["tag_id"] is None, r["tag_id"] or "", r["label"] or "")
        )
    raise AssertionError(what)


def as_lists(what: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The view's rows with its JSON-text list columns as lists (JSON Lines, Parquet)."""
    names = LISTS.get(what, ())
    return [{k: json.loads(v) if k in names else v for k, v in row.items()} for row in rows]


def as_csv(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]


def read_back(path: Path, fmt: str, parquet: Any = None) -> list[dict[str, Any]]:
    if fmt == "csv":
        with open(path, newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    if fmt == "jsonl":
        return [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    return parquet.read_table(path).to_pylist()


def export(url: str, what: str, fmt: str, out: Path | str, *args: str) -> Result:
    return invoke("export", "--what", what, "--format", fmt, "--out", str(out), "--db", url, *args)


# -- every view, every format ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
@pytest.mark.parametrize("what", ["articles", "versions", "changes", "tags"])
def test_each_export_reads_back_as_its_view(
    archive: str, tmp_path: Path, what: str, fmt: str, pyarrow_parquet: Any
) -> None:
    expected = view_rows(archive, what)
    assert len(expected) >= 3, "the archive should give every view several rows"
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / f"{what}.{fmt}"
    result = export(archive, what, fmt, out, "--batch-size", "2")  # several batches
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "what": what,
        "format": fmt,
        "out": str(out),
        "rows": len(expected),
    }
    rows = read_back(out, fmt, pyarrow_parquet)
    assert rows == (as_csv(expected) if fmt == "csv" else as_lists(what, expected))
    # Same columns, same order as the view (plus body_text for versions).
    assert list(rows[0]) == list(expected[0])
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no partial file left


def test_the_archive_has_the_changes_the_exports_show(archive: str, tmp_path: Path) -> None:
    out = tmp_path / "changes.jsonl"
    assert export(archive, "changes", "jsonl", out).exit_code == 0
    changes = read_back(out, "jsonl")
    fields = {(c["article_key"], c["field"]) for c in changes}
    assert {
        ("cancerwise/story-a", "reviewed"),
        ("cancerwise/story-a", "reviewers"),
        ("cancerwise/story-b", "title"),
        ("cancerwise/story-e", "body_text"),
    } <= fields
    retitles = [c for c in changes if c["field"] == "title"]
    assert [(c["from_run"], c["to_run"]) for c in retitles] == [(1, 2), (2, 3)]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_changes_of_one_field(archive: str, tmp_path: Path, fmt: str) -> None:
    expected = view_rows(archive, "changes", "reviewed")
    assert [(r["article_key"], r["old"], r["new"]) for r in expected] == [
        ("cancerwise/story-a", None, "2025-07-01")
    ]
    out = tmp_path / f"reviewed.{fmt}"
    result = export(archive, "changes", fmt, out, "--field", "reviewed")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["rows"] == 1
    rows = read_back(out, fmt)
    assert rows == (as_csv(expected) if fmt == "csv" else expected)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_runs_export(archive: str, tmp_path: Path, fmt: str, pyarrow_parquet: Any) -> None:
    engine = storage_db.make_engine(archive)
    try:
        with engine.connect() as conn:
            expected = queries.runs(conn)  # times as isoformat(): +00:00
    finally:
        engine.dispose()
    out = tmp_path / f"runs.{fmt}"
    assert export(archive, "runs", fmt, out).exit_code == 0
    rows = read_back(out, fmt, pyarrow_parquet)
    assert len(rows) == 3
    for row, want in zip(rows, expected, strict=True):
        for name in ("started_at", "finished_at"):
            assert row[name].endswith("Z")
            assert dt.datetime.fromisoformat(row[name]) == dt.datetime.fromisoformat(want[name])
        # The run's extraction health is a table of its own (run_field_health), not
        # a column of the runs export.
        kept_out = ("started_at", "finished_at", "health", "degraded", "held")
        same = {k: v for k, v in want.items() if k not in kept_out}
        assert {k: row[k] for k in same} == (as_csv([same])[0] if fmt == "csv" else same)


def test_parquet_types(archive: str, tmp_path: Path, pyarrow_parquet: Any) -> None:
    out = tmp_path / "articles.parquet"
    assert export(archive, "articles", "parquet", out, "--batch-size", "2").exit_code == 0
    schema = pyarrow_parquet.read_schema(out)
    assert str(schema.field("versions").type) == "int64"
    assert str(schema.field("reviewed").type) == "string"
    assert str(schema.field("authors").type) == "list<element: string>"
    assert pyarrow_parquet.ParquetFile(out).num_row_groups == 3  # 5 rows, 2 per batch
    (story_a,) = [r for r in read_back(out, "parquet", pyarrow_parquet) if r["reviewed"]]
    assert story_a["authors"] == ["José Müller", "Jane Doe"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_to_stdout_with_the_count_on_stderr(archive: str, fmt: str) -> None:
    result = export(archive, "articles", fmt, "-")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stderr)["rows"] == 5
    lines = result.stdout.splitlines()
    assert len(lines) == (6 if fmt == "csv" else 5)
    if fmt == "jsonl":
        assert json.loads(lines[0])["article_key"] == "cancerwise/story-a"


def test_format_from_the_file_name(archive: str, tmp_path: Path) -> None:
    out = tmp_path / "tags.jsonl"
    result = invoke("export", "--what", "tags", "--out", str(out), "--db", archive)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["format"] == "jsonl"


def test_parquet_without_pyarrow(
    archive: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import pyarrow` raise ImportError, as when not installed.
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    out = tmp_path / "articles.parquet"
    assert_one_error(
        export(archive, "articles", "parquet", out), "pip install 'cwarchive[parquet]'"
    )
    assert not out.exists()


def test_usage_errors(archive: str, tmp_path: Path) -> None:
    assert_one_error(
        export(archive, "articles", "csv", tmp_path / "a.csv", "--field", "title"),
        "--field applies to --what changes",
    )
    assert_one_error(export(archive, "articles", "parquet", "-"), "Parquet goes to a file")
    no_format = invoke(
        "export", "--what", "tags", "--out", str(tmp_path / "x.txt"), "--db", archive
    )
    assert_one_error(no_format, "--format")
    assert_one_error(export(archive, "articles", "csv", tmp_path / "missing" / "a.csv"), "missing")
    missing = tmp_path / "none.sqlite"
    assert_one_error(export(str(missing), "articles", "csv", tmp_path / "b.csv"), "no archive")
    assert not missing.exists()
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".csv", ".txt", ".partial")]


# -- constant memory ------------------------------------------------------------------------


def many_versions(url: str, articles: int, runs: int, body_chars: int) -> int:
    """An archive where every article's body changes every run; the body bytes stored."""
    archive = Archive.open(url, batch_size=500)
    total = 0
    try:
        for number in range(1, runs + 1):
            run = archive.start_run("full", "https://www.mdanderson.org", "1")
            for i in range(articles):
                line = f"Article {i} in run {number} says something about screening. "
                body = (line * (body_chars // len(line) + 1))[:body_chars]
                record = article(f"cancerwise/story-{i:05d}", body_text=body)
                archive.save_article(
                    run,
                    record,
                    raw=raw_page(record),
                    url=record["url"],
                    http_status=200,
                    fetched_at=dt.datetime(2026, 1, number, tzinfo=dt.UTC),
                )
                total += len(body)
            archive.finish_run(run, "completed", pages_fetched=articles)
    finally:
        archive.close()
    return total


@pytest.fixture
def cursor_kinds() -> Iterator[list[tuple[str, Any]]]:
    """(DBAPI cursor class, yield_per) of every statement any engine runs meanwhile."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        context = args[-2]
        if "FROM article_versions AS av" in statement:  # the export's, not a migration's
            seen.append((type(cursor).__name__, context.execution_options.get("yield_per")))

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


def test_a_large_export_streams(
    archive_url: str, tmp_path: Path, cursor_kinds: list[tuple[str, Any]]
) -> None:
    body_bytes = many_versions(archive_url, articles=300, runs=5, body_chars=4000)
    assert body_bytes == 6_000_000
    out = tmp_path / "versions.jsonl"
    # Once untraced first: imports and SQLAlchemy's compiled-statement cache are paid
    # once per process, whichever test comes first, and are not what is measured.
    exporting.export(archive_url, "versions", "jsonl", tmp_path / "warm.jsonl", batch_size=100)
    cursor_kinds.clear()
    tracemalloc.start()
    try:
        rows = exporting.export(archive_url, "versions", "jsonl", out, batch_size=100)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == 1500
    assert out.stat().st_size > body_bytes
    # Holding every row would take more than the bodies' 6 MB; a batch of 100 rows takes
    # well under half of it.
    assert peak < body_bytes / 2, f"peak {peak / 1e6:.1f} MB of Python memory"
    assert cursor_kinds, "the versions export ran no statement on article_versions"
    for cursor, yield_per in cursor_kinds:
        assert yield_per == 100
        if archive_url.startswith("postgresql"):
            # Only a server-side cursor keeps the rows on the server until fetched; a
            # client cursor holds the whole result in libpq's memory, which tracemalloc
            # does not see.
            assert cursor == "ServerCursor"
