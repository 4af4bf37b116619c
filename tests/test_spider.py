"""crawler/spiders/cancerwise.py: the spider's decisions, without a network.

Through its public surface only: built with `from_crawler` on the project's settings
(what the archive knows comes from a real SQLite archive, `ARCHIVE_DB_URL`), fed
responses to the requests it yields itself, idled through the `spider_idle` signal.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import XmlResponse
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawler.items import PageItem, PageKind, SeenArticles
from crawler.parsers import PARSER_VERSION
from crawler.spiders.cancerwise import CancerwiseSpider, normalize_section
from storage import Archive
from tests.crawling import ARTICLE, ARTICLE_URL, project_settings, respond
from tests.storage_records import article, listing, raw_page

SITE = "https://www.mdanderson.org"

ROBOTS = b"""User-agent: *
Disallow: /search
Sitemap: https://www.mdanderson.org/sitemap.xml
Sitemap: https://www.mdanderson.org/cancerwise-sitemap.xml
Sitemap: https://www.mdanderson.org/newsroom-sitemap.xml
Sitemap: https://www.mdanderson.org/publications-sitemap.xml.gz
"""

# Served as the general sitemap.xml, which every configuration reads.
SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://www.mdanderson.org/cancerwise/old.h00-1.html</loc>
     <lastmod>2026-01-01T12:00:00Z</lastmod></url>
<url><loc>https://www.mdanderson.org/cancerwise/edited.h00-2.html</loc>
     <lastmod>2026-11-01T12:00:00Z</lastmod></url>
<url><loc>https://www.mdanderson.org/cancerwise/moved.h00-9.html</loc>
     <lastmod>2026-01-01T12:00:00Z</lastmod></url>
<url><loc>https://www.mdanderson.org/cancerwise/brand-new.h00-4.html</loc>
     <lastmod>2026-11-20</lastmod></url>
<url><loc>https://www.mdanderson.org/newsroom/other-section.h00-5.html</loc></url>
<url><loc>https://www.mdanderson.org/cancerwise/2019/04.html</loc></url>
</urlset>"""

# What the archive knows: slug -> h00 of the last fetch. `moved` is listed under a new
# h00 URL, `unlisted` is not listed at all, `withdrawn` was removed by an earlier run.
KNOWN = {"old": 1, "edited": 2, "moved": 3, "unlisted": 6, "withdrawn": 7}
FETCHED = datetime(2026, 6, 1, tzinfo=UTC)
LAST_MODIFIED = "Thu, 01 Jan 2026 12:00:00 GMT"


