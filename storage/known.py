"""What a crawl reads of the archive before it starts: known articles and listing pages.

Read-only: any connection will do (`Archive.known_articles` flushes its writes first).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from storage.listings import KnownListing, latest_listings
from storage.models import Article, Observation


@dataclass(frozen=True)
class KnownArticle:
    """What the crawler needs to decide whether and how to refetch an article."""

    article_key: str
    last_url: str
    last_fetched_at: dt.datetime | None  # of the last fetch (not a 304 or a skip)
    etag: str | None
    last_modified: str | None
    status: str


def known_articles(conn: Connection) -> dict[str, KnownArticle]:
    """Every archived article, by key."""
    # Each article's last fetch by one probe of observations(kind, article_id,
    # observed_at): not a grouping of every fetch the archive holds (68 more a week).
    last_fetched_at = (
        select(func.max(Observation.observed_at))
        .where(Observation.kind == "fetched", Observation.article_id == Article.id)
        .correlate(Article)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(
            Article.article_key,
            Article.last_url,
            last_fetched_at.label("last_fetched_at"),
            Article.etag,
            Article.last_modified,
            Article.status,
        )
    ).all()
    return {row[0]: KnownArticle(*row) for row in rows}  # columns in field order


def known_listings(conn: Connection, parser_version: str | None = None) -> dict[str, KnownListing]:
    """The latest fetch of every listing page that can be asked for again: one that kept
    its links and a validator (ETag or Last-Modified), by URL. With `parser_version`,
    only fetches that parser read: links an older parser found are not followed again
    (the page is read whole once more)."""
    return {
        url: found
        for url, found in latest_listings(conn).items()
        if (found.etag or found.last_modified)
        and (parser_version is None or found.parser_version == parser_version)
    }
