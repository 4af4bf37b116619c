"""What every table, view and column of the archive means: written once, here.

The research views' column tables in docs/research.md are generated from `VIEWS`
(`tests/test_docs.py` regenerates the block between its markers), and `cwarchive
browse` gives Datasette the same words (`cwarchive.browse.metadata`). The tables'
words match docs/storage.md (`tests/test_browse.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from storage import search
from storage.vocabulary import DIFF_FIELDS


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
            "field": "the content field that changed: one of "
            + ", ".join(f"`{name}`" for name in DIFF_FIELDS),
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
        "One row per fetch of an article (a version fetched, found gone or reparsed), and "
        "one per range of sightings (304 or skipped) of one version at one URL in "
        "consecutive runs: `run_id` through `last_run_id`.",
        {
            "id": "the observation's row id",
            "run_id": "the run (a range's first)",
            "last_run_id": "the last run of the range (`run_id` but for sightings)",
            "article_id": "the article (`articles.id`)",
            "kind": "`fetched`, `seen`, `gone` or `reparsed`",
            "version_id": "the version fetched or seen; null for `gone`",
            "url": "the URL as fetched",
            "http_status": "the HTTP status of the answer",
            "observed_at": "when (UTC; a range's first sighting)",
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
    "listing_heads": Described(
        "Listing heads",
        "One row per listing page URL: its latest row, what an incremental crawl asks for "
        "again (read at the crawl's start).",
        {
            "url": "the page's URL",
            "listing_page_id": "its latest row (`listing_pages.id`)",
        },
    ),
    "listing_pages": Described(
        "Listing pages",
        "One row per content of a listing page (a section or a tag's facet page) read in "
        "consecutive runs, `run_id` through `last_run_id` (a 304 or the same page again "
        "grows the range).",
        {
            "id": "the row id",
            "run_id": "the first run that read it so",
            "last_run_id": "the last run that read it so",
            "url": "the page's URL",
            "listing_kind": "the kind of listing",
            "tag_pk": "the tag of a facet page (`tags.id`)",
            "fetched_at": "when (UTC; the range's first fetch)",
            "article_links": "how many articles the page listed",
            "raw_page_id": "the page's bytes (`raw_pages.id`)",
            "sidebar_id": "the page's sidebar tag counts (`sidebars.id`)",
            "etag": "the response's ETag, sent back by the next incremental crawl",
            "last_modified": "the response's Last-Modified, sent back likewise",
            "links_id": "the links a crawl follows from the page, also after a 304 "
            "(`listing_links.id`)",
        },
    ),
    "listing_links": Described(
        "Listing links",
        "One row per distinct list of the links a crawl follows from a listing page; "
        "pages point at it.",
        {
            "id": "the list's row id",
            "sha256": "the sha256 of its canonical JSON",
            "links": "the record's `article_links`, `archive_links` and `next_page` (JSON)",
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
        "One row per (tag, article, range of consecutive runs): facet pages of runs "
        "`run_id` through `last_run_id` listed the article under the tag (`article_key` is "
        "text: a facet can list an article never fetched).",
        {
            "run_id": "the range's first run",
            "last_run_id": "the range's last run",
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
    "run_field_health": Described(
        "Extraction health",
        "One row per (crawl, field): how many of the article pages the run parsed had the "
        "field, against the same articles' versions before the run (docs/crawl.md, "
        '"Extraction health"). Runs not measured (reparse, ingest, older) have none.',
        {
            "run_id": _RUN,
            "field": "the record field (`reviewed`, `tag_counts`, ...)",
            "pages": "article pages the run parsed (a known article's page that no longer "
            "parses counts, with no field)",
            "present": "of those, how many have the field",
            "compared": "of those, the articles that had a version before the run",
            "had_before": "of the compared, how many had the field before the run",
            "has_after": "of the compared, how many have it now",
            "lost": "of the compared, how many had it and no longer have it",
            "degraded": "1 when at least 10 articles lost it and at least half of those "
            "that had it: the run held back the versions that only lost it",
            "held": "versions held back that lost this field",
        },
        sort="run_id",
    ),
    "held_versions": Described(
        "Held versions",
        "One row per version a degraded run read but did not keep: it only lost degraded "
        "fields. The article kept its version; `cwarchive accept RUN` stores these.",
        {
            "id": "row id",
            "run_id": _RUN,
            "article_id": "the article (`articles.id`)",
            "observation_id": "the run's fetch of the page (`observations.id`), pointing at "
            "the version kept (or, once accepted, the version stored)",
            "kept_version_id": "the version the article kept (`versions.id`)",
            "fields": "the degraded fields it lost (JSON list)",
            "content_hash": "the held reading's content hash",
            "parser_version": "the parser that read it",
            "record": "the version's columns as read (JSON)",
            "version_id": "the version stored when accepted (`versions.id`); null while held "
            "or when a later reading superseded it",
            "accepted_at": "when `cwarchive accept` took it (UTC); null while held",
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
            "observations": "how many observation rows it has (a range of sightings is one)",
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
            "fetched_at": "when the page was fetched (UTC; a listing page read again in a "
            "range, the run's start)",
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
