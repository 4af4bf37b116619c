"""Persist every page of the run through the archive (`storage.Archive`).

The run's lifecycle follows the spider's: `start_run` when it opens, `finish_run`
when it closes, with the status read from the close reason and the error rate: a run
that finished with more errors than `ARCHIVE_MAX_ERROR_RATE` is `failed`, so storage
applies none of its removals (a failing server is no evidence that pages are gone).
Writes are batched by
the archive itself (`ARCHIVE_BATCH_SIZE`); each article is one transaction there, so
a killed crawl never leaves half an article.

What each page becomes in the archive is decided by `storage.pages.store_page`
(shared with `cwarchive ingest`); this pipeline turns the item into a
`storage.pages.Page` and counts the outcome in the crawl's stats.

The archive class is a setting (`ARCHIVE_CLASS`) and the database a URL
(`ARCHIVE_DB_URL`: SQLite or PostgreSQL), so scaling out changes settings, not code.
"""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import load_object

from common.urls import SITE
from crawler.extensions import error_rate
from crawler.items import PageItem, PageKind, SeenArticles
from crawler.parsers import PARSER_VERSION
from storage import health
from storage.pages import Page, store_not_fetched, store_page

logger = logging.getLogger(__name__)

# Scrapy's close reasons → the run's status. Anything else (an exception, a
# CloseSpider raised for another reason) is a failure worth looking at.
_RUN_STATUS = {
    "finished": "completed",
    "shutdown": "interrupted",
    "killed": "interrupted",
    "cancelled": "interrupted",
}


# `store_page` outcomes -> the stats they count in. A parse error is counted by the
# validate pipeline; an unexpected status under its own number.
_OUTCOME_STATS: dict[str, tuple[str, ...]] = {
    "new": ("archive/new",),
    "changed": ("archive/changed",),
    "unchanged": ("archive/unchanged",),
    # A 304 is the server saying "unchanged": counted with the unchanged saves.
    "not_modified": ("archive/unchanged", "archive/not_modified"),
    "gone": ("archive/gone",),
    "skipped": ("archive/skipped",),
    "listing": ("archive/listings",),
    "ignored": (),
    "error": (),
    "unexpected_status": (),
    # The shared archive of a distributed run: the article was already stored in this
    # run by another process (the dedupe pipeline's count in a run of one process).
    "duplicate": ("archive/duplicates",),
}


def run_status(reason: str, rate: float = 0.0, max_rate: float = 1.0) -> str:
    """The run's status from Scrapy's close reason and its error rate."""
    status = _RUN_STATUS.get(reason, "failed")
    if status == "completed" and rate > max_rate:
        return "failed"
    return status


def archive_page(item: PageItem) -> Page:
    """The item as storage describes a page (storage does not know the spider's items)."""
    return Page(
        url=item.url,
        http_status=item.status,
        record=item.record,
        error=item.error,
        raw=item.body,
        fetched_at=item.fetched_at,
        etag=item.etag,
        last_modified=item.last_modified,
        listing=item.kind is PageKind.LISTING,
        article_key=item.article_key,
    )


class PersistPipeline:
    def __init__(self, crawler: Crawler, db_url: str, archive_class: Any) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_url = db_url
        self.archive_class = archive_class
        self.batch_size = crawler.settings.getint("ARCHIVE_BATCH_SIZE")
        self.mode = crawler.settings.get("ARCHIVE_MODE", "incremental")
        self.max_error_rate = crawler.settings.getfloat("ARCHIVE_MAX_ERROR_RATE", 1.0)
        self.site_root = crawler.settings.get("ARCHIVE_SITE_ROOT") or SITE
        # Opened here, not when the spider opens: a database that cannot be opened
        # (schema out of date, bad URL) stops the crawl before any request is made.
        self.archive: Any = archive_class.open(db_url, batch_size=self.batch_size)
        self.run_id: Any = None
        crawler.signals.connect(self._on_spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self._on_spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        db_url = crawler.settings.get("ARCHIVE_DB_URL")
        if not db_url:
            raise NotConfigured("no ARCHIVE_DB_URL: pages are not persisted")
        archive_class = load_object(crawler.settings.get("ARCHIVE_CLASS") or "storage.Archive")
        return cls(crawler, db_url, archive_class)

    def _on_spider_opened(self, spider: Spider) -> None:
        self.run_id = self.archive.start_run(
            mode=self.mode, site_root=self.site_root, parser_version=PARSER_VERSION
        )
        self.stats.set_value("archive/run_id", self.run_id)
        logger.info("run %(run)s started (%(mode)s)", {"run": self.run_id, "mode": self.mode})

    def _on_spider_closed(self, spider: Spider, reason: str) -> None:
        if self.archive is None:
            return
        rate = error_rate(self.stats.get_stats())
        status = run_status(reason, rate, self.max_error_rate)
        if status == "failed" and reason == "finished":
            logger.warning(
                "run %(run)s failed: error rate %(rate).4f is over ARCHIVE_MAX_ERROR_RATE "
                "%(max).4f; no article is marked removed",
                {"run": self.run_id, "rate": rate, "max": self.max_error_rate},
            )
        try:
            self._finish_run(status, self.stats.get_value("archive/pages", 0))
        finally:
            self.archive.close()
            self.archive = None
        self.stats.set_value("archive/run_status", status)
        logger.info("run %(run)s %(status)s", {"run": self.run_id, "status": status})

    def _finish_run(self, status: str, pages_fetched: int) -> None:
        """Measure the run's extraction health (holding back what only lost a degraded
        field, `storage.health`), then finish it; the stats say what was held."""
        self.archive.flush()
        checked = health.check_run(self.archive.engine, self.run_id)
        self.archive.finish_run(self.run_id, status=status, pages_fetched=pages_fetched)
        if checked is None or not checked.degraded:
            return
        self.stats.set_value("archive/degraded", [f.as_dict() for f in checked.degraded])
        self.stats.set_value("archive/held", checked.held)
        # The saves were counted as they came: the held ones kept their version.
        self.stats.inc_value("archive/changed", -checked.held)
        self.stats.inc_value("archive/unchanged", checked.held)
        for figure in checked.degraded:
            logger.error(
                "run %(run)s: %(field)s degraded: %(lost)d of the %(had)d articles that had it "
                "lost it; %(held)d versions held back",
                {
                    "run": self.run_id,
                    "field": figure.field,
                    "lost": figure.lost,
                    "had": figure.had_before,
                    "held": figure.held,
                },
            )

    def process_item(self, item: PageItem | SeenArticles) -> PageItem | SeenArticles:
        if isinstance(item, SeenArticles):  # not fetched: no page status, no pages count
            outcome = store_not_fetched(self.archive, self.run_id, item.articles)
            self._count(outcome, len(item.articles))
            return item
        if item.status is not None and item.kind is not PageKind.FAILED:
            self.stats.inc_value("archive/pages")
        outcome = store_page(self.archive, self.run_id, archive_page(item))
        if outcome == "unexpected_status":
            self.stats.inc_value(f"archive/unexpected_status/{item.status}")
        self._count(outcome)
        return item

    def _count(self, outcome: str, pages: int = 1) -> None:
        # Another ARCHIVE_CLASS may answer saves with outcomes of its own: counted as such.
        for key in _OUTCOME_STATS.get(outcome, (f"archive/{outcome}",)):
            self.stats.inc_value(key, pages)
