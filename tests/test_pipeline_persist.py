"""pipelines/persist.py: the run's lifecycle and every page into a real SQLite archive.

Driven through the pipeline's public surface (`from_crawler`, `process_item`, the
spider_opened/closed signals); checked on what the archive then holds and on stats.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler
from sqlalchemy import create_engine
from twisted.python.failure import Failure

from common.urls import article_key
from crawler.items import SeenArticles
from crawler.parsers import PARSER_VERSION
from crawler.spiders.cancerwise import CancerwiseSpider
from pipelines.persist import PersistPipeline, run_status
from pipelines.validate import ValidatePipeline
from storage import Archive, queries
from tests.crawling import ARTICLE_URL, page, project_settings, rows


class ObservedArchive(Archive):
    """The real archive, remembering how the pipeline opened and closed it."""

    opened: list[ObservedArchive] = []
    closed = False

    @classmethod
    def open(cls, db_url: str, **kwargs: Any) -> ObservedArchive:
        archive = super().open(db_url, **kwargs)
        assert isinstance(archive, ObservedArchive)
        cls.opened.append(archive)
        return archive

    def close(self) -> None:
        super().close()
        self.closed = True


def persist_crawler(db: Path, **settings: Any) -> Crawler:
    crawler = get_crawler(
        CancerwiseSpider,
        project_settings(
            ARCHIVE_DB_URL=f"sqlite:///{db}",
            ARCHIVE_CLASS=f"{__name__}.ObservedArchive",
            # No extensions: without an engine they fail on spider_opened, and the
            # signals here are for the pipeline alone.
            EXTENSIONS={},
            EXTENSIONS_BASE={},
            **settings,
        ),
    )
    crawler.stats.open_spider()
    return crawler


def send(crawler: Crawler, signal: object, **kwargs: Any) -> None:
    """Fire a signal as the engine does; a handler's exception fails the test."""
    for _, result in crawler.signals.send_catch_log(signal, spider=None, **kwargs):
        if isinstance(result, Failure):
            result.raiseException()


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


def test_persist_opens_the_archive_with_the_batch_size(tmp_path: Path) -> None:
    PersistPipeline.from_crawler(persist_crawler(tmp_path / "a.sqlite", ARCHIVE_BATCH_SIZE=17))
    assert ObservedArchive.opened[-1].batch_size == 17


@pytest.mark.parametrize(
    ("reason", "status"), [("shutdown", "interrupted"), ("finished", "completed")]
)
def test_persist_runs_the_archive_lifecycle_and_counts(
    tmp_path: Path, reason: str, status: str
) -> None:
    db = tmp_path / "a.sqlite"
    # One error in four pages is over the default rate: that rule has its own test.
    crawler = persist_crawler(db, ARCHIVE_MAX_ERROR_RATE=1)
    pipeline = PersistPipeline.from_crawler(crawler)
    archive = ObservedArchive.opened[-1]
    send(crawler, signals.spider_opened)
    validate = ValidatePipeline.from_crawler(crawler)
    pipeline.process_item(validate.process_item(page()))
    pipeline.process_item(page(status=304, body=b""))
    pipeline.process_item(page(status=410, body=b""))
    pipeline.process_item(SeenArticles([(article_key(ARTICLE_URL), ARTICLE_URL)]))
    pipeline.process_item(validate.process_item(page(body=b"")))
    send(crawler, signals.spider_closed, reason=reason)
    assert archive.closed

    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            (run,) = queries.runs(conn)
            (article,) = queries.articles(conn)
    finally:
        engine.dispose()
    assert run["status"] == status
    assert run["pages_fetched"] == 4  # the seen article was not fetched
    assert (run["mode"], run["parser_version"]) == ("incremental", PARSER_VERSION)
    assert (run["articles_new"], run["articles_seen"], run["errors"]) == (1, 0, 1)
    assert article["article_key"] == "cancerwise/a-story"
    assert article["status"] == "active"  # the run fetched it: the 410 is cancelled
    assert article["versions"] == 1
    # Each item reaches the archive, which keeps what the run did not know yet
    # (storage/rules.py): the save and the 410's evidence; the 304 and the skip of an
    # article the run fetched add nothing.
    assert rows(db, "SELECT kind, http_status, url FROM observations ORDER BY id") == [
        ("fetched", 200, ARTICLE_URL),
        ("gone", 410, ARTICLE_URL),
    ]
    assert rows(db, "SELECT url, reason, http_status FROM parse_errors") == [
        (ARTICLE_URL, "empty file", 200)
    ]
    stats = crawler.stats.get_stats()
    assert stats["archive/run_id"] == run["id"]
    assert stats["archive/pages"] == 4
    assert stats["archive/new"] == 1
    assert stats["archive/unchanged"] == 1  # the 304
    assert stats["archive/not_modified"] == 1
    assert stats["archive/gone"] == 1
    assert stats["archive/skipped"] == 1
    assert stats["archive/run_status"] == status