@pytest.fixture(scope="module")
def known_archive(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An archive URL: every article of KNOWN fetched on June 1st with validators."""
    url = f"sqlite:///{tmp_path_factory.mktemp('spider') / 'archive.sqlite'}"
    with Archive.open(url) as archive:
        run = archive.start_run("incremental")
        for slug, h00 in KNOWN.items():
            record = article(f"cancerwise/{slug}", h00=h00)
            archive.save_article(
                run,
                record,
                raw=raw_page(record),
                url=record["url"],
                fetched_at=FETCHED,
                etag='"abc"',
                last_modified=LAST_MODIFIED,
            )
        archive.finish_run(run)
        run = archive.start_run("incremental")
        gone = f"{SITE}/cancerwise/withdrawn.h00-7.html"
        archive.mark_gone(run, "cancerwise/withdrawn", url=gone, http_status=410)
        archive.finish_run(run)
    return url


class Engine:
    """The one thing the spider asks of Scrapy's engine: to crawl a request."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    def crawl(self, request: Request) -> None:
        self.requests.append(request)


def spider_for(**settings: Any) -> tuple[Crawler, CancerwiseSpider]:
    """The spider of a crawl with `settings`; no archive unless ARCHIVE_DB_URL is given
    (the project's default is a file in the working directory)."""
    crawler = get_crawler(CancerwiseSpider, project_settings(**{"ARCHIVE_DB_URL": "", **settings}))
    crawler.stats.open_spider()
    crawler.engine = Engine()  # type: ignore[assignment]
    return crawler, CancerwiseSpider.from_crawler(crawler)


def start(spider: CancerwiseSpider) -> list[Request]:
    async def collect() -> list[Request]:
        return [request async for request in spider.start()]

    return asyncio.run(collect())


def go_idle(crawler: Crawler, spider: CancerwiseSpider) -> bool:
    """Fire spider_idle as the engine does: True when the spider asks to stay open."""
    stay = False
    results = crawler.signals.send_catch_log(
        signals.spider_idle, spider=spider, dont_log=DontCloseSpider
    )
    for _, result in results:
        if isinstance(result, Failure):
            if not result.check(DontCloseSpider):
                result.raiseException()
            stay = True
    return stay


def read_sitemap(**settings: Any) -> tuple[Crawler, CancerwiseSpider, list[Any]]:
    """The spider after robots.txt and the general sitemap, and what the sitemap gave."""
    crawler, spider = spider_for(**settings)
    (robots,) = [r for r in start(spider) if r.url.endswith("/robots.txt")]
    sitemaps = respond(robots, ROBOTS)
    (general,) = [r for r in sitemaps if r.url == f"{SITE}/sitemap.xml"]
    return crawler, spider, respond(general, SITEMAP, XmlResponse)


def article_requests(output: list[Any]) -> dict[str, Request]:
    requests = (r for r in output if isinstance(r, Request) and ".h00-" in r.url)
    return {r.url.rsplit("/", 1)[1]: r for r in requests}


@pytest.mark.parametrize(
    ("name", "section"),
    [
        ("cancerwise", "cancerwise"),
        ("cancer-frontline", "publications/cancer-frontline"),
        ("publications/cancer-frontline/", "publications/cancer-frontline"),
    ],
)
def test_normalize_section(name: str, section: str) -> None:
    assert normalize_section(name) == section


def test_start_asks_for_robots_txt_and_the_entry_pages() -> None:
    _, spider = spider_for(ARCHIVE_SECTIONS=["cancerwise", "cancer-frontline"])
    requests = start(spider)
    assert [r.url for r in requests] == [
        f"{SITE}/robots.txt",
        f"{SITE}/cancerwise.html",
        f"{SITE}/cancerwise.dir.html",
        f"{SITE}/publications/cancer-frontline.html",
        f"{SITE}/publications/cancer-frontline.dir.html",
    ]
    # A publication without a landing page is news, not a failed fetch.
    assert all(404 in r.meta["handle_httpstatus_list"] for r in requests[1:])


@pytest.mark.parametrize(
    ("sections", "sitemaps"),
    [
        (["cancerwise"], ["sitemap.xml", "cancerwise-sitemap.xml"]),
        (["cancer-frontline"], ["sitemap.xml", "publications-sitemap.xml.gz"]),
    ],
)
def test_robots_txt_sitemaps_are_narrowed_to_ours(sections: list[str], sitemaps: list[str]) -> None:
    _, spider = spider_for(ARCHIVE_SECTIONS=sections)
    (robots,) = [r for r in start(spider) if r.url.endswith("/robots.txt")]
    assert [r.url for r in respond(robots, ROBOTS)] == [f"{SITE}/{name}" for name in sitemaps]


def test_incremental_decisions_from_the_sitemap(known_archive: str) -> None:
    crawler, spider, output = read_sitemap(ARCHIVE_DB_URL=known_archive)
    requests = {r.url.rsplit("/", 1)[1]: r for r in output if isinstance(r, Request)}
    # Not newer than the last fetch nor than its Last-Modified: not fetched, seen; the
    # sitemap's seen articles leave as one item, after its requests.
    assert not [i for i in output if isinstance(i, PageItem)]
    assert isinstance(output[-1], SeenArticles)
    assert output[-1].urls == [f"{SITE}/cancerwise/old.h00-1.html"]
    assert crawler.stats.get_value("archive/discovery/not_modified") == 1
    assert set(requests) == {"edited.h00-2.html", "moved.h00-9.html", "brand-new.h00-4.html"}
    edited = requests["edited.h00-2.html"]
    assert edited.headers[b"If-None-Match"] == b'"abc"'
    assert edited.headers[b"If-Modified-Since"] == LAST_MODIFIED.encode()
    # A new h00 URL is another page: no validators of the old one.
    assert b"If-None-Match" not in requests["moved.h00-9.html"].headers
    assert b"If-None-Match" not in requests["brand-new.h00-4.html"].headers
    # Known but no longer listed: re-checked at its last URL once discovery is over
    # (a removed article is not).
    assert go_idle(crawler, spider)
    rechecks = crawler.engine.requests  # type: ignore[attr-defined]
    assert [r.url for r in rechecks] == [f"{SITE}/cancerwise/unlisted.h00-6.html"]
    assert rechecks[0].meta["recheck"] and 410 in rechecks[0].meta["handle_httpstatus_list"]
    assert rechecks[0].headers[b"If-None-Match"] == b'"abc"'
    assert crawler.stats.get_value("archive/discovery/rechecks") == 1
    # Nothing left to do: the spider may close.
    assert not go_idle(crawler, spider)


def test_full_mode_fetches_everything_unconditionally(known_archive: str) -> None:
    _, _, output = read_sitemap(ARCHIVE_DB_URL=known_archive, ARCHIVE_MODE="full")
    requests = [r for r in output if isinstance(r, Request)]
    articles = article_requests(output)
    assert len(articles) == 4
    assert not any(b"If-None-Match" in r.headers for r in articles.values())
    assert not any(isinstance(i, PageItem) for i in output)
    # Full runs read every year's archives, not only the current year's.
    assert any(r.url.endswith("/2019/04.html") for r in requests)


@pytest.mark.parametrize(
    ("settings", "fetched"),
    [
        ({"ARCHIVE_LIMIT": 1}, 1),
        ({"ARCHIVE_SINCE": "2026-11-15"}, 1),  # only brand-new's lastmod is after
        ({"ARCHIVE_SECTIONS": ["cancer-frontline"]}, 0),
    ],
)
def test_limit_since_and_section(
    known_archive: str, settings: dict[str, Any], fetched: int
) -> None:
    _, _, output = read_sitemap(ARCHIVE_DB_URL=known_archive, ARCHIVE_MODE="full", **settings)
    assert len(article_requests(output)) == fetched


@pytest.mark.parametrize(
    "settings",
    [{"ARCHIVE_SECTIONS": []}, {"ARCHIVE_MODE": "sometimes"}],
)
def test_settings_are_checked(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        spider_for(**settings)


def test_the_article_callback_reads_each_page_once() -> None:
    """The record, or the parser's reason, travels on the item: the validate pipeline
    does not parse the page again."""
    _, spider = spider_for()
    request = Request(ARTICLE_URL, callback=spider.parse_article)
    (item,) = respond(request, ARTICLE)
    assert item.record is not None and item.record["title"] == "A story"
    assert item.error is None
    (refused,) = respond(request, ARTICLE.replace(b"Published", b"Written"))
    assert refused.record is None and refused.error == "no published date"


def test_listing_pages_fetched_before_are_asked_again_with_their_validators(
    tmp_path: Any,
) -> None:
    url = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    facet = f"{SITE}/cancerwise.dir.html/category/content/cq:tags/md-anderson/diseases/x"
    story = f"{SITE}/cancerwise/story.h00-5.html"
    landing = f"{SITE}/cancerwise.html"
    with Archive.open(url) as archive:
        run = archive.start_run("incremental", parser_version=PARSER_VERSION)
        record = listing(facet, links=[story])
        record["next_page"] = f"{facet}?page=2"
        archive.save_listing(
            run, record, raw=b"<html>", url=facet, etag='"f1"', last_modified=LAST_MODIFIED
        )
        page = listing(landing, kind="landing", tag_id=None)
        archive.save_listing(run, page, raw=b"<html>landing", url=landing, etag='"l1"')
        archive.finish_run(run)
    crawler, spider = spider_for(ARCHIVE_DB_URL=url, ARCHIVE_TAGS=True)
    request = spider._listing_request(facet)
    assert request.headers[b"If-None-Match"] == b'"f1"'
    assert request.headers[b"If-Modified-Since"] == LAST_MODIFIED.encode()
    assert 304 in request.meta["handle_httpstatus_list"]
    # The landing page and the directory are read whole: their facet links are read there.
    entries = [r for r in start(spider) if r.meta.get("kind") == "listing"]
    assert landing in [r.url for r in entries]
    assert not [r for r in entries if b"If-None-Match" in r.headers]

    # A 304: an item for the page as it was, and the links stored with its last fetch.
    output = respond(request, b"", status=304)
    (item,) = [value for value in output if isinstance(value, PageItem)]
    assert (item.url, item.kind, item.status, item.record) == (facet, PageKind.LISTING, 304, None)
    assert [r.url for r in output if isinstance(r, Request)] == [f"{facet}?page=2"]
    assert spider._listing_links == {story: story}  # listed, decided later
    assert crawler.stats.get_value("archive/discovery/listings_not_modified") == 1
    # A full run reads every page whole, and so does a parser of another version.
    _, full = spider_for(ARCHIVE_DB_URL=url, ARCHIVE_MODE="full")
    assert b"If-None-Match" not in full._listing_request(facet).headers
    with Archive.open(url) as archive:
        older = archive.start_run("incremental", parser_version=f"{PARSER_VERSION}-older")
        archive.save_listing(older, record, raw=b"<html>", url=facet, etag='"f2"')
        archive.finish_run(older)
    _, newer = spider_for(ARCHIVE_DB_URL=url)
    assert b"If-None-Match" not in newer._listing_request(facet).headers
