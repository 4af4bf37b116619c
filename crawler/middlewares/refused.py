"""`Refused`: a request or response the crawl will not use, and why.

Raised by the guard middlewares (off-site URLs, redirect loops, bodies that do not
decompress or are too large). It subclasses Scrapy's `IgnoreRequest`, so Scrapy
drops the request quietly and calls its errback, where the spider turns `reason`
into the page's error row: unlike robots.txt's refusals, these pages failed.
"""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest


class Refused(IgnoreRequest):
    """`kind` names the stat (`archive/fetch_errors/<kind>`); `reason` the error row's."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
