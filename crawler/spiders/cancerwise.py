"""The crawl of the archived sections: discovery, modes, re-checks (docs/crawl.md).

Navigation only. Every fetched page leaves as a `PageItem` (URL, status, bytes,
headers, time, kind) for the pipelines to parse and persist, and the articles a
sitemap lists that need no fetch as one `SeenArticles`; the only reading done
here is following links, and listing pages are read through `parse_page` for that.
Whether a known article is fetched again, and how, is `crawler.freshness`.

Order of a run:
1. robots.txt → the sitemaps it declares → article URLs of the configured sections,
   with their `lastmod`; at the same time the landing page, the directory, the facet
   pages and the current year's archives (every run: they carry the tag counts).
2. When the spider first goes idle, discovery is complete: articles that only the
   listings link are fetched (an article listed by the sitemap was decided there).
3. On the next idle, known articles that discovery no longer lists are re-checked at
   their last URL (404/410: gone; a redirect is followed to the new URL).

An incremental run asks for listing pages it fetched before with their validators
(the landing page and the directory excepted: their facet links are read from the
page); a 304 is followed by the links the archive kept from the last fetch.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any, Self

from lxml import etree
from scrapy import Request, Selector, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    DontCloseSpider,
    DownloadCancelledError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.spiders import SitemapSpider
from scrapy.utils.misc import load_object
from scrapy.utils.sitemap import sitemap_urls_from_robots
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure

from crawler.freshness import conditional_headers, is_fresh, listing_headers, parse_lastmod
from crawler.items import PageItem, PageKind, SeenArticles
from crawler.middlewares.decompression import CorruptBody, TooLarge, decompress
from crawler.middlewares.offsite import is_on_site, root_netloc
from crawler.middlewares.refused import Refused
from crawler.parsers import PARSER_VERSION, PageError
from crawler.parsing import ParserPool
from crawler.urls import (
    SITE,
    article_code,
    article_key,
    canonicalize,
    choose_article_key,
    is_archive_url,
    is_article_url,
    listing_kind,
    same_section,
    section_of,
    site_url,
)

if TYPE_CHECKING:
    from crawler.knowledge import KnownArticle, KnownListing, ReadKnown

logger = logging.getLogger(__name__)

_ARCHIVE_YEAR = re.compile(r"/(\d{4})(?:/\d{2})?(?:\.html)?$")
# A section in a sitemap entry's path: `cancerwise` or `publications/<name>`.
_SECTION = r"(?:cancerwise|publications/[A-Za-z0-9][A-Za-z0-9-]*)"
# Kept on items: what a later re-fetch needs (conditional request) or a reader checks.
_KEPT_HEADERS = ("ETag", "Last-Modified", "Content-Type", "Date", "Location")
# Responses the spider wants to see rather than have HttpErrorMiddleware drop.
_ARTICLE_STATUSES = [304, 404, 410]
_ENTRY_STATUSES = [404]  # a publication may have no landing or directory page
_LISTING_STATUSES = [304]

# Discovery pages go first: the sooner the sitemaps are read, the sooner the
# incremental decisions are made and article requests fill the queue.
_PRIORITY_SITEMAP = 100
_PRIORITY_LISTING = 50
_PRIORITY_ARTICLE = 0

# A sitemap is read only when it is well-formed XML without a DTD: a cut one could
# carry a cut `<lastmod>` (a wrong date that spares a fetch), and no sitemap needs
# entities. Never from the network, never expanded.
_SITEMAP_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, recover=False, huge_tree=False
)
_SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
# Scrapy wraps the reasons of a lost connection: "[<twisted.python.failure.Failure
# twisted.internet.error.ConnectionLost: Connection to the other side was lost ...>]".
_WRAPPED_FAILURE = re.compile(r"Failure [\w.]*?(\w+): (.*?)>\]?$", re.DOTALL)


def normalize_section(name: str) -> str:
    """`cancer-frontline` and `publications/cancer-frontline` name the same section."""
    name = name.strip().strip("/")
    if name == "cancerwise" or "/" in name:
        return name
    return f"publications/{name}"


class Decided(set[str]):
    """Article keys decided in this run (requested, counted as seen, or skipped).

    `decide(key, effect)` names what the decision still has to do outside the spider:
    `fetch` (its request reaches the scheduler), `seen` (its mark is committed). A run
    of one process has nothing to do with it; a distributed run's shared set
    (`crawler.frontier.decisions`) keeps the decision pending until then, so that a
    process killed in between gives it back.
    """

    def decide(self, key: str, effect: str) -> None:
        self.add(key)


class CancerwiseSpider(SitemapSpider):
    name = "cancerwise"
    sitemap_urls = [f"{SITE}/robots.txt"]
    # Article pages and year/month archives, under the AEM site's URLs and the
    # extension-less ones of its redesign (Edge Delivery Services); everything else in
    # a sitemap is ignored. `sitemap_filter` has checked each entry with crawler.urls.
    sitemap_rules = [
        (r"\.h\d\d-\d+\.html$", "parse_article"),
        (rf"/{_SECTION}/\d{{4}}(?:/\d{{2}})?(?:\.html)?$", "parse_listing"),
        (rf"/{_SECTION}/[^/.?#]+$", "parse_article"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sections: list[str] = ["cancerwise"]
        self._new_sections: list[str] = []  # spelled by the site otherwise than configured
        self.mode = "incremental"
        self.follow_tags = False
        self.limit = 0
        self.since: datetime | None = None
        self.wanted_sitemaps: re.Pattern[str] = re.compile(r"/sitemap\.xml$")
        self.known: Mapping[str, KnownArticle] = {}
        self.known_listings: Mapping[str, KnownListing] = {}
        self.current_year = datetime.now(UTC).year
        # Article keys listed by the sitemaps or listings, and those already decided
        # (requested or counted as seen): an article is decided once per run.
        self._listed: set[str] = set()
        self._decided = Decided()
        # Every coded article URL discovery lists, by slug key: twins (one slug live
        # under two codes) are two articles (`crawler.urls.choose_article_key`).
        self._listed_urls: dict[str, set[str]] = {}
        self._holders: dict[str, str] = {}  # article key -> the URL it was last fetched at
        self._twin_keys: set[str] = set()
        self._listing_links: dict[str, str] = {}
        self._listing_urls: set[str] = set()
        self._seen: list[tuple[str, str]] = []
        self._article_requests = 0
        self._phase = "discovery"
        self.root: str | None = None  # host:port of the replay root, if any
        self.max_size = 0
        # A worker of a distributed run (docs/scale-out.md) only fetches what the shared
        # frontier hands it: discovery and its later phases are the coordinator's.
        self.worker = False
        self.parser = ParserPool(0)  # pages parsed in this process until configured

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider._configure(crawler)
        crawler.signals.connect(spider._on_spider_idle, signal=signals.spider_idle)
        return spider

    def _configure(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.sections = [normalize_section(s) for s in settings.getlist("ARCHIVE_SECTIONS")]
        if not self.sections:
            raise ValueError("ARCHIVE_SECTIONS is empty: name at least one section to archive")
        self.mode = settings.get("ARCHIVE_MODE", "incremental")
        if self.mode not in ("incremental", "full"):
            raise ValueError(f"ARCHIVE_MODE must be incremental or full, not {self.mode!r}")
        self.follow_tags = self.mode == "full" or settings.getbool("ARCHIVE_TAGS")
        self.limit = settings.getint("ARCHIVE_LIMIT")
        since = settings.get("ARCHIVE_SINCE")
        self.since = datetime.combine(date.fromisoformat(since), time(), UTC) if since else None
        # robots.txt declares sitemaps of the whole site; only ours and the general one.
        names = [*settings.getlist("ARCHIVE_SITEMAPS")]
        names += [f"{section.split('/')[0]}-sitemap.xml" for section in self.sections]
        alternatives = "|".join(re.escape(name) for name in dict.fromkeys(names))
        self.wanted_sitemaps = re.compile(rf"/(?:{alternatives})(?:\.gz)?$")
        self.root = root_netloc(crawler)
        self.max_size = settings.getint("DOWNLOAD_MAXSIZE")
        self.known, self.known_listings = self._read_known(
            settings.get("ARCHIVE_DB_URL"),
            settings.get("ARCHIVE_KNOWN_READER") or "storage.opening.read_known",
        )
        self._holders = {key: known.last_url for key, known in self.known.items()}
        self.worker = settings.get("ARCHIVE_ROLE") == "worker"
        self.parser = ParserPool.from_crawler(crawler)

    def _read_known(
        self, db_url: str | None, reader: str
    ) -> tuple[Mapping[str, KnownArticle], Mapping[str, KnownListing]]:
        """What the archive knows of articles (last URL, fetch time, validators) and of
        listing pages (validators, links: incremental runs only); empty without one.
        Read through `ARCHIVE_KNOWN_READER` (`crawler.knowledge`): never storage."""
        if not db_url:
            return {}, {}
        read_known: ReadKnown = load_object(reader)
        knowledge = read_known(db_url)
        try:
            # Links found by another parser version are not followed again unread.
            listings = (
                knowledge.known_listings(PARSER_VERSION) if self.mode == "incremental" else {}
            )
            return dict(knowledge.known_articles()), listings
        finally:
            knowledge.close()

    # --- Entry points ---------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        if self.worker:
            return
        for url in self.sitemap_urls:
            yield self._sitemap_request(url)
        for section in self.sections:
            for path in (f"/{section}.html", f"/{section}.dir.html"):
                self._listing_urls.add(f"{SITE}{path}")
                yield self._listing_request(f"{SITE}{path}", dont_filter=True, entry=True)

    # --- Sitemaps ---------------------------------------------------------------------

    def _parse_sitemap(self, response: Response) -> Iterator[Request | PageItem | SeenArticles]:
        # SitemapSpider's own callback, extended: its requests get this run's
        # decisions (conditional headers, kinds), and robots.txt's sitemaps are
        # narrowed to ours (the base class follows every one robots.txt declares).
        if response.url.endswith("/robots.txt"):
            for url in sitemap_urls_from_robots(response.body, base_url=response.url):
                # Another host's sitemap would list that host's pages: not ours.
                if self.wanted_sitemaps.search(url) and is_on_site(url, self.root):
                    yield self._sitemap_request(url)
            return
        problem = self._sitemap_problem(response)
        if problem is not None:
            # Refused whole: its entries are not used, and the run shows why.
            yield self._failed(response.request, "bad_sitemap", problem, response=response)
            return
        for request in super()._parse_sitemap(response):
            if request.callback == self._parse_sitemap:
                yield self._sitemap_request(request.url)
            elif request.callback == self.parse_listing:
                yield from self._new_listing(request.url)
            else:
                yield self._article_request(request.url, self._key_of(request.url))
        yield from self._section_entries()
        if self._seen:
            self.crawler.stats.inc_value("archive/discovery/not_modified", len(self._seen))
            yield SeenArticles(self._seen)
            self._seen = []

    def _sitemap_problem(self, response: Response) -> str | None:
        """Why this response is not a sitemap to read, or None when it is one."""
        body = response.body
        if body[:3] == b"\x1f\x8b\x08":  # a .xml.gz file, served as is
            try:
                body = decompress(body, "gzip", self.max_size)
            except (CorruptBody, TooLarge) as error:
                return f"bad sitemap: {error}"
        if not body.strip():
            return "bad sitemap: empty"
        try:
            root = etree.fromstring(body, _SITEMAP_PARSER)
        except etree.XMLSyntaxError as error:
            return f"malformed sitemap: {error}"
        tree = root.getroottree()
        if tree.docinfo.internalDTD is not None:
            return "bad sitemap: it declares a DTD (entities are not read)"
        name = etree.QName(root).localname if isinstance(root.tag, str) else ""
        if name not in _SITEMAP_ROOTS:
            return f"not a sitemap: the root element is <{name}>"
        return None

    def _sitemap_request(self, url: str) -> Request:
        return Request(
            url,
            callback=self._parse_sitemap,
            errback=self._on_error,
            priority=_PRIORITY_SITEMAP,
            # Discovery runs again on a resumed job: it rebuilds what was listed.
            dont_filter=True,
            meta={"kind": "sitemap"},
        )

    def sitemap_filter(self, entries: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Keep the entries to fetch; the rest of this run's sitemap decisions live here."""
        ours = []
        for entry in entries:
            loc = entry.get("loc") or ""
            if not loc:
                continue
            if not is_on_site(loc, self.root):
                # Another host's URL with a section-looking path: fetching it would
                # store that host's page under the site's URL.
                self.crawler.stats.inc_value("archive/discovery/offsite_entries")
                continue
            section = section_of(loc)
            if not same_section(section, self.sections):
                continue
            self._spell_section(section)
            if is_article_url(loc):
                self._list_article(loc)
            ours.append(entry)
        # The whole sitemap is listed before any of it is decided: a twin's key depends
        # on the other twins, wherever the sitemap lists them.
        for entry in ours:
            loc = entry["loc"]
            if is_article_url(loc):
                if self._want_sitemap_article(loc, entry.get("lastmod")):
                    yield entry
            elif is_archive_url(loc) and self._want_archive(loc):
                yield entry
            elif listing_kind(loc) is None:
                yield entry  # a nested sitemap of a sitemap index

    def _want_sitemap_article(self, loc: str, lastmod_text: str | None) -> bool:
        lastmod = parse_lastmod(lastmod_text)
        key = self._key_of(loc)
        self._listed.add(key)
        if key in self._decided:
            return False
        if self.since and lastmod and lastmod < self.since:
            self._decided.add(key)
            return False
        if is_fresh(lastmod_text, self.known.get(key), loc, mode=self.mode):
            self._decided.decide(key, "seen")
            self._seen.append((key, canonicalize(loc)))  # counted when their item leaves
            return False
        return self._claim_article(key)

    # --- Sections and identities --------------------------------------------------------

    def _spell_section(self, section: str | None) -> None:
        """The site's own spelling of a section the user typed in another case
        (`publications/advanceteam` for `publications/AdvanceTeam`): its entry pages are
        asked for under the site's spelling too (`_section_entries`)."""
        if section is None or section in self.sections:
            return
        self.sections.append(section)
        self._new_sections.append(section)

    def _section_entries(self) -> Iterator[Request]:
        for section in self._new_sections:
            for path in (f"/{section}.html", f"/{section}.dir.html"):
                if f"{SITE}{path}" not in self._listing_urls:
                    self._listing_urls.add(f"{SITE}{path}")
                    yield self._listing_request(f"{SITE}{path}", dont_filter=True, entry=True)
        self._new_sections.clear()

    def _list_article(self, url: str) -> None:
        """`url` is a live article URL by this run's discovery (a sitemap or a listing)."""
        if article_code(url) is not None:
            self._listed_urls.setdefault(article_key(url), set()).add(canonicalize(url))

    def _key_of(self, url: str) -> str:
        """The key of the article at `url`, by the one rule of identity."""
        slug_key = article_key(url)
        key = choose_article_key(url, self._listed_urls.get(slug_key, ()), self._holders)
        if key != slug_key and key not in self._twin_keys:
            self._twin_keys.add(key)
            self.crawler.stats.inc_value("archive/discovery/twins")
            if key not in self._holders:
                logger.info(
                    "twin: %(url)s is another article than %(slug)s, archived as %(key)s",
                    {"url": url, "slug": slug_key, "key": key},
                )
        return key

    def _want_archive(self, url: str) -> bool:
        match = _ARCHIVE_YEAR.search(url)
        return self.mode == "full" or bool(match and int(match.group(1)) >= self.current_year)

    # --- Requests ---------------------------------------------------------------------

    def _claim_article(self, key: str) -> bool:
        """Decide to fetch `key` unless decided already or over `--limit`."""
        if key in self._decided:
            return False
        if self.limit and self._article_requests >= self.limit:
            self.crawler.stats.inc_value("archive/discovery/over_limit")
            return False
        self._decided.decide(key, "fetch")
        self._article_requests += 1
        return True

    def _article_request(self, url: str, key: str, recheck: bool = False) -> Request:
        headers = conditional_headers(self.known.get(key), url, mode=self.mode)
        return Request(
            url,
            callback=self.parse_article,
            errback=self._on_error,
            headers=headers or None,
            priority=_PRIORITY_ARTICLE,
            meta={
                "kind": "article",
                "article_key": key,
                "recheck": recheck,
                "handle_httpstatus_list": _ARTICLE_STATUSES,
            },
        )

    def _listing_request(self, url: str, dont_filter: bool = False, entry: bool = False) -> Request:
        meta: dict[str, Any] = {"kind": "listing"}
        headers: dict[str, str] = {}
        if entry:
            # A publication may have no landing or directory page: a 404 there is news
            # about the site's shape, not a failed fetch. Always read whole: the facet
            # links are read from the page itself.
            meta["handle_httpstatus_list"] = _ENTRY_STATUSES
        else:
            headers = listing_headers(self.known_listings.get(url), mode=self.mode)
            if headers:
                meta["handle_httpstatus_list"] = _LISTING_STATUSES
        return Request(
            url,
            callback=self.parse_listing,
            errback=self._on_error,
            headers=headers or None,
            priority=_PRIORITY_LISTING,
            dont_filter=dont_filter,
            meta=meta,
        )

    # --- Callbacks ----------------------------------------------------------------------

    async def parse_article(self, response: Response) -> AsyncIterator[PageItem]:
        url = canonicalize(response.url)
        key = response.meta.get("article_key")
        if key is None or article_key(url) != article_key(key):
            # Redirected to another slug: the page where it now is says which article.
            key = self._key_of(url)
        if response.status in (404, 410) and key not in self.known:
            # A listing's link to a page that does not exist: nothing to mark removed.
            self.crawler.stats.inc_value("archive/broken_links")
            logger.info(
                "broken link: %(url)s (%(status)d)", {"url": url, "status": response.status}
            )
            return
        item = self._item(response, PageKind.ARTICLE, url=url)
        item.article_key = key
        if response.status == 200:
            await self._read(item)
        yield item

    async def parse_listing(self, response: Response) -> AsyncIterator[PageItem | Request]:
        url = site_url(response.url)
        if response.status == 404:
            self.crawler.stats.inc_value("archive/discovery/missing_entry_pages")
            logger.info("no such entry page: %(url)s", {"url": url})
            return
        item = self._item(response, PageKind.LISTING, url=url)
        if response.status == 304:
            # Not modified since the last fetch: stored as it was, followed as it was.
            self.crawler.stats.inc_value("archive/discovery/listings_not_modified")
            known = self.known_listings.get(url)
            yield item
            if known is not None:
                record = {"listing_kind": known.listing_kind, **known.links}
                for request in self._follow_listing(response, url, record):
                    yield request
            return
        await self._read(item)
        yield item
        if item.record is not None:
            for request in self._follow_listing(response, url, item.record):
                yield request

    async def _read(self, item: PageItem) -> None:
        """Parse the page once, for the validate pipeline: `item.record`, or for a page of
        status 200 (the only ones the pipeline reads) the reason it is no record in
        `item.error`. A parser bug is never a spider error: the item goes on unread, and
        the pipeline, parsing it again in this process, records the bug."""
        try:
            item.record = await self.parser.parse(item.body, item.url)
        except PageError as error:
            if item.status == 200:
                item.error = error.reason
        except Exception:
            return

    def _follow_listing(
        self, response: Response, url: str, record: dict[str, Any]
    ) -> Iterator[Request]:
        kind = record.get("listing_kind")
        for link in record.get("article_links", []):
            if same_section(section_of(link), self.sections):
                yield from self._listing_article(link)
        for link in record.get("archive_links", []):
            if same_section(section_of(link), self.sections) and self._want_archive(link):
                yield from self._new_listing(link)
        next_page = record.get("next_page")
        # Every run reads first pages (tag counts, new articles); the rest of a long
        # listing only adds article tags, which full runs and --tags collect.
        if next_page and (kind in ("archive", "landing") or self.follow_tags):
            yield from self._new_listing(next_page)
        # Facet and author pages are not record fields: found as links, like a reader
        # would. The landing page and the directory link every facet (the sidebar of
        # every other page repeats them); author pages only matter to full runs.
        wanted: tuple[str, ...] = ()
        if kind in ("landing", "directory") and "?" not in url:
            wanted = ("facet", "author") if self.mode == "full" else ("facet",)
        elif kind in ("facet", "archive") and self.mode == "full":
            wanted = ("author",)
        for link in self._listing_links_of(response, wanted):
            yield from self._new_listing(link)

    def _listing_links_of(self, response: Response, kinds: tuple[str, ...]) -> Iterator[str]:
        """Links to listing pages of `kinds` (facet, author) in the configured sections."""
        marks = {"facet": "cq:tags", "author": "/author/"}
        selector = ", ".join(f"a[href*='{marks[kind]}']::attr(href)" for kind in kinds)
        if not selector or not isinstance(response, TextResponse):
            return  # parse_page read it as HTML, but Scrapy's selectors need a text type
        # A selector of its own rather than the response's cached one (and no cached
        # text): the response may stay alive a while after its callback, and its tree
        # is 1-2 MB (a crawl of a fast replay server peaked at 419 MB with it, 189 without).
        page = Selector(body=response.body, encoding=response.encoding, type="html")
        for href in page.css(selector).getall():
            link = site_url(response.urljoin(href))
            if same_section(section_of(link), self.sections) and listing_kind(link) in kinds:
                yield link.split("?", 1)[0]  # a first page: next pages come from it

    def _new_listing(self, url: str) -> Iterator[Request]:
        # Sidebars and archive menus repeat the same links on every page: filtered
        # here, a set lookup, rather than as thousands of requests in the scheduler.
        if url not in self._listing_urls:
            self._listing_urls.add(url)
            yield self._listing_request(url)

    def _listing_article(self, url: str) -> Iterator[Request]:
        self._list_article(url)
        if self._phase == "discovery":
            # The sitemap may still list it with a lastmod that spares the fetch, and
            # its key waits for every twin discovery lists.
            self._listing_links.setdefault(canonicalize(url), url)
            return
        key = self._key_of(url)
        self._listed.add(key)
        if self._claim_article(key):
            yield self._article_request(url, key)

    def _item(self, response: Response, kind: PageKind, url: str) -> PageItem:
        headers = {}
        for name in _KEPT_HEADERS:
            value = response.headers.get(name)
            if value is not None:
                headers[name] = value.decode("latin-1")
        return PageItem(
            url=url,
            kind=kind,
            status=response.status,
            body=response.body,
            headers=headers,
            fetched_at=datetime.now(UTC),
            fetched_url=response.url,
        )

    def _on_error(self, failure: Failure) -> Iterator[PageItem]:
        """A fetch that failed for good (after retries): counted, recorded, never fatal."""
        if is_robots_refusal(failure):
            return  # disallowed by robots.txt: not fetched on purpose, not an error
        kind, reason = failure_reason(failure, self.max_size)
        status = failure.value.response.status if failure.check(HttpError) else None
        request = failure.request
        if failure.check(Refused) and request.meta.get("redirect_urls"):
            # The page that failed is the one asked for, not where its redirects led.
            request = request.replace(url=request.meta["redirect_urls"][0])
        yield self._failed(request, kind, reason, status=status)

    def _failed(
        self,
        request: Request,
        kind: str,
        reason: str,
        status: int | None = None,
        response: Response | None = None,
    ) -> PageItem:
        """The error row of a page that failed: counted as a fetch error of the run."""
        stats = self.crawler.stats
        stats.inc_value("archive/fetch_errors")
        stats.inc_value(f"archive/fetch_errors/{kind}")
        logger.warning("fetch failed: %(url)s: %(reason)s", {"url": request.url, "reason": reason})
        url = request.url
        # An item, so the run's error rows in the archive show it beside parse errors.
        return PageItem(
            url=site_url(url) if is_on_site(url, self.root) else url,
            kind=PageKind.FAILED,
            status=status if response is None else response.status,
            body=b"" if response is None else response.body,
            fetched_at=datetime.now(UTC),
            fetched_url=url,
            error=reason,
        )

    # --- Later phases -------------------------------------------------------------------

    def _on_spider_idle(self) -> None:
        if self.worker:
            return  # idle only when the run is over
        requests: list[Request] = []
        if self._phase == "discovery":
            self._phase = "listing-links"
            for url in self._listing_links.values():
                key = self._key_of(url)
                self._listed.add(key)
                if self._claim_article(key):
                    requests.append(self._article_request(url, key))
            self._listing_links.clear()
        if not requests and self._phase == "listing-links":
            self._phase = "recheck"
            requests = list(self._recheck_requests())
        if requests:
            logger.info(
                "%(phase)s: %(n)d more requests", {"phase": self._phase, "n": len(requests)}
            )
            for request in requests:
                # Requests from here skip the spider middlewares: the site-root
                # downloader middleware maps them.
                self.crawler.engine.crawl(request)
            raise DontCloseSpider

    def _recheck_requests(self) -> Iterator[Request]:
        for key, known in self.known.items():
            if key in self._listed or key in self._decided:
                continue
            if known.status in ("removed", "gone"):
                continue
            if not same_section(section_of(known.last_url), self.sections):
                continue
            if self._claim_article(key):
                self.crawler.stats.inc_value("archive/discovery/rechecks")
                yield self._article_request(known.last_url, key, recheck=True)


