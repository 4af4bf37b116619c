"""Fail a redirect back to a URL its own chain already visited.

Scrapy follows a loop until `REDIRECT_MAX_TIMES`, or its duplicate filter drops the
repeated URL without a word (the errback is never called): either way the page would
leave no trace in the run. Placed after the redirect middleware (600) in request
order, so it sees a 3xx response before it is followed.
"""

from __future__ import annotations

from typing import Self
from urllib.parse import urljoin, urlsplit, urlunsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from w3lib.url import safe_url_string

from crawler.middlewares.offsite import root_netloc
from crawler.middlewares.refused import Refused
from crawler.urls import SITE_HOSTS

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class RedirectLoopMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.root = root_netloc(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _same_place(self, url: str) -> str:
        # The site under either host and the replay root are one place: a redirect
        # from the root to www.mdanderson.org is mapped back onto the root.
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.hostname in SITE_HOSTS or (self.root and netloc == self.root):
            netloc = "site"
        return urlunsplit((parts.scheme if netloc != "site" else "", netloc, parts.path or "/",
                           parts.query, ""))  # fmt: skip

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
        visited = {self._same_place(url) for url in chain}
        if self._same_place(target) in visited:
            self.crawler.stats.inc_value("archive/refused/redirect_loop")
            raise Refused("redirect_loop", "redirect loop: " + " -> ".join([*chain, target]))
        return response
