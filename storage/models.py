"""The archive's tables as typed SQLAlchemy 2.0 declarative models.

Every schema change here needs a migration in `storage/migrations/versions/`.
See docs/storage.md for what each table means and example queries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.record import non_content_fields
from storage.columns import JsonType, UTCDateTime
from storage.vocabulary import VERSION_FIELDS as VERSION_FIELDS  # re-exported: the read side

# Stable constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# PostgreSQL's fill factor of the tables whose ranges grow (`last_run_id`): every run
# rewrites each live range once, and half a page free lets the new row version stay in
# its page (a HOT update: no new index entry, and the page is pruned without VACUUM).
RANGE_TABLE_FILLFACTOR = 50
# Less for article_tags, whose short rows all grow in the same run: at half a page, the
# new versions of a full page's rows plus their line pointers did not quite fit, and
# the first unchanged run wrote 2% of its updates out of place (16 KB of primary key
# for 500 articles; migration 0009).
ARTICLE_TAGS_FILLFACTOR = 40


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Run(Base):
    """One crawl, ingest or reparse run, with its counters."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    site_root: Mapped[str] = mapped_column(String(500))
    mode: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    parser_version: Mapped[str] = mapped_column(String(50))
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    articles_new: Mapped[int] = mapped_column(Integer, default=0)
    articles_changed: Mapped[int] = mapped_column(Integer, default=0)
    articles_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    articles_seen: Mapped[int] = mapped_column(Integer, default=0)
    articles_removed: Mapped[int] = mapped_column(Integer, default=0)
    articles_returned: Mapped[int] = mapped_column(Integer, default=0)
    listings: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)


# The run's counters its saves add to (pages_fetched and articles_removed are set
# when the run finishes).
RUN_COUNTERS = (
    "articles_new",
    "articles_changed",
    "articles_unchanged",
    "articles_seen",
    "articles_returned",
    "listings",
    "errors",
)


class RunWorker(Base):
    """One process that took part in a distributed run, and what it did there.

    A run of one process has no rows here. In a distributed run (docs/scale-out.md)
    every process that took requests from the shared frontier has one: the process
    that started the run (`coordinator`) and each `worker` that joined it. Its
    counters are the share of the run's counters its saves added, in the same
    transaction, so they add up to the run's.
    """

    __tablename__ = "run_workers"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    # host:pid:random, unique per process: a restarted worker is another row.
    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))  # coordinator | worker
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # working | done | interrupted | lost (killed: its lease ran out)
    status: Mapped[str] = mapped_column(String(20))
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    fetch_errors: Mapped[int] = mapped_column(Integer, default=0)
    articles_new: Mapped[int] = mapped_column(Integer, default=0)
    articles_changed: Mapped[int] = mapped_column(Integer, default=0)
    articles_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    articles_seen: Mapped[int] = mapped_column(Integer, default=0)
    articles_returned: Mapped[int] = mapped_column(Integer, default=0)
    listings: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)


class RawPage(Base):
    """A fetched page's bytes, compressed, stored once per sha256 of the bytes."""

    __tablename__ = "raw_pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    compression: Mapped[str] = mapped_column(String(10))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Article(Base):
    """One row per article_key; the pointer to its current version.

    When it was last seen is not stored here but read from `observations` (view
    `article_runs`): an unchanged re-run then writes observations only.
    """

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_key: Mapped[str] = mapped_column(String(500), unique=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    first_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    removed_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    # use_alter: articles and versions point at each other. Indexed: a search keeps
    # the versions that are current.
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", use_alter=True), index=True
    )
    last_url: Mapped[str] = mapped_column(String(1000))
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))


class Version(Base):
    """One distinct content of an article: every field of the parse record.

    The runs it was seen in come from `observations` (view `version_runs`).
    """

    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("article_id", "number"),
        Index("ix_versions_article_id_content_hash", "article_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    parser_version: Mapped[str] = mapped_column(String(50))
    first_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    canonical_url: Mapped[str] = mapped_column(String(1000))
    title: Mapped[str] = mapped_column(Text)
    seo_title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(JsonType)
    read_minutes: Mapped[int | None] = mapped_column(Integer)
    published: Mapped[dt.date | None] = mapped_column(Date)
    reviewed: Mapped[dt.date | None] = mapped_column(Date, index=True)
    reviewers: Mapped[list[dict[str, str | None]]] = mapped_column(JsonType)
    filed_month: Mapped[str | None] = mapped_column(String(7))
    key_takeaways: Mapped[list[str]] = mapped_column(JsonType)
    headings: Mapped[list[str]] = mapped_column(JsonType)
    body_text: Mapped[str] = mapped_column(Text)
    word_count: Mapped[int] = mapped_column(Integer)


class VersionReviewer(Base):
    """The reviewers of a version as rows, so SQL can ask "what did X review"."""

    __tablename__ = "version_reviewers"

    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(500), index=True)
    url: Mapped[str | None] = mapped_column(String(1000))


class Sidebar(Base):
    """A distinct set of sidebar tag counts, shared by every page that showed it."""

    __tablename__ = "sidebars"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)


