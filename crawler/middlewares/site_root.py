"""Request every site URL on `ARCHIVE_SITE_ROOT` instead (same path and query).

Done on the requests themselves, before the robots middleware sees them, so the
robots.txt obeyed is the root's, and the WARC and the request logs show what was
really fetched. Items keep the canonical https://www.mdanderson.org URLs: the spider
derives them from the response (`common.urls.site_url`).
"""

from __future__ import annotations

from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from common.urls import SITE, is_site_url, on_root


def _site_root(crawler: Crawler) -> str:
    root = (crawler.settings.get("ARCHIVE_SITE_ROOT") or SITE).rstrip("/")
    if root == SITE:
        raise NotConfigured  # the site itself: nothing to map (the normal case, no warning)
    return root


class SiteRootSpiderMiddleware(BaseSpiderMiddleware):
    """Maps the requests the spider yields: the common path, scheduled once."""

    def __init__(self, crawler: Crawler, root: str) -> None:
        super().__init__(crawler)
        self.root = root

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, _site_root(crawler))

    def get_processed_request(self, request: Request, response: Response | None) -> Request:
        if is_site_url(request.url):
            return request.replace(url=on_root(request.url, self.root))
        return request


class SiteRootDownloaderMiddleware:
    """Maps what the spider did not build: redirect targets on the site's own host.

    Returning the mapped request sends it back through the scheduler, which is fine
    for these few; the spider middleware handles the bulk without that round trip.
    """

    def __init__(self, root: str) -> None:
        self.root = root

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(_site_root(crawler))

    def process_request(self, request: Request) -> Request | None:
        if is_site_url(request.url):
            return request.replace(url=on_root(request.url, self.root))
        return None
