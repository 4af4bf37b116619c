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

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    DontCloseSpider,
)
from scrapy.http import Response
from scrapy.spiders import SitemapSpider
from scrapy.utils.misc import load_object
from scrapy.utils.sitemap import sitemap_urls_from_robots

from common.urls import (
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
)
from crawler.failures import FailedPages
from crawler.freshness import conditional_headers, is_fresh, listing_headers, parse_lastmod
from crawler.items import PageItem, PageKind, SeenArticles
from crawler.middlewares.offsite import is_on_site, root_netloc
from crawler.parsers import PARSER_VERSION, PageError
from crawler.parsing import ParserPool
from crawler.sitemaps import sitemap_problem
from crawler.spiders.listings import ListingPages

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


class CancerwiseSpider(ListingPages, FailedPages, SitemapSpider):
    name = "cancerwise"
    sitemap_urls = [f"{SITE}/robots.txt"]
    # Article pages and year/month archives, under the AEM site's URLs and the
    # extension-less ones of its redesign (Edge Delivery Services); everything else in
    # a sitemap is ignored. `sitemap_filter` has checked each entry with common.urls.
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
        # under two codes) are two articles (`common.urls.choose_article_key`).
        self._listed_urls: dict[str, set[str]] = {}
        self._holders: dict[str, str] = {}  # article key -> the URL it was last fetched at
        self._twin_keys: set[str] = set()
        self._twin_slugs: set[str] = set()  # slug keys the archive has a coded twin of
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
        slugs = ((article_key(key), key) for key in self._holders)
        self._twin_slugs = {slug for slug, key in slugs if slug != key}
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
        problem = sitemap_problem(response.body, self.max_size)
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
        listed = self._listed_urls.get(slug_key, ())
        if slug_key not in self._twin_slugs and (
            not listed or (len(listed) == 1 and canonicalize(url) in listed)
        ):
            # No twin known or listed: the slug's key (the rule's answer, without its
            # cost for each of a sitemap's 3,400 entries).
            return slug_key
        key = choose_article_key(url, listed, self._holders)
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

    # --- Later phases -------------------------------------------------------------------

    def _on_spider_idle(self) -> None:
        if self.worker:
            return  # idle only when the run is over
        requests: list[Request] = []
        if self._phase == "discovery":
            self._phase = "listing-links"
            for _, url in self._listing_links.items():  # a SharedDict in a distributed run
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
