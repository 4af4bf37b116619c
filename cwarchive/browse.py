"""`cwarchive browse`: the SQLite archive in Datasette, immutable, described.

What Datasette shows beside the data is written here once, as data: a title and a
description for every table and view and for each of their columns (the same words
as docs/storage.md and docs/research.md; `tests/test_browse.py` checks them against
the archive's schema and both documents), and the canned queries that answer the
usual questions with a form.

The file is opened in Datasette's immutable mode (`immutable=1`): SQLite reads it
without locks and never writes, and Datasette offers no write of any kind on it.
Immutable mode also ignores a write-ahead log, so an archive with a non-empty `-wal`
file (a writer at work, or one that was killed) is refused rather than shown as it
was before that writer's last commits. Every request other than a read is answered
405 before Datasette sees it.

Datasette is an optional extra (`pip install 'cwarchive[browse]'`): it is imported
only inside the function that starts it, so every other command works without it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import click
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from cwarchive.errors import CliError
from storage import db, search
from storage.db import ArchiveError

INSTALL = "pip install 'cwarchive[browse]'"


# -- what Datasette shows: titles, descriptions, columns -----------------------------------


@dataclass(frozen=True)
class Described:
    """A table or view as Datasette presents it."""

    title: str
    description: str
    columns: Mapping[str, str]
    sort: str | None = None  # the column a page is sorted by when none is chosen
    hidden: bool = False  # left off the database page (still reachable by its URL)
    # Datasette's search box: the FTS table, and the column holding its rowid.
    fts_pk: str | None = None

    def metadata(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "title": self.title,
            "description": self.description,
            "columns": dict(self.columns),
        }
        if self.sort:
            data["sort"] = self.sort
        if self.hidden:
            data["hidden"] = True
        if self.fts_pk:
            data["fts_table"] = search.TABLE
            data["fts_pk"] = self.fts_pk
        return data


_RUN = "the run (`runs.id`; run ids grow with time)"
_FROM_TO = {
    "from_run": "the last run the old version was seen in",
    "to_run": "the run the new version first appeared in: the change happened between "
    "`from_run` and `to_run`",
    "from_version": "the older version (`article_versions.version`)",
    "to_version": "the newer version (`article_versions.version`)",
}

# The research views (migration 0002; docs/research.md), first: what a question reads.
VIEWS: dict[str, Described] = {
    "current_articles": Described(
        "Current articles",
        "One row per article the archive has ever held, removed ones included: its current "
        "title, dates, reviewers, authors, how many versions, when it was first and last seen.",
        {
            "article_key": "the article's identity, `cancerwise/<slug>` (stable across its URLs)",
            "status": "`active`, or `removed` (its last URL answered 404/410 in a completed run)",
            "url": "the URL it was last fetched or seen at",
            "title": "the current version's title",
            "published": "the current version's publication date (ISO text; null when the "
            "page shows none)",
            "reviewed": "the current version's review date (ISO text; null when the page "
            "shows none)",
            "reviewers": "the current version's reviewers' names (JSON list)",
            "authors": "the current version's authors (JSON list)",
            "read_minutes": "the current version's reading time",
            "word_count": "the current version's body length in words",
            "versions": "how many distinct versions the archive holds",
            "first_run": "the run that first saved it",
            "last_run": "the last run that fetched or saw it (a 304 or a skipped fresh page "
            "counts)",
            "removed_run": "the run that removed it; null while active",
        },
        sort="article_key",
    ),
    "article_versions": Described(
        "Article versions",
        "One row per version: what an article said, and when the crawler saw it say so. "
        "In `version` order the rows are the article's history as fetched.",
        {
            "article_key": "the article",
            "version": "1, 2, ... in the order the contents were first seen",
            "title": "that version's title",
            "published": "that version's publication date (ISO text)",
            "reviewed": "that version's review date (ISO text)",
            "reviewers": "that version's reviewers' names (JSON list)",
            "content_hash": "the hash of the content; equal hashes mean equal content",
            "first_run": "the run it first appeared in",
            "last_run": "the last run it was fetched, seen or reparsed in",
            "parser_version": "the parser that produced it (a reparse adds versions with a "
            "newer one)",
        },
        sort="article_key",
    ),
    "reviewed_changes": Described(
        "Review date changes",
        "One row per change of the review date between two consecutive versions of an "
        "article (a date that appears or disappears is a change too), with the reviewers "
        "before and after: the changes of `cwarchive diff --field reviewed`.",
        {
            "article_key": "the article",
            "title": "its title in the newer version",
            "old_reviewed": "the review date before (ISO text or null)",
            "new_reviewed": "the review date after (ISO text or null)",
            "old_reviewers": "the reviewers' names before (JSON list)",
            "new_reviewers": "the reviewers' names after (JSON list)",
            **_FROM_TO,
            "days_between": "`new_reviewed` minus `old_reviewed` in days (negative when the "
            "date went back); null when either is null",
        },
        sort="to_run",
    ),
    "field_changes": Described(
        "Field changes",
        "One row per change of one content field between consecutive versions of an "
        "article: exactly the rows `cwarchive diff --field F` prints. Filter on `field` "
        "first: each field is computed on its own.",
        {
            "article_key": "the article",
            "field": "the content field that changed (`title`, `reviewed`, `body_text`, ...)",
            "old": "the value before, as text: dates ISO, numbers as digits, lists compact "
            "JSON; null when absent",
            "new": "the value after, as `old`",
            **_FROM_TO,
        },
        sort="to_run",
    ),
    "tag_count_series": Described(
        "Tag counts by run",
        "One row per run and tag: the consolidated count of the run (the count shown on "
        "the most pages; a tie goes to the latest-fetched page), with the run's start time "
        "for plotting.",
        {
            "run": _RUN,
            "run_started": "when the run started (ISO text, UTC)",
            "tag_id": "the tag's identity (`md-anderson:diseases/breast-cancer`); null for a "
            "tag only ever shown without a link",
            "label": "the label as shown in that run (a renamed tag keeps its `tag_id`)",
            "group": "the group as shown in that run",
            "count": "the count the run's pages showed (null when no page of the run showed "
            "the tag)",
        },
        sort="run",
    ),
}

_COUNTERS = {
    "pages_fetched": "pages fetched",
    "articles_new": "articles saved for the first time",
    "articles_changed": "articles saved with a new version",
    "articles_unchanged": "articles fetched with unchanged content",
    "articles_seen": "articles answered 304 or skipped because their sitemap date was old",
    "articles_removed": "articles removed by this run",
    "articles_returned": "removed articles that came back",
    "listings": "listing pages stored",
    "errors": "pages that were not a record (`parse_errors`)",
}

# The archive's tables and the helper views of migration 0001 (docs/storage.md).
TABLES: dict[str, Described] = {
    "runs": Described(
        "Runs",
        "One row per crawl, `ingest` or `reparse` run, with its status and counters.",
        {
            "id": _RUN,
            "started_at": "when the run started (UTC)",
            "finished_at": "when it finished (UTC); null while running or when killed",
            "site_root": "the site the run crawled",
            "mode": "`full`, `incremental`, `ingest` or `reparse`",
            "status": "`running`, `completed`, `interrupted` or `failed`",
            "parser_version": "the parser the run used",
            **_COUNTERS,
        },
    ),
    "articles": Described(
        "Articles",
        "One row per `article_key`: its status, its current version and what a crawler "
        "needs for conditional requests. The search box finds the articles whose current "
        "version's title or body has every word searched for.",
        {
            "id": "the article's row id",
            "article_key": "the article's identity, `cancerwise/<slug>`",
            "status": "`active` or `removed`",
            "first_run_id": "the run that first saved it",
            "removed_run_id": "the run that removed it; null while active",
            "current_version_id": "its current version (`versions.id`)",
            "last_url": "the URL it was last fetched or seen at",
            "etag": "the ETag of its last fetch",
            "last_modified": "the Last-Modified of its last fetch",
        },
        sort="article_key",
        # The index's rowid is the version id: matching it against the current version
        # is "current versions only", the rule of storage.search.
        fts_pk="current_version_id",
    ),
    "versions": Described(
        "Versions",
        "One row per distinct content of an article, with every field of the record "
        "(lists as JSON, dates as ISO text). The search box searches every version, "
        "old ones included.",
        {
            "id": "the version's row id",
            "article_id": "the article (`articles.id`)",
            "number": "1, 2, ... per article, in the order the contents were first seen",
            "content_hash": "the hash of the content (not the URL or the tag counts)",
            "parser_version": "the parser that produced it",
            "first_run_id": "the run it first appeared in",
            "canonical_url": "the page's canonical URL",
            "title": "the article's title",
            "seo_title": "the title of the page's head",
            "description": "the page's meta description",
            "authors": "the authors (JSON list)",
            "read_minutes": "the reading time shown",
            "published": "the publication date",
            "reviewed": "the review date",
            "reviewers": "the reviewers with their profile links (JSON list of {name, url})",
            "filed_month": "the month the article is filed under (`YYYY-MM`)",
            "key_takeaways": "the key takeaways (JSON list)",
            "headings": "the body's headings (JSON list)",
            "body_text": "the body text",
            "word_count": "the body length in words",
        },
        fts_pk="id",
    ),
    "version_reviewers": Described(
        "Version reviewers",
        'One row per reviewer of a version: "what did X review" in plain SQL.',
        {
            "version_id": "the version (`versions.id`)",
            "position": "the reviewer's place in the page's list",
            "name": "the reviewer's name as shown",
            "url": "the reviewer's profile link",
        },
    ),
    "observations": Described(
        "Observations",
        "One row per fetch or sighting of an article: when a version was fetched, seen "
        "(304 or skipped), found gone or reparsed.",
        {
            "id": "the observation's row id",
            "run_id": "the run",
            "article_id": "the article (`articles.id`)",
            "kind": "`fetched`, `seen`, `gone` or `reparsed`",
            "version_id": "the version fetched or seen; null for `gone`",
            "url": "the URL as fetched",
            "http_status": "the HTTP status of the answer",
            "observed_at": "when (UTC)",
            "etag": "the answer's ETag",
            "last_modified": "the answer's Last-Modified",
            "raw_page_id": "the page's bytes (`raw_pages.id`)",
            "sidebar_id": "the page's sidebar tag counts (`sidebars.id`)",
        },
    ),
    "raw_pages": Described(
        "Raw pages",
        "One row per distinct page bytes, compressed with zstd "
        "(`zstandard.ZstdDecompressor().decompress(data)` gives them back).",
        {
            "id": "the raw page's row id",
            "sha256": "the sha256 of the uncompressed bytes",
            "size": "the uncompressed size in bytes",
            "compression": "`zstd`",
            "data": "the compressed bytes",
        },
    ),
    "listing_pages": Described(
        "Listing pages",
        "One row per fetch of a listing page (a section or a tag's facet page).",
        {
            "id": "the row id",
            "run_id": "the run",
            "url": "the page's URL",
            "listing_kind": "the kind of listing",
            "tag_pk": "the tag of a facet page (`tags.id`)",
            "fetched_at": "when (UTC)",
            "article_links": "how many articles the page listed",
            "raw_page_id": "the page's bytes (`raw_pages.id`)",
            "sidebar_id": "the page's sidebar tag counts (`sidebars.id`)",
            "etag": "the response's ETag, sent back by the next incremental crawl",
            "last_modified": "the response's Last-Modified, sent back likewise",
            "links": "the links a crawl follows from the page (JSON), also after a 304",
        },
    ),
    "parse_errors": Described(
        "Parse errors",
        "One row per fetched page that is not a record, and why.",
        {
            "id": "the row id",
            "run_id": "the run",
            "url": "the page's URL",
            "reason": "why it is not a record",
            "http_status": "the HTTP status of the answer",
            "raw_page_id": "the page's bytes (`raw_pages.id`)",
            "observed_at": "when (UTC)",
        },
    ),
    "tags": Described(
        "Tags",
        "One row per tag, with its current label and group.",
        {
            "id": "the tag's row id (`tag_pk` elsewhere)",
            "tag_id": "the tag's identity (`md-anderson:diseases/uterine-cancer`); null for a "
            "label-only tag",
            "label": "its current label",
            "group": "its current group",
        },
        sort="tag_id",
    ),
    "tag_labels": Described(
        "Tag labels",
        "One row per (tag, label) ever shown: the label history of a tag.",
        {
            "id": "the row id",
            "tag_pk": "the tag (`tags.id`)",
            "label": "the label",
            "first_run_id": "the first run that showed it",
            "last_run_id": "the last run that showed it",
        },
    ),
    "sidebars": Described(
        "Sidebars",
        "One row per distinct sidebar of tag counts; pages point at it.",
        {"id": "the sidebar's row id", "sha256": "the sha256 of its facets"},
    ),
    "sidebar_counts": Described(
        "Sidebar counts",
        "The facets of a sidebar, as displayed.",
        {
            "sidebar_id": "the sidebar (`sidebars.id`)",
            "position": "the facet's place in the sidebar",
            "tag_pk": "the tag (`tags.id`)",
            "label": "the label shown",
            "group": "the group shown",
            "count": "the count shown",
        },
    ),
    "article_tags": Described(
        "Article tags",
        "One row per (run, tag, article): a facet page of the run listed the article under "
        "the tag (`article_key` is text: a facet can list an article never fetched).",
        {
            "run_id": "the run",
            "tag_pk": "the tag (`tags.id`)",
            "article_key": "the article listed",
        },
    ),
    "run_tag_counts": Described(
        "Consolidated tag counts",
        "One row per (run, tag): the count shown on the most pages of the run (a tie goes "
        "to the latest-fetched page), and how far the pages agreed.",
        {
            "run_id": "the run",
            "tag_pk": "the tag (`tags.id`)",
            "label": "the label as shown in the run",
            "group": "the group as shown in the run",
            "count": "the consolidated count",
            "pages": "how many pages showed the tag",
            "pages_agreeing": "how many showed the chosen count",
            "distinct_counts": "how many different counts were seen",
            "listed": "how many distinct articles the tag's facet pages listed (null when "
            "no facet page of the tag was fetched)",
        },
    ),
    "run_workers": Described(
        "Run workers",
        "One row per process that took part in a distributed run (docs/scale-out.md): the "
        "crawl that started it and every worker that joined, with its share of the run's "
        "counters. Runs of one process have none.",
        {
            "run_id": _RUN,
            "worker": "the process: `host:pid:random`",
            "role": "`coordinator` (the crawl that started the run) or `worker`",
            "host": "the machine it ran on",
            "pid": "its process id there",
            "joined_at": "when it joined the run (UTC)",
            "left_at": "when it left, its writes all committed (UTC); null when lost",
            "status": "`working`, `done`, `interrupted` or `lost` (killed: its lease ran out)",
            "fetch_errors": "fetches that failed for good",
            **{name: text for name, text in _COUNTERS.items() if name != "articles_removed"},
        },
        sort="run_id",
    ),
    "version_runs": Described(
        "Version runs",
        "One row per version: the runs it was fetched, seen or reparsed in.",
        {
            "version_id": "the version (`versions.id`)",
            "article_id": "the article (`articles.id`)",
            "first_run_id": "the first run that observed it",
            "last_run_id": "the last run that observed it",
            "observations": "how many observations it has",
        },
    ),
    "article_runs": Described(
        "Article runs",
        "One row per article: the runs it was fetched or seen in.",
        {
            "article_id": "the article (`articles.id`)",
            "first_run_id": "the first run that fetched or saw it",
            "last_run_id": "the last run that fetched or saw it",
            "last_fetched_at": "when it was last fetched (UTC)",
        },
    ),
    "tag_count_readings": Described(
        "Tag count readings",
        "One row per (page, tag) reading: every count any page showed, before consolidation.",
        {
            "run_id": "the run",
            "page_url": "the page's URL",
            "page_type": "`article` or `listing`",
            "fetched_at": "when the page was fetched (UTC)",
            "tag_pk": "the tag (`tags.id`)",
            "tag_id": "the tag's identity",
            "label": "the label shown",
            "group": "the group shown",
            "count": "the count shown",
            "position": "the facet's place in the sidebar",
        },
    ),
    search.TABLE: Described(
        "Search index",
        "The full-text index (SQLite FTS5, porter stemmer) of every version's title and "
        "body; its rowid is the version id (migration 0003, storage/search.py).",
        {"title": "the version's title", "body_text": "the version's body text"},
        # Datasette hides FTS tables anyway; searched through articles and versions.
        hidden=True,
    ),
    "alembic_version": Described(
        "Schema revision",
        "The archive's schema revision (Alembic); `cwarchive db upgrade` moves it.",
        {"version_num": "the revision"},
        hidden=True,
    ),
}


# -- canned queries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Canned:
    """A canned query: a named, parameterized SELECT with a form in Datasette."""

    title: str
    description: str
    sql: str
    params: tuple[str, ...] = field(default=())

    def metadata(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "sql": self.sql,
            "params": list(self.params),
        }


_FTS = search.TABLE
_MARKS = f"'{search.MARK_START}', '{search.MARK_END}', '{search.ELLIPSIS}'"
# Each space-separated word becomes an FTS5 string ("..." with " doubled), as
# storage.search builds it, so nothing typed is query syntax; an empty string (two
# spaces, or a blank form) matches nothing on its own and is ignored beside others. A
# title match outweighs body matches, as storage.search ranks a search of both.
_SEARCH_CURRENT = f"""SELECT a.article_key, v.title, a.last_url AS url,
       snippet({_FTS}, -1, {_MARKS}, 16) AS snippet,
       -bm25({_FTS}, 10.0, 1.0) AS rank
