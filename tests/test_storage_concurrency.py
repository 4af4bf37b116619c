"""A writer killed mid-run, and a reader querying while a writer writes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage import Archive, queries
from storage.models import Article, Observation, Run, Version
from tests.storage_records import article, raw_page

ROOT = Path(__file__).resolve().parents[1]
BATCH = 5
SEED_ENV = "CWARCHIVE_TEST_SEED"

# Saves articles story-0, story-1, ... forever (or `limit` of them), printing the
# number saved after every batch.
WRITER = """
import sys, time
from storage import Archive
from tests.storage_records import article, raw_page

url, batch, limit, pause = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
archive = Archive.open(url, batch_size=batch)
run = archive.start_run("full", site_root="", parser_version="1")
i = 0
while limit <= 0 or i < limit:
    record = article(f"cancerwise/story-{i}")
    archive.save_article(run, record, raw=raw_page(record), url=record["url"])
    i += 1
    if i % batch == 0:
        print(i, flush=True)
    time.sleep(pause)
archive.finish_run(run, "completed", pages_fetched=i)
archive.close()
"""


@pytest.fixture
def rng() -> random.Random:
    """This test's random source: seeded, the seed printed; CWARCHIVE_TEST_SEED replays it."""
    seed = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(2**32))
    print(f"random seed: {SEED_ENV}={seed}")  # pytest shows it when the test fails
    return random.Random(seed)


def writer(url: str, limit: int = 0, pause: float = 0.0) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, url, str(BATCH), str(limit), str(pause)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def assert_consistent(archive: Archive) -> int:
    """Every article is whole: a current version of its own, observed, with its raw page."""
    with archive.engine.connect() as conn:
        articles = conn.scalar(select(func.count()).select_from(Article))
        versions = conn.scalar(select(func.count()).select_from(Version))
        observations = conn.scalar(select(func.count()).select_from(Observation))
        whole = conn.scalar(
            select(func.count())
            .select_from(Article)
            .join(Version, Version.id == Article.current_version_id)
            .where(Version.article_id == Article.id)
        )
    assert articles == versions == observations == whole
    assert articles % BATCH == 0  # batches are all or nothing
    return articles or 0


def test_killed_writer_leaves_a_consistent_archive(archive_url: str, rng: random.Random) -> None:
    process = writer(archive_url)
    assert process.stdout is not None
    while int(process.stdout.readline()) < 4 * BATCH:
        pass
    time.sleep(rng.uniform(0, 0.05))  # land anywhere: between saves or mid-commit
    process.send_signal(signal.SIGKILL)
    process.wait()

    archive = Archive.open(archive_url, batch_size=BATCH)
    saved = assert_consistent(archive)
    assert saved >= 4 * BATCH
    with archive.engine.connect() as conn:
        assert conn.scalar(select(Run.status)) == "running"

    run = archive.start_run("full", site_root="", parser_version="1")
    outcomes = []
    for i in range(saved + 3):
        record = article(f"cancerwise/story-{i}")
        outcomes.append(archive.save_article(run, record, raw=raw_page(record), url=record["url"]))
    archive.finish_run(run, "completed")
    assert outcomes == ["unchanged"] * saved + ["new"] * 3
    with archive.engine.connect() as conn:
        statuses = conn.execute(select(Run.id, Run.status).order_by(Run.id)).all()
    assert [tuple(s) for s in statuses] == [(1, "interrupted"), (2, "completed")]
    archive.close()


def test_reader_queries_while_a_writer_writes(archive_url: str) -> None:
    Archive.open(archive_url).close()  # the schema exists before both start
    process = writer(archive_url, limit=40 * BATCH, pause=0.005)
    reader = Archive.open(archive_url, create=False)
    seen: list[int] = []
    while process.poll() is None:
        with reader.engine.connect() as conn:
            seen.append(len(queries.articles(conn)))
            queries.runs(conn)
        time.sleep(0.02)
    assert process.returncode == 0
    assert seen == sorted(seen)  # committed batches only ever grow
    assert len({n for n in seen if 0 < n < 40 * BATCH}) >= 2  # read while writing
    assert assert_consistent(reader) == 40 * BATCH
    reader.close()
