"""pipelines/dedupe.py: a page handled once per run (articles by key, not URL)."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from common.urls import article_key
from crawler.items import PageKind, SeenArticles
from crawler.spiders.cancerwise import CancerwiseSpider
from pipelines.dedupe import DedupePipeline
from tests.crawling import ARTICLE_URL, page


def test_dedupe_drops_the_same_article_under_another_h00_url() -> None:
    crawler = get_crawler(CancerwiseSpider)
    crawler.stats.open_spider()
    pipeline = DedupePipeline.from_crawler(crawler)
    pipeline.process_item(page())
    with pytest.raises(DropItem):
        pipeline.process_item(page(url=ARTICLE_URL.replace("h00-1", "h00-2")))
    assert crawler.stats.get_value("archive/duplicates") == 1
    # A listing with the same path is another thing.
    pipeline.process_item(page(kind=PageKind.LISTING, url="https://www.mdanderson.org/x.html"))


def test_dedupe_keeps_the_seen_articles_not_handled_yet() -> None:
    crawler = get_crawler(CancerwiseSpider)
    crawler.stats.open_spider()
    pipeline = DedupePipeline.from_crawler(crawler)
    pipeline.process_item(page())
    other = "https://www.mdanderson.org/cancerwise/other.h00-7.html"
    moved = ARTICLE_URL.replace("h00-1", "h00-3")
    seen = pipeline.process_item(
        SeenArticles(
            [(article_key(moved), moved), (article_key(other), other)]
            + [(article_key(other), other)]
        )
    )
    # The fetched article (under another h00 URL) and the repeat are dropped from it.
    assert seen.urls == [other]
    with pytest.raises(DropItem):
        pipeline.process_item(SeenArticles([(article_key(other), other)]))
    assert crawler.stats.get_value("archive/duplicates") == 3
