"""Fail a redirect back to a URL its own chain already visited.

Scrapy follows a loop until `REDIRECT_MAX_TIMES`, or its duplicate filter drops the
repeated URL without a word (the errback is never called): either way the page would
leave no trace in the run. Placed after the redirect middleware (600) in request
order, so it sees a 3xx response before it is followed.
"""

from __future__ import annotations

from typing import Self
from urllib.parse import urldefrag, urljoin

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from w3lib.url import safe_url_string

from common.urls import SITE, on_root
from crawler.middlewares.refused import Refused

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class RedirectLoopMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        root = (crawler.settings.get("ARCHIVE_SITE_ROOT") or SITE).rstrip("/")
        self.root = None if root == SITE else root

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _fetched_as(self, url: str) -> str:
        # Under --site, a Location on www.mdanderson.org is requested on the root (the
        # site-root middleware maps it): compared as it will be fetched. On the live
        # site URLs compare as they are: http -> https or mdanderson.org -> www is no loop.
        url = urldefrag(url).url
        return on_root(url, self.root) if self.root else url

    def process_response(self, request: Request, response: Response) -> Response:
        meta = request.meta
        if (
            response.status not in _REDIRECTS
            or meta.get("dont_redirect")
            or meta.get("handle_httpstatus_all")
            or response.status in meta.get("handle_httpstatus_list", ())
        ):
            return response
        location = response.headers.get("Location")
        if not location:
            return response
        target = urljoin(request.url, safe_url_string(location.decode("latin-1")))
        chain = [*meta.get("redirect_urls", []), request.url]
        visited = {self._fetched_as(url) for url in chain}
        if self._fetched_as(target) in visited:
            self.crawler.stats.inc_value("archive/refused/redirect_loop")
            raise Refused("redirect_loop", "redirect loop: " + " -> ".join([*chain, target]))
        return response
