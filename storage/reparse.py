"""Reparse: every stored article page re-extracted with a new parser, in a run of its own.

`Archive` inherits `reparse` from `Reparsing`. The pages come back from `raw_pages` in
chunks (oldest fetch first) and their records go through the archive's usual batch.
With `jobs > 1` worker processes parse the chunks while this process writes: a chunk
goes out as compressed bytes and comes back as its readings (a record, or the reason
a page does not parse), and chunks are taken back in the order they were read, so
the archive is the one a single process writes, version numbers included.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing
from typing import TYPE_CHECKING, Any

import zstandard
from sqlalchemy import Engine, select

from common import worker_process
from common.record import with_key
from storage.batch import BatchStore
from storage.models import Article, Observation, RawPage, Version
from storage.unit_of_work import Ref

if TYPE_CHECKING:
    from storage.archive import Archive

# Raw pages read per query, and per task sent to a worker: the whole history does not
# fit in memory, and a task of this size is long enough (a few tenths of a second of
# parsing) that sending it costs little beside the work.
CHUNK = 100

# Forked workers start at once with the parser already imported, and the parser may be
# any callable (only pages and readings cross the pipe). Elsewhere fork is not safe
# (macOS) or does not exist: spawned workers import the parser by its name, so it must
# be a module-level function such as `crawler.parsers.parse_page`. The children of a
# fork never touch the writer's database connection; they only parse.
START_METHOD = "fork" if sys.platform == "linux" else "spawn"

Parse = Callable[[bytes, str], dict[str, Any]]
# What a page reads as: its record, or the reason it is not one (a parser's page error
# travels back from a worker as this value, not as a pickled exception).
Reading = dict[str, Any] | str
# A page to reparse: its fetch (observation, article, hashes known) and its bytes as
# stored (zstd): decompressed where they are parsed, and here only when they are kept.
StoredPage = tuple[dict[str, Any], bytes]


class Reparsing:
    """`Archive.reparse` and its helpers (mixed into `Archive`)."""

    def reparse(
        self: Archive,
        parse: Parse,
        parser_version: str,
        *,
        page_errors: tuple[type[Exception], ...] = (ValueError,),
        site_root: str = "",
        jobs: int = 1,
    ) -> dict[str, int]:
        """Re-extract every stored article page with `parse`, in a run of mode `reparse`.

        A version is added (with `parser_version`) only where the new record's content
        differs from every version the article already has; the new version is linked
        to the raw page by a `reparsed` observation carrying the original fetch time.
        What the article's latest page now reads as becomes its current version.

        `jobs` processes parse (1: this one, no pool); this process alone writes, in
        the pages' order, so any `jobs` gives the same archive.
        """
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        if not isinstance(self.store, BatchStore):
            raise TypeError("reparse runs in one process: open the archive with its default store")
        run_id = self.start_run("reparse", site_root=site_root, parser_version=parser_version)
        summary = Counter(pages=0, versions_added=0, unchanged=0, errors=0)
        pages = read_pages(stored_chunks(self.engine), parse, page_errors, jobs)
        try:
            with closing(pages):  # on a failure, stops the workers before the run is failed
                for page, data, reading in pages:
                    summary["pages"] += 1
                    summary[self._reread(run_id, page, data, reading)] += 1
        except BaseException:
            self.finish_run(run_id, "failed", pages_fetched=summary["pages"])
            raise
        self.finish_run(run_id, "completed", pages_fetched=0)
        return {"run": run_id, **summary}

    def _reread(
        self: Archive, run_id: int, page: dict[str, Any], data: bytes, reading: Reading
    ) -> str:
        """Save what one stored page now reads as; the summary counter it adds to."""
        if isinstance(reading, str) or reading.get("page_type") != "article":
            reason = (
                reading
                if isinstance(reading, str)
                else f"reparsed as a {reading.get('page_type')} page"
            )
            self.save_parse_error(run_id, page["url"], reason, _raw(data), page["http_status"])
            return "errors"
        # The page's article keeps its key (a twin's is not its slug's).
        reading = with_key(reading, page["article_key"])
        if reading["content_hash"] in page["hashes"]:
            if page["is_latest"]:
                self._make_current(page["article_key"], reading["content_hash"])
            return "unchanged"
        page["hashes"].add(reading["content_hash"])
        self._add_reparsed(run_id, page, reading, _raw(data))
        return "versions_added"

    def _make_current(self: Archive, key: str, content_hash: str) -> None:
        """The article's latest page now reads as one of its known versions: point at it."""
        store = self._batch_store()
        state = store.articles[key]
        if state.content_hash == content_hash:
            return
        self.flush()  # the version may be pending; this path is rare
        with self.engine.connect() as conn:
            version_id = conn.scalar(
                select(Version.id)
                .where(Version.article_id == state.ref.id, Version.content_hash == content_hash)
                .order_by(Version.number.desc())
                .limit(1)
            )
        state.version, state.content_hash = Ref(version_id), content_hash
        store.touch(key, state)

    def _add_reparsed(
        self: Archive, run_id: int, page: dict[str, Any], record: dict[str, Any], raw: bytes
    ) -> None:
        store = self._batch_store()
        state = store.articles[page["article_key"]]
        previous_version, previous_hash = state.version, state.content_hash
        store.add_version(run_id, state, record, store.parser_version)
        new_version = state.version
        if not page["is_latest"]:
            # An older page's new reading joins the history without becoming current.
            state.version, state.content_hash = previous_version, previous_hash
        store.touch(page["article_key"], state)
        store.batch.observations.append(
            {
                "run_id": run_id,
                "last_run_id": run_id,
                "article_id": state.ref,
                "kind": "reparsed",
                "version_id": new_version,
                "url": page["url"],
                "http_status": page["http_status"],
                "observed_at": page["observed_at"],
                "etag": None,
                "last_modified": None,
                "raw_page_id": store.raw_ref(raw),
                "sidebar_id": None,
            }
        )
        store.batch.counters["articles_changed"] += 1
        store.saved()

    def _batch_store(self: Archive) -> BatchStore:
        assert isinstance(self.store, BatchStore)
        return self.store


