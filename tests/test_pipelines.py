"""Pipelines and crawl components, built through `get_crawler` like Scrapy's own tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from scrapy import Request, signals
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

from crawler.extensions import error_rate
from crawler.items import PageItem, PageKind
from crawler.middlewares.retry import retry_after_seconds
from crawler.middlewares.site_root import (
    SiteRootDownloaderMiddleware,
    SiteRootSpiderMiddleware,
)
from crawler.spiders.cancerwise import CancerwiseSpider, normalize_section, parse_lastmod
from cwarchive.commands.crawl import crawl_overrides, exit_status, is_loopback
from pipelines.dedupe import DedupePipeline
from pipelines.persist import PersistPipeline, run_status
from pipelines.validate import ValidatePipeline

ARTICLE_URL = "https://www.mdanderson.org/cancerwise/a-story.h00-1.html"
ARTICLE = b"""<html><head><title>A story | UT MD Anderson</title>
<link rel="canonical" href="https://www.mdanderson.org/cancerwise/a-story.h00-1.html"></head>
<body><div class="headline"><h1>A story</h1></div>
<p class="blog-readtime-date"><span class="tab">3 minute read | Published
<span>June 08, 2026</span></span></p>
<div class="article-blog"><div class="blog-section-text"><p>Body one.</p><p>Body two.</p>
</div></div></body></html>"""


def page(kind: PageKind = PageKind.ARTICLE, status: int | None = 200, **kw: Any) -> PageItem:
    fields: dict[str, Any] = {
        "url": ARTICLE_URL,
        "kind": kind,
        "status": status,
        "body": ARTICLE,
        "fetched_at": datetime(2026, 11, 27, tzinfo=UTC),
    }
    fields.update(kw)
    return PageItem(**fields)


class FakeArchive:
    """Records the calls the persist pipeline makes; answers like storage.Archive."""

    instances: list[FakeArchive] = []

    def __init__(self, db_url: str, batch_size: int) -> None:
        self.db_url, self.batch_size = db_url, batch_size
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        FakeArchive.instances.append(self)

    @classmethod
    def open(cls, db_url: str, batch_size: int = 200) -> FakeArchive:
        return cls(db_url, batch_size)

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args, kwargs))
            return {"start_run": 7, "save_article": "new"}.get(name)

        return call

    def names(self) -> list[str]:
        return [name for name, _, _ in self.calls]


def persist_crawler(**settings: Any) -> Any:
    return get_crawler(
        CancerwiseSpider,
        settings_dict={
            "ARCHIVE_DB_URL": "sqlite:///unused.sqlite",
            "ARCHIVE_CLASS": f"{__name__}.FakeArchive",
            **settings,
        },
    )


# --- validate ---------------------------------------------------------------------------


def test_validate_parses_an_article() -> None:
    crawler = get_crawler(CancerwiseSpider)
    item = ValidatePipeline.from_crawler(crawler).process_item(page())
    assert item.error is None
    assert item.record is not None
    assert item.record["article_key"] == "cancerwise/a-story"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty file"),
        (ARTICLE.replace(b"</body></html>", b""), "truncated page (no </html>)"),
        (ARTICLE.replace(b"Published", b"Written"), "no published date"),
    ],
)
def test_validate_turns_page_errors_into_item_errors(body: bytes, reason: str) -> None:
    crawler = get_crawler(CancerwiseSpider)
    crawler.stats.open_spider()
    item = ValidatePipeline.from_crawler(crawler).process_item(page(body=body))
    assert item.error == reason
    assert item.record is None
    assert crawler.stats.get_value("archive/parse_errors") == 1


@pytest.mark.parametrize("status", [304, 404, 410])
def test_validate_leaves_bodiless_answers_alone(status: int) -> None:
    crawler = get_crawler(CancerwiseSpider)
    item = ValidatePipeline.from_crawler(crawler).process_item(page(status=status, body=b""))
    assert item.record is None and item.error is None


def test_validate_rejects_a_listing_where_an_article_was_expected() -> None:
    crawler = get_crawler(CancerwiseSpider)
    crawler.stats.open_spider()
    listing = b"<html><body><a href='/cancerwise/x.h00-1.html'>X</a></body></html>"
    item = ValidatePipeline.from_crawler(crawler).process_item(
        page(url="https://www.mdanderson.org/cancerwise.html", body=listing)
    )
    assert item.error is not None and "expected an article" in item.error


# --- dedupe -----------------------------------------------------------------------------


def test_dedupe_drops_the_same_article_under_another_h00_url() -> None:
    crawler = get_crawler(CancerwiseSpider)
    crawler.stats.open_spider()
    pipeline = DedupePipeline.from_crawler(crawler)
    pipeline.process_item(page())
    with pytest.raises(DropItem):
        pipeline.process_item(page(url=ARTICLE_URL.replace("h00-1", "h00-2")))
    assert crawler.stats.get_value("archive/duplicates") == 1
    # A listing with the same path is another thing.
    pipeline.process_item(page(kind=PageKind.LISTING, url="https://www.mdanderson.org/x.html"))


# --- persist ----------------------------------------------------------------------------


def test_persist_is_off_without_a_database() -> None:
    with pytest.raises(NotConfigured):
        PersistPipeline.from_crawler(get_crawler(CancerwiseSpider, {"ARCHIVE_DB_URL": ""}))


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("finished", "completed"),
        ("shutdown", "interrupted"),
        ("killed", "interrupted"),
        ("closespider_errorcount", "failed"),
    ],
)
def test_run_status_from_close_reason(reason: str, status: str) -> None:
    assert run_status(reason) == status


def test_persist_runs_the_archive_lifecycle_and_counts() -> None:
    crawler = persist_crawler(ARCHIVE_BATCH_SIZE=17)
    crawler.stats.open_spider()
    pipeline = PersistPipeline.from_crawler(crawler)
    archive = FakeArchive.instances[-1]
    assert archive.batch_size == 17
    crawler.signals.send_catch_log(signals.spider_opened, spider=None)
    validate = ValidatePipeline.from_crawler(crawler)
    pipeline.process_item(validate.process_item(page()))
    pipeline.process_item(page(status=304, body=b""))
    pipeline.process_item(page(status=410, body=b""))
    pipeline.process_item(page(kind=PageKind.SEEN, status=None, body=b""))
    pipeline.process_item(validate.process_item(page(body=b"")))
    crawler.signals.send_catch_log(signals.spider_closed, spider=None, reason="shutdown")
    assert archive.names() == [
        "start_run",
        "save_article",
        "mark_seen",
        "mark_gone",
        "mark_seen",
        "save_parse_error",
        "finish_run",
        "close",
    ]
    name, args, kwargs = archive.calls[-2]
    assert kwargs == {"status": "interrupted", "pages_fetched": 4}
    assert archive.calls[2][1][1] == "cancerwise/a-story"
    stats = crawler.stats.get_stats()
    assert stats["archive/new"] == 1
    assert stats["archive/unchanged"] == 1  # the 304
    assert stats["archive/gone"] == 1
    assert stats["archive/skipped"] == 1
    assert stats["archive/run_status"] == "interrupted"


# --- spider helpers, middlewares, CLI helpers ----------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-08-19", datetime(2026, 8, 20, tzinfo=UTC)),  # a date is its day's end
        ("2026-08-19T10:00:00+02:00", datetime(2026, 8, 19, 8, tzinfo=UTC)),
        ("2026-08-19T10:00:00Z", datetime(2026, 8, 19, 10, tzinfo=UTC)),
        ("2026-08-19T10:00:00", datetime(2026, 8, 19, 10, tzinfo=UTC)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_lastmod(value: str | None, expected: datetime | None) -> None:
    assert parse_lastmod(value) == expected


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


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (b"3", 3.0),
        ("Fri, 27 Nov 2026 00:01:00 GMT", 60.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_seconds(value: Any, seconds: float | None) -> None:
    now = datetime(2026, 11, 27, tzinfo=UTC).timestamp()
    assert retry_after_seconds(value, now=now) == seconds


def test_site_root_maps_site_urls_only() -> None:
    crawler = get_crawler(CancerwiseSpider, {"ARCHIVE_SITE_ROOT": "http://127.0.0.1:8000/"})
    spider_mw = SiteRootSpiderMiddleware.from_crawler(crawler)
    mapped = spider_mw.get_processed_request(
        Request("https://mdanderson.org/cancerwise.dir.html/author/A%20B?page=2"), None
    )
    assert mapped.url == "http://127.0.0.1:8000/cancerwise.dir.html/author/A%20B?page=2"
    other = Request("https://faculty.mdanderson.org/profiles/x.html")
    assert spider_mw.get_processed_request(other, None) is other
    downloader_mw = SiteRootDownloaderMiddleware.from_crawler(crawler)
    assert downloader_mw.process_request(mapped) is None
    redirected = downloader_mw.process_request(Request(f"{ARTICLE_URL}"))
    assert redirected is not None and redirected.url.startswith("http://127.0.0.1:8000/")


def test_site_root_is_off_on_the_site_itself() -> None:
    with pytest.raises(NotConfigured):
        SiteRootSpiderMiddleware.from_crawler(get_crawler(CancerwiseSpider))


@pytest.mark.parametrize(
    ("root", "loopback"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://localhost:1", True),
        ("http://[::1]:80", True),
        ("https://www.mdanderson.org", False),
        ("http://10.0.0.2", False),
    ],
)
def test_loopback_turns_the_throttle_off(root: str, loopback: bool) -> None:
    assert is_loopback(root) is loopback
    overrides = crawl_overrides(site=root, db_url=None)
    assert overrides.get("AUTOTHROTTLE_ENABLED", True) is not loopback
    assert "AUTOTHROTTLE_ENABLED" not in crawl_overrides(site=root, db_url=None, throttle=True)


@pytest.mark.parametrize(
    ("numbers", "status"),
    [
        ({"finish_reason": "finished", "status": "completed", "error_rate": 0.01}, 0),
        ({"finish_reason": "finished", "status": "completed", "error_rate": 0.2}, 1),
        ({"finish_reason": "shutdown", "status": "interrupted"}, 3),
        ({"finish_reason": None}, 1),
    ],
)
def test_exit_status(numbers: dict[str, Any], status: int) -> None:
    assert exit_status(numbers, max_error_rate=0.05) == status


def test_parse_settings() -> None:
    import click

    from cwarchive.commands.crawl import parse_settings

    assert parse_settings(("A=1", "B = x=y")) == {"A": "1", "B": " x=y"}
    with pytest.raises(click.BadParameter):
        parse_settings(("A",))


def test_error_rate_counts_failed_fetches_as_tried() -> None:
    stats = {"archive/pages": 90, "archive/fetch_errors": 10, "archive/parse_errors": 5}
    assert error_rate(stats) == pytest.approx(15 / 100)


def test_progress_log_line_every_n_pages(caplog: pytest.LogCaptureFixture) -> None:
    from scrapy.http import Response

    from crawler.extensions import ProgressLog

    crawler = get_crawler(CancerwiseSpider, {"ARCHIVE_PROGRESS_EVERY": 2})
    crawler.stats.open_spider()
    crawler.stats.set_value("archive/new", 3)
    extension = ProgressLog.from_crawler(crawler)  # signals hold weak references
    with caplog.at_level("INFO", logger="crawler.extensions"):
        for _ in range(5):
            crawler.signals.send_catch_log(
                signals.response_received, response=Response("http://x/"), request=None, spider=None
            )
    lines = [r.getMessage() for r in caplog.records]
    assert extension is not None
    assert lines == [
        "2 pages: 3 new, 0 changed, 0 unchanged, 0 errors",
        "4 pages: 3 new, 0 changed, 0 unchanged, 0 errors",
    ]
    with pytest.raises(NotConfigured):
        ProgressLog.from_crawler(get_crawler(CancerwiseSpider, {"ARCHIVE_PROGRESS_EVERY": 0}))


def test_figures_and_summary_table() -> None:
    from rich.console import Console

    from cwarchive.progress import figures, summary_table

    start = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    stats = {
        "start_time": start,
        "finish_time": start.replace(second=10),
        "archive/pages": 48,
        "archive/new": 40,
        "archive/fetch_errors": 2,
        "finish_reason": "finished",
        "archive/run_id": 3,
        "archive/run_status": "completed",
    }
    numbers = figures(stats)
    assert numbers["pages_per_second"] == 4.8
    assert numbers["errors"] == 2 and numbers["error_rate"] == 0.04
    console = Console(record=True, width=80)
    console.print(summary_table(numbers))
    text = console.export_text()
    assert "3 (completed)" in text
    assert "4.0%" in text


# --- the spider's decisions, without a network --------------------------------------------

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


def known_article(key: str, h00: str) -> Any:
    from storage import KnownArticle

    return KnownArticle(
        article_key=f"cancerwise/{key}",
        last_url=f"https://www.mdanderson.org/cancerwise/{key}.h00-{h00}.html",
        last_fetched_at=datetime(2026, 6, 1, tzinfo=UTC),
        etag='"abc"',
        last_modified="Thu, 01 Jan 2026 12:00:00 GMT",
        status="active",
    )


def project_settings(**overrides: Any) -> dict[str, Any]:
    """crawler/settings.py as a dict (get_crawler does not read the project module)."""
    from crawler import settings as defaults

    names = (name for name in dir(defaults) if name.isupper())
    return {**{name: getattr(defaults, name) for name in names}, **overrides}


def decide(**settings: Any) -> tuple[CancerwiseSpider, list[Any]]:
    from scrapy.http import XmlResponse

    crawler = get_crawler(CancerwiseSpider, project_settings(ARCHIVE_DB_URL="", **settings))
    crawler.stats.open_spider()
    spider = CancerwiseSpider.from_crawler(crawler)
    spider.known = {
        k.article_key: k
        for k in (
            known_article("old", "1"),
            known_article("edited", "2"),
            known_article("moved", "3"),
            known_article("unlisted", "6"),
        )
    }
    response = XmlResponse("http://127.0.0.1:1/cancerwise-sitemap.xml", body=SITEMAP)
    return spider, list(spider._parse_sitemap(response))


def test_incremental_decisions_from_the_sitemap() -> None:
    spider, output = decide()
    requests = {r.url.rsplit("/", 1)[1]: r for r in output if isinstance(r, Request)}
    seen = [i.url for i in output if isinstance(i, PageItem)]
    # Not newer than the last fetch nor than its Last-Modified: not fetched, seen.
    assert seen == ["https://www.mdanderson.org/cancerwise/old.h00-1.html"]
    assert set(requests) == {"edited.h00-2.html", "moved.h00-9.html", "brand-new.h00-4.html"}
    edited = requests["edited.h00-2.html"]
    assert edited.headers[b"If-None-Match"] == b'"abc"'
    assert edited.headers[b"If-Modified-Since"] == b"Thu, 01 Jan 2026 12:00:00 GMT"
    # A new h00 URL is another page: no validators of the old one.
    assert b"If-None-Match" not in requests["moved.h00-9.html"].headers
    assert b"If-None-Match" not in requests["brand-new.h00-4.html"].headers
    # Known but no longer listed: re-checked at its last URL (after discovery).
    rechecks = list(spider._recheck_requests())
    assert [r.url for r in rechecks] == [
        "https://www.mdanderson.org/cancerwise/unlisted.h00-6.html"
    ]
    assert rechecks[0].meta["recheck"] and 410 in rechecks[0].meta["handle_httpstatus_list"]


def test_full_mode_fetches_everything_unconditionally() -> None:
    _, output = decide(ARCHIVE_MODE="full")
    requests = [r for r in output if isinstance(r, Request)]
    articles = [r for r in requests if ".h00-" in r.url]
    assert len(articles) == 4
    assert not any(b"If-None-Match" in r.headers for r in articles)
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
def test_limit_since_and_section(settings: dict[str, Any], fetched: int) -> None:
    _, output = decide(ARCHIVE_MODE="full", **settings)
    assert len([r for r in output if isinstance(r, Request) and ".h00-" in r.url]) == fetched
