"""A job directory (`JOBDIR`) resumed only when its state can be trusted.

Scrapy keeps a paused crawl in its JOBDIR: the request fingerprints
(`requests.seen`), the queue (`requests.queue`) and the spider's state. A crawl that
closes (completed, or interrupted gracefully: the queue is then saved and every page
reached the archive) leaves a state to resume from. One that dies without closing
(SIGKILL, a second Ctrl-C, a power cut) does not: its `requests.seen` names requests
whose pages never reached the archive (in flight, queued, or saved in a batch not yet
committed) and its queue was never written, so resuming from it would skip those
pages for good. Such a job starts over instead: an incremental run does not fetch
again what the killed run saved (its lastmod is not newer than that fetch).

`JobDirGuard` is the one implementation, a Scrapy extension enabled in
`crawler/settings.py`: `scrapy crawl cancerwise -s JOBDIR=...`, Scrapyd with a JOBDIR
and `cwarchive crawl --job-dir` all go through it. It marks the job running while a
crawl runs (`JOB_RUNNING_MARK`); found at the start, the mark says the last crawl died
and the job's state is cleared before the scheduler reads it. A finished job is
cleared too: its fingerprints would make the next run skip every page.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.job import job_dir as job_dir_of

logger = logging.getLogger(__name__)

# What Scrapy keeps in a JOBDIR (the frontier, the request fingerprints, spider state).
JOB_FILES = ("requests.seen", "requests.queue", "spider.state")
# Present while a crawl runs with the job directory; removed once the crawl closed.
JOB_RUNNING_MARK = "cwarchive.running"
STARTED_OVER = (
    "the last crawl with job directory {job} died without closing; its queue is lost "
    "and its seen requests cannot be trusted: starting the job over"
)


def clear_job(job_dir: str | Path) -> None:
    """Remove the job's state: the next crawl with it starts from nothing."""
    for name in JOB_FILES:
        path = Path(job_dir) / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def job_died(job_dir: str | Path) -> bool:
    """Whether the last crawl with this job directory died without closing."""
    return (Path(job_dir) / JOB_RUNNING_MARK).exists()


def start_job(job_dir: str | Path) -> bool:
    """Mark the job running; True when its last crawl died and its state was cleared."""
    died = job_died(job_dir)
    if died:
        clear_job(job_dir)
    Path(job_dir).mkdir(parents=True, exist_ok=True)
    (Path(job_dir) / JOB_RUNNING_MARK).write_text(
        "a crawl runs with this job directory, or died in it\n"
    )
    return died


def end_job(job_dir: str | Path, finish_reason: str | None) -> None:
    """After the crawl: a finished job is cleared; a closed one is no longer running."""
    if finish_reason == "finished":
        clear_job(job_dir)
    if finish_reason:
        (Path(job_dir) / JOB_RUNNING_MARK).unlink(missing_ok=True)


class JobDirGuard:
    """`start_job` when the crawler is built (before the scheduler opens the job's
    files), `end_job` once the engine stopped (after the queue and the spider state
    were saved). Off without a JOBDIR."""

    def __init__(self, crawler: Crawler, job_dir: str) -> None:
        self.crawler = crawler
        self.job_dir = job_dir
        if start_job(job_dir):
            logger.warning(STARTED_OVER.format(job=job_dir))
            crawler.stats.set_value("jobdir/started_over", True)
        crawler.signals.connect(self._on_engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        job_dir = job_dir_of(crawler.settings)
        if not job_dir:
            raise NotConfigured("no JOBDIR: nothing to resume")
        return cls(crawler, job_dir)

    def _on_engine_stopped(self) -> None:
        end_job(self.job_dir, self.crawler.stats.get_value("finish_reason"))
