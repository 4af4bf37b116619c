"""What the spider reads of the archive before a crawl, as protocols: the spider never
imports storage.

The archive is read through a loader named by the setting `ARCHIVE_KNOWN_READER` (a
dotted path loaded with Scrapy's `load_object`, the way `pipelines.persist` loads
`ARCHIVE_CLASS`): a callable of the archive's URL returning a `Knowledge`. The
default, `storage.opening.read_known`, opens the archive read-only (never created,
never migrated) and knows nothing of an archive that does not exist yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from crawler.freshness import Known, KnownPage


class KnownArticle(Known, Protocol):
    """What the archive knows of an article (`storage.KnownArticle` is one): what the
    freshness policy reads, and its status."""

    @property
    def status(self) -> str: ...


class KnownListing(KnownPage, Protocol):
    """The last fetch of a listing page (`storage.KnownListing` is one): its validators
    (`crawler.freshness`), its kind and its links."""

    @property
    def listing_kind(self) -> str | None: ...

    @property
    def links(self) -> dict[str, Any]: ...


class Knowledge(Protocol):
    """The archive as the spider reads it: its articles and listing pages, then closed."""

    def known_articles(self) -> Mapping[str, KnownArticle]: ...

    def known_listings(self, parser_version: str | None = None) -> Mapping[str, KnownListing]: ...

    def close(self) -> None: ...


ReadKnown = Callable[[str], Knowledge]
