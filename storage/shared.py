"""`SharedArchive`: one archive written by several crawl processes at once.

`Archive` is the only writer of its database: `start_run` loads the run's state into
memory, each save decides from that memory and rows go out in batches. With several
processes writing one PostgreSQL archive (a distributed run, docs/scale-out.md) that
memory is stale as soon as another process commits, so here:

- every save is one short transaction that re-reads what it decides from: the
  article's row is locked (`SELECT ... FOR UPDATE`) before its current version and
  last number are read, so two saves of one article run one after the other;
- every identity is an `INSERT ... ON CONFLICT DO NOTHING` on the unique constraint
  that defines it (article key, raw page and sidebar sha256, tag id, article tag), so
  the database, not a process, makes one article one row and one content one version;
- an article has at most one fetch, sighting or removal evidence per run: a second
  save of it in the same run (two workers fetching it, a request handed to another
  worker after its first one was killed past its commit) answers "duplicate" and
  writes nothing, as the crawl's dedupe pipeline drops it in a run of one process;
- runs belong to whoever coordinates them: `start_run` marks no other run
  interrupted (they may be other processes' runs in progress), workers `join_run`.

Locks are always taken in one order (the article, its raw page, tags sorted by id or
label, the sidebar, then the run's counter rows), so two saves cannot wait for each
other; a transaction that fails on a deadlock or serialization error anyway is run
again. Each process writes its share of the run's counters into its `run_workers` row
in the same transaction as the rows they count.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import zstandard
from sqlalchemy import Connection, Engine, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from crawler.urls import article_key as key_of_url
from storage import search, tagcounts
from storage.archive import (
    RUN_MODES,
    Archive,
    KnownListing,
    _date,
    _now,
    listing_links,
    listing_row_again,
)
from storage.identity import ZSTD_LEVEL, _canonical_json
from storage.models import (
    RUN_COUNTERS,
    VERSION_FIELDS,
    Article,
    ArticleTag,
    ListingPage,
    Observation,
    ParseError,
    RawPage,
    Run,
    RunWorker,
    Sidebar,
    SidebarCount,
    Tag,
    TagLabel,
    Version,
    VersionReviewer,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# PostgreSQL's deadlock_detected and serialization_failure: the transaction is retried.
_RETRYABLE = {"40P01", "40001"}
_ATTEMPTS = 5
WORKER_COUNTERS = ("pages_fetched", "fetch_errors", *RUN_COUNTERS)


class SharedArchive(Archive):
    """The archive for concurrent writers: per-save transactions, identities by the database."""

    def __init__(self, engine: Engine, *, batch_size: int = 200) -> None:
        super().__init__(engine, batch_size=batch_size)
        self.worker: str | None = None
        self._compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        self._parser_versions: dict[int, str] = {}
        # Page counts of this process not yet written to its run_workers row: they go
        # out with the next save's transaction (or `flush`); `_writing` is the part the
        # open transaction carries, forgotten only once it committed.
        self._pending: Counter[str] = Counter()
        self._writing: Counter[str] = Counter()

    # -- runs -------------------------------------------------------------------------

    def start_run(self, mode: str, site_root: str = "", parser_version: str = "") -> int:
        """A new run. Unlike `Archive.start_run`, no other `running` run is touched."""
        if mode not in RUN_MODES:
            raise ValueError(f"unknown run mode {mode!r}: one of {', '.join(RUN_MODES)}")
        with self._write() as conn, conn.begin():
            run_id = conn.execute(
                insert(Run).returning(Run.id),
                {
                    "started_at": _now(),
                    "site_root": site_root,
                    "mode": mode,
                    "status": "running",
                    "parser_version": parser_version,
                    **{name: 0 for name in (*RUN_COUNTERS, "pages_fetched", "articles_removed")},
                },
            ).scalar_one()
        self._run_id = run_id
        self._parser_versions[run_id] = parser_version
        return run_id

    def join_run(self, run_id: int) -> None:
        """Save into `run_id`, started by another process; it must still be running."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(Run.status, Run.parser_version).where(Run.id == run_id)
            ).one_or_none()
        if row is None or row.status != "running":
            raise ValueError(f"run {run_id} is not running: {row.status if row else 'no such run'}")
        self._run_id = run_id
        self._parser_versions[run_id] = row.parser_version

    def register_worker(self, run_id: int, worker: str, role: str, host: str, pid: int) -> None:
        """This process takes part in `run_id` as `worker`: its `run_workers` row."""
        self.worker = worker
        with self._write() as conn, conn.begin():
            conn.execute(
                self._insert(RunWorker)
                .values(
                    run_id=run_id,
                    worker=worker,
                    role=role,
                    host=host,
                    pid=pid,
                    joined_at=_now(),
                    status="working",
                    **{name: 0 for name in WORKER_COUNTERS},
                )
                .on_conflict_do_nothing()
            )

    def count_pages(self, fetched: int = 0, fetch_errors: int = 0) -> None:
        """Pages this process fetched (or failed to): its row gets them with the next write."""
        self._pending["pages_fetched"] += fetched
        self._pending["fetch_errors"] += fetch_errors

    def leave_run(self, run_id: int, status: str = "done") -> None:
        """This process is done with `run_id`: every write of it is committed."""
        if self.worker is None:
            return

        def leave(conn: Connection) -> None:
            self._count(conn, run_id, Counter())
            conn.execute(
                update(RunWorker)
                .where(RunWorker.run_id == run_id, RunWorker.worker == self.worker)
                .values(status=status, left_at=_now())
            )

        self._transaction(leave)

    def run_totals(self, run_id: int) -> dict[str, int]:
        """The run's counters summed over its processes (`run_workers`)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    *(func.coalesce(func.sum(RunWorker.__table__.c[n]), 0) for n in WORKER_COUNTERS)
                ).where(RunWorker.run_id == run_id)
            ).one()
        return dict(zip(WORKER_COUNTERS, (int(v) for v in row), strict=True))

    def finish_run(
        self, run_id: int, status: str = "completed", pages_fetched: int | None = None
    ) -> None:
        """Close the run once: processes still `working` were lost (killed) on the way.

        `pages_fetched` defaults to the sum over the run's processes.
        """
        self.flush()
        if pages_fetched is None:
            pages_fetched = self.run_totals(run_id)["pages_fetched"]
        with self._write() as conn, conn.begin():
            conn.execute(
                update(RunWorker)
                .where(RunWorker.run_id == run_id, RunWorker.status == "working")
                .values(status="lost")
            )
        super().finish_run(run_id, status=status, pages_fetched=pages_fetched)

    def interrupt_run(self, run_id: int) -> bool:
        """Mark `run_id` interrupted if it is still running (its coordinator died)."""
        with self._write() as conn, conn.begin():
            status = conn.scalar(select(Run.status).where(Run.id == run_id).with_for_update())
            if status != "running":
                return False
            logger.warning("run %(run)d was left running: marking it interrupted", {"run": run_id})
            tagcounts.finalize_run(conn, run_id)
            conn.execute(
                update(RunWorker)
                .where(RunWorker.run_id == run_id, RunWorker.status == "working")
                .values(status="lost")
            )
            conn.execute(
                update(Run).where(Run.id == run_id).values(status="interrupted", finished_at=_now())
            )
        return True

    def flush(self) -> None:
        """Nothing is batched here but this process's page counts."""
        run_id = self._run_id
        if self.worker is not None and run_id is not None and +self._pending:
            self._transaction(lambda conn: self._count(conn, run_id, Counter()))

    # -- saving -------------------------------------------------------------------------

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
        """Store one fetched article: "new", "changed", "unchanged" or "duplicate"."""
        key = record["article_key"]
        fetched_at = fetched_at or _now()
        parser_version = self._parser_version_of(run_id)

        def save(conn: Connection) -> str:
            article_id = conn.scalar(
                self._insert(Article)
                .values(
                    article_key=key,
                    status="active",
                    first_run_id=run_id,
                    last_url=url,
                    etag=etag,
                    last_modified=last_modified,
                )
                .on_conflict_do_nothing(index_elements=["article_key"])
                .returning(Article.id)
            )
            new = article_id is not None
            state = self._locked_article(conn, key)
            if not new and self._observed(conn, run_id, state.id):
                return "duplicate"
            counters: Counter[str] = Counter()
            values: dict[str, Any] = {}
            if state.status == "removed":
                values.update(status="active", removed_run_id=None)
                counters["articles_returned"] += 1
            raw_id = self._raw_id(conn, raw)
            sidebar_id = self._sidebar_id(conn, record.get("tag_counts") or [])
            if new:
                outcome = "new"
            else:
                outcome = "unchanged" if state.content_hash == record["content_hash"] else "changed"
            version_id = state.current_version_id
            if outcome != "unchanged":
                version_id = self._insert_version(
                    conn, run_id, state.id, (state.max_number or 0) + 1, record, parser_version
                )
                values["current_version_id"] = version_id
            if (state.last_url, state.etag, state.last_modified) != (url, etag, last_modified):
                values.update(last_url=url, etag=etag, last_modified=last_modified)
            if values:
                conn.execute(update(Article).where(Article.id == state.id).values(**values))
            conn.execute(
                insert(Observation),
                {
                    "run_id": run_id,
                    "article_id": state.id,
                    "kind": "fetched",
                    "version_id": version_id,
                    "url": url,
                    "http_status": http_status,
                    "observed_at": fetched_at,
                    "etag": etag,
                    "last_modified": last_modified,
                    "raw_page_id": raw_id,
                    "sidebar_id": sidebar_id,
                },
            )
            counters[f"articles_{outcome}"] += 1
            self._count(conn, run_id, counters)
            return outcome

        return self._transaction(save)

    def mark_seen(
        self, run_id: int, article_key: str, url: str, http_status: int | None = None
    ) -> None:
        """The article is still there but was not refetched (304, or old sitemap lastmod)."""

        def seen(conn: Connection) -> None:
            state = self._locked_article(conn, article_key, missing_ok=True)
            if state is None:
                logger.warning("mark_seen: unknown article %(key)s, ignored", {"key": article_key})
                return
            if self._observed(conn, run_id, state.id):
                return
            counters: Counter[str] = Counter(articles_seen=1)
            if state.status == "removed":
                conn.execute(
                    update(Article)
                    .where(Article.id == state.id)
                    .values(status="active", removed_run_id=None)
                )
                counters["articles_returned"] += 1
            conn.execute(
                insert(Observation),
                self._observation(
                    run_id, state, "seen", url, http_status, state.current_version_id
                ),
            )
            self._count(conn, run_id, counters)

        self._transaction(seen)

    def mark_seen_many(
        self, run_id: int, articles: Iterable[tuple[str, str]], http_status: int | None = None
    ) -> None:
        """`mark_seen` for each (article key, URL), each in its own transaction."""
        for article_key, url in articles:
            self.mark_seen(run_id, article_key, url, http_status)

    def mark_gone(self, run_id: int, article_key: str, url: str, http_status: int) -> None:
        """Evidence that the article is gone; applied by `finish_run` if the run completes."""
        if http_status not in (404, 410):
            raise ValueError(f"mark_gone needs a 404 or 410, not {http_status}")

        def gone(conn: Connection) -> None:
            state = self._locked_article(conn, article_key, missing_ok=True)
            if state is None:
                logger.warning("mark_gone: unknown article %(key)s, ignored", {"key": article_key})
                return
            if self._observed(conn, run_id, state.id):
                return
            conn.execute(
                insert(Observation),
                self._observation(run_id, state, "gone", url, http_status, None),
            )
            self._count(conn, run_id, Counter())

        self._transaction(gone)

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
        shown = next((t for t in tag_counts if tag_id and t.get("tag_id") == tag_id), None)

        def listing(conn: Connection) -> None:
            raw_id = self._raw_id(conn, raw) if raw else None
            # The facet's own tag is resolved with the sidebar's, in one sorted pass.
            wanted = [(t.get("tag_id"), t["label"], t.get("group")) for t in tag_counts]
            if tag_id:
                wanted.append(
                    (tag_id, shown["label"] if shown else None, shown["group"] if shown else None)
                )
            tags = self._tag_ids(conn, wanted)
            sidebar_id = self._sidebar_id(conn, tag_counts, tags)
            tag_pk = tags[(tag_id, None)] if tag_id else None
            self._tag_articles_in(conn, run_id, tag_pk, links)
            conn.execute(
                insert(ListingPage),
                {
                    "run_id": run_id,
                    "url": url,
                    "listing_kind": record.get("listing_kind"),
                    "tag_pk": tag_pk,
                    "fetched_at": fetched_at or _now(),
                    "article_links": len(links),
                    "raw_page_id": raw_id,
                    "sidebar_id": sidebar_id,
                    "etag": etag,
                    "last_modified": last_modified,
                    "links": listing_links(record),
                },
            )
            self._count(conn, run_id, Counter(listings=1))

        self._transaction(listing)

    def _save_again(
        self,
        run_id: int,
        last: KnownListing,
        fetched_at: dt.datetime | None,
        etag: str | None,
        last_modified: str | None,
    ) -> None:
        """`Archive`'s, in a transaction of its own."""

        def unchanged(conn: Connection) -> None:
            links = last.links.get("article_links") or []
            self._tag_articles_in(conn, run_id, last.tag_pk, links)
            conn.execute(
                insert(ListingPage),
                listing_row_again(last, run_id, last.tag_pk, fetched_at, etag, last_modified),
            )
            self._count(conn, run_id, Counter(listings=1))

        self._transaction(unchanged)

    def _tag_articles_in(
        self, conn: Connection, run_id: int, tag_pk: int | None, links: list[str]
    ) -> None:
        """The articles a facet page lists carry its tag in this run (once each)."""
        if tag_pk is None or not links:
            return
        keys = sorted({key_of_url(link) for link in links})
        conn.execute(
            self._insert(ArticleTag)
            .values([{"run_id": run_id, "tag_pk": tag_pk, "article_key": k} for k in keys])
            .on_conflict_do_nothing()
        )

    def save_parse_error(
        self,
        run_id: int,
        url: str,
        reason: str,
        raw: bytes | None = None,
        http_status: int | None = None,
    ) -> None:
        """A fetched page that is not a record (kept with its bytes, for a later reparse)."""

        def error(conn: Connection) -> None:
            conn.execute(
                insert(ParseError),
                {
                    "run_id": run_id,
                    "url": url,
                    "reason": reason,
                    "http_status": http_status,
                    "raw_page_id": self._raw_id(conn, raw) if raw else None,
                    "observed_at": _now(),
                },
            )
            self._count(conn, run_id, Counter(errors=1))

        self._transaction(error)

    # -- inside a save's transaction ------------------------------------------------------

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        for attempt in range(1, _ATTEMPTS + 1):
            self._writing = Counter()
            try:
                with self._write() as conn, conn.begin():
                    result = work(conn)
                self._pending -= self._writing
                return result
            except DBAPIError as error:
                code = getattr(error.orig, "sqlstate", None)
                if code not in _RETRYABLE or attempt == _ATTEMPTS:
                    raise
                logger.info("save retried after %(code)s", {"code": code})
        raise AssertionError("unreachable")

    def _insert(self, model: Any) -> Any:
        """The dialect's INSERT, which has `on_conflict_do_nothing`."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(model)

    def _locked_article(self, conn: Connection, key: str, missing_ok: bool = False) -> Any:
        """The article's row, locked until commit, with its current hash and last number."""
        current_hash = (
            select(Version.content_hash)
            .where(Version.id == Article.current_version_id)
            .scalar_subquery()
        )
        max_number = (
            select(func.max(Version.number)).where(Version.article_id == Article.id)
        ).scalar_subquery()
        row = conn.execute(
            select(
                Article.id,
                Article.status,
                Article.current_version_id,
                Article.last_url,
                Article.etag,
                Article.last_modified,
                current_hash.label("content_hash"),
                max_number.label("max_number"),
            )
            .where(Article.article_key == key)
            .with_for_update(of=Article)
        ).one_or_none()
        if row is None and not missing_ok:
            raise LookupError(f"article {key} vanished inside its own transaction")
        return row

    @staticmethod
    def _observed(conn: Connection, run_id: int, article_id: int) -> bool:
        """The article was already fetched, seen or found gone in this run."""
        return (
            conn.scalar(
                select(Observation.id)
                .where(Observation.article_id == article_id, Observation.run_id == run_id)
                .limit(1)
            )
            is not None
        )

    def _raw_id(self, conn: Connection, raw: bytes) -> int:
        sha = hashlib.sha256(raw).hexdigest()
        found = conn.scalar(select(RawPage.id).where(RawPage.sha256 == sha))
        if found is not None:
            return found
        inserted = conn.scalar(
            self._insert(RawPage)
            .values(
                sha256=sha, size=len(raw), compression="zstd", data=self._compressor.compress(raw)
            )
            .on_conflict_do_nothing(index_elements=["sha256"])
            .returning(RawPage.id)
        )
        if inserted is not None:
            return inserted
        return conn.execute(select(RawPage.id).where(RawPage.sha256 == sha)).scalar_one()

    def _sidebar_id(
        self,
        conn: Connection,
        tag_counts: list[dict[str, Any]],
        tags: dict[tuple[str | None, str | None], int] | None = None,
    ) -> int | None:
        if not tag_counts:
            return None
        sha = hashlib.sha256(_canonical_json(tag_counts)).hexdigest()
        found = conn.scalar(select(Sidebar.id).where(Sidebar.sha256 == sha))
        if found is not None:
            return found
        if tags is None:
            tags = self._tag_ids(
                conn, [(t.get("tag_id"), t["label"], t.get("group")) for t in tag_counts]
            )
        inserted = conn.scalar(
            self._insert(Sidebar)
            .values(sha256=sha)
            .on_conflict_do_nothing(index_elements=["sha256"])
            .returning(Sidebar.id)
        )
        if inserted is None:  # another save stored it first: its counts came with it
            return conn.execute(select(Sidebar.id).where(Sidebar.sha256 == sha)).scalar_one()
        conn.execute(
            insert(SidebarCount),
            [
                {
                    "sidebar_id": inserted,
                    "position": position,
                    "tag_pk": tags[_tag_key(t.get("tag_id"), t["label"])],
                    "label": t["label"],
                    "group": t.get("group"),
                    "count": t["count"],
                }
                for position, t in enumerate(tag_counts)
            ],
        )
        return inserted

    def _tag_ids(
        self, conn: Connection, wanted: Iterable[tuple[str | None, str | None, str | None]]
    ) -> dict[tuple[str | None, str | None], int]:
        """Tag row ids, by (tag_id, None) or (None, label); resolved in one sorted order."""
        unique: dict[tuple[str | None, str | None], tuple[str | None, str | None, str | None]] = {}
        for tag_id, label, group in wanted:
            unique.setdefault(_tag_key(tag_id, label), (tag_id, label, group))
        found = {}
        for key in sorted(unique, key=lambda k: (k[0] is None, k[0] or k[1] or "")):
            found[key] = self._tag_id(conn, *unique[key])
        return found

    def _tag_id(
        self, conn: Connection, tag_id: str | None, label: str | None, group: str | None
    ) -> int:
        """As `IdentityMap.tag_ref`: by id; a label-only tag showing its id is adopted."""
        if tag_id:
            pk = conn.scalar(select(Tag.id).where(Tag.tag_id == tag_id))
            if pk is not None:
                return pk
            if label:
                self._lock_label(conn, label)
                label_only = conn.scalar(
                    select(Tag.id).where(Tag.tag_id.is_(None), Tag.label == label).order_by(Tag.id)
                )
                if label_only is not None:
                    adopted = conn.execute(
                        update(Tag)
                        .where(Tag.id == label_only, Tag.tag_id.is_(None))
                        .values(tag_id=tag_id)
                    ).rowcount
                    if adopted:
                        return label_only
            pk = conn.scalar(
                self._insert(Tag)
                .values(tag_id=tag_id, label=label, group=group)
                .on_conflict_do_nothing(index_elements=["tag_id"])
                .returning(Tag.id)
            )
            if pk is not None:
                return pk
            return conn.execute(select(Tag.id).where(Tag.tag_id == tag_id)).scalar_one()
        assert label, "a tag needs an id or a label"
        self._lock_label(conn, label)
        # A label once shown with an id, then a label-only tag, then an id tag's label.
        pk = conn.scalar(
            select(TagLabel.tag_pk)
            .join(Tag, Tag.id == TagLabel.tag_pk)
            .where(TagLabel.label == label, Tag.tag_id.is_not(None))
            .order_by(TagLabel.last_run_id.desc())
            .limit(1)
        )
        if pk is None:
            pk = conn.scalar(
                select(Tag.id)
                .where(Tag.label == label)
                .order_by(Tag.tag_id.is_not(None), Tag.id)
                .limit(1)
            )
        if pk is not None:
            return pk
        return conn.execute(
            insert(Tag).values(tag_id=None, label=label, group=group).returning(Tag.id)
        ).scalar_one()

    @staticmethod
    def _lock_label(conn: Connection, label: str) -> None:
        # Label-only tags have no unique constraint to conflict on: two saves creating
        # or adopting one by its label take turns (SQLite's writers already do).
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"cwarchive-tag:{label}"},
            )

    def _insert_version(
        self,
        conn: Connection,
        run_id: int,
        article_id: int,
        number: int,
        record: dict[str, Any],
        parser_version: str,
    ) -> int:
        row = {name: record.get(name) for name in VERSION_FIELDS}
        row["published"] = _date(row["published"])
        row["reviewed"] = _date(row["reviewed"])
        for name in ("authors", "reviewers", "key_takeaways", "headings"):
            row[name] = row[name] or []
        row.update(
            article_id=article_id, number=number, parser_version=parser_version, first_run_id=run_id
        )
        version_id = conn.execute(insert(Version).returning(Version.id), row).scalar_one()
        search.index_versions(conn, [version_id])
        reviewers = [
            {"version_id": version_id, "position": position, "name": r["name"], "url": r.get("url")}
            for position, r in enumerate(row["reviewers"])
        ]
        if reviewers:
            conn.execute(insert(VersionReviewer), reviewers)
        return version_id

    @staticmethod
    def _observation(
        run_id: int,
        state: Any,
        kind: str,
        url: str,
        http_status: int | None,
        version_id: int | None,
    ) -> dict[str, Any]:
        return {
            "run_id": run_id,
            "article_id": state.id,
            "kind": kind,
            "version_id": version_id,
            "url": url,
            "http_status": http_status,
            "observed_at": _now(),
            "etag": None,
            "last_modified": None,
            "raw_page_id": None,
            "sidebar_id": None,
        }

    def _count(self, conn: Connection, run_id: int, counters: Counter[str]) -> None:
        """The run's counters and this process's share, last: the run row is the hot lock."""
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
            runs = Run.__table__
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values({name: runs.c[name] + n for name, n in counters.items()})
            )

    def _parser_version_of(self, run_id: int) -> str:
        if run_id not in self._parser_versions:
            with self.engine.connect() as conn:
                self._parser_versions[run_id] = (
                    conn.scalar(select(Run.parser_version).where(Run.id == run_id)) or ""
                )
        return self._parser_versions[run_id]


def _tag_key(tag_id: str | None, label: str | None) -> tuple[str | None, str | None]:
    return (tag_id, None) if tag_id else (None, label)
