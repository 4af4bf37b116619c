"""Why a fetch failed for good: the stat name and the error row's reason of a failure,
and whether it was robots.txt's refusal (the one deliberate ignore).

Every way a request can end without a page (an HTTP error, a guard's refusal, a
timeout, a cut body, a body too large, Scrapy's own ignores, no response) maps to one
short stat name (`archive/fetch_errors/<name>`) and one readable reason, never empty.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.exceptions import (
    DownloadCancelledError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure

from common.urls import site_url
from crawler.items import PageItem, PageKind
from crawler.middlewares.offsite import is_on_site
from crawler.middlewares.refused import Refused

if TYPE_CHECKING:
    from crawler.spiders.cancerwise import CancerwiseSpider

logger = logging.getLogger("crawler.spiders.cancerwise")

# Scrapy wraps the reasons of a lost connection: "[<twisted.python.failure.Failure
# twisted.internet.error.ConnectionLost: Connection to the other side was lost ...>]".
_WRAPPED_FAILURE = re.compile(r"Failure [\w.]*?(\w+): (.*?)>\]?$", re.DOTALL)


def is_robots_refusal(failure: Failure) -> bool:
    """Scrapy's robots.txt middleware refused the request (the one deliberate ignore)."""
    error = failure.value
    return (
        isinstance(error, IgnoreRequest)
        and not isinstance(error, HttpError | Refused)
        and str(error) == "Forbidden by robots.txt"
    )


def failure_reason(failure: Failure, max_size: int = 0) -> tuple[str, str]:
    """(stat name, error row reason) of a fetch that failed for good; never an empty reason."""
    error = failure.value
    message = failure.getErrorMessage().strip()
    if isinstance(error, HttpError):
        status = error.response.status
        return f"http_{status}", f"HTTP {status}"
    if isinstance(error, Refused):
        return error.kind, error.reason
    if isinstance(error, DownloadTimeoutError):
        return "timeout", f"timeout: {message}" if message else "timeout"
    if isinstance(error, ResponseDataLossError):
        # Scrapy raises it without a message: the body ended before its Content-Length.
        return "data_loss", "body cut short: the connection closed before Content-Length bytes"
    if isinstance(error, DownloadCancelledError | CancelledError):
        # Scrapy's HTTP handler cancels a download for one reason: a body over
        # DOWNLOAD_MAXSIZE, announced (with a message) or counted while it arrives
        # (without one). A timeout is DownloadTimeoutError.
        if message:
            return "too_large", f"too large: {message}"
        return "too_large", f"too large: the body passed DOWNLOAD_MAXSIZE ({max_size} B)"
    if isinstance(error, IgnoreRequest):
        # Scrapy's own: "max redirections reached", a brotli body over the maximum ...
        return "ignored", f"not fetched: {message or type(error).__name__}"
    name = type(error).__name__
    wrapped = _WRAPPED_FAILURE.search(message)
    if wrapped:  # the twisted failure inside, by name: "ConnectionLost: Connection ..."
        message = f"{wrapped.group(1)}: {wrapped.group(2).strip()}"
    return "no_response", f"no response: {name}: {message}" if message else f"no response: {name}"


class FailedPages:
    """The spider's errback: a fetch that failed for good becomes an error row (a
    `FAILED` item) and a count, never a spider error. A part of
    `crawler.spiders.cancerwise.CancerwiseSpider`."""

    def _on_error(self: CancerwiseSpider, failure: Failure) -> Iterator[PageItem]:
        """A fetch that failed for good (after retries): counted, recorded, never fatal."""
        if is_robots_refusal(failure):
            return  # disallowed by robots.txt: not fetched on purpose, not an error
        kind, reason = failure_reason(failure, self.max_size)
        status = failure.value.response.status if failure.check(HttpError) else None
        request = failure.request
        if failure.check(Refused) and request.meta.get("redirect_urls"):
            # The page that failed is the one asked for, not where its redirects led.
            request = request.replace(url=request.meta["redirect_urls"][0])
        yield self._failed(request, kind, reason, status=status)

    def _failed(
        self: CancerwiseSpider,
        request: Request,
        kind: str,
        reason: str,
        status: int | None = None,
        response: Response | None = None,
    ) -> PageItem:
        """The error row of a page that failed: counted as a fetch error of the run."""
        stats = self.crawler.stats
        stats.inc_value("archive/fetch_errors")
        stats.inc_value(f"archive/fetch_errors/{kind}")
        logger.warning("fetch failed: %(url)s: %(reason)s", {"url": request.url, "reason": reason})
        url = request.url
        # An item, so the run's error rows in the archive show it beside parse errors.
        return PageItem(
            url=site_url(url) if is_on_site(url, self.root) else url,
            kind=PageKind.FAILED,
            status=status if response is None else response.status,
            body=b"" if response is None else response.body,
            fetched_at=datetime.now(UTC),
            fetched_url=url,
            error=reason,
        )