FROM {_FTS}
JOIN articles AS a ON a.current_version_id = {_FTS}.rowid
JOIN versions AS v ON v.id = {_FTS}.rowid
WHERE {_FTS} MATCH '"' || replace(replace(trim(:q), '"', '""'), ' ', '" "') || '"'
ORDER BY bm25({_FTS}, 10.0, 1.0), a.article_key"""

QUERIES: dict[str, Canned] = {
    # Datasette's table search cannot rank or show a passage, and a view (current_articles)
    # has no version id to search by: this query can, over current versions only.
    "search_current": Canned(
        "Search the current articles",
        "The articles whose current version's title or body contains every word of `q` "
        "(stemmed: `screening` finds `screen`), best match first, with the passage that "
        f"matched between {search.MARK_START} and {search.MARK_END}. Words are searched "
        "as words: quotes and operators are not query syntax.",
        _SEARCH_CURRENT,
        ("q",),
    ),
    # Datasette passes every parameter as text, and an empty one when the form leaves it
    # blank: a run id is cast before comparing (in SQLite an integer never equals or
    # exceeds a text value), and a blank bound is an open one, as with `cwarchive diff`.
    "reviewed_changes_between": Canned(
        "Review date changes between two runs",
        "The rows of reviewed_changes whose new version first appeared after run "
        "`from_run` and at most in run `to_run` (the range of `cwarchive diff --from A "
        '--to B`: from_run 3, to_run 4 is "in run 4"); a blank bound is open.',
        """SELECT article_key, title, old_reviewed, new_reviewed, old_reviewers, new_reviewers,
       from_run, to_run, from_version, to_version, days_between
