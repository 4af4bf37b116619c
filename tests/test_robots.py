"""robots.txt as RFC 9309 reads it: 200 obeyed, 4xx no rules, 5xx or no answer nothing.

Real crawls: `python -m cwarchive crawl` (and `worker`) in child processes against the
replay server on loopback, its fault injection breaking /robots.txt, into SQLite (and
PostgreSQL + Redis for the distributed run). The server's request log is the proof of
what was fetched. Timeouts and retries are shortened so the unreachable cases take
seconds: one retry, no backoff, a 1 s download timeout against a 2 s stall.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cwarchive.crawling import EXIT_ROBOTS_UNAVAILABLE, exit_status
from cwarchive.testing.faults import FaultSpec
from cwarchive.testing.replay import ReplayServer, spawn
from cwarchive.testing.sitegen import Site
from cwarchive.testing.sitegen.generate import generate_site
from tests.crawling import rows

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = 12
FAST = ("-s", "RETRY_TIMES=1", "-s", "ARCHIVE_RETRY_BACKOFF_BASE=0", "-s", "DOWNLOAD_TIMEOUT=1")
STALL_SECONDS = 2.0  # longer than DOWNLOAD_TIMEOUT: a timeout for the client
ROBOTS_LINE = "error: robots.txt unavailable ("


Done = subprocess.CompletedProcess[str]


def crawl(site_url: str, db: Path | str, *args: str) -> Done:
    """`cwarchive crawl --json` in a child process."""
    db_url = db if isinstance(db, str) else f"sqlite:///{db}"
    done = subprocess.run(
        [sys.executable, "-m", "cwarchive", "crawl", "--site", site_url, "--db", db_url,
         "--json", *FAST, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done


def summary_of(done: Done) -> dict[str, Any]:
    return json.loads(done.stdout)


def error_lines(stderr: str) -> list[str]:
    """The `error:` lines a command printed (Scrapy's log lines start with a date)."""
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def start_worker(frontier: tuple[str, ...], db: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cwarchive", "worker", *frontier, "--db", db, "--wait", "60",
         "--json", *FAST],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def robots_broken(kind: str) -> FaultSpec:
    """Every request for /robots.txt gets `kind`; nothing else is touched."""
    return FaultSpec(paths=(("/robots.txt", {kind: 1.0}),), stall_seconds=STALL_SECONDS)


def requested(server: ReplayServer) -> list[str]:
    return [path for _, path, _ in server.requests]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Site, Path]]:
    model = generate_site(ARTICLES, seed=20)
    root = tmp_path / "site"
    model.write(root)
    yield model, root


def article_statuses(db: Path) -> list[tuple[str, int]]:
    return rows(db, "SELECT status, count(*) FROM articles GROUP BY status")


# --- 200: the rules are obeyed --------------------------------------------------------


def test_a_robots_txt_that_answers_200_is_obeyed(site: tuple[Site, Path], tmp_path: Path) -> None:
    model, root = site
    secret = sorted(a.path for a in model.articles.values())[0]
    # The landing page and the directory are start requests: they wait for robots.txt
    # with the spider's own robots.txt request, and must get its rules too (Scrapy
    # 2.19 let every waiter after the first through).
    model.disallow += ["/cancerwise.html", "/cancerwise.dir.html", secret]
    model.write(root)
    with ReplayServer(root) as server:
        result = crawl(server.url, tmp_path / "archive.sqlite", "--full")
    assert result.returncode == 0, result.stderr[-3000:]
    paths = requested(server)
    assert secret not in paths
    assert not [p for p in paths if p.startswith(("/cancerwise.html", "/cancerwise.dir.html"))]
    figures = summary_of(result)
    assert (figures["status"], figures["new"], figures["errors"]) == (
        "completed",
        ARTICLES - 1,
        0,
    )


# --- 4xx: no rules, and no error -------------------------------------------------------


def test_a_missing_robots_txt_allows_everything_and_is_no_error(
    site: tuple[Site, Path], tmp_path: Path
) -> None:
    model, root = site
    (root / "robots.txt").unlink()  # the replay server answers 404
    with ReplayServer(root) as server:
        result = crawl(server.url, tmp_path / "archive.sqlite", "--full")
    assert result.returncode == 0, result.stderr[-3000:]
    figures = summary_of(result)
    # Without robots.txt no sitemap is declared: the listings find every article.
    assert (figures["status"], figures["new"], figures["errors"], figures["error_rate"]) == (
        "completed",
        ARTICLES,
        0,
        0.0,
    )
    assert [s for _, p, s in server.requests if p == "/robots.txt"] == [404, 404]
    assert {a.path for a in model.articles.values()} <= set(requested(server))
    assert rows(tmp_path / "archive.sqlite", "SELECT count(*) FROM parse_errors") == [(0,)]
    assert not error_lines(result.stderr)


