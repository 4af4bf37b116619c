"""The `Archive`: run lifecycle and saves, the write API of the crawler and `ingest`.

The hot path never asks the database a question. `start_run` loads what the run
needs to decide (article key -> current version and hash, sha256 of every raw page,
tags, sidebars) into memory; each save builds its rows in memory, and every
`batch_size` saves one short transaction writes them with executemany statements.
A batch holds whole articles only, so a killed writer leaves no half-saved article.

The batch and its writing are `storage.unit_of_work`; the raw page, sidebar and tag
lookups `storage.identity`; `Archive.reparse` comes from `storage.reparse`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Text, cast, func, insert, select, update

from crawler.record import FORMER_CONTENT_FIELDS, LISTING_LINKS, content_hash
from crawler.urls import article_key as key_of_url
from storage import db, tagcounts
from storage.identity import IdentityMap
from storage.models import (
    RUN_COUNTERS,
    VERSION_FIELDS,
    Article,
    ListingPage,
    Observation,
    Run,
    Tag,
    Version,
    version_record,
)
from storage.reparse import Reparsing
from storage.unit_of_work import ArticleState, Batch, Ref, UnitOfWork, write_connection

logger = logging.getLogger(__name__)

RUN_MODES = ("full", "incremental", "reparse", "ingest")
FINISH_STATUSES = ("completed", "interrupted", "failed")


@dataclass(frozen=True)
class KnownArticle:
    """What the crawler needs to decide whether and how to refetch an article."""

    article_key: str
    last_url: str
    last_fetched_at: dt.datetime | None  # of the last fetch (not a 304 or a skip)
    etag: str | None
    last_modified: str | None
    status: str


@dataclass(frozen=True, slots=True)
class KnownListing:
    """The latest stored fetch of a listing page that kept its links: what asks for it
    again (its validators), what it linked to, and what a 304 saves again.

    Its links come as JSON text and are decoded on use: a run reads the last fetch of
    every listing page (two thousand on this site) and an unchanged re-crawl uses a
    hundred.
    """

    url: str
    listing_kind: str | None
    tag_pk: int | None
    tag_id: str | None  # of its tag
    raw_page_id: int | None
    sidebar_id: int | None
    article_links: int  # how many articles it listed
    etag: str | None
    last_modified: str | None
    parser_version: str  # of the run that fetched it
    links_json: str

    @property
    def links(self) -> dict[str, Any]:
        """The record's `LISTING_LINKS`."""
        return orjson.loads(self.links_json) or {}


def listing_links(record: dict[str, Any]) -> dict[str, Any]:
    """What of a listing record is kept to follow the page again after a 304."""
    return {name: record.get(name) for name in LISTING_LINKS}


def latest_listings(conn: Connection) -> dict[str, KnownListing]:
    """The latest fetch of every listing page that kept its links, by URL."""
    latest = (
        select(func.max(ListingPage.id))
        .where(ListingPage.links.is_not(None))
        .group_by(ListingPage.url)
    )
    rows = conn.execute(
        select(
            ListingPage.url,
            ListingPage.listing_kind,
            ListingPage.tag_pk,
            Tag.tag_id,
            ListingPage.raw_page_id,
            ListingPage.sidebar_id,
            ListingPage.article_links,
            ListingPage.etag,
            ListingPage.last_modified,
            Run.parser_version,
            cast(ListingPage.links, Text),
        )
        .join(Run, Run.id == ListingPage.run_id)
        .outerjoin(Tag, Tag.id == ListingPage.tag_pk)
        .where(ListingPage.id.in_(latest))
    )
    return {row[0]: KnownListing(*row) for row in rows}


