"""Scrapy's robots.txt middleware, with an unreachable robots.txt told in one line.

Scrapy logs a robots.txt it could not fetch (a timeout, a reset) with a full
traceback, once per host; a failing server is routine here, not a crawler bug. The
behaviour is Scrapy's: without a robots.txt every page is allowed (docs/crawl.md).
"""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares import robotstxt


class _NoTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True


class RobotsTxtMiddleware(robotstxt.RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        scrapy_logger = logging.getLogger(robotstxt.__name__)
        if not any(isinstance(f, _NoTraceback) for f in scrapy_logger.filters):
            scrapy_logger.addFilter(_NoTraceback())
