"""Drop a page already handled in this run.

The spider decides each article once, but two routes can still reach one article
(a re-checked URL redirecting to an article the sitemap listed, a listing linked
twice with different queries). Articles are identified by the key the spider gave
them, not their URL: one article may show under several URLs, and twins (one slug
live under two codes) are two articles.
"""

from __future__ import annotations

from typing import Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from common.urls import article_key
from crawler.items import PageItem, PageKind, SeenArticles


def identity(item: PageItem) -> tuple[str, str]:
    if item.kind in (PageKind.LISTING, PageKind.FAILED):
        return (item.kind.value, item.url)
    return ("article", item.article_key or article_key(item.url))


class DedupePipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        self._seen: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.stats)

    def process_item(self, item: PageItem | SeenArticles) -> PageItem | SeenArticles:
        if isinstance(item, SeenArticles):
            return self._first_sightings(item)
        if not self._first(identity(item)):
            raise DropItem(f"already handled in this run: {item.url}", log_level="DEBUG")
        return item

    def _first_sightings(self, item: SeenArticles) -> SeenArticles:
        """The articles of `item` not handled yet in this run; dropped when none is."""
        fresh = [(key, url) for key, url in item.articles if self._first(("article", key))]
        if not fresh:
            raise DropItem("every article already handled in this run", log_level="DEBUG")
        item.articles = fresh
        return item

    def _first(self, key: tuple[str, str]) -> bool:
        """True the first time `key` is met in this run; a duplicate is counted."""
        if key in self._seen:
            self.stats.inc_value("archive/duplicates")
            return False
        self._seen.add(key)
        return True
