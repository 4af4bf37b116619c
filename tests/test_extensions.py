"""crawler/extensions.py: the run's error rate and the progress log line."""

from __future__ import annotations

import pytest
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.extensions import ProgressLog, error_rate
from crawler.spiders.cancerwise import CancerwiseSpider


def test_error_rate_counts_failed_fetches_as_tried() -> None:
    stats = {"archive/pages": 90, "archive/fetch_errors": 10, "archive/parse_errors": 5}
    assert error_rate(stats) == pytest.approx(15 / 100)


def test_progress_log_line_every_n_pages(caplog: pytest.LogCaptureFixture) -> None:
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
