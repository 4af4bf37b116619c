"""Politeness shared by every process of a distributed run: one request rate per host.

Each process's AutoThrottle and `DOWNLOAD_DELAY` only pace that process: four workers
at one request a second are four requests a second to the site. Here every request,
of every process, first takes the next free slot of its host from Redis
(`Frontier.rate_wait`: slots `1 / rate` seconds apart, in Redis' clock so machines
agree) and waits for it. So the site sees at most the run's `max_rate` requests a
second however many workers join. Retries and redirects take a slot of their own;
robots.txt fetches too (they pass through the downloader middlewares).

The rate is the run's (`max_rate` of the run record, set by the coordinator from
`ARCHIVE_MAX_RATE`): workers cannot disagree on it. 0 means no limit.
"""

from __future__ import annotations

import logging
import time
from typing import Self
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import task

from crawler.frontier.scheduler import frontier_of
from crawler.frontier.state import Frontier

logger = logging.getLogger(__name__)


class GlobalRateLimitMiddleware:
    """Wait for the host's next slot in Redis before every download."""

    def __init__(self, crawler: Crawler, frontier: Frontier) -> None:
        self.crawler = crawler
        self.frontier = frontier
        self._rate: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.get("ARCHIVE_FRONTIER_URL"):
            raise NotConfigured
        return cls(crawler, frontier_of(crawler))

    def rate(self) -> float:
        """The run's rate, read once it is open (0: no limit)."""
        if self._rate is None:
            run = self.frontier.run()
            if run.get("status") is None or "max_rate" not in run:
                return 0.0  # no run yet: nothing is sent before one opens anyway
            self._rate = float(run["max_rate"])
            logger.info(
                "global rate limit: %(rate)s requests/s per host",
                {"rate": self._rate or "no limit"},
            )
        return self._rate

    async def process_request(self, request: Request) -> None:
        rate = self.rate()
        if rate <= 0:
            return
        # Imported here: importing the reactor at load time would install Twisted's
        # default reactor before Scrapy installs the configured one.
        from twisted.internet import reactor

        host = urlsplit(request.url).netloc
        stats = self.crawler.stats
        # A slot is only good when kept: a process whose reactor was busy (parsing,
        # writing) wakes late, and requests sent late crowd the next second, so a
        # late waker takes a new slot instead.
        tolerance = 0.5 / rate
        while True:
            wait = self.frontier.rate_wait(host, rate)
            if wait <= 0:
                return
            stats.inc_value("archive/rate_limit/waits")
            stats.inc_value("archive/rate_limit/wait_seconds", wait)
            due = time.monotonic() + wait
            await maybe_deferred_to_future(task.deferLater(reactor, wait))
            if time.monotonic() - due <= tolerance:
                return
            stats.inc_value("archive/rate_limit/late")
