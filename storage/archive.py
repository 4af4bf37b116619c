"""`Archive`: the one writer of the archive, for every way of saving.

A crawl in one process, a distributed run, `cwarchive ingest` and `reparse` all save
through it. What a page becomes (a new article, a version or only an observation, a
sighting, evidence of removal, a listing's rows, a parse error) is decided here, from
`storage.rules`, once. Where an article's state comes from and how rows reach the
database is the store handed in:

- `storage.batch.BatchStore` (the default): one process owns the database; state in
  memory, rows written in batches;
- `storage.shared.SharedStore` (`Archive.open(url, store=SharedStore)`, what
  `storage.shared.SharedArchive.open` does): several processes at once; one short
  transaction per save under the article's row lock, identities by the database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import os
from collections import Counter
from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Engine, select

from storage import db, known, rules, runs
from storage.batch import BatchStore
from storage.known import KnownArticle
from storage.listings import KnownListing, latest_listings, listing_links, listing_row_again
from storage.models import Run
from storage.reparse import Reparsing
from storage.store import RunMembership, Store, StoreFactory
from storage.unit_of_work import ArticleState, write_connection

logger = logging.getLogger(__name__)

T = TypeVar("T")
RUN_MODES = rules.RUN_MODES
FINISH_STATUSES = rules.FINISH_STATUSES

__all__ = ["FINISH_STATUSES", "RUN_MODES", "Archive", "KnownArticle", "KnownListing", "Store"]


class Archive(Reparsing):
    """The versioned archive in one database (docs/storage.md)."""

    def __init__(self, engine: Engine, *, batch_size: int = 200, store: StoreFactory = BatchStore):
        self.engine = engine
        self.batch_size = batch_size
        self.store: Store = store(engine, batch_size)
        self._parser_versions: dict[int, str] = {}
        # The latest fetch of each listing page, by URL: read at a run's first 304.
        self._last_listings: tuple[int, dict[str, KnownListing]] | None = None

    # -- opening and closing -------------------------------------------------------

    @classmethod
    def open(
        cls,
        db_url: str,
        *,
        create: bool = True,
        batch_size: int = 200,
        store: StoreFactory = BatchStore,
    ) -> Archive:
        """Open the archive at `db_url` (SQLAlchemy URL or SQLite path) with `store`.

        Creates a missing or empty database at the current schema when `create`;
        raises `SchemaOutOfDate` when the schema is behind, `NoArchive` when the
        database is empty and `create` is false.
        """
        path = db.sqlite_file(db_url)
        if path is not None and not create and not os.path.exists(path):
            raise db.NoArchive(f"no archive at {path}: run a crawl or `cwarchive ingest` first")
        engine = db.make_engine(db_url)
        try:
            db.check_schema(engine, create=create)
        except Exception:
            engine.dispose()
            raise
        return cls(engine, batch_size=batch_size, store=store)

    def close(self) -> None:
        """Write what is pending and release the database."""
        try:
            self.flush()
        finally:
            self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def flush(self) -> None:
        """Write what the store holds pending."""
        self.store.flush()

    # -- runs ------------------------------------------------------------------------

    def start_run(self, mode: str, site_root: str = "", parser_version: str = "") -> int:
        """A new run (what the store does with other runs left `running`, see its
        `start_run`)."""
        run_id = self.store.start_run(rules.new_run_row(mode, site_root, parser_version))
        self._parser_versions[run_id] = parser_version
        return run_id

    def join_run(self, run_id: int) -> None:
        """Save into `run_id`, started by another process; it must still be running."""
        with self.engine.connect() as conn:
            _, parser_version = runs.running(conn, run_id)
        self._parser_versions[run_id] = parser_version
        self.store.join_run(run_id)

    def finish_run(
        self, run_id: int, status: str = "completed", pages_fetched: int | None = None
    ) -> None:
        """Close the run once; removals are applied only when `status == "completed"`.

        `pages_fetched` defaults to what the store counted (a distributed run: the sum
        over its processes).
        """
        rules.check_finish_status(status)
        self.flush()
        if pages_fetched is None:
            pages_fetched = self.store.pages_fetched(run_id)
        with write_connection(self.engine) as conn, conn.begin():
            self.store.before_finish(conn, run_id)
            runs.finish(conn, run_id, status, pages_fetched)
        self.store.forget()

    def interrupt_run(self, run_id: int) -> bool:
        """Mark `run_id` interrupted if it is still running (its coordinator died)."""
        with write_connection(self.engine) as conn, conn.begin():
            status = conn.scalar(select(Run.status).where(Run.id == run_id).with_for_update())
            if status != "running":
                return False
            logger.warning("run %(run)d was left running: marking it interrupted", {"run": run_id})
            self.store.before_finish(conn, run_id)
            runs.interrupt(conn, run_id)
        self.store.forget()
        return True

    # -- the processes of a distributed run (`storage.shared.SharedStore`) ---------------

    def register_worker(self, run_id: int, worker: str, role: str, host: str, pid: int) -> None:
        """This process takes part in `run_id` as `worker`: its `run_workers` row."""
        self._membership().register_worker(run_id, worker, role, host, pid)

    def count_pages(self, fetched: int = 0, fetch_errors: int = 0) -> None:
        """Pages this process fetched (or failed to): its row gets them with the next write."""
        self._membership().count_pages(fetched, fetch_errors)

    def leave_run(self, run_id: int, status: str = "done") -> None:
        """This process is done with `run_id`: every write of it is committed."""
        self._membership().leave_run(run_id, status)

    def run_totals(self, run_id: int) -> dict[str, int]:
        """The run's counters summed over its processes (`run_workers`)."""
        return self._membership().run_totals(run_id)

    @property
    def worker(self) -> str | None:
        return self.store.worker if isinstance(self.store, RunMembership) else None

    def _membership(self) -> RunMembership:
        if not isinstance(self.store, RunMembership):
            raise TypeError("only an archive opened for a distributed run has processes")
        return self.store

    # -- saving ---------------------------------------------------------------------

    def save_article(
        self,
        run_id: int,
        record: dict[str, Any],
        raw: bytes,
        url: str,
        http_status: int = 200,
        fetched_at: dt.datetime | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> str:
        """Store one fetched article: "new", "changed", "unchanged" (an observation only),
        or "duplicate" (this capture was saved already in this run: nothing is written)."""
        key = record["article_key"]
        observed_at = fetched_at or rules.now()
        parser_version = self._parser_version_of(run_id)
        row = {
            "article_key": key,
            "status": "active",
            "first_run_id": run_id,
            "last_url": url,
            "etag": etag,
            "last_modified": last_modified,
        }

        capture = rules.fetched_mark(url, hashlib.sha256(raw).hexdigest())

        def save() -> str:
            store = self.store
            state, new = store.article_or_new(run_id, key, row)
            outcome = rules.fetch_outcome(state, new, run_id, record, capture)
            if outcome == "duplicate":
                return outcome
            counters: Counter[str] = Counter({f"articles_{outcome}": 1})
            touched = self._reactivate(state, counters)
            if outcome != "unchanged":
                store.add_version(run_id, state, record, parser_version)
                touched = True
            if (state.last_url, state.etag, state.last_modified) != (url, etag, last_modified):
                state.last_url, state.etag, state.last_modified = url, etag, last_modified
                touched = True
            if touched:
                store.touch(key, state)
            store.add(
                "observations",
                rules.observation_row(
                    run_id,
                    state,
                    "fetched",
                    url,
                    http_status,
                    observed_at,
                    etag=etag,
                    last_modified=last_modified,
                    raw_page_id=store.raw_ref(raw, capture[2]),
                    sidebar_id=store.sidebar_ref(record.get("tag_counts") or []),
                ),
            )
            state.meet(run_id, capture)
            store.count(run_id, counters)
            return outcome

        return self.store.unit(save)

    def mark_seen(
        self, run_id: int, article_key: str, url: str, http_status: int | None = None
    ) -> None:
        """The article is still there but was not refetched (304, or old sitemap lastmod)."""
        self.mark_seen_many(run_id, [(article_key, url)], http_status)

    def mark_seen_many(
        self, run_id: int, articles: Iterable[tuple[str, str]], http_status: int | None = None
    ) -> None:
        """`mark_seen` for each (article key, URL): an unchanged re-crawl meets thousands."""
        observed_at = rules.now()
        self.store.each(
            list(articles),
            lambda item: self._seen(run_id, item[0], item[1], http_status, observed_at),
        )

    def _seen(
        self, run_id: int, key: str, url: str, http_status: int | None, observed_at: dt.datetime
    ) -> None:
        store = self.store
        state = store.article(run_id, key)
        if state is None:
            logger.warning("mark_seen: unknown article %(key)s, ignored", {"key": key})
            return
        if rules.seen_again(state, run_id):
            return
        counters: Counter[str] = Counter(articles_seen=1)
        if self._reactivate(state, counters):
            store.touch(key, state)
        sighting = state.sighting
        if (
            sighting is not None
            and rules.sighting_continues(state, store.previous_run(run_id), url, http_status)
            and store.extend("observations", {"id": sighting.id}, sighting.last_run_id, run_id)
        ):
            sighting.last_run_id = run_id
        else:
            store.add(
                "observations",
                rules.observation_row(run_id, state, "seen", url, http_status, observed_at),
            )
        state.meet(run_id, rules.SEEN)
        store.count(run_id, counters)

    def mark_gone(self, run_id: int, article_key: str, url: str, http_status: int) -> None:
        """Evidence that the article is gone; applied by `finish_run` if the run completes,
        unless the run also fetched or saw it."""
        if http_status not in (404, 410):
            raise ValueError(f"mark_gone needs a 404 or 410, not {http_status}")

        def gone() -> None:
            store = self.store
            state = store.article(run_id, article_key)
            if state is None:
                logger.warning("mark_gone: unknown article %(key)s, ignored", {"key": article_key})
                return
            if rules.gone_again(state, run_id, url):
                return
            store.add(
                "observations", rules.observation_row(run_id, state, "gone", url, http_status)
            )
            state.meet(run_id, rules.gone_mark(url))
            store.count(run_id, Counter())

        self.store.unit(gone)

    def save_listing(
        self,
        run_id: int,
        record: dict[str, Any],
        raw: bytes | None,
        url: str,
        fetched_at: dt.datetime | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """A listing page: its sidebar counts; a facet page's links become article tags."""
        tag_counts = record.get("tag_counts") or []
        links = record.get("article_links") or []
        tag_id = record.get("listing_tag_id")
        facet = None
        if tag_id:
            shown = next((t for t in tag_counts if t.get("tag_id") == tag_id), None)
            facet = (tag_id, shown["label"] if shown else None, shown["group"] if shown else None)

        def save() -> None:
            store = self.store
            raw_ref = store.raw_ref(raw) if raw else None
            sidebar_ref, tag_ref = store.listing_refs(tag_counts, facet)
            if tag_ref is not None:
                store.tag_articles(run_id, tag_ref, links)
            row = {
                "run_id": run_id,
                "last_run_id": run_id,
                "url": url,
                "listing_kind": record.get("listing_kind"),
                "tag_pk": tag_ref,
                "fetched_at": fetched_at or rules.now(),
                "article_links": len(links),
                "raw_page_id": raw_ref,
                "sidebar_id": sidebar_ref,
                "etag": etag,
                "last_modified": last_modified,
            }
            followed = listing_links(record)
            last = self._last_listing(run_id, url)
            # Fetched whole (no validators asked, or none kept) and the same as the run
            # before read it: that row's range grows.
            if not (
                last is not None
                and rules.same_listing(last, row, followed, self._parser_version_of(run_id))
                and rules.continues(last.last_run_id, store.previous_run(run_id))
                and self._listing_read_again(url, last, run_id, etag, last_modified)
            ):
                # The links are stored once per distinct list (`listing_links`).
                store.add("listing_pages", {**row, "links_id": store.links_ref(followed)})
            store.count(run_id, Counter(listings=1))

        self.store.unit(save)

    def save_listing_unchanged(
        self,
        run_id: int,
        url: str,
        fetched_at: dt.datetime | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> bool:
        """A listing page the server says is not modified (304): recorded in this run as
        its last fetch was (sidebar counts, raw page, links; a facet page's links are
        this run's article tags again). New validators, if the 304 sent any, replace
        the old. False, and nothing stored, when no earlier fetch of it is known."""
        last = self._last_listing(run_id, url)
        if last is None:
            return False

        def save() -> None:
            store = self.store
            tag_ref = store.known_tag(last)
            if tag_ref is not None:
                store.tag_articles(run_id, tag_ref, last.links.get("article_links") or [])
            # The run reads it as the last one did: that row's range grows.
            if not (
                rules.listing_continues(last, store.previous_run(run_id), etag)
                and self._listing_read_again(url, last, run_id, etag, last_modified)
            ):
                store.add(
                    "listing_pages",
                    listing_row_again(
                        last, run_id, tag_ref, fetched_at or rules.now(), etag, last_modified
                    ),
                )
            store.count(run_id, Counter(listings=1))

        self.store.unit(save)
        return True

    def save_parse_error(
        self,
        run_id: int,
        url: str,
        reason: str,
        raw: bytes | None = None,
        http_status: int | None = None,
    ) -> None:
        """A fetched page that is not a record (kept with its bytes, for a later reparse)."""

        def save() -> None:
            store = self.store
            store.add(
                "parse_errors",
                {
                    "run_id": run_id,
                    "url": url,
                    "reason": reason,
                    "http_status": http_status,
                    "raw_page_id": store.raw_ref(raw) if raw else None,
                    "observed_at": rules.now(),
                },
            )
            store.count(run_id, Counter(errors=1))

        self.store.unit(save)

    def _reactivate(self, state: ArticleState, counters: Counter[str]) -> bool:
        """A removed article met again is active: True when its row changed."""
        if state.status != "removed":
            return False
        state.status = "active"
        state.removed_run_id = None
        counters["articles_returned"] += 1
        return True

    def _last_listing(self, run_id: int, url: str) -> KnownListing | None:
        """The latest stored fetch of the listing page at `url` that kept its links.

        Read for every page at the run's first 304, in one query (an unchanged re-crawl
        meets a hundred): a page is saved once per run, so the run's own rows are never
        wanted here.
        """
        if self._last_listings is None or self._last_listings[0] != run_id:
            with self.engine.connect() as conn:
                self._last_listings = (run_id, latest_listings(conn))
        return self._last_listings[1].get(url)

    def _listing_read_again(
        self,
        url: str,
        last: KnownListing,
        run_id: int,
        etag: str | None,
        last_modified: str | None,
    ) -> bool:
        """`last`'s row holds for `run_id` too, carrying the validators the response sent
        that differ: False when the store found its range already ended elsewhere."""
        carried = rules.newer_validators(last, etag, last_modified)
        if not self.store.extend(
            "listing_pages", {"id": last.id}, last.last_run_id, run_id, carried
        ):
            return False
        assert self._last_listings is not None
        self._last_listings[1][url] = dataclasses.replace(last, last_run_id=run_id, **carried)
        return True

    def _parser_version_of(self, run_id: int) -> str:
        if run_id not in self._parser_versions:
            with self.engine.connect() as conn:
                self._parser_versions[run_id] = (
                    conn.scalar(select(Run.parser_version).where(Run.id == run_id)) or ""
                )
        return self._parser_versions[run_id]

    # -- reading ----------------------------------------------------------------------

    def known_articles(self) -> dict[str, KnownArticle]:
        """Every archived article, by key: what a crawler needs for conditional requests."""
        self.flush()
        with self.engine.connect() as conn:
            return known.known_articles(conn)

    def known_listings(self, parser_version: str | None = None) -> dict[str, KnownListing]:
        """The listing pages a crawl may ask for again (`storage.known.known_listings`)."""
        self.flush()
        with self.engine.connect() as conn:
            return known.known_listings(conn, parser_version)
