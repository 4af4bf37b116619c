"""Scrapy middlewares of the crawl, one module per concern.

`site_root`: every site URL requested on `ARCHIVE_SITE_ROOT` (the replay server);
`retry`: retries that wait as long as the server's `Retry-After` asks;
`warc`: every request and response of the run into a gzipped WARC file.
"""

from crawler.middlewares.retry import RetryAfterMiddleware
from crawler.middlewares.site_root import SiteRootDownloaderMiddleware, SiteRootSpiderMiddleware
from crawler.middlewares.warc import WarcMiddleware

__all__ = [
    "RetryAfterMiddleware",
    "SiteRootDownloaderMiddleware",
    "SiteRootSpiderMiddleware",
    "WarcMiddleware",
]
