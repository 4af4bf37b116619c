"""Parse every fetched page into its record; a page that is not one becomes an error.

A `PageError` never stops the crawl: the item goes on with `error` set, so the
persist pipeline stores a parse-error row (URL, reason, raw bytes) and the run's
error rate counts it. Parsing is done with the page's canonical site URL, so records
carry https://www.mdanderson.org URLs whatever root the page came from.
"""

from __future__ import annotations

import logging
from typing import Self

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import PageItem, PageKind
from crawler.parsers import PageError, parse_page

logger = logging.getLogger(__name__)


class ValidatePipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.stats)

    def process_item(self, item: PageItem) -> PageItem:
        if item.kind in (PageKind.SEEN, PageKind.FAILED) or item.status != 200:
            return item  # nothing to parse: not fetched, failed, 304, 404, 410
        if item.record is None:
            try:
                item.record = parse_page(item.body, item.url)
            except PageError as error:
                item.error = error.reason
        if item.error is None and item.record is not None:
            page_type = item.record.get("page_type")
            expected = "article" if item.kind is PageKind.ARTICLE else "listing"
            if page_type != expected:
                item.error = f"expected an {expected} page, got {page_type}: {item.url}"
                item.record = None
        if item.error is not None:
            self.stats.inc_value("archive/parse_errors")
            logger.info(
                "not a record: %(url)s: %(reason)s", {"url": item.url, "reason": item.error}
            )
        return item