def stored_chunks(engine: Engine) -> Iterator[list[StoredPage]]:
    """Each distinct (article, raw page) fetched, oldest first, with its stored bytes.

    `CHUNK` pages at a time: one query for their bytes, which stay compressed.
    """
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Observation.id,
                Observation.article_id,
                Observation.url,
                Observation.http_status,
                Observation.observed_at,
                Observation.raw_page_id,
                Article.article_key,
            )
            .join(Article, Article.id == Observation.article_id)
            .where(Observation.kind == "fetched", Observation.raw_page_id.is_not(None))
            .order_by(Observation.id)
        ).all()
        hashes: dict[int, set[str]] = {}
        for article_id, content_hash in conn.execute(
            select(Version.article_id, Version.content_hash)
        ):
            hashes.setdefault(article_id, set()).add(content_hash)
    latest: dict[int, int] = {}
    for row in rows:
        latest[row.article_id] = row.raw_page_id
    seen: set[tuple[int, int]] = set()
    pages = []
    for row in rows:
        if (row.article_id, row.raw_page_id) in seen:
            continue
        seen.add((row.article_id, row.raw_page_id))
        pages.append(
            {
                **row._asdict(),
                "hashes": hashes.setdefault(row.article_id, set()),
                "is_latest": latest[row.article_id] == row.raw_page_id,
            }
        )
    for start in range(0, len(pages), CHUNK):
        chunk = pages[start : start + CHUNK]
        ids = {page["raw_page_id"] for page in chunk}
        with engine.connect() as conn:
            data = {
                row.id: row.data
                for row in conn.execute(select(RawPage.id, RawPage.data).where(RawPage.id.in_(ids)))
            }
        yield [(page, data[page["raw_page_id"]]) for page in chunk]


def read_pages(
    chunks: Iterator[list[StoredPage]],
    parse: Parse,
    page_errors: tuple[type[Exception], ...],
    jobs: int,
) -> Iterator[tuple[dict[str, Any], bytes, Reading]]:
    """Each stored page with what it now reads as, in the order of `chunks`.

    With `jobs > 1` a pool of worker processes parses; at most two chunks per worker
    are out at a time (one being parsed, one waiting), so memory stays flat whatever
    the archive's size and a worker never waits for the writer to send more.
    """
    if jobs == 1:
        for chunk in chunks:
            yield from _joined(chunk, parse_stored(parse, page_errors, _work(chunk)))
        return
    pool = ProcessPoolExecutor(
        jobs,
        mp_context=multiprocessing.get_context(START_METHOD),
        initializer=_start_worker,
        initargs=(parse, page_errors, os.getpid()),
    )
    out: deque[tuple[list[StoredPage], Future[list[Reading]]]] = deque()
    try:
        for chunk in chunks:
            out.append((chunk, pool.submit(_parse_in_worker, _work(chunk))))
            if len(out) >= 2 * jobs:
                done, readings = out.popleft()
                yield from _joined(done, readings.result())
        while out:
            done, readings = out.popleft()
            yield from _joined(done, readings.result())
    finally:
        # Reached on a failure too (the caller closes this generator): chunks not yet
        # parsed are dropped rather than parsed for nothing.
        pool.shutdown(wait=True, cancel_futures=True)


def parse_stored(
    parse: Parse, page_errors: tuple[type[Exception], ...], work: list[tuple[bytes, str]]
) -> list[Reading]:
    """What each (stored bytes, URL) reads as: the record, or the reason of a page error."""
    decompressor = zstandard.ZstdDecompressor()
    readings: list[Reading] = []
    for data, url in work:
        try:
            readings.append(parse(decompressor.decompress(data), url))
        except page_errors as error:
            readings.append(getattr(error, "reason", None) or str(error))
    return readings


def _raw(data: bytes) -> bytes:
    # The writer decompresses a page only to keep it (a new version, a parse error);
    # a decompressor of its own each time, as one is not safe to share across threads.
    return zstandard.ZstdDecompressor().decompress(data)


def _work(chunk: list[StoredPage]) -> list[tuple[bytes, str]]:
    # Only what parsing needs crosses to a worker: not the article's set of hashes.
    return [(data, page["url"]) for page, data in chunk]


def _joined(
    chunk: list[StoredPage], readings: list[Reading]
) -> Iterator[tuple[dict[str, Any], bytes, Reading]]:
    for (page, data), reading in zip(chunk, readings, strict=True):
        yield page, data, reading


# The worker's parser, set once per worker process by `_start_worker`.
_worker_parse: tuple[Parse, tuple[type[Exception], ...]] | None = None


def _start_worker(parse: Parse, page_errors: tuple[type[Exception], ...], writer_pid: int) -> None:
    global _worker_parse
    _worker_parse = (parse, page_errors)
    # Ctrl-C is the writer's to handle (it fails the run, stops the pool); and a writer
    # killed outright must not leave its workers waiting for chunks forever.
    worker_process.start(writer_pid)


def _parse_in_worker(work: list[tuple[bytes, str]]) -> list[Reading]:
    assert _worker_parse is not None, "a worker is started by _start_worker"
    return parse_stored(*_worker_parse, work)
