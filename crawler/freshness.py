"""Whether a known page is fetched again, and with which validators (docs/crawl.md).

The incremental policy apart from navigation: pure functions of a sitemap `lastmod`,
what the archive knows of the article or listing page, the URL at hand and the run's
mode. No Scrapy, no I/O; the spider calls these.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from common.urls import canonicalize


class Known(Protocol):
    """What the archive knows of an article, as far as this policy reads it.

    `storage.KnownArticle` is one; a protocol keeps the policy free of storage.
    """

    @property
    def last_url(self) -> str: ...

    @property
    def last_fetched_at(self) -> datetime | None: ...

    @property
    def etag(self) -> str | None: ...

    @property
    def last_modified(self) -> str | None: ...


def parse_lastmod(text: str | None) -> datetime | None:
    """A sitemap `lastmod` as an aware UTC time; a date alone counts as its day's end.

    A date-only lastmod says "changed some time that day": only a fetch after that
    day is known to be newer, so the day's end is the safe comparison point.
    """
    if not text:
        return None
    text = text.strip()
    try:
        if _is_date_only(text):
            day = date.fromisoformat(text)
            return _end_of_day(day)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def is_fresh(lastmod_text: str | None, known: Known | None, url: str, *, mode: str) -> bool:
    """True when the archive's copy of the article listed at `url` needs no fetch.

    Only in incremental mode, only for an article known at this same URL (a new
    `h00` URL is another page), and only when the sitemap's `lastmod` is not newer
    than what the archive last fetched. No usable lastmod: fetch.
    """
    lastmod = parse_lastmod(lastmod_text)
    if mode != "incremental" or known is None or lastmod is None:
        return False
    if not _same_page(known.last_url, url):
        return False
    return _not_modified_since(lastmod, known, date_only=_is_date_only(lastmod_text or ""))


def conditional_headers(known: Known | None, url: str, *, mode: str) -> dict[str, str]:
    """`If-None-Match` / `If-Modified-Since` from the last fetch of this same URL.

    Validators only belong to the URL they came from: a new `h00` URL is a new
    page, and a full run fetches unconditionally.
    """
    if mode != "incremental" or known is None or not _same_page(known.last_url, url):
        return {}
    return _validators(known.etag, known.last_modified)


class KnownPage(Protocol):
    """What the archive knows of a listing page's last fetch (`storage.KnownListing`)."""

    @property
    def etag(self) -> str | None: ...

    @property
    def last_modified(self) -> str | None: ...


def listing_headers(known: KnownPage | None, *, mode: str) -> dict[str, str]:
    """`If-None-Match` / `If-Modified-Since` for a listing page fetched before.

    Incremental runs only: a full run reads every page whole. A 304 then stands for the
    page as it was, links and sidebar counts included.
    """
    if mode != "incremental" or known is None:
        return {}
    return _validators(known.etag, known.last_modified)


def _validators(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _not_modified_since(lastmod: datetime, known: Known, date_only: bool = False) -> bool:
    """True when the sitemap's lastmod is not newer than what the archive last fetched.

    Compared with the time of the last fetch and, when the server sent one, with that
    response's Last-Modified: the first is the documented rule, the second compares
    the server's clock with itself (a replay site whose clock is in the past, a skewed
    origin). Either saying "newer" means fetch: a needless fetch is a cheap 304, a
    missed one is a lost version.
    """
    fetched = _aware(known.last_fetched_at)
    if fetched is None or lastmod > fetched:
        return False
    if known.last_modified:
        try:
            served = email.utils.parsedate_to_datetime(known.last_modified)
        except (TypeError, ValueError):
            return True
        if served.tzinfo is None:
            served = served.replace(tzinfo=UTC)
        if date_only:  # both to the day: lastmod stands for its day's end already
            served = _end_of_day(served.date())
        return lastmod <= served
    return True


def _is_date_only(text: str) -> bool:
    return len(text.strip()) == len("YYYY-MM-DD")


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def _aware(moment: datetime | None) -> datetime | None:
    # Storage hands back UTC times; SQLite may drop the zone, so naive means UTC.
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _same_page(a: str | None, b: str) -> bool:
    if not a:
        return False
    return a == b or canonicalize(a) == canonicalize(b)  # mostly equal already
