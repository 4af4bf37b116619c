"""storage/shared.py: the writer's store for several processes writing at once.

The archive's behaviour tests (tests/test_storage.py) run with this store too. Here is
what only concurrent writers meet: saves of one article racing (forced with a barrier
inside both transactions, not hoped for), many saves sharing tags and sidebars at once,
runs that belong to their coordinator, and each process's share of the counters.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, func, select, text

from storage import Archive
from storage.check import verify_archive
from storage.models import Article, Observation, RawPage, Run, RunWorker, Sidebar, Tag, Version
from storage.shared import SharedArchive, SharedStore
from tests.storage_records import article, raw_page, sidebar
from tests.test_storage import run_row, save, start

T = TypeVar("T")


@pytest.fixture
def archive(archive_url: str) -> Iterator[Archive]:
    archive = SharedArchive.open(archive_url)
    yield archive
    archive.close()


class Rendezvous(SharedStore):
    """A SharedStore whose save transactions all wait at one barrier once open.

    Each thread's transaction has begun and run a statement before any of them writes,
    so the saves overlap in the database for certain. SQLite takes its write lock at
    BEGIN, so there the barrier stands before the transaction instead.
    """

    barrier: threading.Barrier

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        if self.engine.dialect.name == "sqlite":
            self.barrier.wait(timeout=20)
            return super()._transaction(work)

        def meet(conn: Connection) -> T:
            conn.execute(text("SELECT 1"))
            self.barrier.wait(timeout=20)
            return work(conn)

        return super()._transaction(meet)


def racing(archive_url: str, n: int, run_id: int) -> list[Archive]:
    barrier = threading.Barrier(n)
    archives = []
    for i in range(n):
        archive = Archive.open(archive_url, store=Rendezvous)
        archive.store.barrier = barrier  # type: ignore[attr-defined]
        archive.join_run(run_id)
        archive.register_worker(run_id, f"worker-{i}", "worker", "test", i)
        archives.append(archive)
    return archives


def race(archives: list[Archive], call: Callable[[Archive], T]) -> list[T]:
    with ThreadPoolExecutor(len(archives)) as pool:
        results = list(pool.map(call, archives))
    for archive in archives:
        archive.close()
    return results


def rows(archive: Archive, model: Any, *where: Any) -> int:
    with archive.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_two_saves_of_one_new_article_at_once_make_one_article_and_one_version(
    archive: Archive, archive_url: str
) -> None:
    run = start(archive)
    record = article()
    archives = racing(archive_url, 2, run)
    outcomes = race(archives, lambda a: save(a, run, record))
    assert sorted(outcomes) == ["duplicate", "new"]
    assert rows(archive, Article) == rows(archive, Version) == rows(archive, Observation) == 1
    assert rows(archive, RawPage) == rows(archive, Sidebar) == 1
    assert rows(archive, Tag) == 3
    archive.finish_run(run, "completed", pages_fetched=2)
    assert (run_row(archive, run).articles_new, run_row(archive, run).articles_unchanged) == (1, 0)
    assert verify_archive(archive_url) == []


def test_two_saves_of_one_changed_article_at_once_add_one_version(
    archive: Archive, archive_url: str
) -> None:
    first = start(archive)
    save(archive, first, article())
    archive.finish_run(first)
    run = start(archive)
    changed = article(body_text="Screening finds cancer early. Updated in 2026.")
    outcomes = race(racing(archive_url, 2, run), lambda a: save(a, run, changed))
    assert sorted(outcomes) == ["changed", "duplicate"]
    with archive.engine.connect() as conn:
        numbers = conn.scalars(select(Version.number).order_by(Version.number)).all()
        current = conn.scalar(
            select(Version.content_hash).join(Article, Article.current_version_id == Version.id)
        )
    assert numbers == [1, 2]
    assert current == changed["content_hash"]
    archive.finish_run(run)
    assert verify_archive(archive_url) == []


def test_many_saves_sharing_new_tags_and_sidebars_at_once(
    archive: Archive, archive_url: str
) -> None:
    """Eight writers, every one creating the same tags and sidebar first: no deadlock,
    no duplicate identity, and each writer's share of the counters adds up."""
    run = start(archive)
    archives = racing(archive_url, 8, run)
    records = [
        article(f"cancerwise/story-{i}", tag_counts=sidebar(breast=700 + i % 2)) for i in range(8)
    ]

    def save_own(a: Rendezvous) -> str:
        i = archives.index(a)
        return a.save_article(run, records[i], raw=raw_page(records[i]), url=records[i]["url"])

    assert race(archives, save_own) == ["new"] * 8
    assert rows(archive, Tag) == 3
    assert rows(archive, Sidebar) == 2
    assert rows(archive, Article) == rows(archive, Version) == 8
    with archive.engine.connect() as conn:
        shares = conn.scalars(select(RunWorker.articles_new)).all()
    assert shares == [1] * 8
    archive.finish_run(run)
    assert run_row(archive, run).articles_new == 8
    assert verify_archive(archive_url) == []


def test_start_run_leaves_other_running_runs_alone(archive: Archive) -> None:
    first = start(archive)
    second = SharedArchive.open(str(archive.engine.url.render_as_string(hide_password=False)))
    try:
        other = start(second)
        with archive.engine.connect() as conn:
            statuses = conn.execute(select(Run.id, Run.status).order_by(Run.id)).all()
        assert [tuple(s) for s in statuses] == [(first, "running"), (other, "running")]
        assert archive.interrupt_run(first) and not archive.interrupt_run(first)
        assert run_row(archive, first).status == "interrupted"
        second.finish_run(other)
    finally:
        second.close()


def test_workers_share_a_run_and_the_coordinator_finishes_it(
    archive: Archive, archive_url: str
) -> None:
    run = start(archive)
    archive.register_worker(run, "coordinator", "coordinator", "here", 1)
    worker = SharedArchive.open(archive_url)
    killed = SharedArchive.open(archive_url)
    worker.join_run(run)
    killed.join_run(run)
    worker.register_worker(run, "worker", "worker", "there", 2)
    killed.register_worker(run, "killed", "worker", "there", 3)
    for i, writer in enumerate((archive, worker, killed, worker)):
        writer.count_pages(fetched=1)
        save(writer, run, article(f"cancerwise/story-{i}"))
    worker.count_pages(fetch_errors=1)
    worker.save_parse_error(run, url="https://x/a.html", reason="HTTP 500")
    archive.count_pages(fetched=1)
    archive.save_listing(run, {"listing_kind": "landing", "tag_counts": sidebar()}, b"l", "u")
    worker.leave_run(run)
    worker.close()
    killed.engine.dispose()  # killed: never leaves
    archive.leave_run(run)
    totals = archive.run_totals(run)
    assert (totals["pages_fetched"], totals["fetch_errors"], totals["articles_new"]) == (5, 1, 4)
    assert (totals["errors"], totals["listings"]) == (1, 1)
    archive.finish_run(run, "completed")
    row = run_row(archive, run)
    assert (row.pages_fetched, row.articles_new, row.errors, row.listings) == (5, 4, 1, 1)
    with archive.engine.connect() as conn:
        states = dict(conn.execute(select(RunWorker.worker, RunWorker.status)).all())
    assert states == {"coordinator": "done", "worker": "done", "killed": "lost"}
    assert verify_archive(archive_url) == []


def test_join_refuses_a_run_that_is_not_running(archive: Archive) -> None:
    run = start(archive)
    archive.finish_run(run)
    with pytest.raises(ValueError, match="not running"):
        archive.join_run(run)
    with pytest.raises(ValueError, match="no such run"):
        archive.join_run(99)
