"""`BatchStore`: the writer's strategy when one process writes the archive.

The hot path never asks the database a question. A run's start loads what saves decide
from (article key -> current version and hash, sha256 of every raw page, tags,
sidebars) into memory; each save builds its rows in memory, and every `batch_size`
saves one short transaction writes them with executemany statements
(`storage.unit_of_work`). A batch holds whole articles only, so a killed writer leaves
no half-saved article. What the rows are is `storage.rules`, applied by the writer.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, select

from common.record import FORMER_CONTENT_FIELDS
from common.urls import article_key as key_of_url
from storage import ranges, rules, runs
from storage.identity import IdentityMap
from storage.listings import KnownListing
from storage.models import Article, ArticleTag, Run, Version
from storage.unit_of_work import (
    STATE_COLUMNS,
    ArticleState,
    Batch,
    Ref,
    Sighting,
    UnitOfWork,
    write_connection,
)

T = TypeVar("T")
logger = logging.getLogger(__name__)
REHASH_CHUNK = 1000  # version ids a query (SQLite binds at most 32,766 parameters)


class BatchStore:
    """The archive's state in memory, its rows written in batches."""

    def __init__(self, engine: Engine, batch_size: int = 200) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.engine = engine
        self.batch_size = batch_size
        self.work = UnitOfWork(engine)
        self.identities = IdentityMap(self.work)
        self.articles: dict[str, ArticleState] = {}
        self.run_id: int | None = None
        self.parser_version = ""
        self._loaded = False
        self._run_article_tags: set[tuple[int, str]] = set()
        self._previous_run: int | None = None
        # (tag row id, article key) -> [first run, last run] of the ranges that end in
        # the run before this one or later: the ones a facet page may extend.
        # Read when the run first lists articles under a tag (a crawl that reads no facet
        # page never needs them).
        self._tag_ranges: dict[tuple[int, str], list[int]] | None = None

    @property
    def batch(self) -> Batch:
        return self.work.batch

    # -- runs ---------------------------------------------------------------------------

    def start_run(self, row: dict[str, Any]) -> int:
        """A new run. One process owns the database: a run left `running` was a writer
        killed on the way, and is interrupted first."""
        self.flush()
        with write_connection(self.engine) as conn, conn.begin():
            for leftover in conn.scalars(select(Run.id).where(Run.status == "running")).all():
                logger.warning(
                    "run %(run)d was left running: marking it interrupted", {"run": leftover}
                )
                runs.interrupt(conn, leftover)
            run_id = runs.insert_run(conn, row)
        self._ensure(run_id, reload=True)
        return run_id

    def join_run(self, run_id: int) -> None:
        self._ensure(run_id)

    def before_finish(self, conn: Connection, run_id: int) -> None:
        """Nothing of other processes to close."""

    def pages_fetched(self, run_id: int) -> int:
        return 0

    def forget(self) -> None:
        """The database changed outside the batch (a run finished): read it again."""
        self._loaded = False

    # -- a save -------------------------------------------------------------------------

    def unit(self, work: Callable[[], T], saves: int = 1) -> T:
        """`work` adds whole saves to the batch; every `batch_size` saves are written."""
        result = work()
        self.saved(saves)
        return result

    def each(self, items: list[Any], work: Callable[[Any], None]) -> None:
        """`work` for each item, as one save each: a sitemap's thousands of sightings
        without a call of `unit` apiece."""
        for item in items:
            work(item)
        self.saved(len(items))

    def saved(self, saves: int = 1) -> None:
        self.batch.saves += saves
        if self.batch.saves >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write the pending batch in one transaction."""
        try:
            self.work.flush(self.run_id)
        except BaseException:
            # The batch is lost as a whole; forget the ids and hashes it assumed.
            self._loaded = False
            raise

    def article(self, run_id: int, key: str) -> ArticleState | None:
        self._ensure(run_id)
        return self.articles.get(key)

    def article_or_new(
        self, run_id: int, key: str, row: dict[str, Any]
    ) -> tuple[ArticleState, bool]:
        state = self.article(run_id, key)
        if state is not None:
            return state, False
        state = self.articles[key] = ArticleState(
            ref=Ref(),
            status=row["status"],
            removed_run_id=None,
            version=None,
            content_hash=None,
            max_number=0,
            last_url=row["last_url"],
            etag=row.get("etag"),
            last_modified=row.get("last_modified"),
        )
        self.batch.articles.append((state.ref, row))
        return state, True

    def add_version(
        self, run_id: int, state: ArticleState, record: dict[str, Any], parser_version: str
    ) -> None:
        ref = Ref()
        row = rules.version_row(record, state.ref, state.max_number + 1, parser_version, run_id)
        self.batch.versions.append((ref, row))
        self.batch.reviewers.extend(rules.reviewer_rows(ref, row))
        state.max_number += 1
        state.version = ref
        state.content_hash = record["content_hash"]

    def touch(self, key: str, state: ArticleState) -> None:
        self.batch.touched[key] = state

    def raw_ref(self, raw: bytes, sha256: str | None = None) -> Ref:
        return self.identities.raw_ref(raw, sha256)

    def sidebar_ref(self, tag_counts: list[dict[str, Any]]) -> Ref | None:
        return self.identities.sidebar_ref(tag_counts)

    def links_ref(self, links: dict[str, Any]) -> Ref:
        return self.identities.links_ref(links)

    def listing_refs(
        self, tag_counts: list[dict[str, Any]], facet: tuple[str, str | None, str | None] | None
    ) -> tuple[Ref | None, Ref | None]:
        sidebar = self.identities.sidebar_ref(tag_counts)
        return sidebar, self.identities.tag_ref(*facet) if facet else None

    def known_tag(self, last: KnownListing) -> Ref | None:
        if last.tag_id:
            return self.identities.tag_ref(last.tag_id, None, None)
        return Ref(last.tag_pk) if last.tag_pk is not None else None  # known by its label

    def tag_articles(self, run_id: int, tag: Ref, links: Iterable[str]) -> None:
        """The articles a facet page lists carry its tag in this run (once each): a range
        that ended in the run before grows, else a new one starts."""
        previous = self.previous_run(run_id)
        for link in links:
            key = key_of_url(link)
            if (id(tag), key) in self._run_article_tags:
                continue
            self._run_article_tags.add((id(tag), key))
            live = self._tag_range(tag.id, key) if tag.id is not None else None
            if live is not None and rules.covers(live[0], live[1], run_id):
                continue
            if live is not None and rules.continues(live[1], previous):
                key_row = {"run_id": live[0], "tag_pk": tag.id, "article_key": key}
                self.batch.extended.append(("article_tags", key_row, run_id, {}))
                live[1] = run_id
                continue
            self.batch.article_tags.append(
                {"run_id": run_id, "tag_pk": tag, "article_key": key, "last_run_id": run_id}
            )

    def _tag_range(self, tag_pk: int, key: str) -> list[int] | None:
        if self._tag_ranges is None:
            with self.engine.connect() as conn:
                self._tag_ranges = {
                    (tag, article): [first, last]
                    for first, tag, article, last in conn.execute(
                        select(
                            ArticleTag.run_id,
                            ArticleTag.tag_pk,
                            ArticleTag.article_key,
                            ArticleTag.last_run_id,
                        ).where(ArticleTag.last_run_id >= self._ranges_since())
                    )
                }
        return self._tag_ranges.get((tag_pk, key))

    def add(self, table: str, row: dict[str, Any]) -> None:
        """A row of `observations`, `listing_pages` or `parse_errors`; a listing page's
        new row is its URL's latest (`listing_heads`)."""
        if table == "listing_pages":
            ref = Ref()
            self.batch.listing_pages.append((ref, row))
            self.batch.listing_heads[row["url"]] = ref
            return
        getattr(self.batch, table).append(row)

    def previous_run(self, run_id: int) -> int | None:
        self._ensure(run_id)
        return self._previous_run

    def extend(
        self,
        table: str,
        key: dict[str, Any],
        since: int,
        run_id: int,
        carried: dict[str, Any] | None = None,
    ) -> bool:
        """The range of the row at `key` (ending in run `since`) reaches `run_id`;
        `carried` columns take new values."""
        self.batch.extended.append((table, key, run_id, carried or {}))
        return True

    def count(self, run_id: int, counters: Counter[str]) -> None:
        self.batch.counters.update(counters)

    # -- the state in memory ------------------------------------------------------------

    def _ensure(self, run_id: int, reload: bool = False) -> None:
        if reload or not self._loaded or run_id != self.run_id:
            # A new run, or one started elsewhere (another writer): read its state.
            self.run_id = run_id
            self._run_article_tags = set()
            with self.engine.connect() as conn:
                self.parser_version = (
                    conn.scalar(select(Run.parser_version).where(Run.id == run_id)) or ""
                )
                self._previous_run = runs.previous(conn, run_id)
                self._load(conn)
            self._loaded = True

    def _load(self, conn: Connection) -> None:
        rows = conn.execute(_article_state_query()).all()
        # Unpacked by position: a Row's attributes cost as much as the rest (3,400+).
        self.articles = {
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
                key,
                id_,
                status,
                removed_run_id,
                version_id,
                last_url,
                etag,
                last_modified,
                content_hash,
                max_number,
                _,
            ) in rows
        }
        # The current versions a parser with another hash rule stored, named by the state
        # query itself, not found by a second pass over every current version.
        former = [
            version_id
            for (_, _, _, _, version_id, *_, parser_version) in rows
            if parser_version in FORMER_CONTENT_FIELDS
        ]
        self._rehash_former_versions(conn, former)
        self.identities.load(
            conn, ranges.current_raw_page_ids(conn.dialect.name), ranges.current_links_ids()
        )
        self._load_ranges(conn)

    def _load_ranges(self, conn: Connection) -> None:
        """The ranges this run may extend or has extended: they end in the run before it
        or later. An article's is its last range of sightings, one index probe each
        (`storage.ranges`), flat as runs accumulate."""
        self._tag_ranges = None
        if self.run_id is None:
            return
        since = self._ranges_since()
        by_id = {state.ref.id: state for state in self.articles.values()}
        sightings = ranges.latest_of_each_article(
            conn.dialect.name,
            "seen",
            *("id", "article_id", "version_id", "url", "http_status", "run_id", "last_run_id"),
        )
        for row in conn.execute(select(sightings).where(sightings.c.last_run_id >= since)):
            state = by_id.get(row.article_id)
            if state is not None:
                state.sighting = Sighting(
                    row.id, row.version_id, row.url, row.http_status, row.run_id, row.last_run_id
                )

    def _ranges_since(self) -> int:
        """The first run whose ranges this run may extend or has extended."""
        assert self.run_id is not None
        return self._previous_run if self._previous_run is not None else self.run_id

    def _rehash_former_versions(self, conn: Connection, version_ids: list[int]) -> None:
        """Current versions (`version_ids`) stored by a parser with another hash rule,
        compared by today's (`rules.comparable_hash`)."""
        for start in range(0, len(version_ids), REHASH_CHUNK):
            query = (
                select(Version, Article.article_key)
                .join(Article, Article.current_version_id == Version.id)
                .where(Version.id.in_(version_ids[start : start + REHASH_CHUNK]))
            )
            for row in conn.execute(query):
                state = self.articles.get(row.article_key)
                if state is not None:
                    state.content_hash = rules.comparable_hash(
                        state.content_hash, row.parser_version, row, row.article_key
                    )


def _article_state_query() -> Any:
    return select(
        Article.article_key,
        *STATE_COLUMNS,
        Version.content_hash,
        ranges.highest_version_number(Article.id).label("max_number"),
        Version.parser_version,
    ).outerjoin(Version, Version.id == Article.current_version_id)