# --- 5xx or no answer: nothing is fetched, nothing removed -------------------------------


@pytest.mark.parametrize("kind", ["503", "429", "robots_timeout", "reset_before"])
def test_an_unavailable_robots_txt_stops_the_crawl_and_removes_nothing(
    site: tuple[Site, Path], tmp_path: Path, kind: str
) -> None:
    model, root = site
    db = tmp_path / "archive.sqlite"
    with ReplayServer(root) as server:
        first = crawl(server.url, db)
    assert first.returncode == 0 and summary_of(first)["new"] == ARTICLES, first.stderr[-3000:]
    # Three articles go: a run that completed would re-check them, get 404s and mark
    # them removed. This one must not.
    for path in sorted(a.path for a in model.articles.values())[:3]:
        (root / path.lstrip("/")).unlink()

    with ReplayServer(root, faults=robots_broken(kind), seed=1) as server:
        result = crawl(server.url, db, "--full")
    assert result.returncode == EXIT_ROBOTS_UNAVAILABLE, result.stderr[-3000:]
    assert set(requested(server)) == {"/robots.txt"}  # tried twice (one retry), nothing else
    assert len(server.requests) == 2
    (line,) = error_lines(result.stderr)
    assert line.startswith(ROBOTS_LINE) and "/robots.txt" in line, line
    figures = summary_of(result)
    assert (figures["status"], figures["finish_reason"], figures["pages_fetched"]) == (
        "failed",
        "robots_unavailable",
        0,
    )
    assert article_statuses(db) == [("active", ARTICLES)]
    assert rows(db, "SELECT status, articles_removed, pages_fetched FROM runs ORDER BY id") == [
        ("completed", 0, summary_of(first)["pages_fetched"]),
        ("failed", 0, 0),
    ]


def test_a_site_that_refuses_connections_stops_the_crawl(tmp_path: Path) -> None:
    with ReplayServer(tmp_path) as server:
        url = server.url  # a port nothing listens on once the server is gone
    result = crawl(url, tmp_path / "archive.sqlite")
    assert result.returncode == EXIT_ROBOTS_UNAVAILABLE, result.stderr[-3000:]
    (line,) = error_lines(result.stderr)
    assert line.startswith(ROBOTS_LINE) and "ConnectionRefused" in line, line
    assert summary_of(result)["status"] == "failed"


def test_the_exit_status_of_a_robots_stop_is_its_own() -> None:
    stopped = {"status": "failed", "finish_reason": "robots_unavailable", "error_rate": 0.0}
    assert exit_status(stopped, max_error_rate=0.05) == EXIT_ROBOTS_UNAVAILABLE == 5


# --- A distributed run ------------------------------------------------------------------


def test_no_process_of_a_distributed_run_fetches_past_an_unavailable_robots_txt(
    site: tuple[Site, Path], tmp_path: Path, pg_url: str, frontier_url: tuple[str, str]
) -> None:
    _, root = site
    url, name = frontier_url
    frontier = ("--frontier", url, "--frontier-name", name)
    log = tmp_path / "requests.tsv"
    with spawn(root, log, faults=robots_broken("503"), seed=1) as server:
        workers = [start_worker(frontier, pg_url) for _ in range(2)]
        result = crawl(server.url, pg_url, *frontier)
        ended = [w.communicate(timeout=120) for w in workers]
        paths = {path for _, path, _ in server.requests}
    assert result.returncode == EXIT_ROBOTS_UNAVAILABLE, result.stderr[-3000:]
    assert error_lines(result.stderr)[0].startswith(ROBOTS_LINE)
    assert paths == {"/robots.txt"}
    for worker, (_, err) in zip(workers, ended, strict=True):
        assert "Traceback" not in err, err[-3000:]
        # A worker that took a request met robots.txt itself: exit 5 and the line. One
        # that took none was stopped by the coordinator's end of the run.
        if worker.returncode == EXIT_ROBOTS_UNAVAILABLE:
            assert error_lines(err)[0].startswith(ROBOTS_LINE), err[-3000:]
        else:
            assert worker.returncode == 0, err[-3000:]
    (run,) = rows_pg(pg_url, "SELECT status, pages_fetched, articles_removed FROM runs")
    assert tuple(run) == ("failed", 0, 0)


def rows_pg(db: str, sql: str) -> list[Any]:
    from sqlalchemy import text

    from storage import db as storage_db

    engine = storage_db.make_engine(db)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()
