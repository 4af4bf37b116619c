"""Scrapy's robots.txt middleware, with robots.txt read as RFC 9309 says.

Scrapy fetches robots.txt (with its retries and redirects) and parses whatever body
comes back; a robots.txt it could not fetch leaves every page allowed. RFC 9309
(2.3.1.3, 2.3.1.4) distinguishes the answers, and so does this middleware:

- 2xx: the rules are obeyed (Scrapy's behaviour).
- 4xx ("unavailable"): there are no rules, whatever the error page says; every page
  is allowed. The spider's own request for robots.txt (it reads the sitemaps robots.txt
  declares) then reaches its callback as a robots.txt with nothing in it, not as a
  failed page: a site without robots.txt is not an error of the run.
- 5xx (or 429) after the retries, or no answer at all (connection refused, timeout,
  DNS, a body cut short; "unreachable"): every page is disallowed. Nothing of that host is
  requested, the crawl closes with the reason `robots_unavailable` (the run is
  `failed`, so it removes nothing) and the stat `archive/robots_unavailable` says why;
  `cwarchive crawl` and `worker` turn it into their exit status and one `error:` line.
- A redirect chain that goes nowhere (too many, a loop, off the site) is unavailable
  as well (2.3.1.2): every page allowed, as Scrapy did.

An unreachable robots.txt is also one log line, not Scrapy's traceback: a failing
server is routine here, not a crawler bug.
"""

from __future__ import annotations

import logging
from typing import Self

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares import robotstxt
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.middlewares.refused import Refused

logger = logging.getLogger(__name__)

# The close reason of a crawl whose robots.txt could not be fetched (`cwarchive crawl`
# reads it for its exit status).
ROBOTS_UNAVAILABLE = "robots_unavailable"
# The stat that holds why: "<robots.txt URL>: <what happened>".
UNAVAILABLE_STAT = "archive/robots_unavailable"
# A 4xx, but the server asking to be left alone: after its retries, read as a 5xx
# (RFC 9309 lets a 4xx allow everything; it does not require it).
TOO_MANY_REQUESTS = 429
# What the guards refuse that is a broken answer, not a redirect that went nowhere.
_BROKEN_BODY = frozenset({"too_large", "corrupt_body"})


class _NoTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True


class DisallowAll(RobotParser):
    """The rules of an unreachable robots.txt (RFC 9309 2.3.1.4): nothing is allowed."""

    @classmethod
    def from_crawler(cls, crawler: Crawler, robotstxt_body: bytes) -> Self:
        return cls()

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False


def _relay(result: RobotParser | None, waiter: Deferred[RobotParser | None]) -> RobotParser | None:
    waiter.callback(result)
    return result


def _is_robots_txt(request: Request) -> bool:
    return urlparse_cached(request).path == "/robots.txt"


class RobotsTxtMiddleware(robotstxt.RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        scrapy_logger = logging.getLogger(robotstxt.__name__)
        if not any(isinstance(f, _NoTraceback) for f in scrapy_logger.filters):
            scrapy_logger.addFilter(_NoTraceback())
        self._robots_urls: dict[str, str] = {}

    def process_response(self, request: Request, response: Response) -> Response:
        # The spider's own request for robots.txt (the middleware's carries
        # `dont_obey_robotstxt`): a 4xx is "no robots.txt", read as an empty one rather
        # than dropped by HttpErrorMiddleware as a failed page. Its body is an error
        # page, not rules or sitemaps. The WARC (later in request order) has it as sent.
        if (
            400 <= response.status < 500
            and response.status != TOO_MANY_REQUESTS
            and _is_robots_txt(request)
            and not request.meta.get("dont_obey_robotstxt")
        ):
            request.meta["handle_httpstatus_list"] = [response.status]
            return response.replace(body=b"")
        return response

    async def robot_parser(self, request: Request) -> RobotParser | None:
        url = urlparse_cached(request)
        self._robots_urls.setdefault(url.netloc, f"{url.scheme}://{url.netloc}/robots.txt")
        parser = self._parsers.get(url.netloc)
        if isinstance(parser, Deferred):
            # Scrapy 2.19 awaits the one Deferred of a pending robots.txt from every
            # request that waits for it; turned into a future, a Deferred hands its
            # result to the first and None ("no robots.txt": allowed) to the others.
            # Each waiter gets its own Deferred, relayed from the shared one.
            mine: Deferred[RobotParser | None] = Deferred()
            parser.addCallback(_relay, mine)
            return await maybe_deferred_to_future(mine)
        return await super().robot_parser(request)

    # Scrapy's two outcomes of its robots.txt fetch, sorted by RFC 9309.

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500 or response.status == TOO_MANY_REQUESTS:  # after retries
            self._stats.inc_value("robotstxt/response_count")
            self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
            self._unavailable(netloc, f"HTTP {response.status}")
            return
        if 400 <= response.status < 500:
            response = response.replace(body=b"")  # no rules: everything allowed
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, IgnoreRequest) and not (
            isinstance(exc, Refused) and exc.kind in _BROKEN_BODY
        ):
            super()._robots_error(exc, netloc)  # a redirect chain that went nowhere
            return
        self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        what = str(exc).strip()
        self._unavailable(netloc, f"{type(exc).__name__}: {what}" if what else type(exc).__name__)

    def _unavailable(self, netloc: str, reason: str) -> None:
        """Disallow everything on `netloc` and close the crawl (RFC 9309 2.3.1.4)."""
        where = self._robots_urls.get(netloc, f"{netloc}/robots.txt")
        logger.error(
            "robots.txt unavailable: %(url)s: %(reason)s; RFC 9309 reads that as every page "
            "disallowed: nothing more is requested and the crawl closes",
            {"url": where, "reason": reason},
        )
        self._stats.set_value(UNAVAILABLE_STAT, f"{where}: {reason}")
        waiting = self._parsers[netloc]
        self._parsers[netloc] = parser = DisallowAll()
        if isinstance(waiting, Deferred):
            waiting.callback(parser)  # the requests that waited are refused
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason=ROBOTS_UNAVAILABLE))
