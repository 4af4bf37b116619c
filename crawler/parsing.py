"""Pages parsed in worker processes, so the reactor thread only fetches and stores.

The spider awaits `ParserPool.parse` for every page it fetches; with `PARSE_JOBS = 0`
(the default: a polite crawl fetches a page a second, which one core parses in a
few milliseconds) it parses in the crawl's own process, as a plain call. A crawl of a
replay server on this machine fetches hundreds of pages a second and parsing is then
half its work: `cwarchive crawl` gives it worker processes there (`crawl_overrides`).

Only the page's bytes and URL go to a worker and only the record comes back;
`parse_page` and its `PageError` are pickled by name. Workers come from a fork server
with the parser already imported: forking the crawl itself, which runs threads (DNS,
the pool's own), could copy a lock another thread holds. They are started once the
crawl has parsed `PAGES_BEFORE_WORKERS` pages itself: a crawl that reads only a few
pages whole (an unchanged re-crawl: its landing page and directory) never pays for
them (0.2-0.4 s of CPU to start, and their shutdown). Until they first answer, pages
are parsed in the crawl's process: the landing page does not wait for them. A worker
exits when the crawl's process ends, however it ends (`common.worker_process`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.reactor import is_asyncio_reactor_installed

from common import worker_process
from crawler.parsers import parse_page

logger = logging.getLogger(__name__)

# Pages a pool parses in the crawl's process before it starts its workers.
PAGES_BEFORE_WORKERS = 8


class ParserPool:
    """`parse_page` in `jobs` worker processes, or in this one when `jobs` is 0."""

    def __init__(self, jobs: int) -> None:
        self.jobs = max(jobs, 0)
        self._pool: ProcessPoolExecutor | None = None
        self._ready = threading.Event()  # set once the workers have answered
        self._parsed_here = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pool = cls(crawler.settings.getint("PARSE_JOBS", 0))
        crawler.signals.connect(pool._on_engine_started, signal=signals.engine_started)
        crawler.signals.connect(pool.close, signal=signals.engine_stopped)
        return pool

    def _on_engine_started(self) -> None:
        # Awaiting the workers' results needs the asyncio reactor (Scrapy's default),
        # installed by the time the engine starts.
        if self.jobs and not is_asyncio_reactor_installed():
            logger.warning("PARSE_JOBS=%d needs the asyncio reactor: parsing in process", self.jobs)
            self.jobs = 0

    def start(self) -> None:
        """Start the workers, in a thread of their own: starting the fork server (it
        imports the parser) and the workers takes 0.2-0.4 s, which the reactor's thread
        does not wait for. Pages are parsed here until the workers answer."""
        if self.jobs and self._pool is None:
            threading.Thread(target=self._warm_up, args=(self._workers(),), daemon=True).start()

    def wait_ready(self, timeout: float) -> bool:
        """True once pages go to the workers (within `timeout` seconds)."""
        return self._ready.wait(timeout)

    async def parse(self, body: bytes, url: str) -> dict[str, Any]:
        """The page's record; raises what `parse_page` raises (a `PageError`, or a bug)."""
        if self.jobs and self._ready.is_set():
            try:
                return await asyncio.wrap_future(self._workers().submit(parse_page, body, url))
            except BrokenProcessPool:
                # A worker died (killed, out of memory): the crawl goes on without them.
                logger.warning("a parser worker process died: parsing in process from now on")
                self.jobs = 0
                self.close()
        elif self.jobs:
            self._parsed_here += 1
            if self._parsed_here == PAGES_BEFORE_WORKERS:
                self.start()
        return parse_page(body, url)

    def close(self) -> None:
        """Stop the workers (the engine has stopped: nothing is waiting for them)."""
        pool, self._pool = self._pool, None
        self._ready.clear()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _workers(self) -> ProcessPoolExecutor:
        if self._pool is None:
            if "forkserver" in multiprocessing.get_all_start_methods():
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["crawler.parsers", "common.worker_process"])
            else:
                context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.jobs,
                mp_context=context,
                initializer=worker_process.start,
                initargs=(os.getpid(),),
            )
        return self._pool

    def _warm_up(self, pool: ProcessPoolExecutor) -> None:
        # The crawl may end first (RuntimeError: shut down; CancelledError), or a worker
        # die (BrokenProcessPool): then pages stay here, and `parse` finds out as usual.
        with contextlib.suppress(RuntimeError, CancelledError, BrokenProcessPool):
            pool.submit(int).result()  # any task starts the workers
            if pool is self._pool:
                self._ready.set()