FROM reviewed_changes
WHERE (:from_run = '' OR to_run > CAST(:from_run AS INTEGER))
  AND (:to_run = '' OR to_run <= CAST(:to_run AS INTEGER))
ORDER BY article_key, to_version""",
        ("from_run", "to_run"),
    ),
    "article_history": Canned(
        "An article's history",
        "The versions of one article (`cancerwise/<slug>`), oldest first: the rows of "
        "article_versions, as `cwarchive history` lists them.",
        """SELECT article_key, version, title, published, reviewed, reviewers, content_hash,
       first_run, last_run, parser_version
FROM article_versions
WHERE article_key = :article_key
ORDER BY version""",
        ("article_key",),
    ),
    "tag_series": Canned(
        "A tag's counts by run",
        "The rows of tag_count_series of one tag, given by its id "
        "(`md-anderson:diseases/breast-cancer`) or by any label it has carried "
        "(case-insensitive), as `cwarchive tags --tag` finds it; oldest run first.",
        """SELECT s.run, s.run_started, s.tag_id, s.label, s."group", s.count
FROM tag_count_series AS s
WHERE s.tag_id = :tag
   OR s.tag_id IN (
        SELECT t.tag_id FROM tags AS t
        WHERE lower(t.label) = lower(:tag)
           OR t.id IN (SELECT l.tag_pk FROM tag_labels AS l WHERE lower(l.label) = lower(:tag)))
   OR (s.tag_id IS NULL AND lower(s.label) = lower(:tag))