def is_robots_refusal(failure: Failure) -> bool:
    """Scrapy's robots.txt middleware refused the request (the one deliberate ignore)."""
    error = failure.value
    return (
        isinstance(error, IgnoreRequest)
        and not isinstance(error, HttpError | Refused)
        and str(error) == "Forbidden by robots.txt"
    )


def failure_reason(failure: Failure, max_size: int = 0) -> tuple[str, str]:
    """(stat name, error row reason) of a fetch that failed for good; never an empty reason."""
    error = failure.value
    message = failure.getErrorMessage().strip()
    if isinstance(error, HttpError):
        status = error.response.status
        return f"http_{status}", f"HTTP {status}"
    if isinstance(error, Refused):
        return error.kind, error.reason
    if isinstance(error, DownloadTimeoutError):
        return "timeout", f"timeout: {message}" if message else "timeout"
    if isinstance(error, ResponseDataLossError):
        # Scrapy raises it without a message: the body ended before its Content-Length.
        return "data_loss", "body cut short: the connection closed before Content-Length bytes"
    if isinstance(error, DownloadCancelledError | CancelledError):
        # Scrapy's HTTP handler cancels a download for one reason: a body over
        # DOWNLOAD_MAXSIZE, announced (with a message) or counted while it arrives
        # (without one). A timeout is DownloadTimeoutError.
        if message:
            return "too_large", f"too large: {message}"
        return "too_large", f"too large: the body passed DOWNLOAD_MAXSIZE ({max_size} B)"
    if isinstance(error, IgnoreRequest):
        # Scrapy's own: "max redirections reached", a brotli body over the maximum ...
        return "ignored", f"not fetched: {message or type(error).__name__}"
    name = type(error).__name__
    wrapped = _WRAPPED_FAILURE.search(message)
    if wrapped:  # the twisted failure inside, by name: "ConnectionLost: Connection ..."
        message = f"{wrapped.group(1)}: {wrapped.group(2).strip()}"
    return "no_response", f"no response: {name}: {message}" if message else f"no response: {name}"
