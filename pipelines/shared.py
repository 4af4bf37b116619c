"""Persist the pages of a distributed run: the run belongs to the frontier.

`PersistPipeline` owns its run: it starts it when the spider opens and finishes it
when the spider closes. In a distributed run (docs/scale-out.md) several processes
save into one run, so here the lifecycle follows the frontier's:

- the coordinator (`ARCHIVE_ROLE=coordinator`, the crawl that does discovery) claims
  the frontier, marks the run its dead predecessor left running interrupted, starts
  the run in the archive and opens it on the frontier;
- a worker (`ARCHIVE_ROLE=worker`) waits for an open run and joins it;
- each process has its `run_workers` row, and each save adds to the counters there
  and of the run in one transaction (`storage.shared.SharedArchive`);
- when the coordinator's spider closes (discovery done, the frontier drained), it
  tells the workers the run is finishing, waits until each has left (its writes all
  committed) or lost its lease (killed), and then, once, finishes the run: removals,
  tag counts, the status from the error rate of all processes together.

The `FrontierAddon` puts this pipeline in the place of `PersistPipeline`.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider

from crawler.frontier.scheduler import frontier_of
from crawler.frontier.state import FrontierBusy
from crawler.items import PageItem, PageKind, SeenArticles
from crawler.parsers import PARSER_VERSION
from pipelines.persist import PersistPipeline, run_status

logger = logging.getLogger(__name__)

# Run statuses the frontier shows while a coordinator may still be working on it.
_OPEN = ("opening", "running", "finishing")


class SharedPersistPipeline(PersistPipeline):
    def __init__(self, crawler: Crawler, db_url: str, archive_class: Any) -> None:
        super().__init__(crawler, db_url, archive_class)
        settings = crawler.settings
        self.frontier = frontier_of(crawler)
        self.role = settings.get("ARCHIVE_ROLE") or "coordinator"
        self.worker = settings["ARCHIVE_WORKER_ID"]
        self.max_rate = settings.getfloat("ARCHIVE_MAX_RATE", 0.0)
        # A worker waits this long for a run to open (0: as long as it takes).
        self.join_timeout = settings.getfloat("ARCHIVE_FRONTIER_JOIN_TIMEOUT", 0.0)
        self.expected_run = settings.get("ARCHIVE_FRONTIER_RUN") or None
        # How long the coordinator waits for workers to leave once the frontier drained.
        self.finish_timeout = settings.getfloat("ARCHIVE_FRONTIER_FINISH_TIMEOUT", 600.0)

    # -- opening ------------------------------------------------------------------------

    def _on_spider_opened(self, spider: Spider) -> None:
        if self.role == "coordinator":
            self._open_run()
        else:
            self._join_run()
        if self.run_id is not None:
            self.stats.set_value("archive/run_id", self.run_id)

    def _open_run(self) -> None:
        settings = self.crawler.settings
        try:
            previous = self.frontier.claim(self.worker)
        except FrontierBusy as error:
            logger.error("cannot start a run: %(error)s", {"error": error})
            raise CloseSpider("frontier_busy") from None
        if previous.get("status") in _OPEN and previous.get("id"):
            # Its coordinator died (the claim checked): nobody else will close it.
            self.archive.interrupt_run(int(previous["id"]))
        self.run_id = self.archive.start_run(
            mode=self.mode, site_root=self.site_root, parser_version=PARSER_VERSION
        )
        self.frontier.open_run(
            self.run_id,
            coordinator=self.worker,
            site_root=self.site_root,
            mode=self.mode,
            max_rate=self.max_rate,
            # What every process must share to decide alike: a worker parsing a sitemap
            # or a listing follows the coordinator's sections, tags, limit and since.
            crawl={
                "ARCHIVE_SECTIONS": settings.getlist("ARCHIVE_SECTIONS"),
                "ARCHIVE_TAGS": settings.getbool("ARCHIVE_TAGS"),
                "ARCHIVE_LIMIT": settings.getint("ARCHIVE_LIMIT"),
                "ARCHIVE_SINCE": settings.get("ARCHIVE_SINCE") or "",
            },
        )
        self._register("coordinator")
        logger.info(
            "run %(run)s started (%(mode)s) on frontier %(name)s",
            {"run": self.run_id, "mode": self.mode, "name": self.frontier.name},
        )

    def _join_run(self) -> None:
        run = self.frontier.wait_for_run(
            timeout=self.join_timeout or None, run_id=self.expected_run
        )
        if run is None:
            logger.info("no run to join on frontier %(name)s", {"name": self.frontier.name})
            return  # the scheduler hands out nothing: the spider closes at once
        run_id = int(run["id"])
        try:
            self.archive.join_run(run_id)
        except ValueError as error:
            logger.info("run %(run)s: %(error)s", {"run": run_id, "error": error})
            return
        self.run_id = run_id
        self._register("worker")
        logger.info("joined run %(run)s as %(worker)s", {"run": run_id, "worker": self.worker})

    def _register(self, role: str) -> None:
        assert self.run_id is not None
        self.archive.register_worker(
            self.run_id, self.worker, role, socket.gethostname(), os.getpid()
        )
        if not self.frontier.join(self.worker, str(self.run_id)):
            # The run ended between the wait and the join: take no request.
            self.archive.leave_run(self.run_id, "done")
            self.run_id = None

    # -- pages --------------------------------------------------------------------------

    def process_item(self, item: PageItem | SeenArticles) -> PageItem | SeenArticles:
        if self.run_id is None:
            return item
        if isinstance(item, SeenArticles):
            seen = super().process_item(item)  # nothing fetched, nothing failed
            # Committed: a loss of this process no longer undoes these decisions.
            self.frontier.settle(self.worker, *(key for key, _ in item.articles))
            return seen
        failed = item.kind is PageKind.FAILED
        self.archive.count_pages(
            fetched=int(item.status is not None and not failed), fetch_errors=int(failed)
        )
        return super().process_item(item)

    # -- closing ------------------------------------------------------------------------

    def _on_spider_closed(self, spider: Spider, reason: str) -> None:
        if self.archive is None:
            return
        try:
            if self.run_id is not None:
                if self.role == "coordinator":
                    self._finish(reason)
                else:
                    self._leave(reason)
        finally:
            self.archive.close()
            self.archive = None
            self.frontier.close()

    def _leave(self, reason: str) -> None:
        status = "done" if reason == "finished" else "interrupted"
        self.archive.leave_run(self.run_id, status)
        self.frontier.leave(self.worker, status)
        self.stats.set_value("archive/run_status", f"left ({status})")
        logger.info("left run %(run)s (%(status)s)", {"run": self.run_id, "status": status})

    def _finish(self, reason: str) -> None:
        finished = reason == "finished"
        # Workers take nothing more and close; the frontier is drained when finished.
        self.frontier.set_status("finishing" if finished else "interrupted")
        mine = "done" if finished else "interrupted"
        self.archive.leave_run(self.run_id, mine)
        # Done taking part, but its lease stays until the run is closed: a live
        # coordinator is what keeps a second one from claiming the frontier meanwhile.
        self.frontier.set_worker_status(self.worker, mine)
        states = self.frontier.wait_for_workers(self.finish_timeout)
        still = sorted(w for w, state in states.items() if state == "working")
        if still:
            logger.error(
                "run %(run)s: workers still working after %(s).0f s, finishing without them: "
                "%(workers)s",
                {"run": self.run_id, "s": self.finish_timeout, "workers": ", ".join(still)},
            )
        totals = self.archive.run_totals(self.run_id)
        tried = totals["pages_fetched"] + totals["fetch_errors"]
        rate = totals["errors"] / tried if tried else 0.0
        status = run_status(reason, rate, self.max_error_rate)
        if status == "failed" and finished:
            logger.warning(
                "run %(run)s failed: error rate %(rate).4f is over ARCHIVE_MAX_ERROR_RATE "
                "%(max).4f; no article is marked removed",
                {"run": self.run_id, "rate": rate, "max": self.max_error_rate},
            )
        self._finish_run(status, totals["pages_fetched"])
        self.frontier.close_run("done" if finished else "interrupted")
        self.frontier.leave(self.worker, mine)
        stats = self.stats
        stats.set_value("archive/run_status", status)
        # The run's figures, all processes together (this process's own stay in the
        # other archive/* values).
        stats.set_value("archive/error_rate", round(rate, 4))
        stats.set_value("archive/run/pages", totals["pages_fetched"])
        stats.set_value("archive/run/workers", len(states))
        for name in ("articles_new", "articles_changed", "articles_unchanged", "errors"):
            stats.set_value(f"archive/run/{name}", totals[name])
        logger.info(
            "run %(run)s %(status)s: %(workers)d processes, %(pages)d pages",
            {
                "run": self.run_id,
                "status": status,
                "workers": len(states),
                "pages": totals["pages_fetched"],
            },
        )
