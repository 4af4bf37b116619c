"""Listing pages as the writer and the crawler read them back: the latest fetch of each.

A listing page that answers 304 is saved again as its last fetch was (`KnownListing`,
`listing_row_again`); the crawler asks for it with that fetch's validators.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Text, cast, select

from common.record import LISTING_LINKS
from storage.models import ListingHead, ListingLinks, ListingPage, Run, Tag


@dataclass(frozen=True, slots=True)
class KnownListing:
    """The latest stored fetch of a listing page that kept its links: what asks for it
    again (its validators), what it linked to, and what a 304 saves again.

    Its links come as JSON text and are decoded on use: a run reads the last fetch of
    every listing page (two thousand on this site) and an unchanged re-crawl uses a
    hundred.
    """

    url: str
    id: int  # of its row
    last_run_id: int  # the last run its row holds for
    listing_kind: str | None
    tag_pk: int | None
    tag_id: str | None  # of its tag
    raw_page_id: int | None
    sidebar_id: int | None
    article_links: int  # how many articles it listed
    etag: str | None
    last_modified: str | None
    parser_version: str  # of the run that fetched it
    links_id: int  # its `listing_links` row
    links_json: str

    @property
    def links(self) -> dict[str, Any]:
        """The record's `LISTING_LINKS`."""
        return orjson.loads(self.links_json) or {}


def listing_links(record: dict[str, Any]) -> dict[str, Any]:
    """What of a listing record is kept to follow the page again after a 304."""
    return {name: record.get(name) for name in LISTING_LINKS}


def latest_listings(conn: Connection) -> dict[str, KnownListing]:
    """The latest fetch of every listing page that kept its links, by URL: read through
    `listing_heads`, one row a page, however many contents each page had."""
    rows = conn.execute(
        select(
            ListingPage.url,
            ListingPage.id,
            ListingPage.last_run_id,
            ListingPage.listing_kind,
            ListingPage.tag_pk,
            Tag.tag_id,
            ListingPage.raw_page_id,
            ListingPage.sidebar_id,
            ListingPage.article_links,
            ListingPage.etag,
            ListingPage.last_modified,
            Run.parser_version,
            ListingPage.links_id,
            cast(ListingLinks.links, Text),
        )
        .select_from(ListingHead)
        .join(ListingPage, ListingPage.id == ListingHead.listing_page_id)
        .join(ListingLinks, ListingLinks.id == ListingPage.links_id)
        .join(Run, Run.id == ListingPage.run_id)
        .outerjoin(Tag, Tag.id == ListingPage.tag_pk)
    )
    return {row[0]: KnownListing(*row) for row in rows}


def listing_row_again(
    last: KnownListing,
    run_id: int,
    tag_pk: Any,
    fetched_at: dt.datetime,
    etag: str | None,
    last_modified: str | None,
) -> dict[str, Any]:
    """The `listing_pages` row of a page not modified since its `last` fetch, in run
    `run_id`; validators the 304 sent replace the old ones."""
    return {
        "run_id": run_id,
        "last_run_id": run_id,
        "url": last.url,
        "listing_kind": last.listing_kind,
        "tag_pk": tag_pk,
        "fetched_at": fetched_at,
        "article_links": last.article_links,
        "raw_page_id": last.raw_page_id,
        "sidebar_id": last.sidebar_id,
        "etag": etag or last.etag,
        "last_modified": last_modified or last.last_modified,
        "links_id": last.links_id,
    }
