"""Scrapy middlewares of the crawl, one module per concern.

`site_root`: every site URL requested on `ARCHIVE_SITE_ROOT` (the replay server);
`offsite`: nothing off the site (or its root) is ever requested;
`robots`: Scrapy's robots.txt middleware, an unreachable robots.txt in one log line;
`retry`: retries that wait as long as the server's `Retry-After` asks;
`decompression`: gzip/deflate bodies decompressed whole and checked, within
`DOWNLOAD_MAXSIZE`;
`redirect_loop`: a redirect back into its own chain fails the page;
`warc`: every request and response of the run into a gzipped WARC file.
`refused.Refused` is what the guards raise: the spider's errback makes it an error row.
"""

from crawler.middlewares.decompression import StrictDecompressionMiddleware
from crawler.middlewares.offsite import OffsiteGuardMiddleware
from crawler.middlewares.redirect_loop import RedirectLoopMiddleware
from crawler.middlewares.refused import Refused
from crawler.middlewares.retry import RetryAfterMiddleware
from crawler.middlewares.robots import RobotsTxtMiddleware
from crawler.middlewares.site_root import SiteRootDownloaderMiddleware, SiteRootSpiderMiddleware
from crawler.middlewares.warc import WarcMiddleware

__all__ = [
    "OffsiteGuardMiddleware",
    "RedirectLoopMiddleware",
    "Refused",
    "RetryAfterMiddleware",
    "RobotsTxtMiddleware",
    "SiteRootDownloaderMiddleware",
    "SiteRootSpiderMiddleware",
    "StrictDecompressionMiddleware",
    "WarcMiddleware",
]
