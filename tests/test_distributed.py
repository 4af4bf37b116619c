"""Distributed runs: `crawl --frontier` and `worker` processes over real Redis and PostgreSQL.

Every process is a real `python -m cwarchive` child; the replay server runs in its
own process and its request log (with arrival times where the rate is checked) is
the proof of what was fetched. Each test has a frontier name of its own in the test
Redis database (`frontier_url`, keys deleted afterwards) and a PostgreSQL schema of
its own (`pg_url`). Skipped without CWARCHIVE_TEST_PG or without a Redis.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from common.urls import article_key
from crawler.frontier.state import Frontier
from cwarchive.testing.replay import read_log, read_log_times, spawn
from storage import db as storage_db
from storage.check import verify_archive

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = 500
# Short leases: a killed worker's requests come back within seconds.
LEASE = ("-s", "ARCHIVE_FRONTIER_LEASE=3")


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "cwarchive", *args]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}


def start(args: list[str], log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command(*args),
        cwd=ROOT,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )


def finish(process: subprocess.Popen[str], log: Path, timeout: float = 300) -> tuple[int, str]:
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError(f"{process.args} did not end:\n{log.read_text()[-3000:]}") from None
    return process.returncode, out


def worker(frontier: tuple[str, str], db: str, log: Path, *extra: str) -> subprocess.Popen[str]:
    url, name = frontier
    return start(
        ["worker", "--frontier", url, "--frontier-name", name, "--db", db, "--wait", "120",
         "--json", *extra],
        log,
    )  # fmt: skip


def coordinator(
    frontier: tuple[str, str], db: str, site: str, log: Path, *extra: str
) -> subprocess.Popen[str]:
    url, name = frontier
    return start(
        ["crawl", "--frontier", url, "--frontier-name", name, "--db", db, "--site", site,
         "--json", *extra],
        log,
    )  # fmt: skip


def rows(db: str, sql: str, **params: Any) -> list[Any]:
    engine = storage_db.make_engine(db)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


def article_fetches(log: Path) -> Counter[str]:
    """Article key -> how many times one of its URLs was requested."""
    return Counter(article_key(target) for _, target, _ in read_log(log) if ".h00-" in target)


def assert_counters_add_up(db: str, run_id: int) -> None:
    """The run's counters are the sums of its processes' shares."""
    names = ("pages_fetched", "articles_new", "articles_changed", "articles_unchanged",
             "articles_seen", "articles_returned", "listings", "errors")  # fmt: skip
    (run,) = rows(db, f"SELECT {', '.join(names)} FROM runs WHERE id = :r", r=run_id)
    (sums,) = rows(
        db,
        f"SELECT {', '.join(f'sum({n})' for n in names)} FROM run_workers WHERE run_id = :r",
        r=run_id,
    )
    assert tuple(run) == tuple(int(v) for v in sums), dict(
        zip(names, zip(run, sums, strict=True), strict=True)
    )


def assert_each_article_archived_once(db: str, run_id: int, articles: int) -> None:
    per_article = rows(
        db,
        "SELECT a.article_key, count(o.id) FROM articles a LEFT JOIN observations o "
        "ON o.article_id = a.id AND o.run_id = :r GROUP BY a.article_key",
        r=run_id,
    )
    assert len(per_article) == articles
    assert {n for _, n in per_article} == {1}
    (versions,) = rows(db, "SELECT count(*) FROM versions")
    assert versions[0] == articles


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated") / "site"
    subprocess.run(
        command("fixtures", "generate", "--articles", str(ARTICLES), str(root)),
        cwd=ROOT,
        env=env(),
        check=True,
        capture_output=True,
    )
    return root


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    # On a failure pytest shows what each process logged last.
    for log in sorted(tmp_path.glob("*.log")):
        print(f"--- {log.name}\n{log.read_text()[-1500:]}")


def test_two_workers_and_the_crawl_fetch_and_archive_each_article_once(
    site: Path, pg_url: str, frontier_url: tuple[str, str], logs: Path
) -> None:
    requests = logs / "requests.tsv"
    with spawn(site, requests) as server:
        workers = [worker(frontier_url, pg_url, logs / f"worker{i}.log") for i in range(2)]
        crawl = coordinator(frontier_url, pg_url, server.url, logs / "crawl.log")
        code, out = finish(crawl, logs / "crawl.log")
        assert code == 0, (logs / "crawl.log").read_text()[-3000:]
        outcomes = [finish(w, logs / f"worker{i}.log") for i, w in enumerate(workers)]
    assert [c for c, _ in outcomes] == [0, 0]
    result = json.loads(out)
    run_id = result["run_id"]

    # One fetch, one version: every article requested once across the three processes.
    fetched = article_fetches(requests)
    assert len(fetched) == ARTICLES and set(fetched.values()) == {1}
    assert_each_article_archived_once(pg_url, run_id, ARTICLES)
    (run,) = rows(pg_url, "SELECT status, articles_new, errors FROM runs WHERE id = :r", r=run_id)
    assert tuple(run) == ("completed", ARTICLES, 0)
    assert_counters_add_up(pg_url, run_id)
    processes = rows(pg_url, "SELECT role, status, articles_new FROM run_workers ORDER BY role")
    assert sorted((role, status) for role, status, _ in processes) == [
        ("coordinator", "done"),
        ("worker", "done"),
        ("worker", "done"),
    ]
    assert [w["role"] for w in result["workers"]].count("worker") == 2
    listed = subprocess.run(
        command("runs", "--db", pg_url, "--json"), cwd=ROOT, env=env(), capture_output=True
    )
    (shown,) = [r for r in json.loads(listed.stdout) if r["id"] == run_id]
    assert len(shown["workers"]) == 3
    assert sum(w["pages_fetched"] for w in shown["workers"]) == shown["pages_fetched"]
    # Both workers took part: the shared queue is served by whoever is free.
    assert all(new > 0 for role, _, new in processes if role == "worker")

    # Tag counts consolidated once, at the end: the same as a crawl of one process.
    distributed_counts = rows(
        pg_url,
        "SELECT t.tag_id, c.count, c.pages, c.listed FROM run_tag_counts c "
        "JOIN tags t ON t.id = c.tag_pk WHERE c.run_id = :r ORDER BY t.tag_id",
        r=run_id,
    )
    alone = f"sqlite:///{logs / 'alone.sqlite'}"
    with spawn(site, logs / "alone.tsv") as server:
        done = subprocess.run(
            command("crawl", "--site", server.url, "--db", alone, "--json"),
            cwd=ROOT, env=env(), capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
    single_counts = rows(
        alone,
        "SELECT t.tag_id, c.count, c.pages, c.listed FROM run_tag_counts c "
        "JOIN tags t ON t.id = c.tag_pk ORDER BY t.tag_id",
    )
    assert distributed_counts and [tuple(r) for r in distributed_counts] == [
        tuple(r) for r in single_counts
    ]
    hashes = "SELECT a.article_key, v.content_hash FROM articles a JOIN versions v ON v.id = a.current_version_id ORDER BY 1"  # noqa: E501
    assert rows(pg_url, hashes) == rows(alone, hashes)
    assert verify_archive(storage_db.normalize_url(pg_url)) == []

    # Incremental, distributed: the lastmod decisions read the shared archive.
    requests.unlink()
    with spawn(site, requests) as server:
        again = worker(frontier_url, pg_url, logs / "again-worker.log")
        crawl = coordinator(frontier_url, pg_url, server.url, logs / "again.log")
        code, out = finish(crawl, logs / "again.log")
        assert code == 0
        assert finish(again, logs / "again-worker.log")[0] == 0
    second = json.loads(out)
    assert article_fetches(requests) == Counter()  # nothing changed: nothing fetched
    (run,) = rows(
        pg_url, "SELECT status, articles_seen FROM runs WHERE id = :r", r=second["run_id"]
    )
    assert tuple(run) == ("completed", ARTICLES)


def test_a_worker_killed_halfway_loses_nothing(
    site: Path, pg_url: str, frontier_url: tuple[str, str], logs: Path
) -> None:
    url, name = frontier_url
    requests = logs / "requests.tsv"
    frontier = Frontier(url, name)
    # Latency on every answer: the worker always holds requests in flight.
    with spawn(site, requests, delay=0.02) as server:
        victim, survivor = (worker(frontier_url, pg_url, logs / f"{n}.log", *LEASE)
                            for n in ("victim", "survivor"))  # fmt: skip
        crawl = coordinator(frontier_url, pg_url, server.url, logs / "crawl.log", *LEASE)
        deadline = time.monotonic() + 180

        def waiting() -> None:
            assert time.monotonic() < deadline and crawl.poll() is None, "the run stalled"
            time.sleep(0.02)

        while not (joined := [w for w in frontier.workers() if f":{victim.pid}:" in w]):
            waiting()
        (victim_id,) = joined
        while sum(article_fetches(requests).values()) < ARTICLES // 2:
            waiting()
        # Killed while it holds requests (it nearly always does: 16 in flight, each
        # answer 20 ms late), so that the run has something to recover.
        while not frontier.redis.hlen(frontier.key("leased", victim_id)):
            waiting()
        os.kill(victim.pid, signal.SIGKILL)
        code, out = finish(crawl, logs / "crawl.log")
        assert code == 0
        assert finish(survivor, logs / "survivor.log")[0] == 0
    victim.wait(10)
    run_id = json.loads(out)["run_id"]
    # Every article archived, none twice (what the victim held was fetched again).
    assert set(article_fetches(requests)) == {
        k for (k,) in rows(pg_url, "SELECT article_key FROM articles")
    }  # noqa: E501
    assert_each_article_archived_once(pg_url, run_id, ARTICLES)
    (run,) = rows(pg_url, "SELECT status, articles_new FROM runs WHERE id = :r", r=run_id)
    assert tuple(run) == ("completed", ARTICLES)
    assert_counters_add_up(pg_url, run_id)
    states = dict(rows(pg_url, "SELECT worker, status FROM run_workers"))
    assert states[victim_id] == "lost"
    assert sorted(s for w, s in states.items() if w != victim_id) == ["done", "done"]
    assert verify_archive(storage_db.normalize_url(pg_url)) == []


def test_the_rate_limit_is_global(
    tmp_path: Path, pg_url: str, frontier_url: tuple[str, str], logs: Path
) -> None:
    """Three workers and the crawl at --max-rate 20: never more than 20 requests in any
    one-second window of the server's log. Tolerance: one request, because slots are
    exactly 50 ms apart and a request can only be late, never early: the first of 21
    consecutive requests sent a few ms after its slot leaves the 21st inside 1 s."""
    small = tmp_path / "small"
    subprocess.run(
        command("fixtures", "generate", "--articles", "60", str(small)),
        cwd=ROOT, env=env(), check=True, capture_output=True,
    )  # fmt: skip
    requests = logs / "requests.tsv"
    with spawn(small, requests, log_times=True) as server:
        workers = [worker(frontier_url, pg_url, logs / f"worker{i}.log") for i in range(3)]
        crawl = coordinator(
            frontier_url, pg_url, server.url, logs / "crawl.log", "--max-rate", "20"
        )
        code, _ = finish(crawl, logs / "crawl.log")
        assert code == 0
        assert [finish(w, logs / f"worker{i}.log")[0] for i, w in enumerate(workers)] == [0] * 3
    times = sorted(at for at, *_ in read_log_times(requests))
    assert len(times) > 100
    busiest = max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))
    assert busiest <= 21, busiest
    # The limit was the bound, not the site or the machine: at its busiest the run
    # reached it (four processes at 16 requests each go far faster on loopback).
    assert busiest >= 12, busiest
    overall = (len(times) - 1) / (times[-1] - times[0])
    assert overall <= 20.5, overall


def test_refusals(tmp_path: Path, frontier_url: tuple[str, str], pg_url: str) -> None:
    url, name = frontier_url
    sqlite = f"sqlite:///{tmp_path / 'a.sqlite'}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command(*args), cwd=ROOT, env=env(), capture_output=True, text=True, timeout=60
        )

    refused = run("crawl", "--frontier", url, "--frontier-name", name, "--db", sqlite)
    assert refused.returncode == 2 and "PostgreSQL" in refused.stderr
    refused = run("worker", "--frontier", url, "--db", sqlite, "--wait", "0")
    assert refused.returncode == 2 and "PostgreSQL" in refused.stderr
    refused = run("crawl", "--max-rate", "5", "--db", sqlite)
    assert refused.returncode == 2 and "--frontier" in refused.stderr
    refused = run("crawl", "--frontier", "http://x", "--db", pg_url)
    assert refused.returncode == 2 and "Redis URL" in refused.stderr
    # A run open with a live coordinator: a second coordinator is refused.
    frontier = Frontier(url, name)
    frontier.claim("someone")
    frontier.open_run(7, coordinator="someone", site_root="x", mode="full", max_rate=0)
    assert frontier.join("someone", "7")
    try:
        refused = run("crawl", "--frontier", url, "--frontier-name", name, "--db", pg_url)
        assert refused.returncode == 2 and "run 7 is open" in refused.stderr
    finally:
        frontier.close()
    # No run opens: a worker waiting a bounded time leaves with 0.
    frontier.clear()
    waited = run("worker", "--frontier", url, "--frontier-name", name, "--db", pg_url,
                 "--wait", "0.5", "--json")  # fmt: skip
    assert waited.returncode == 0 and json.loads(waited.stdout)["joined"] is False