class Tag(Base):
    """A tag: identity is `tag_id`; label-only tags (no link on the page) have none."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tag_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    label: Mapped[str | None] = mapped_column(String(500))
    group: Mapped[str | None] = mapped_column(String(200))


class TagLabel(Base):
    """Every label a tag was shown with, and when (a renamed tag keeps its row)."""

    __tablename__ = "tag_labels"
    __table_args__ = (UniqueConstraint("tag_pk", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tag_pk: Mapped[int] = mapped_column(ForeignKey("tags.id"))
    label: Mapped[str] = mapped_column(String(500), index=True)
    first_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    last_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))


class SidebarCount(Base):
    """One facet of a sidebar, as displayed: label, group and count."""

    __tablename__ = "sidebar_counts"

    sidebar_id: Mapped[int] = mapped_column(ForeignKey("sidebars.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    tag_pk: Mapped[int] = mapped_column(ForeignKey("tags.id"), index=True)
    label: Mapped[str] = mapped_column(String(500))
    group: Mapped[str | None] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(Integer)


class Observation(Base):
    """One fetch (or sighting) of an article, in runs `run_id` through `last_run_id`.

    A fetch, a reparse and evidence of removal belong to one run (`last_run_id ==
    run_id`). Sightings (304, skipped) of the same version at the same URL in
    consecutive runs (no run in between) are one row whose range grows: an unchanged
    run updates `last_run_id` instead of adding a row (`storage.rules.continues`).
    URL changes live here.
    """

    __tablename__ = "observations"
    # No index holds `last_run_id`, and PostgreSQL leaves room in each page: a range that
    # grows is then updated in place (HOT), as SQLite updates it, instead of leaving a
    # dead row and new index entries behind every run (`RANGE_TABLE_FILLFACTOR`).
    __table_args__ = (
        Index("ix_observations_run_id_kind", "run_id", "kind"),
        # A version's rows (its last run: views, `history`, `diff`).
        Index("ix_observations_version_id_run_id", "version_id", "run_id"),
        # Each article's last fetch (`Archive.known_articles`, read by every crawl): the
        # fetches alone, not every sighting of every run, which grow by thousands a run.
        Index("ix_observations_kind_article_id_observed_at", "kind", "article_id", "observed_at"),
        # An article's rows by kind, latest first, in the probes' order (run_id, id): its
        # last fetch and last range of sightings in one probe each (`storage.ranges`).
        Index("ix_observations_article_id_kind_run_id_id", "article_id", "kind", "run_id", "id"),
        {"postgresql_with": {"fillfactor": RANGE_TABLE_FILLFACTOR}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))  # the first run
    # Not a foreign key: SQLite cannot add one to a table that exists (migration 0007).
    last_run_id: Mapped[int] = mapped_column(Integer)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    # fetched | seen (304 or skipped) | gone (404/410 evidence) | reparsed
    kind: Mapped[str] = mapped_column(String(10))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))
    url: Mapped[str] = mapped_column(String(1000))
    http_status: Mapped[int | None] = mapped_column(Integer)
    observed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    raw_page_id: Mapped[int | None] = mapped_column(ForeignKey("raw_pages.id"))
    sidebar_id: Mapped[int | None] = mapped_column(ForeignKey("sidebars.id"))


class ListingLinks(Base):
    """A distinct list of the links a crawl follows from a listing page (the record's
    `LISTING_LINKS`), stored once per sha256 of its canonical JSON
    (`storage.identity.links_sha256`), as a sidebar is: a page whose bytes changed but
    not its links (a count, a retitled card) points at the list it had."""

    __tablename__ = "listing_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    links: Mapped[dict[str, Any]] = mapped_column(JsonType)


class ListingPage(Base):
    """A listing page (landing, directory, facet, author, archive) as runs `run_id`
    through `last_run_id` read it.

    A page that answers 304 with the validators it had, in the run after the last one
    that read it, adds no row: its row's range grows (`last_run_id`).
    """

    __tablename__ = "listing_pages"
    __table_args__ = (
        # A page's rows by run: the one that may cover a run (`tagcounts.finalize_run`).
        Index("ix_listing_pages_url_run_id", "url", "run_id"),
        {"postgresql_with": {"fillfactor": RANGE_TABLE_FILLFACTOR}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)  # the first run
    last_run_id: Mapped[int] = mapped_column(Integer)  # not indexed: see `Observation`
    url: Mapped[str] = mapped_column(String(1000))
    listing_kind: Mapped[str | None] = mapped_column(String(20))
    tag_pk: Mapped[int | None] = mapped_column(ForeignKey("tags.id"))
    fetched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    article_links: Mapped[int] = mapped_column(Integer)
    raw_page_id: Mapped[int | None] = mapped_column(ForeignKey("raw_pages.id"))
    sidebar_id: Mapped[int | None] = mapped_column(ForeignKey("sidebars.id"))
    # The response's validators and the links a crawl follows from the page
    # (`listing_links`; null on rows of before migration 0005): an incremental crawl
    # asks again with the validators and, on a 304, follows these links and records
    # the page as it was.
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    links_id: Mapped[int | None] = mapped_column(ForeignKey("listing_links.id"))


class ListingHead(Base):
    """The latest row of each listing page: what a crawl asks for again, read at its
    start without going through every content the page ever had."""

    __tablename__ = "listing_heads"

    url: Mapped[str] = mapped_column(String(1000), primary_key=True)
    listing_page_id: Mapped[int] = mapped_column(ForeignKey("listing_pages.id"))


class ArticleTag(Base):
    """Facet pages of runs `run_id` through `last_run_id` (consecutive runs) listed this
    article under this tag.

    `article_key` is not a foreign key: a facet page may list an article before (or
    without) the article itself being fetched in that run.
    """

    __tablename__ = "article_tags"
    __table_args__ = ({"postgresql_with": {"fillfactor": ARTICLE_TAGS_FILLFACTOR}},)

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), primary_key=True)  # the first
    tag_pk: Mapped[int] = mapped_column(ForeignKey("tags.id"), primary_key=True)
    article_key: Mapped[str] = mapped_column(String(500), primary_key=True, index=True)
    last_run_id: Mapped[int] = mapped_column(Integer)  # not indexed: see `Observation`


class RunTagCount(Base):
    """The consolidated count of a tag in a run (rule in docs/storage.md)."""

    __tablename__ = "run_tag_counts"
    # One tag's series (`tag_count_series`) reads its rows only, in run order.
    __table_args__ = (Index("ix_run_tag_counts_tag_pk_run_id", "tag_pk", "run_id"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    tag_pk: Mapped[int] = mapped_column(ForeignKey("tags.id"), primary_key=True)
    label: Mapped[str | None] = mapped_column(String(500))
    group: Mapped[str | None] = mapped_column(String(200))
    # Null when no page of the run showed the tag in its sidebar.
    count: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    pages_agreeing: Mapped[int] = mapped_column(Integer)
    distinct_counts: Mapped[int] = mapped_column(Integer)
    # Articles the tag's facet pages listed in the run; null when none was fetched.
    listed: Mapped[int | None] = mapped_column(Integer)


class ParseError(Base):
    """A fetched page that did not parse into a record."""

    __tablename__ = "parse_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    url: Mapped[str] = mapped_column(String(1000))
    reason: Mapped[str] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(Integer)
    raw_page_id: Mapped[int | None] = mapped_column(ForeignKey("raw_pages.id"))
    observed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RunFieldHealth(Base):
    """How well a run read one field of the article pages it parsed (`storage.health`).

    Written once, when the run is closed. `pages` article pages were parsed (a page of a
    known article that failed to parse or read as a listing counts, with no field),
    `present` of them had the field; `compared` of them are articles that had a current
    version before the run, `had_before` of those had the field there, `has_after` have
    it now, `lost` had it and no longer have it. `degraded`: the loss is a degradation (rule in
    docs/crawl.md); `held` versions that only lost degraded fields were held back.
    """

    __tablename__ = "run_field_health"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    field: Mapped[str] = mapped_column(String(30), primary_key=True)
    pages: Mapped[int] = mapped_column(Integer)
    present: Mapped[int] = mapped_column(Integer)
    compared: Mapped[int] = mapped_column(Integer)
    had_before: Mapped[int] = mapped_column(Integer)
    has_after: Mapped[int] = mapped_column(Integer)
    lost: Mapped[int] = mapped_column(Integer)
    degraded: Mapped[bool] = mapped_column(Boolean)
    held: Mapped[int] = mapped_column(Integer)


class HeldVersion(Base):
    """A version a degraded run read but did not keep: it only lost degraded fields.

    The run's observation points at the version the article kept (`kept_version_id`);
    `record` holds the version's columns as read (dates as ISO text), so `cwarchive runs
    accept` can store it: then `version_id` is the version stored and `accepted_at` set.
    Accepted after a later run had observed the article, it is not stored
    (`accepted_at` set, `version_id` null): the later reading stands.
    """

    __tablename__ = "held_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id"))
    # Indexed, as `version_id`: deleting a version looks up the rows that point at it.
    kept_version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    fields: Mapped[list[str]] = mapped_column(JsonType)  # the degraded fields it lost
    content_hash: Mapped[str] = mapped_column(String(64))
    parser_version: Mapped[str] = mapped_column(String(50))
    record: Mapped[dict[str, Any]] = mapped_column(JsonType)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"), index=True)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


def version_record(row: Any, article_key: str, hash_rule: str | None = None) -> dict[str, Any]:
    """The parse record a version was stored from (`Archive._add_version`, reversed).

    Dates go back to ISO text, and `page_type` and `article_key` (content fields kept
    on the article, not the version) come back; what is not content under `hash_rule`
    (a parser version; None: the current rule) is left out. `content_hash(record,
    hash_rule)` of the result is then the version's hash by that rule.
    """
    record: dict[str, Any] = {"page_type": "article", "article_key": article_key}
    excluded = non_content_fields(hash_rule)
    for name in VERSION_FIELDS:
        if name in excluded:
            continue
        value = getattr(row, name)
        if name in ("published", "reviewed") and value is not None:
            value = value.isoformat()
        record[name] = value
    return record