ORDER BY s.run, s.tag_id, s.label""",
        ("tag",),
    ),
}


def metadata(database: str) -> dict[str, Any]:
    """Datasette's metadata for the archive served under the name `database`."""
    tables = {name: described.metadata() for name, described in {**VIEWS, **TABLES}.items()}
    return {
        "title": "Cancerwise archive",
        "description": "Every version of MD Anderson's Cancerwise articles, run by run, "
        "read-only. Start with the views current_articles, article_versions, "
        "reviewed_changes, field_changes and tag_count_series, or a canned query.",
        "databases": {
            database: {
                "description": "The versioned archive (docs/storage.md; the views: "
                "docs/research.md), opened immutable: nothing here can change it.",
                "tables": tables,
                "queries": {name: query.metadata() for name, query in QUERIES.items()},
            }
        },
    }


# -- the archive: SQLite only, at the current schema, at rest ----------------------------------


def sqlite_path(db_url: str) -> str:
    """The SQLite file behind `db_url`; one clean error for anything else."""
    url = make_url(db.normalize_url(db_url))
    if url.get_backend_name() != "sqlite":
        raise CliError(
            "browse serves a SQLite archive only (Datasette reads SQLite files); from "
            f"{url.get_backend_name()}, export the views with `cwarchive export --what "
            "articles|versions|changes|tags|runs --out FILE` or ask them with "
            "`cwarchive query SQL`"
        )
    path = db.sqlite_file(db_url)
    if path is None:
        raise CliError(f"{db_url}: an in-memory database holds no archive")
    path = os.path.abspath(path)
    # Datasette pastes the path into a `file:` URI unescaped: SQLite would read `?` and
    # `#` as the URI's query and fragment and `%` as an escape, and open (or create) a
    # different file.
    if any(char in path for char in "?#%"):
        raise CliError(f"{path}: Datasette cannot open a path holding ?, # or %: rename it")
    return path


