"""Retries with backoff that honour the server's `Retry-After`.

Scrapy's RetryMiddleware retries at once; a server that answers 429/503 with
`Retry-After` is asking for a pause, and hammering it again is what gets a crawler
blocked. This one waits `Retry-After` seconds (or `ARCHIVE_RETRY_BACKOFF_BASE ** n`
without one) before handing the retry back.
"""

from __future__ import annotations

import email.utils
import logging
import time
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message
from twisted.internet import task

logger = logging.getLogger(__name__)


def retry_after_seconds(value: str | bytes | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RetryAfterMiddleware(RetryMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler.settings)
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("ARCHIVE_RETRY_AFTER_MAX")
        self.backoff_base = crawler.settings.getfloat("ARCHIVE_RETRY_BACKOFF_BASE")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is None:
            wait = self.backoff_base ** request.meta.get("retry_times", 0)
        if wait > self.max_wait:
            logger.warning(
                "not retrying %(url)s: Retry-After %(wait).0fs is over %(max).0fs",
                {"url": request.url, "wait": wait, "max": self.max_wait},
            )
            self.crawler.stats.inc_value("archive/retry_after_too_long")
            return response
        retry = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=response_status_message(response.status),
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust),
        )
        if retry is None:
            return response
        if wait > 0:
            self.crawler.stats.inc_value("archive/retry_wait_seconds", wait)
            # Imported here: importing the reactor module at load time would install
            # Twisted's default reactor before Scrapy installs the configured one.
            from twisted.internet import reactor

            await maybe_deferred_to_future(task.deferLater(reactor, wait))
        return retry
