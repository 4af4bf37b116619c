"""`cwarchive reparse --jobs N`: worker processes parse, one process writes, same archive.

Two archives are built alike (every fixture page, then a run with a changed page) and
reparsed with a changed parser, one with `--jobs 1`, one with `--jobs 2`: every row of
every table must be the same, ids included (so versions were added in the same order),
except the clock times the writer stamps (when a run started and ended, when a parse
error was written). Small chunks make many tasks, so the workers finish out of order.

The changed parser is `parse_v2` below: a module-level function, so that spawned
workers (the start method off Linux) import it by name; forked workers inherit it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select

import crawler.parsers
import storage.reparse
from common.record import content_hash
from crawler.parsers import PageError, parse_page
from storage import Archive
from storage import db as storage_db
from storage.models import Run
from tests.archive_cli import as_json, cli
from tests.databases import PG_ENV, postgres_schema
from tests.processes import descendants, still_running_after

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "fixtures" / "pages"
PARSER_V2 = "2-jobs-test"
# Written by the clock, not by what was parsed: they differ between any two archives.
CLOCK_COLUMNS = {"runs": {"started_at", "finished_at"}, "parse_errors": {"observed_at"}}


def parse_v2(html: bytes | str, url: str | None = None) -> dict[str, Any]:
    """A parser "fix": every title reads differently, one article no longer parses."""
    if url and "zebrafish" in url:
        raise PageError("refused by the changed parser")
    record = parse_page(html, url)
    if record["page_type"] == "article":
        record["title"] = f"{record['title']} (v2)"
        record["content_hash"] = content_hash(record)
    return record


def parse_v2_or_crash(html: bytes | str, url: str | None = None) -> dict[str, Any]:
    """A parser with a bug: not a page error, so the reparse fails."""
    if url and "cytokine" in url:
        raise RuntimeError("parser bug")
    return parse_v2(html, url)


@pytest.fixture
def second_url(archive_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty archive on the same backend as `archive_url`."""
    if archive_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second.sqlite'}"
        return
    server = os.environ[PG_ENV]  # set, or `archive_url` would have skipped the test
    with postgres_schema(server) as url:
        yield url


@pytest.fixture
def pages(tmp_path: Path) -> tuple[list[Path], list[Path]]:
    """The files of two ingest runs: every fixture page, then a changed page and one more.

    Written once, so both archives read the same files (ingest's fetch time is the
    file's modification time).
    """
    changed = tmp_path / "cytokine-changed.html"
    original = (PAGES / "cytokine-storm.html").read_bytes()
    changed.write_bytes(original.replace(b"Family survivors type", b"Family survivors kind"))
    assert changed.read_bytes() != original
    return sorted(PAGES.glob("*.html")), [changed, PAGES / "zebrafish-no-reviewer.html"]


def build(db_url: str, pages: tuple[list[Path], list[Path]]) -> None:
    for files in pages:
        as_json("ingest", *map(str, files), "--db", db_url)


