"""What the spider hands to the pipelines: one fetched (or deliberately not fetched) page.

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
    SEEN = "seen"  # an article not fetched: its sitemap lastmod is not newer
    FAILED = "failed"  # a fetch that failed for good: recorded as the run's error row


@dataclass(slots=True)
class PageItem:
    url: str  # canonical site URL (https://www.mdanderson.org/...), query kept
    kind: PageKind
    status: int | None  # HTTP status; None when not fetched (SEEN)
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # ETag, Last-Modified, ...
    fetched_at: datetime | None = None
    # Where the request went (the replay root or the site), for logs and WARC cross-checks.
    fetched_url: str = ""
    # Filled by the validate pipeline: the parse record, or why the page is not one.
    record: dict[str, Any] | None = None
    error: str | None = None

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("Last-Modified")
