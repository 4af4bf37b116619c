"""pipelines/validate.py: every fetched page parsed into its record, or an item error."""

from __future__ import annotations

import pytest
from scrapy.utils.test import get_crawler

from crawler.spiders.cancerwise import CancerwiseSpider
from pipelines.validate import ValidatePipeline
from tests.crawling import ARTICLE, page


def test_validate_parses_an_article() -> None:
    crawler = get_crawler(CancerwiseSpider)
    item = ValidatePipeline.from_crawler(crawler).process_item(page())
    assert item.error is None
    assert item.record is not None
    assert item.record["article_key"] == "cancerwise/a-story"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty file"),
        (ARTICLE.replace(b"</body></html>", b""), "truncated page (no </html>)"),
        (ARTICLE.replace(b"Published", b"Written"), "no published date"),
    ],
)
def test_validate_turns_page_errors_into_item_errors(body: bytes, reason: str) -> None:
    crawler = get_crawler(CancerwiseSpider)
    crawler.stats.open_spider()
    item = ValidatePipeline.from_crawler(crawler).process_item(page(body=body))
    assert item.error == reason
    assert item.record is None
    assert crawler.stats.get_value("archive/parse_errors") == 1


@pytest.mark.parametrize("status", [304, 404, 410])
def test_validate_leaves_bodiless_answers_alone(status: int) -> None:
    crawler = get_crawler(CancerwiseSpider)
    item = ValidatePipeline.from_crawler(crawler).process_item(page(status=status, body=b""))
    assert item.record is None and item.error is None


def test_validate_rejects_a_listing_where_an_article_was_expected() -> None:
    crawler = get_crawler(CancerwiseSpider)
    crawler.stats.open_spider()
    listing = b"<html><body><a href='/cancerwise/x.h00-1.html'>X</a></body></html>"
    item = ValidatePipeline.from_crawler(crawler).process_item(
        page(url="https://www.mdanderson.org/cancerwise.html", body=listing)
    )
    assert item.error is not None and "expected an article" in item.error


def test_validate_keeps_the_reason_the_spider_read() -> None:
    """A page the spider's parser refused is not parsed again: its reason stands."""
    crawler = get_crawler(CancerwiseSpider)
    crawler.stats.open_spider()
    read = page(error="no published date")  # ARTICLE itself would parse
    item = ValidatePipeline.from_crawler(crawler).process_item(read)
    assert item.error == "no published date"
    assert item.record is None
    assert crawler.stats.get_value("archive/parse_errors") == 1