def rows(db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, clock columns left out, in a stable order."""
    engine = storage_db.make_engine(db_url)
    tables: dict[str, list[tuple[Any, ...]]] = {}
    try:
        with engine.connect() as conn:
            # FTS5's shadow tables hold its index's internals; `version_search` itself
            # (the indexed text) is compared.
            names = [
                name
                for name in inspect(conn).get_table_names()
                if not name.startswith("version_search_")
            ]
            for name in sorted(names):
                result = conn.exec_driver_sql(f'SELECT * FROM "{name}"')
                keep = [
                    i
                    for i, column in enumerate(result.keys())
                    if column not in CLOCK_COLUMNS.get(name, ())
                ]
                tables[name] = sorted((tuple(row[i] for i in keep) for row in result), key=repr)
    finally:
        engine.dispose()
    return tables


def test_two_jobs_write_the_archive_one_job_writes(
    archive_url: str,
    second_url: str,
    pages: tuple[list[Path], list[Path]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build(archive_url, pages)
    build(second_url, pages)
    before = rows(archive_url)
    assert before == rows(second_url)

    monkeypatch.setattr(storage.reparse, "CHUNK", 2)
    monkeypatch.setattr(crawler.parsers, "parse_page", parse_v2)
    monkeypatch.setattr(crawler.parsers, "PARSER_VERSION", PARSER_V2)
    one = as_json("reparse", "--jobs", "1", "--db", archive_url)
    two = as_json("reparse", "--jobs", "2", "--db", second_url)

    assert (one.pop("jobs"), two.pop("jobs")) == (1, 2)
    assert one == two
    # More chunks than the two workers may hold (two each): the window moves on.
    assert one["pages"] > 2 * 2 * storage.reparse.CHUNK
    assert one["versions_added"] > 0 and one["errors"] > 0
    after = rows(archive_url)
    assert after != before
    assert after == rows(second_url)


def test_an_unchanged_parser_adds_nothing_with_any_jobs(
    archive_url: str, pages: tuple[list[Path], list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    build(archive_url, pages)
    monkeypatch.setattr(storage.reparse, "CHUNK", 3)
    before = rows(archive_url)
    summary = as_json("reparse", "--jobs", "2", "--db", archive_url)
    assert (summary["versions_added"], summary["errors"]) == (0, 0)
    assert summary["unchanged"] == summary["pages"] > 0
    after = rows(archive_url)
    assert after["versions"] == before["versions"]
    assert after["observations"] == before["observations"]


def test_spawned_workers_import_the_parser_by_name(
    tmp_path: Path, pages: tuple[list[Path], list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start method where fork is not used: the parser crosses by pickle (SQLite only:
    the start method is the same whatever the database)."""
    one, two = (f"sqlite:///{tmp_path / name}" for name in ("one.sqlite", "two.sqlite"))
    build(one, pages)
    build(two, pages)
    monkeypatch.setattr(storage.reparse, "CHUNK", 5)
    monkeypatch.setattr(storage.reparse, "START_METHOD", "spawn")
    summaries = []
    for db_url, jobs in ((one, 1), (two, 2)):
        with Archive.open(db_url) as archive:
            summaries.append(
                archive.reparse(parse_v2, PARSER_V2, page_errors=(PageError,), jobs=jobs)
            )
    assert summaries[0] == summaries[1]
    assert summaries[0]["versions_added"] > 0
    assert rows(one) == rows(two)


def test_a_parser_bug_in_a_worker_fails_the_run(
    archive_url: str, pages: tuple[list[Path], list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    build(archive_url, pages)
    monkeypatch.setattr(storage.reparse, "CHUNK", 3)
    with Archive.open(archive_url) as archive:
        with pytest.raises(RuntimeError, match="parser bug"):
            archive.reparse(parse_v2_or_crash, PARSER_V2, page_errors=(PageError,), jobs=2)
        with archive.engine.connect() as conn:
            last = conn.execute(select(Run.mode, Run.status).order_by(Run.id.desc())).first()
    assert tuple(last) == ("reparse", "failed")


def test_jobs_must_be_positive(archive_url: str) -> None:
    with Archive.open(archive_url) as archive, pytest.raises(ValueError, match="jobs"):
        archive.reparse(parse_page, "1", jobs=0)
    result = CliRunner().invoke(cli(), ["reparse", "--jobs", "0", "--db", archive_url])
    assert result.exit_code == 2 and "--jobs" in result.output


def parse_slowly(html: bytes | str, url: str | None = None) -> dict[str, Any]:
    """The parser, a twentieth of a second a page: a reparse long enough to be killed."""
    time.sleep(0.05)
    return parse_page(html, url)


# The writer, in a process of its own to be killed: forked workers inherit the parser.
SLOW_REPARSE = """
import sys
from storage import Archive
from tests.test_reparse_jobs import parse_slowly
Archive.open(sys.argv[1]).reparse(parse_slowly, parser_version="slow", jobs=2)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process trees in /proc")
def test_workers_end_with_a_writer_killed_by_sigkill(
    tmp_path: Path, pages: tuple[list[Path], list[Path]]
) -> None:
    db_url = str(tmp_path / "archive.sqlite")
    build(db_url, pages)
    writer = subprocess.Popen([sys.executable, "-c", SLOW_REPARSE, db_url], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while len(workers := descendants(writer.pid)) < 2:
            assert writer.poll() is None, "the reparse ended before its workers started"
            assert time.monotonic() < deadline, "no workers after 60 s"
            time.sleep(0.05)
        time.sleep(0.3)  # the workers are parsing
        writer.send_signal(signal.SIGKILL)
        writer.wait(30)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    # Without the watch each worker waits for chunks forever.
    assert not still_running_after(workers, 10), f"left running of {workers}"
