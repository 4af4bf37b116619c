"""Refuse every request that leaves the site (or its replay root).

The spider only builds site URLs, but a server can point elsewhere: a redirect to
another host, a sitemap listing other hosts' URLs. A page fetched there would be
stored under the site's URL (records keep www.mdanderson.org URLs whatever host
answered), so nothing off the site is ever requested. Placed before the robots
middleware (100): a refused host's robots.txt is not fetched either.
"""

from __future__ import annotations

from typing import Self
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler

from common.urls import SITE, is_site_url
from crawler.middlewares.refused import Refused


def root_netloc(crawler: Crawler) -> str | None:
    """host:port of `ARCHIVE_SITE_ROOT` when it is not the site itself."""
    root = (crawler.settings.get("ARCHIVE_SITE_ROOT") or SITE).rstrip("/")
    return None if root == SITE else urlsplit(root).netloc


def is_on_site(url: str, root: str | None) -> bool:
    """The site under either host name, or the replay root (same host and port)."""
    if is_site_url(url):
        return True
    parts = urlsplit(url)
    return root is not None and parts.scheme in ("http", "https") and parts.netloc == root


class OffsiteGuardMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.root = root_netloc(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if is_on_site(request.url, self.root):
            return
        self.crawler.stats.inc_value("archive/refused/offsite")
        chain = request.meta.get("redirect_urls")
        if chain:
            raise Refused("offsite", f"redirected off the site: {chain[-1]} -> {request.url}")
        raise Refused("offsite", f"off-site URL not fetched: {request.url}")
