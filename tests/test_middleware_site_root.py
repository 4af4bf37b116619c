"""crawler/middlewares/site_root.py: `--site`, site URLs requested on another root."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.middlewares.site_root import SiteRootDownloaderMiddleware, SiteRootSpiderMiddleware
from crawler.spiders.cancerwise import CancerwiseSpider

ARTICLE_URL = "https://www.mdanderson.org/cancerwise/a-story.h00-1.html"


def test_site_root_maps_site_urls_only() -> None:
    crawler = get_crawler(CancerwiseSpider, {"ARCHIVE_SITE_ROOT": "http://127.0.0.1:8000/"})
    spider_mw = SiteRootSpiderMiddleware.from_crawler(crawler)
    mapped = spider_mw.get_processed_request(
        Request("https://mdanderson.org/cancerwise.dir.html/author/A%20B?page=2"), None
    )
    assert mapped.url == "http://127.0.0.1:8000/cancerwise.dir.html/author/A%20B?page=2"
    other = Request("https://faculty.mdanderson.org/profiles/x.html")
    assert spider_mw.get_processed_request(other, None) is other
    downloader_mw = SiteRootDownloaderMiddleware.from_crawler(crawler)
    assert downloader_mw.process_request(mapped) is None
    redirected = downloader_mw.process_request(Request(ARTICLE_URL))
    assert redirected is not None and redirected.url.startswith("http://127.0.0.1:8000/")


def test_site_root_is_off_on_the_site_itself() -> None:
    with pytest.raises(NotConfigured):
        SiteRootSpiderMiddleware.from_crawler(get_crawler(CancerwiseSpider))
