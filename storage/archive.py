"""The `Archive`: the write API the crawler, `ingest` and `reparse` use.

The hot path never asks the database a question. `start_run` loads what the run
needs to decide (article key -> current version and hash, sha256 of every raw page,
tags, sidebars) into memory; each save builds its rows in memory, and every
`batch_size` saves one short transaction writes them with executemany statements.
A batch holds whole articles only, so a killed writer leaves no half-saved article.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import zstandard
from sqlalchemy import Connection, Engine, Table, bindparam, func, insert, select, update

from crawler.record import ARTICLE_FIELDS
from crawler.urls import article_key as key_of_url
from storage import db, tagcounts
from storage.models import (
    Article,
    ArticleTag,
    ListingPage,
    Observation,
    ParseError,
    RawPage,
    Run,
    Sidebar,
    SidebarCount,
    Tag,
    TagLabel,
    Version,
    VersionReviewer,
)

logger = logging.getLogger(__name__)

RUN_MODES = ("full", "incremental", "reparse", "ingest")
FINISH_STATUSES = ("completed", "interrupted", "failed")
ZSTD_LEVEL = 3  # level 3 already stores these pages at ~1/7; higher levels cost far more CPU

# The record fields stored on a version row, besides the bookkeeping columns: all but
# the page type, the fetch URL and the key (on observations and articles) and the
# site-wide tag counts (in their own tables).
VERSION_FIELDS = tuple(
    name for name in ARTICLE_FIELDS if name not in ("page_type", "url", "article_key", "tag_counts")
)
RUN_COUNTERS = (
    "articles_new",
    "articles_changed",
    "articles_unchanged",
    "articles_seen",
    "articles_returned",
    "listings",
    "errors",
)


@dataclass(frozen=True)
class KnownArticle:
    """What the crawler needs to decide whether and how to refetch an article."""

    article_key: str
    last_url: str
    last_fetched_at: dt.datetime | None  # of the last fetch (not a 304 or a skip)
    etag: str | None
    last_modified: str | None
    status: str


class _Ref:
    """A row id that exists once the row is flushed; rows refer to each other by it."""

    __slots__ = ("id",)

    def __init__(self, id: int | None = None) -> None:
        self.id = id


@dataclass
class _ArticleState:
    ref: _Ref
    status: str
    removed_run_id: int | None
    version: _Ref | None
    content_hash: str | None
    max_number: int
    last_url: str
    etag: str | None
    last_modified: str | None


@dataclass
class _Pending:
    """Rows of the current batch, in the order they must be written."""

    raw_pages: list[tuple[_Ref, dict[str, Any]]] = field(default_factory=list)
    tags: list[tuple[_Ref, dict[str, Any]]] = field(default_factory=list)
    tag_id_adoptions: list[tuple[_Ref, str]] = field(default_factory=list)
    sidebars: list[tuple[_Ref, dict[str, Any]]] = field(default_factory=list)
    sidebar_counts: list[dict[str, Any]] = field(default_factory=list)
    articles: list[tuple[_Ref, dict[str, Any]]] = field(default_factory=list)
    versions: list[tuple[_Ref, dict[str, Any]]] = field(default_factory=list)
    reviewers: list[dict[str, Any]] = field(default_factory=list)
    # Articles whose row changes (new version, URL, validators, status); an unchanged
    # page fetched again only adds an observation.
    touched: dict[str, _ArticleState] = field(default_factory=dict)
    observations: list[dict[str, Any]] = field(default_factory=list)
    listing_pages: list[dict[str, Any]] = field(default_factory=list)
    article_tags: list[dict[str, Any]] = field(default_factory=list)
    parse_errors: list[dict[str, Any]] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)
    saves: int = 0


def _resolve(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.id if isinstance(v, _Ref) else v) for k, v in row.items()}


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


class Archive:
    """The versioned archive in one database (docs/storage.md)."""

    def __init__(self, engine: Engine, *, batch_size: int = 200) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.engine = engine
        self.batch_size = batch_size
        self._compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        self._pending = _Pending()
        self._run_id: int | None = None
        self._parser_version = ""
        self._loaded = False
        self._articles: dict[str, _ArticleState] = {}
        self._raw_pages: dict[str, _Ref] = {}
        self._sidebars: dict[str, _Ref] = {}
        self._tags_by_id: dict[str, _Ref] = {}
        self._tags_by_label: dict[str, _Ref] = {}
        self._label_only: dict[str, _Ref] = {}
        self._run_article_tags: set[tuple[int, str]] = set()

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
        return self.engine.connect().execution_options(**{db.WRITE: True})

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
        content_hash = record["content_hash"]
        fetched_at = fetched_at or _now()
        raw_ref = self._raw_ref(raw)
        sidebar_ref = self._sidebar_ref(record.get("tag_counts") or [])
        pending = self._pending
        state = self._articles.get(key)
        if state is None:
            state = _ArticleState(
                ref=_Ref(),
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
            pending.articles.append(
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
            outcome = "unchanged" if state.content_hash == content_hash else "changed"
            self._reactivate(key, state)
        if outcome != "unchanged":
            self._add_version(run_id, state, record, self._parser_version)
            pending.touched[key] = state
        if (state.last_url, state.etag, state.last_modified) != (url, etag, last_modified):
            state.last_url, state.etag, state.last_modified = url, etag, last_modified
            pending.touched[key] = state
        pending.observations.append(
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
        pending.counters[f"articles_{outcome}"] += 1
        self._saved()
        return outcome

    def mark_seen(
        self, run_id: int, article_key: str, url: str, http_status: int | None = None
    ) -> None:
        """The article is still there but was not refetched (304, or old sitemap lastmod)."""
        self._ensure_state(run_id)
        state = self._articles.get(article_key)
        if state is None:
            logger.warning("mark_seen: unknown article %(key)s, ignored", {"key": article_key})
            return
        self._reactivate(article_key, state)
        pending = self._pending
        pending.observations.append(self._observation(run_id, state, "seen", url, http_status))
        pending.counters["articles_seen"] += 1
        self._saved()

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
        self._pending.observations.append(observation)
        self._saved()

    def save_listing(
        self,
        run_id: int,
        record: dict[str, Any],
        raw: bytes | None,
        url: str,
        fetched_at: dt.datetime | None = None,
    ) -> None:
        """A listing page: its sidebar counts; a facet page's links become article tags."""
        self._ensure_state(run_id)
        tag_counts = record.get("tag_counts") or []
        sidebar_ref = self._sidebar_ref(tag_counts)
        tag_ref: _Ref | None = None
        links = record.get("article_links") or []
        tag_id = record.get("listing_tag_id")
        if tag_id:
            shown = next((t for t in tag_counts if t.get("tag_id") == tag_id), None)
            tag_ref = self._tag_ref(
                tag_id, shown["label"] if shown else None, shown["group"] if shown else None
            )
            for link in links:
                key = key_of_url(link)
                if (id(tag_ref), key) in self._run_article_tags:
                    continue
                self._run_article_tags.add((id(tag_ref), key))
                self._pending.article_tags.append(
                    {"run_id": run_id, "tag_pk": tag_ref, "article_key": key}
                )
        self._pending.listing_pages.append(
            {
                "run_id": run_id,
                "url": url,
                "listing_kind": record.get("listing_kind"),
                "tag_pk": tag_ref,
                "fetched_at": fetched_at or _now(),
                "article_links": len(links),
                "raw_page_id": self._raw_ref(raw) if raw else None,
                "sidebar_id": sidebar_ref,
            }
        )
        self._pending.counters["listings"] += 1
        self._saved()

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
        self._pending.parse_errors.append(
            {
                "run_id": run_id,
                "url": url,
                "reason": reason,
                "http_status": http_status,
                "raw_page_id": self._raw_ref(raw) if raw else None,
                "observed_at": _now(),
            }
        )
        self._pending.counters["errors"] += 1
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
        return {row.article_key: KnownArticle(**row._asdict()) for row in rows}

    # -- reparse ----------------------------------------------------------------------

    def reparse(
        self,
        parse: Callable[[bytes, str], dict[str, Any]],
        parser_version: str,
        *,
        page_errors: tuple[type[Exception], ...] = (ValueError,),
        site_root: str = "",
    ) -> dict[str, int]:
        """Re-extract every stored article page with `parse`, in a run of mode `reparse`.

        A version is added (with `parser_version`) only where the new record's content
        differs from every version the article already has; the new version is linked
        to the raw page by a `reparsed` observation carrying the original fetch time.
        What the article's latest page now reads as becomes its current version.
        """
        run_id = self.start_run("reparse", site_root=site_root, parser_version=parser_version)
        summary = Counter(pages=0, versions_added=0, unchanged=0, errors=0)
        try:
            for page, raw in self._fetched_pages():
                summary["pages"] += 1
                try:
                    record = parse(raw, page["url"])
                except page_errors as error:
                    reason = getattr(error, "reason", None) or str(error)
                    self.save_parse_error(run_id, page["url"], reason, raw, page["http_status"])
                    summary["errors"] += 1
                    continue
                if record.get("page_type") != "article":
                    reason = f"reparsed as a {record.get('page_type')} page"
                    self.save_parse_error(run_id, page["url"], reason, raw, page["http_status"])
                    summary["errors"] += 1
                    continue
                if record["content_hash"] in page["hashes"]:
                    if page["is_latest"]:
                        self._make_current(page["article_key"], record["content_hash"])
                    summary["unchanged"] += 1
                    continue
                page["hashes"].add(record["content_hash"])
                self._add_reparsed(run_id, page, record, raw)
                summary["versions_added"] += 1
        except BaseException:
            self.finish_run(run_id, "failed", pages_fetched=summary["pages"])
            raise
        self.finish_run(run_id, "completed", pages_fetched=0)
        return {"run": run_id, **summary}

    def _fetched_pages(self) -> Iterator[tuple[dict[str, Any], bytes]]:
        """Each distinct (article, raw page) fetched, oldest first, with its bytes."""
        with self.engine.connect() as conn:
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
        decompressor = zstandard.ZstdDecompressor()
        # Raw bytes are read in chunks: the whole history does not fit in memory.
        for start in range(0, len(pages), 100):
            chunk = pages[start : start + 100]
            ids = {page["raw_page_id"] for page in chunk}
            with self.engine.connect() as conn:
                data = {
                    row.id: row.data
                    for row in conn.execute(
                        select(RawPage.id, RawPage.data).where(RawPage.id.in_(ids))
                    )
                }
            for page in chunk:
                yield page, decompressor.decompress(data[page["raw_page_id"]])

    def _make_current(self, key: str, content_hash: str) -> None:
        """The article's latest page now reads as one of its known versions: point at it."""
        state = self._articles[key]
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
        state.version, state.content_hash = _Ref(version_id), content_hash
        self._pending.touched[key] = state

    def _add_reparsed(
        self, run_id: int, page: dict[str, Any], record: dict[str, Any], raw: bytes
    ) -> None:
        state = self._articles[page["article_key"]]
        previous_version, previous_hash = state.version, state.content_hash
        self._add_version(run_id, state, record, self._parser_version)
        new_version = state.version
        if not page["is_latest"]:
            # An older page's new reading joins the history without becoming current.
            state.version, state.content_hash = previous_version, previous_hash
        self._pending.touched[page["article_key"]] = state
        self._pending.observations.append(
            {
                "run_id": run_id,
                "article_id": state.ref,
                "kind": "reparsed",
                "version_id": new_version,
                "url": page["url"],
                "http_status": page["http_status"],
                "observed_at": page["observed_at"],
                "etag": None,
                "last_modified": None,
                "raw_page_id": self._raw_ref(raw),
                "sidebar_id": None,
            }
        )
        self._pending.counters["articles_changed"] += 1
        self._saved()

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
            self._articles = {
                row.article_key: _ArticleState(
                    ref=_Ref(row.id),
                    status=row.status,
                    removed_run_id=row.removed_run_id,
                    version=_Ref(row.current_version_id),
                    content_hash=row.content_hash,
                    max_number=row.max_number or 0,
                    last_url=row.last_url,
                    etag=row.etag,
                    last_modified=row.last_modified,
                )
                for row in conn.execute(self._article_state_query())
            }
            self._raw_pages = {
                sha: _Ref(id) for id, sha in conn.execute(select(RawPage.id, RawPage.sha256))
            }
            self._sidebars = {
                sha: _Ref(id) for id, sha in conn.execute(select(Sidebar.id, Sidebar.sha256))
            }
            tags = conn.execute(select(Tag.id, Tag.tag_id, Tag.label)).all()
            history = conn.execute(select(TagLabel.tag_pk, TagLabel.label)).all()
        refs = {row.id: _Ref(row.id) for row in tags}
        self._tags_by_id = {row.tag_id: refs[row.id] for row in tags if row.tag_id}
        self._label_only = {row.label: refs[row.id] for row in tags if not row.tag_id}
        # A label seen on a tag with an id resolves to that tag (the seed gave labels only).
        self._tags_by_label = dict(self._label_only)
        with_id = {row.id for row in tags if row.tag_id}
        for tag_pk, label in history:
            if tag_pk in with_id:
                self._tags_by_label[label] = refs[tag_pk]
        for row in tags:
            if row.tag_id and row.label:
                self._tags_by_label.setdefault(row.label, refs[row.id])
        self._loaded = True

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

    def _reactivate(self, key: str, state: _ArticleState) -> None:
        if state.status == "removed":
            state.status = "active"
            state.removed_run_id = None
            self._pending.touched[key] = state
            self._pending.counters["articles_returned"] += 1

    def _add_version(
        self, run_id: int, state: _ArticleState, record: dict[str, Any], parser_version: str
    ) -> None:
        ref = _Ref()
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
        self._pending.versions.append((ref, row))
        self._pending.reviewers.extend(
            {"version_id": ref, "position": position, "name": r["name"], "url": r.get("url")}
            for position, r in enumerate(row["reviewers"])
        )
        state.version = ref
        state.content_hash = record["content_hash"]

    def _observation(
        self, run_id: int, state: _ArticleState, kind: str, url: str, http_status: int | None
    ) -> dict[str, Any]:
        return {
            "run_id": run_id,
            "article_id": state.ref,
            "kind": kind,
            "version_id": state.version,
            "url": url,
            "http_status": http_status,
            "observed_at": _now(),
            "etag": None,
            "last_modified": None,
            "raw_page_id": None,
            "sidebar_id": None,
        }

    def _raw_ref(self, raw: bytes) -> _Ref:
        sha = hashlib.sha256(raw).hexdigest()
        ref = self._raw_pages.get(sha)
        if ref is None:
            ref = self._raw_pages[sha] = _Ref()
            self._pending.raw_pages.append(
                (
                    ref,
                    {
                        "sha256": sha,
                        "size": len(raw),
                        "compression": "zstd",
                        "data": self._compressor.compress(raw),
                    },
                )
            )
        return ref

    def _sidebar_ref(self, tag_counts: list[dict[str, Any]]) -> _Ref | None:
        if not tag_counts:
            return None
        sha = hashlib.sha256(_canonical_json(tag_counts)).hexdigest()
        ref = self._sidebars.get(sha)
        if ref is None:
            ref = self._sidebars[sha] = _Ref()
            self._pending.sidebars.append((ref, {"sha256": sha}))
            self._pending.sidebar_counts.extend(
                {
                    "sidebar_id": ref,
                    "position": position,
                    "tag_pk": self._tag_ref(t.get("tag_id"), t["label"], t.get("group")),
                    "label": t["label"],
                    "group": t.get("group"),
                    "count": t["count"],
                }
                for position, t in enumerate(tag_counts)
            )
        return ref

    def _tag_ref(self, tag_id: str | None, label: str | None, group: str | None) -> _Ref:
        if tag_id:
            ref = self._tags_by_id.get(tag_id)
            if ref is None:
                ref = self._label_only.pop(label, None) if label else None
                if ref is not None:
                    # A tag known by its label only now shows its id: same tag.
                    self._pending.tag_id_adoptions.append((ref, tag_id))
                else:
                    ref = self._new_tag(tag_id, label, group)
                self._tags_by_id[tag_id] = ref
            if label:
                self._tags_by_label[label] = ref
            return ref
        assert label, "a tag needs an id or a label"
        ref = self._tags_by_label.get(label)
        if ref is None:
            ref = self._label_only[label] = self._tags_by_label[label] = self._new_tag(
                None, label, group
            )
        return ref

    def _new_tag(self, tag_id: str | None, label: str | None, group: str | None) -> _Ref:
        ref = _Ref()
        self._pending.tags.append((ref, {"tag_id": tag_id, "label": label, "group": group}))
        return ref

    # -- writing ----------------------------------------------------------------------

    def _saved(self) -> None:
        self._pending.saves += 1
        if self._pending.saves >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write the pending batch in one transaction."""
        pending = self._pending
        if not (pending.saves or pending.tags or pending.touched):
            return
        self._pending = _Pending()
        try:
            with self._write() as conn, conn.begin():
                self._write_batch(conn, pending)
        except BaseException:
            # The batch is lost as a whole; forget the ids and hashes it assumed.
            self._loaded = False
            raise

    def _write_batch(self, conn: Connection, p: _Pending) -> None:
        run_id = self._run_id
        _insert_returning(conn, RawPage.__table__, p.raw_pages)
        _insert_returning(conn, Tag.__table__, p.tags)
        if p.tag_id_adoptions:
            conn.execute(
                update(Tag).where(Tag.id == bindparam("pk")).values(tag_id=bindparam("new_id")),
                [{"pk": ref.id, "new_id": tag_id} for ref, tag_id in p.tag_id_adoptions],
            )
        _insert_returning(conn, Sidebar.__table__, p.sidebars)
        _insert_many(conn, SidebarCount.__table__, p.sidebar_counts)
        _insert_returning(conn, Article.__table__, p.articles)
        _insert_returning(conn, Version.__table__, p.versions)
        _insert_many(conn, VersionReviewer.__table__, p.reviewers)
        if p.touched:
            articles = Article.__table__
            conn.execute(
                update(articles)
                .where(articles.c.id == bindparam("pk"))
                .values(
                    status=bindparam("status"),
                    removed_run_id=bindparam("removed"),
                    current_version_id=bindparam("version"),
                    last_url=bindparam("url"),
                    etag=bindparam("etag_"),
                    last_modified=bindparam("modified"),
                ),
                [
                    {
                        "pk": s.ref.id,
                        "status": s.status,
                        "removed": s.removed_run_id,
                        "version": s.version.id if s.version else None,
                        "url": s.last_url,
                        "etag_": s.etag,
                        "modified": s.last_modified,
                    }
                    for s in p.touched.values()
                ],
            )
        _insert_many(conn, Observation.__table__, p.observations)
        _insert_many(conn, ListingPage.__table__, p.listing_pages)
        _insert_many(conn, ArticleTag.__table__, p.article_tags)
        _insert_many(conn, ParseError.__table__, p.parse_errors)
        if p.counters and run_id is not None:
            runs = Run.__table__
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values({name: runs.c[name] + n for name, n in p.counters.items()})
            )

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


def _insert_many(conn: Connection, table: Table | Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(table), [_resolve(row) for row in rows])


def _insert_returning(
    conn: Connection, table: Table | Any, rows: list[tuple[_Ref, dict[str, Any]]]
) -> None:
    """executemany INSERT whose generated ids land in the rows' refs, in order."""
    if not rows:
        return
    result = conn.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True),
        [_resolve(row) for _, row in rows],
    )
    for (ref, _), new_id in zip(rows, result.scalars(), strict=True):
        ref.id = new_id