def listing_row_again(
    last: KnownListing,
    run_id: int,
    tag_pk: Any,
    fetched_at: dt.datetime | None,
    etag: str | None,
    last_modified: str | None,
) -> dict[str, Any]:
    """The `listing_pages` row of a page not modified since its `last` fetch, in run
    `run_id`; validators the 304 sent replace the old ones."""
    return {
        "run_id": run_id,
        "url": last.url,
        "listing_kind": last.listing_kind,
        "tag_pk": tag_pk,
        "fetched_at": fetched_at or _now(),
        "article_links": last.article_links,
        "raw_page_id": last.raw_page_id,
        "sidebar_id": last.sidebar_id,
        "etag": etag or last.etag,
        "last_modified": last_modified or last.last_modified,
        "links": last.links,
    }


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Archive(Reparsing):
    """The versioned archive in one database (docs/storage.md)."""

    def __init__(self, engine: Engine, *, batch_size: int = 200) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.engine = engine
        self.batch_size = batch_size
        self._work = UnitOfWork(engine)
        self._identities = IdentityMap(self._work)
        self._run_id: int | None = None
        self._parser_version = ""
        self._loaded = False
        self._articles: dict[str, ArticleState] = {}
        self._run_article_tags: set[tuple[int, str]] = set()
        # The latest fetch of each listing page, by URL: read at a run's first 304.
        self._last_listings: tuple[int, dict[str, KnownListing]] | None = None

    # -- opening and closing -------------------------------------------------------

    @classmethod
    def open(cls, db_url: str, *, create: bool = True, batch_size: int = 200) -> Archive:
        """Open the archive at `db_url` (SQLAlchemy URL or SQLite path).

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
        return cls(engine, batch_size=batch_size)

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

    def _write(self) -> Connection:
        return write_connection(self.engine)

    # -- runs ------------------------------------------------------------------------

    def start_run(self, mode: str, site_root: str = "", parser_version: str = "") -> int:
        """A new run; leftover `running` runs (a killed writer) become `interrupted`."""
        if mode not in RUN_MODES:
            raise ValueError(f"unknown run mode {mode!r}: one of {', '.join(RUN_MODES)}")
        self.flush()
        now = _now()
        with self._write() as conn, conn.begin():
            leftovers = conn.scalars(select(Run.id).where(Run.status == "running")).all()
            for run_id in leftovers:
                logger.warning(
                    "run %(run)d was left running: marking it interrupted", {"run": run_id}
                )
                tagcounts.finalize_run(conn, run_id)
                conn.execute(
                    update(Run)
                    .where(Run.id == run_id)
                    .values(status="interrupted", finished_at=now)
                )
            run_id = conn.execute(
                insert(Run).returning(Run.id),
                {
                    "started_at": now,
                    "site_root": site_root,
                    "mode": mode,
                    "status": "running",
                    "parser_version": parser_version,
                    **{name: 0 for name in (*RUN_COUNTERS, "pages_fetched", "articles_removed")},
                },
            ).scalar_one()
        self._run_id = run_id
        self._parser_version = parser_version
        self._run_article_tags = set()
        self._load_state()
        return run_id

    def finish_run(self, run_id: int, status: str = "completed", pages_fetched: int = 0) -> None:
        """Close the run; removals are applied only when `status == "completed"`."""
        if status not in FINISH_STATUSES:
            raise ValueError(f"unknown status {status!r}: one of {', '.join(FINISH_STATUSES)}")
        self.flush()
        with self._write() as conn, conn.begin():
            removed = self._apply_removals(conn, run_id) if status == "completed" else 0
            tagcounts.finalize_run(conn, run_id)
            conn.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(
                    status=status,
                    finished_at=_now(),
                    pages_fetched=pages_fetched,
                    articles_removed=removed,
                )
            )
        if run_id == self._run_id:
            self._run_id = None

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
        """Store one fetched article: "new", "changed" or "unchanged" (an observation only)."""
        self._ensure_state(run_id)
        key = record["article_key"]
        fetched_at = fetched_at or _now()
        raw_ref = self._identities.raw_ref(raw)
        sidebar_ref = self._identities.sidebar_ref(record.get("tag_counts") or [])
        batch = self._batch
        state = self._articles.get(key)
        if state is None:
            state = ArticleState(
                ref=Ref(),
                status="active",
                removed_run_id=None,
                version=None,
                content_hash=None,
                max_number=0,
                last_url=url,
                etag=etag,
                last_modified=last_modified,
            )
            self._articles[key] = state
            batch.articles.append(
                (
                    state.ref,
                    {
                        "article_key": key,
                        "status": "active",
                        "first_run_id": run_id,
                        "last_url": url,
                    },
                )
            )
            outcome = "new"
        else:
            outcome = "unchanged" if state.content_hash == record["content_hash"] else "changed"
            self._reactivate(key, state)
        if outcome != "unchanged":
            self._add_version(run_id, state, record, self._parser_version)
            batch.touched[key] = state
        if (state.last_url, state.etag, state.last_modified) != (url, etag, last_modified):
            state.last_url, state.etag, state.last_modified = url, etag, last_modified
            batch.touched[key] = state
        batch.observations.append(
            {
                "run_id": run_id,
                "article_id": state.ref,
                "kind": "fetched",
                "version_id": state.version,
                "url": url,
                "http_status": http_status,
                "observed_at": fetched_at,
                "etag": etag,
                "last_modified": last_modified,
                "raw_page_id": raw_ref,
                "sidebar_id": sidebar_ref,
            }
        )
        batch.counters[f"articles_{outcome}"] += 1
        self._saved()
        return outcome

    def mark_seen(
        self, run_id: int, article_key: str, url: str, http_status: int | None = None
    ) -> None:
        """The article is still there but was not refetched (304, or old sitemap lastmod)."""
        self.mark_seen_many(run_id, [(article_key, url)], http_status)

    def mark_seen_many(
        self, run_id: int, articles: Iterable[tuple[str, str]], http_status: int | None = None
    ) -> None:
        """`mark_seen` for each (article key, URL): an unchanged re-crawl's thousands of
        sitemap entries that need no fetch, in one batch."""
        self._ensure_state(run_id)
        batch = self._batch
        observed_at = _now()
        seen = 0
        for article_key, url in articles:
            state = self._articles.get(article_key)
            if state is None:
                logger.warning("mark_seen: unknown article %(key)s, ignored", {"key": article_key})
                continue
            self._reactivate(article_key, state)
            batch.observations.append(
                self._observation(run_id, state, "seen", url, http_status, observed_at)
            )
            seen += 1
        batch.counters["articles_seen"] += seen
        self._saved(seen)

    def mark_gone(self, run_id: int, article_key: str, url: str, http_status: int) -> None:
        """Evidence that the article is gone; applied by `finish_run` if the run completes."""
        if http_status not in (404, 410):
            raise ValueError(f"mark_gone needs a 404 or 410, not {http_status}")
        self._ensure_state(run_id)
        state = self._articles.get(article_key)
        if state is None:
            logger.warning("mark_gone: unknown article %(key)s, ignored", {"key": article_key})
            return
        observation = self._observation(run_id, state, "gone", url, http_status)
        observation["version_id"] = None
        self._batch.observations.append(observation)
        self._saved()

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
        self._ensure_state(run_id)
        tag_counts = record.get("tag_counts") or []
        sidebar_ref = self._identities.sidebar_ref(tag_counts)
        tag_ref: Ref | None = None
        links = record.get("article_links") or []
        tag_id = record.get("listing_tag_id")
        if tag_id:
            shown = next((t for t in tag_counts if t.get("tag_id") == tag_id), None)
            tag_ref = self._identities.tag_ref(
                tag_id, shown["label"] if shown else None, shown["group"] if shown else None
            )
            self._tag_articles(run_id, tag_ref, links)
        self._batch.listing_pages.append(
            {
                "run_id": run_id,
                "url": url,
                "listing_kind": record.get("listing_kind"),
                "tag_pk": tag_ref,
                "fetched_at": fetched_at or _now(),
                "article_links": len(links),
                "raw_page_id": self._identities.raw_ref(raw) if raw else None,
                "sidebar_id": sidebar_ref,
                "etag": etag,
                "last_modified": last_modified,
                "links": listing_links(record),
            }
        )
        self._batch.counters["listings"] += 1
        self._saved()

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
        self._save_again(run_id, last, fetched_at, etag, last_modified)
        return True

    def _save_again(
        self,
        run_id: int,
        last: KnownListing,
        fetched_at: dt.datetime | None,
        etag: str | None,
        last_modified: str | None,
    ) -> None:
        """`last` saved again in run `run_id`, batched."""
        self._ensure_state(run_id)
        tag_ref: Ref | None = None
        if last.tag_id:
            tag_ref = self._identities.tag_ref(last.tag_id, None, None)
        elif last.tag_pk is not None:  # a tag known by its label only
            tag_ref = Ref(last.tag_pk)
        if tag_ref is not None:
            self._tag_articles(run_id, tag_ref, last.links.get("article_links") or [])
        self._batch.listing_pages.append(
            listing_row_again(last, run_id, tag_ref, fetched_at, etag, last_modified)
        )
        self._batch.counters["listings"] += 1
        self._saved()

    def _tag_articles(self, run_id: int, tag_ref: Ref, links: list[str]) -> None:
        """The articles a facet page lists carry its tag in this run (once each)."""
        for link in links:
            key = key_of_url(link)
            if (id(tag_ref), key) in self._run_article_tags:
                continue
            self._run_article_tags.add((id(tag_ref), key))
            self._batch.article_tags.append(
                {"run_id": run_id, "tag_pk": tag_ref, "article_key": key}
            )

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

    def save_parse_error(
        self,
        run_id: int,
        url: str,
        reason: str,
        raw: bytes | None = None,
        http_status: int | None = None,
    ) -> None:
        """A fetched page that is not a record (kept with its bytes, for a later reparse)."""
        self._ensure_state(run_id)
        self._batch.parse_errors.append(
            {
                "run_id": run_id,
                "url": url,
                "reason": reason,
                "http_status": http_status,
                "raw_page_id": self._identities.raw_ref(raw) if raw else None,
                "observed_at": _now(),
            }
        )
        self._batch.counters["errors"] += 1
        self._saved()

    # -- reading ----------------------------------------------------------------------

    def known_articles(self) -> dict[str, KnownArticle]:
        """Every archived article, by key: what a crawler needs for conditional requests."""
        self.flush()
        fetched = (
            select(Observation.article_id, func.max(Observation.observed_at).label("at"))
            .where(Observation.kind == "fetched")
            .group_by(Observation.article_id)
            .subquery()
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    Article.article_key,
                    Article.last_url,
                    fetched.c.at.label("last_fetched_at"),
                    Article.etag,
                    Article.last_modified,
                    Article.status,
                ).outerjoin(fetched, fetched.c.article_id == Article.id)
            ).all()
        return {row[0]: KnownArticle(*row) for row in rows}  # columns in field order

    def known_listings(self, parser_version: str | None = None) -> dict[str, KnownListing]:
        """The latest fetch of every listing page that can be asked for again: one that
        kept its links and a validator (ETag or Last-Modified), by URL. With
        `parser_version`, only fetches that parser read: links an older parser found are
        not followed again (the page is read whole once more)."""
        self.flush()
        with self.engine.connect() as conn:
            latest = latest_listings(conn)
        return {
            url: known
            for url, known in latest.items()
            if (known.etag or known.last_modified)
            and (parser_version is None or known.parser_version == parser_version)
        }

    # -- in-memory state ----------------------------------------------------------------

    def _ensure_state(self, run_id: int) -> None:
        if not self._loaded or run_id != self._run_id:
            # Saving into a run started elsewhere (another Archive): load its state.
            self._run_id = run_id
            with self.engine.connect() as conn:
                self._parser_version = (
                    conn.scalar(select(Run.parser_version).where(Run.id == run_id)) or ""
                )
            self._run_article_tags = set()
            self._load_state()

    def _load_state(self) -> None:
        with self.engine.connect() as conn:
            # Unpacked by position: a Row's attributes cost as much as the rest (3,400+).
            self._articles = {
                key: ArticleState(
                    ref=Ref(id_),
                    status=status,
                    removed_run_id=removed_run_id,
                    version=Ref(version_id),
                    content_hash=content_hash,
                    max_number=max_number or 0,
                    last_url=last_url,
                    etag=etag,
                    last_modified=last_modified,
                )
                for (
                    id_,
                    key,
                    status,
                    removed_run_id,
                    version_id,
                    last_url,
                    etag,
                    last_modified,
                    content_hash,
                    max_number,
                ) in conn.execute(self._article_state_query())
            }
            self._rehash_former_versions(conn)
            self._identities.load(conn)
        self._loaded = True

    def _rehash_former_versions(self, conn: Connection) -> None:
        """Current versions stored by a parser with another hash rule, rehashed by today's.

        Parser 1 hashed `filed_month`; compared by their stored hash, every unchanged
        article would become a new version at the first crawl after the upgrade. The
        stored hash stays as it was (it is what that parser wrote); only the comparison
        uses the current rule.
        """
        former = list(FORMER_CONTENT_FIELDS)
        query = (
            select(Version, Article.article_key)
            .join(Article, Article.current_version_id == Version.id)
            .where(Version.parser_version.in_(former))
        )
        for row in conn.execute(query):
            state = self._articles.get(row.article_key)
            if state is not None:
                state.content_hash = content_hash(version_record(row, row.article_key))

    @staticmethod
    def _article_state_query() -> Any:
        numbers = (
            select(Version.article_id, func.max(Version.number).label("max_number"))
            .group_by(Version.article_id)
            .subquery()
        )
        return (
            select(
                Article.id,
                Article.article_key,
                Article.status,
                Article.removed_run_id,
                Article.current_version_id,
                Article.last_url,
                Article.etag,
                Article.last_modified,
                Version.content_hash,
                numbers.c.max_number,
            )
            .outerjoin(Version, Version.id == Article.current_version_id)
            .outerjoin(numbers, numbers.c.article_id == Article.id)
        )

    def _reactivate(self, key: str, state: ArticleState) -> None:
        if state.status == "removed":
            state.status = "active"
            state.removed_run_id = None
            self._batch.touched[key] = state
            self._batch.counters["articles_returned"] += 1

    def _add_version(
        self, run_id: int, state: ArticleState, record: dict[str, Any], parser_version: str
    ) -> None:
        ref = Ref()
        state.max_number += 1
        row = {name: record.get(name) for name in VERSION_FIELDS}
        row["published"] = _date(row["published"])
        row["reviewed"] = _date(row["reviewed"])
        for name in ("authors", "reviewers", "key_takeaways", "headings"):
            row[name] = row[name] or []
        row.update(
            article_id=state.ref,
            number=state.max_number,
            parser_version=parser_version,
            first_run_id=run_id,
        )
        self._batch.versions.append((ref, row))
        self._batch.reviewers.extend(
            {"version_id": ref, "position": position, "name": r["name"], "url": r.get("url")}
            for position, r in enumerate(row["reviewers"])
        )
        state.version = ref
        state.content_hash = record["content_hash"]

    def _observation(
        self,
        run_id: int,
        state: ArticleState,
        kind: str,
        url: str,
        http_status: int | None,
        observed_at: dt.datetime | None = None,
    ) -> dict[str, Any]:
        return {
            "run_id": run_id,
            "article_id": state.ref,
            "kind": kind,
            "version_id": state.version,
            "url": url,
            "http_status": http_status,
            "observed_at": observed_at or _now(),
            "etag": None,
            "last_modified": None,
            "raw_page_id": None,
            "sidebar_id": None,
        }

    # -- writing ----------------------------------------------------------------------

    @property
    def _batch(self) -> Batch:
        return self._work.batch

    def _saved(self, saves: int = 1) -> None:
        self._batch.saves += saves
        if self._batch.saves >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write the pending batch in one transaction."""
        try:
            self._work.flush(self._run_id)
        except BaseException:
            # The batch is lost as a whole; forget the ids and hashes it assumed.
            self._loaded = False
            raise

    def _apply_removals(self, conn: Connection, run_id: int) -> int:
        observed = select(Observation.article_id).where(Observation.run_id == run_id)
        gone_ids = conn.scalars(
            select(Article.id).where(
                Article.status == "active",
                Article.id.in_(observed.where(Observation.kind == "gone")),
                Article.id.not_in(observed.where(Observation.kind.in_(("fetched", "seen")))),
            )
        ).all()
        if not gone_ids:
            return 0
        conn.execute(
            update(Article)
            .where(Article.id.in_(gone_ids))
            .values(status="removed", removed_run_id=run_id)
        )
        by_id = {state.ref.id: state for state in self._articles.values()}
        for article_id in gone_ids:
            if article_id in by_id:
                by_id[article_id].status = "removed"
                by_id[article_id].removed_run_id = run_id
        return len(gone_ids)
