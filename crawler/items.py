"""What the spider hands to the pipelines: a fetched page, or the articles not fetched.

The spider only navigates, so an item is the fetch itself, not its fields: the
pipelines parse it (`pipelines/validate.py`) and persist it (`pipelines/persist.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class PageKind(StrEnum):
    ARTICLE = "article"  # an article page: 200 saved, 304 seen, 404/410 gone
    LISTING = "listing"  # landing, directory, facet, author, archive page
    FAILED = "failed"  # a fetch that failed for good: recorded as the run's error row


@dataclass(slots=True)
class PageItem:
    url: str  # canonical site URL (https://www.mdanderson.org/...), query kept
    kind: PageKind
    status: int | None  # HTTP status; None when there was no response (FAILED)
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # ETag, Last-Modified, ...
    fetched_at: datetime | None = None
    # Where the request went (the replay root or the site), for logs and WARC cross-checks.
    fetched_url: str = ""
    # Filled by the validate pipeline: the parse record, or why the page is not one.
    record: dict[str, Any] | None = None
    error: str | None = None
    # An article page's key, decided by the spider (`common.urls.choose_article_key`):
    # twins of one slug have keys of their own. Empty for listings and failures.
    article_key: str = ""

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("Last-Modified")


@dataclass(slots=True)
class SeenArticles:
    """Articles a sitemap listed that the run does not fetch: their `lastmod` is not
    newer than the archive's copy. The archive marks each one seen.

    One item for all of a sitemap's, not one each: an unchanged re-crawl meets thousands,
    and every Scrapy item costs its trip through the middlewares, pipelines and signals
    (3,400 items were a fifth of such a run).
    """

    articles: list[tuple[str, str]]  # (article key, canonical site URL)

    @property
    def urls(self) -> list[str]:
        return [url for _, url in self.articles]
