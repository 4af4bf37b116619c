"""`SharedStore`: the writer's strategy when several crawl processes write one archive.

`storage.batch.BatchStore` assumes one writer: its state in memory is stale as soon as
another process commits. Here (a distributed run, docs/scale-out.md):

- every save is one short transaction that re-reads what it decides from: the
  article's row is locked (`SELECT ... FOR UPDATE`) before its current version, last
  number and this run's observations of it are read, so two saves of one article run
  one after the other, and the writer's rules (`storage.rules`) decide as in one process;
- every identity is an `INSERT ... ON CONFLICT DO NOTHING` on the unique constraint
  that defines it (article key, raw page, sidebar and link list sha256, tag id, article
  tag), so the database, not a process, makes one article one row and one content one
  version;
- runs belong to whoever coordinates them: `start_run` marks no other run
  interrupted (they may be other processes' runs in progress), workers `join_run`.

Locks are always taken in one order (the article, its raw page, tags sorted by id or
label, the sidebar, a listing page's links, then the run's counter rows), so two saves
cannot wait for each other; a transaction that fails on a deadlock or serialization
error anyway is run again. Each process writes its share of the run's counters into its
`run_workers` row in the same transaction as the rows they count.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import zstandard
from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from common.urls import article_key as key_of_url
from storage import ranges, rules, runs, search
from storage.archive import Archive
from storage.identity import ZSTD_LEVEL
from storage.listings import KnownListing
from storage.models import (
    RUN_COUNTERS,
    Article,
    ArticleTag,
    Base,
    ListingPage,
    Observation,
    ParseError,
    RawPage,
    Run,
    RunWorker,
    Version,
    VersionReviewer,
)
from storage.shared_identity import dialect_insert, links_id, raw_id, sidebar_id, tag_ids
from storage.unit_of_work import (
    STATE_COLUMNS,
    ArticleState,
    Ref,
    Sighting,
    _resolve,
    extend_params,
    extend_statement,
    move_heads,
    write_connection,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# PostgreSQL's deadlock_detected and serialization_failure: the transaction is retried.
_RETRYABLE = {"40P01", "40001"}
_ATTEMPTS = 5
WORKER_COUNTERS = ("pages_fetched", "fetch_errors", *RUN_COUNTERS)
_TABLES = {"observations": Observation, "listing_pages": ListingPage, "parse_errors": ParseError}


class SharedArchive:
    """How a process of a distributed run opens the archive: the one writer
    (`storage.archive.Archive`) with the `SharedStore` strategy. `ARCHIVE_CLASS` names it."""

    @staticmethod
    def open(db_url: str, *, create: bool = True, batch_size: int = 200) -> Archive:
        return Archive.open(db_url, create=create, batch_size=batch_size, store=SharedStore)


class SharedStore:
    """Per-save transactions; identities and counters by the database."""

    def __init__(self, engine: Engine, batch_size: int = 200) -> None:
        self.engine = engine
        self.worker: str | None = None
        self._compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        self._conn: Connection | None = None
        self._run_id: int | None = None
        # Page counts of this process not yet written to its run_workers row: they go
        # out with the next save's transaction (or `flush`); `_writing` is the part the
        # open transaction carries, forgotten only once it committed.
        self._pending: Counter[str] = Counter()
        self._writing: Counter[str] = Counter()
        self._previous: dict[int, int | None] = {}

    # -- runs ---------------------------------------------------------------------------

    def start_run(self, row: dict[str, Any]) -> int:
        """A new run; no other `running` run is touched (it may be another's in progress)."""
        with write_connection(self.engine) as conn, conn.begin():
            self._run_id = runs.insert_run(conn, row)
        return self._run_id

    def join_run(self, run_id: int) -> None:
        self._run_id = run_id

    def before_finish(self, conn: Connection, run_id: int) -> None:
        """Processes still `working` when the run closes were lost (killed) on the way."""
        conn.execute(
            update(RunWorker)
            .where(RunWorker.run_id == run_id, RunWorker.status == "working")
            .values(status="lost")
        )

    def pages_fetched(self, run_id: int) -> int:
        return self.run_totals(run_id)["pages_fetched"]

    def forget(self) -> None:
        """Nothing is kept between saves."""

    def register_worker(self, run_id: int, worker: str, role: str, host: str, pid: int) -> None:
        self.worker = worker
        with write_connection(self.engine) as conn, conn.begin():
            conn.execute(
                dialect_insert(conn, RunWorker)
                .values(
                    run_id=run_id,
                    worker=worker,
                    role=role,
                    host=host,
                    pid=pid,
                    joined_at=rules.now(),
                    status="working",
                    **{name: 0 for name in WORKER_COUNTERS},
                )
                .on_conflict_do_nothing()
            )

    def count_pages(self, fetched: int = 0, fetch_errors: int = 0) -> None:
        self._pending["pages_fetched"] += fetched
        self._pending["fetch_errors"] += fetch_errors

    def leave_run(self, run_id: int, status: str = "done") -> None:
        if self.worker is None:
            return

        def leave() -> None:
            conn = self._connection()
            self.count(run_id, Counter())
            conn.execute(
                update(RunWorker)
                .where(RunWorker.run_id == run_id, RunWorker.worker == self.worker)
                .values(status=status, left_at=rules.now())
            )

        self.unit(leave)

    def run_totals(self, run_id: int) -> dict[str, int]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    *(func.coalesce(func.sum(RunWorker.__table__.c[n]), 0) for n in WORKER_COUNTERS)
                ).where(RunWorker.run_id == run_id)
            ).one()
        return dict(zip(WORKER_COUNTERS, (int(v) for v in row), strict=True))

    # -- a save -------------------------------------------------------------------------

    def unit(self, work: Callable[[], T], saves: int = 1) -> T:
        """`work` in one transaction of its own, run again on a deadlock."""
        return self._transaction(lambda conn: work())

    def each(self, items: list[Any], work: Callable[[Any], None]) -> None:
        """`work` for each item, each in a transaction of its own."""
        for item in items:
            self.unit(lambda item=item: work(item))

    def flush(self) -> None:
        """Nothing is batched here but this process's page counts."""
        run_id = self._run_id
        if self.worker is not None and run_id is not None and +self._pending:
            self.unit(lambda: self.count(run_id, Counter()))

    def article(self, run_id: int, key: str) -> ArticleState | None:
        return self._locked_article(self._connection(), run_id, key)

    def article_or_new(
        self, run_id: int, key: str, row: dict[str, Any]
    ) -> tuple[ArticleState, bool]:
        conn = self._connection()
        created = conn.scalar(
            dialect_insert(conn, Article)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["article_key"])
            .returning(Article.id)
        )
        state = self._locked_article(conn, run_id, key)
        if state is None:
            raise LookupError(f"article {key} vanished inside its own transaction")
        return state, created is not None

    def add_version(
        self, run_id: int, state: ArticleState, record: dict[str, Any], parser_version: str
    ) -> None:
        conn = self._connection()
        number = state.max_number + 1
        row = rules.version_row(record, state.ref.id, number, parser_version, run_id)
        version_id = conn.execute(insert(Version).returning(Version.id), row).scalar_one()
        search.index_versions(conn, [version_id])
        reviewers = rules.reviewer_rows(version_id, row)
        if reviewers:
            conn.execute(insert(VersionReviewer), reviewers)
        state.max_number = number
        state.version = Ref(version_id)
        state.content_hash = record["content_hash"]

    def touch(self, key: str, state: ArticleState) -> None:
        self._connection().execute(
            update(Article)
            .where(Article.id == state.ref.id)
            .values(
                status=state.status,
                removed_run_id=state.removed_run_id,
                current_version_id=state.version.id if state.version else None,
                last_url=state.last_url,
                etag=state.etag,
                last_modified=state.last_modified,
            )
        )

    def raw_ref(self, raw: bytes, sha256: str | None = None) -> Ref:
        conn = self._connection()
        return Ref(raw_id(conn, raw, sha256 or hashlib.sha256(raw).hexdigest(), self._compressor))

    def sidebar_ref(self, tag_counts: list[dict[str, Any]]) -> Ref | None:
        return self.listing_refs(tag_counts, None)[0]

    def links_ref(self, links: dict[str, Any]) -> Ref:
        return Ref(links_id(self._connection(), links))

    def listing_refs(
        self, tag_counts: list[dict[str, Any]], facet: tuple[str, str | None, str | None] | None
    ) -> tuple[Ref | None, Ref | None]:
        """The sidebar and a facet page's own tag, their tags resolved in one sorted pass."""
        if not tag_counts and facet is None:
            return None, None
        conn = self._connection()
        wanted = [(t.get("tag_id"), t["label"], t.get("group")) for t in tag_counts]
        if facet is not None:
            wanted.append(facet)
        tags = tag_ids(conn, wanted)
        sidebar = sidebar_id(conn, tag_counts, tags)
        tag = Ref(tags[(facet[0], None)]) if facet is not None else None
        return (Ref(sidebar) if sidebar is not None else None), tag

    def known_tag(self, last: KnownListing) -> Ref | None:
        return Ref(last.tag_pk) if last.tag_pk is not None else None

    def tag_articles(self, run_id: int, tag: Ref, links: Iterable[str]) -> None:
        """The articles a facet page lists carry its tag in this run (once each): ranges
        that ended in the run before grow, the others start. The UPDATE locks what it
        extends, so a save that comes second finds it covering the run."""
        keys = sorted({key_of_url(link) for link in links})
        if not keys:
            return
        conn = self._connection()
        previous = self.previous_run(run_id)
        tags = ArticleTag.__table__.c
        if previous is not None:
            conn.execute(
                update(ArticleTag)
                .where(
                    tags.tag_pk == tag.id,
                    tags.article_key.in_(keys),
                    tags.last_run_id == previous,
                )
                .values(last_run_id=run_id)
            )
        covered = set(
            conn.scalars(
                select(tags.article_key).where(
                    tags.tag_pk == tag.id,
                    tags.article_key.in_(keys),
                    tags.run_id <= run_id,
                    tags.last_run_id >= run_id,
                )
            )
        )
        new = [k for k in keys if k not in covered]
        if new:
            conn.execute(
                dialect_insert(conn, ArticleTag)
                .values(
                    [
                        {
                            "run_id": run_id,
                            "last_run_id": run_id,
                            "tag_pk": tag.id,
                            "article_key": k,
                        }
                        for k in new
                    ]
                )
                .on_conflict_do_nothing()
            )

    def add(self, table: str, row: dict[str, Any]) -> None:
        """A row of `observations`, `listing_pages` or `parse_errors`; a listing page's
        new row is its URL's latest (`listing_heads`)."""
        conn = self._connection()
        if table == "listing_pages":
            row_id = conn.execute(
                insert(ListingPage).returning(ListingPage.id), _resolve(row)
            ).scalar_one()
            move_heads(conn, {row["url"]: row_id})
            return
        conn.execute(insert(_TABLES[table]), _resolve(row))

    def previous_run(self, run_id: int) -> int | None:
        if run_id not in self._previous:
            self._previous[run_id] = runs.previous(self._connection(), run_id)
        return self._previous[run_id]

    def extend(
        self,
        table: str,
        key: dict[str, Any],
        since: int,
        run_id: int,
        carried: dict[str, Any] | None = None,
    ) -> bool:
        """The range of the row at `key` reaches `run_id`, if it still ends in run `since`
        (another process may have extended it first): False when it did not."""
        carried = carried or {}
        statement = extend_statement(table, tuple(sorted(carried))).where(
            Base.metadata.tables[table].c.last_run_id == since
        )
        params = extend_params(table, key, run_id, carried)
        return bool(self._connection().execute(statement, params).rowcount)

    def count(self, run_id: int, counters: Counter[str]) -> None:
        """The run's counters and this process's share, last: the run row is the hot lock."""
        conn = self._connection()
        if self.worker is not None:
            self._writing = Counter(self._pending)
            mine = counters + self._pending
            if mine:
                table = RunWorker.__table__
                conn.execute(
                    update(table)
                    .where(table.c.run_id == run_id, table.c.worker == self.worker)
                    .values({name: table.c[name] + n for name, n in mine.items()})
                )
        if counters:
            table = Run.__table__
            conn.execute(
                update(table)
                .where(table.c.id == run_id)
                .values({name: table.c[name] + n for name, n in counters.items()})
            )

    # -- inside a save's transaction ------------------------------------------------------

    def _connection(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("a save's work runs inside SharedStore.unit")
        return self._conn

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        for attempt in range(1, _ATTEMPTS + 1):
            self._writing = Counter()
            try:
                with write_connection(self.engine) as conn, conn.begin():
                    self._conn = conn
                    try:
                        result = work(conn)
                    finally:
                        self._conn = None
                self._pending -= self._writing
                return result
            except DBAPIError as error:
                code = getattr(error.orig, "sqlstate", None)
                if code not in _RETRYABLE or attempt == _ATTEMPTS:
                    raise
                logger.info("save retried after %(code)s", {"code": code})
        raise AssertionError("unreachable")

    def _locked_article(self, conn: Connection, run_id: int, key: str) -> ArticleState | None:
        """The article's row, locked until commit, with what the rules decide from: its
        current version (hash comparable by today's rule), last number, and how this
        run met it so far."""
        max_number = (
            select(func.max(Version.number)).where(Version.article_id == Article.id)
        ).scalar_subquery()
        row = conn.execute(
            select(*STATE_COLUMNS, max_number.label("max_number"))
            .where(Article.article_key == key)
            .with_for_update(of=Article)
        ).one_or_none()
        if row is None:
            return None
        version = None
        if row.current_version_id is not None:
            version = conn.execute(
                select(Version).where(Version.id == row.current_version_id)
            ).one()
        met: set[tuple[str, ...]] = set()
        for kind, url, sha in conn.execute(
            select(Observation.kind, Observation.url, RawPage.sha256)
            .outerjoin(RawPage, RawPage.id == Observation.raw_page_id)
            .where(
                Observation.article_id == row.id,
                Observation.run_id <= run_id,
                Observation.last_run_id >= run_id,
            )
        ):
            if kind == "fetched":
                met.add(rules.fetched_mark(url, sha))
            elif kind == "gone":
                met.add(rules.gone_mark(url))
            else:
                met.add(rules.SEEN)
        sighting = conn.execute(
            select(
                Observation.id,
                Observation.version_id,
                Observation.url,
                Observation.http_status,
                Observation.run_id,
                Observation.last_run_id,
            ).where(Observation.id == ranges.last_sighting_id(row.id))
        ).one_or_none()
        return ArticleState(
            ref=Ref(row.id),
            status=row.status,
            removed_run_id=row.removed_run_id,
            version=Ref(row.current_version_id) if row.current_version_id else None,
            content_hash=rules.comparable_hash(
                version.content_hash, version.parser_version, version, key
            )
            if version is not None
            else None,
            max_number=row.max_number or 0,
            last_url=row.last_url,
            etag=row.etag,
            last_modified=row.last_modified,
            met_run=run_id,
            met=met,
            sighting=Sighting(*sighting) if sighting is not None else None,
        )
