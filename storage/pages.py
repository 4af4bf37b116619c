"""One page -> the archive: the single place that decides which save a page is.

The crawl's persist pipeline and `cwarchive ingest` both describe what they met as a
`Page` and hand it to `store_page`; neither decides by itself between a save, a
sighting, evidence of removal or a parse error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from common.record import with_key
from common.urls import article_key
from storage.archive import Archive

# What `store_page` can answer; "new", "changed" and "unchanged" come from `save_article`.
OUTCOMES = (
    "new",
    "changed",
    "unchanged",
    "duplicate",  # this capture was saved already in the run (storage/rules.py)
    "not_modified",
    "skipped",
    "gone",
    "listing",
    "ignored",
    "error",
    "unexpected_status",
)


@dataclass(frozen=True, slots=True)
class Page:
    """A page a run met: fetched (with its HTTP status), or deliberately not fetched."""

    url: str  # canonical site URL; an article's key is read from it
    # None: not fetched (its sitemap lastmod is not newer), or no response at all.
    http_status: int | None
    record: dict[str, Any] | None = None  # the parse record, when the page is one
    error: str | None = None  # why the page is not a record, or why its fetch failed
    raw: bytes = b""
    fetched_at: dt.datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    listing: bool = False  # a listing page (landing, directory, facet, ...), not an article
    # The article's key where the crawl decided it (a twin's is not its slug's); empty:
    # read from `url` (`crawler.urls.article_key`).
    article_key: str = ""


def store_page(archive: Archive, run_id: int, page: Page) -> str:
    """Store `page` in run `run_id` and name what was stored (one of `OUTCOMES`).

    The first rule that fits decides:

    error set                  save_parse_error  -> "error"
    not fetched                mark_seen_many    -> "skipped" (`store_not_fetched`)
    listing with a record      save_listing      -> "listing"
    listing 304                save_listing_unchanged -> "listing" (or "ignored":
                               no earlier fetch of it is stored)
    listing without a record   nothing           -> "ignored"
    article 200 with a record  save_article      -> "new", "changed", "unchanged" or
                                                "duplicate" (the same capture again)
    article 304                mark_seen         -> "not_modified"
    article 404 or 410         mark_gone         -> "gone"
    article, other status      nothing           -> "unexpected_status"
    """
    if page.error is not None:
        archive.save_parse_error(
            run_id,
            url=page.url,
            reason=page.error,
            raw=page.raw or None,
            http_status=page.http_status,
        )
        return "error"
    if page.http_status is None:
        key = page.article_key or article_key(page.url)
        return store_not_fetched(archive, run_id, [(key, page.url)])
    if page.listing:
        if page.http_status == 304:
            unchanged = archive.save_listing_unchanged(
                run_id,
                page.url,
                fetched_at=page.fetched_at,
                etag=page.etag,
                last_modified=page.last_modified,
            )
            return "listing" if unchanged else "ignored"
        if page.record is None:
            return "ignored"
        archive.save_listing(
            run_id,
            page.record,
            raw=page.raw,
            url=page.url,
            fetched_at=page.fetched_at,
            etag=page.etag,
            last_modified=page.last_modified,
        )
        return "listing"
    key = page.article_key or article_key(page.url)
    if page.http_status == 200 and page.record is not None:
        return archive.save_article(
            run_id,
            # The crawl's identity (a twin has a key of its own), not the slug's.
            with_key(page.record, key) if page.article_key else page.record,
            raw=page.raw,
            url=page.url,
            http_status=page.http_status,
            fetched_at=page.fetched_at,
            etag=page.etag,
            last_modified=page.last_modified,
        )
    if page.http_status == 304:
        archive.mark_seen(run_id, key, url=page.url, http_status=304)
        return "not_modified"
    if page.http_status in (404, 410):
        archive.mark_gone(run_id, key, url=page.url, http_status=page.http_status)
        return "gone"
    return "unexpected_status"


def store_not_fetched(archive: Archive, run_id: int, articles: Sequence[tuple[str, str]]) -> str:
    """`store_page`'s rule for pages not fetched, for many at once (a sitemap's articles
    whose lastmod is not newer than their last fetch, as (key, URL)): each is seen,
    "skipped"."""
    archive.mark_seen_many(run_id, list(articles))
    return "skipped"
