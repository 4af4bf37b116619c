"""Run-level bookkeeping: the error count and rate, and a plain progress line.

`archive/errors` gathers every way a page can fail, so the exit status, the progress
display and the summary all read one number: pages that were not records
(`archive/parse_errors`, the validate pipeline) and fetches that failed after their
retries (`archive/fetch_errors`, the spider's errback).
"""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

logger = logging.getLogger(__name__)


def error_count(stats: dict[str, Any]) -> int:
    return stats.get("archive/parse_errors", 0) + stats.get("archive/fetch_errors", 0)


def error_rate(stats: dict[str, Any]) -> float:
    """Errors per page tried: pages that reached the pipelines plus fetches that failed
    (an HTTP error or no response never becomes an item, so the two do not overlap)."""
    tried = stats.get("archive/pages", 0) + stats.get("archive/fetch_errors", 0)
    return error_count(stats) / tried if tried else 0.0


class ProgressLog:
    """A log line every `ARCHIVE_PROGRESS_EVERY` pages, and the error figures at close."""

    def __init__(self, crawler: Crawler, every: int) -> None:
        self.crawler = crawler
        self.every = every
        self._pages = 0
        crawler.signals.connect(self._on_response, signal=signals.response_received)
        crawler.signals.connect(self._on_spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        every = crawler.settings.getint("ARCHIVE_PROGRESS_EVERY")
        if every <= 0:
            raise NotConfigured("ARCHIVE_PROGRESS_EVERY is 0: no progress lines")
        return cls(crawler, every)

    def _on_response(self, response: Response, **kwargs: Any) -> None:
        self._pages += 1
        if self._pages % self.every == 0:
            stats = self.crawler.stats.get_stats()
            logger.info(
                "%(pages)d pages: %(new)d new, %(changed)d changed, %(unchanged)d unchanged, "
                "%(errors)d errors",
                {
                    "pages": self._pages,
                    "new": stats.get("archive/new", 0),
                    "changed": stats.get("archive/changed", 0),
                    "unchanged": stats.get("archive/unchanged", 0),
                    "errors": error_count(stats),
                },
            )

    def _on_spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats.get_stats()
        self.crawler.stats.set_value("archive/errors", error_count(stats))
        self.crawler.stats.set_value("archive/error_rate", round(error_rate(stats), 4))