def _immutable_engine(path: str) -> Engine:
    # The schema is read the way Datasette will read the file: immutable, so checking
    # writes nothing either (no -wal or -shm file, no journal mode change).
    uri = Path(path).as_uri() + "?immutable=1"
    return create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=NullPool
    )


def check_archive(path: str) -> None:
    """Refuse a missing file, an archive being written, or a schema not at head."""
    if not os.path.isfile(path):
        raise CliError(f"no archive at {path}: run a crawl, `cwarchive demo` or `cwarchive ingest`")
    wal = Path(path + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise CliError(
            f"{path} has a write-ahead log ({wal.name}): a writer has it open, or one was "
            "killed. Browse once it is done (any cwarchive command that opens the archive, "
            "e.g. `cwarchive runs`, folds a killed writer's log into the file)"
        )
    engine = _immutable_engine(path)
    try:
        db.check_schema(engine, create=False)
    except ArchiveError as error:
        raise CliError(str(error)) from None
    except SQLAlchemyError as error:  # not a SQLite file, unreadable
        reason = str(getattr(error, "orig", error)).splitlines()[0]
        raise CliError(f"cannot open the archive {path}: {reason}") from None
    finally:
        engine.dispose()


# -- serving ----------------------------------------------------------------------------------


def _datasette_cli() -> Any:
    """`datasette.cli`, with the read-only guard registered; one clean error without it."""
    try:
        from datasette import cli, hookimpl, plugins
    except ImportError:
        raise CliError(f"browse needs Datasette, an optional extra: {INSTALL}") from None
    _register_read_only(plugins, hookimpl)
    return cli


def database_name(path: str) -> str:
    """The name Datasette serves a file under: its stem."""
    return Path(path).stem


def url_for(host: str, port: int, database: str) -> str:
    from datasette.utils import tilde_encode

    shown = f"[{host}]" if ":" in host else host  # an IPv6 address
    return f"http://{shown}:{port}/{tilde_encode(database)}"


def check_port(host: str, port: int) -> None:
    """Fail early and in one line when the address cannot be listened on."""
    # Bound as uvicorn binds it: IPv6 for an address with a colon, else IPv4, with
    # SO_REUSEADDR (so a port in TIME_WAIT is not "in use").
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror as error:
            raise CliError(f"--host {host}: {error.strerror}") from None
        except OSError as error:
            raise CliError(
                f"cannot listen on {host}:{port}: {error.strerror}: pick another --port"
            ) from None


# The methods that only read; any other request is refused before Datasette sees it.
READ_METHODS = ("GET", "HEAD", "OPTIONS")
_PLUGIN = "cwarchive_read_only"


async def _refuse(send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
    body = b"405: this archive is served read-only\n"
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"allow", ", ".join(READ_METHODS).encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 405, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _read_only(app: Any) -> Any:
    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] not in READ_METHODS:
            await _refuse(send)
            return
        await app(scope, receive, send)

    return guarded


def _register_read_only(datasette_plugins: Any, hookimpl: Any) -> None:
    """Every request that could write is answered 405.

    Immutable mode already keeps the file from changing; this makes the refusal plain
    at the HTTP level too: Datasette 0.65 answers a POST to a read-only page (a canned
    query, a table's insert URL) with a 500 and a traceback on the console. Datasette
    lists its plugins by `__name__`, hence a module object rather than a class.
    """
    if datasette_plugins.pm.has_plugin(_PLUGIN):
        return
    plugin = ModuleType(_PLUGIN)
    plugin.asgi_wrapper = hookimpl(lambda datasette: _read_only)  # type: ignore[attr-defined]
    datasette_plugins.pm.register(plugin, _PLUGIN)


class _Stopped(BaseException):
    """Ctrl-C or SIGTERM. A BaseException, like KeyboardInterrupt: nothing on the way
    out (uvicorn, asyncio, click) catches it as an error."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stopped


@contextmanager
def _stoppable() -> Iterator[None]:
    """SIGINT and SIGTERM end the server cleanly.

    uvicorn takes both signals while it serves, shuts down gracefully, then raises the
    signal again for the handler it found: this one, which unwinds to here, so
    temporary files go and the exit status is 0 (instead of SIGTERM's default death,
    or click's "Aborted!" for a KeyboardInterrupt).
    """
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve(db_url: str, host: str, port: int, echo: Callable[[str], None]) -> None:
    """Check the archive, then serve it in Datasette in the foreground until stopped."""
    path = sqlite_path(db_url)
    datasette_cli = _datasette_cli()
    check_archive(path)
    check_port(host, port)
    name = database_name(path)
    with tempfile.TemporaryDirectory(prefix="cwarchive-browse-") as tmp:
        metadata_file = Path(tmp, "metadata.json")
        metadata_file.write_text(json.dumps(metadata(name), indent=2), "utf-8")
        echo(url_for(host, port, name))
        args = ["-i", path, "--host", host, "--port", str(port)]
        args += ["--metadata", str(metadata_file)]
        with _stoppable():
            # `datasette serve` itself (not uvicorn directly): the server it runs, its
            # startup checks, and uvicorn stays Datasette's dependency, not ours.
            try:
                datasette_cli.serve.main(args, prog_name="datasette", standalone_mode=False)
            except click.ClickException as error:
                raise CliError(error.format_message()) from None
