"""The Scrapy scheduler of a distributed run: scrapy-redis' scheduler with leases.

scrapy-redis shares the queue (a sorted set by priority) and the dupefilter (a set of
request fingerprints) between processes, so a URL is requested once per run across
all of them. Its queue pops a request and forgets it: a process killed between the
pop and the page's commit would lose that page. Here a pop moves the request into the
process's leased hash (`state.Frontier`), and it leaves only when the engine is done
with it: its response went through the callback and every item through the
pipelines (the archive commits each save), or it was re-enqueued (a retry or a
redirect carries its lease back to the queue in one step).

Every request goes to the shared queue, discovery's too (sitemaps and listings come
first by their priority), and any process may run its callback: the spider's per-run
decisions (what was listed, what was decided, `--limit`) are shared in Redis
(`decisions.share_decisions`). Workers never idle while the run is open; the
coordinator idles only once the whole frontier is drained, and then runs discovery's
later phases (listing links, re-checks) or ends the run.
"""

from __future__ import annotations

import logging
import time
from typing import Self

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from common.urls import article_key
from crawler.frontier.decisions import share_decisions
from crawler.frontier.state import RUNNING, Frontier

logger = logging.getLogger(__name__)

# The request's lease token, in its meta: it follows the request through retries and
# redirects (their requests are copies of it).
LEASE = "frontier_lease"
# How often a process looks for requests of processes whose lease ran out.
RECLAIM_EVERY = 1.0
# How often an idle engine asks for work (Scrapy's own heartbeat is 5 s: a worker
# would sit that long on an empty queue that just got requests).
POLL_INTERVAL = 0.2


def frontier_of(crawler: Crawler) -> Frontier:
    """The crawler's one `Frontier` (scheduler, pipeline and middleware share it)."""
    frontier = getattr(crawler, "_cwarchive_frontier", None)
    if frontier is None:
        settings = crawler.settings
        frontier = Frontier(
            settings["ARCHIVE_FRONTIER_URL"],
            settings.get("ARCHIVE_FRONTIER_NAME") or "cwarchive",
            lease=settings.getfloat("ARCHIVE_FRONTIER_LEASE", 10.0),
        )
        crawler._cwarchive_frontier = frontier  # type: ignore[attr-defined]
    return frontier


class LeasedQueue(PriorityQueue):
    """scrapy-redis' priority queue; pops go through `Frontier.pop` (a lease) instead."""

    def encode(self, request: Request) -> bytes:
        return self._encode_request(request)

    def decode(self, data: bytes) -> Request:
        return self._decode_request(data)


class FrontierScheduler(Scheduler):
    """scrapy-redis' `Scheduler`, leased."""

    crawler: Crawler
    frontier: Frontier
    queue: LeasedQueue

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler.frontier = frontier_of(crawler)
        scheduler.role = crawler.settings.get("ARCHIVE_ROLE") or "coordinator"
        scheduler.worker = crawler.settings["ARCHIVE_WORKER_ID"]
        scheduler._out: dict[str, Request] = {}
        scheduler._reclaimed_at = 0.0
        return scheduler

    def open(self, spider: Spider) -> None:
        super().open(spider)
        share_decisions(spider, self.frontier, self.worker)
        # Scrapy's engine polls an idle scheduler on a 5 s heartbeat; a class attribute
        # meant to be tuned, set on this engine only.
        self.crawler.engine._SLOT_HEARTBEAT_INTERVAL = POLL_INTERVAL  # type: ignore[misc]

    def close(self, reason: str) -> None:
        # Requests taken and not finished (a shutdown) go back for another process.
        self._sweep()
        if self._out:
            logger.info("frontier: %(n)d unfinished requests handed back", {"n": len(self._out)})
            self._out.clear()
        self.frontier.release(self.worker)
        super().close(reason)  # SCHEDULER_PERSIST: the shared queue stays

    def __len__(self) -> int:
        return len(self.queue)

    # -- in ---------------------------------------------------------------------------

    def enqueue_request(self, request: Request) -> bool:
        lease = request.meta.pop(LEASE, None)
        if lease is not None:
            # A leased request is coming back (retry, redirect): it is no longer out.
            self._out.pop(lease, None)
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            if lease is not None:
                self.frontier.ack(self.worker, lease)  # nothing left to do for it
            if (claim := self._claim_of(request)) is not None:
                self.frontier.settle(*claim)  # requested already: the claim holds
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        data = self.queue.encode(request)
        score = -request.priority
        if lease is not None:
            self.frontier.transfer(self.worker, lease, data, score)
        else:
            self.frontier.push(data, score, settles=self._claim_of(request))
        return True

    def _claim_of(self, request: Request) -> tuple[str, str] | None:
        """(this process, article key) for an article request: once it is on the queue,
        the spider's claim of that article took effect, and a loss of this process no
        longer undoes it (`crawler.frontier.decisions`)."""
        if request.meta.get("kind") != "article":
            return None
        return self.worker, request.meta.get("article_key") or article_key(request.url)

    # -- out --------------------------------------------------------------------------

    def next_request(self) -> Request | None:
        self._sweep()
        self._maybe_reclaim()
        if self.frontier.member is None or self.frontier.run_status() != RUNNING:
            return None  # not in the run (yet), or it is over: take nothing more
        popped = self.frontier.pop(self.worker)
        if popped is None:
            return None
        token, data = popped
        request = self.queue.decode(data)
        request.meta[LEASE] = token
        self._out[token] = request
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        self._sweep()
        if self.role == "coordinator":
            # Idle (discovery's next phase, or the end) only once nothing is left anywhere.
            return not self.frontier.drained()
        # A worker waits for work until the run ends, or its coordinator died (then
        # nobody would end it); it never joined one: nothing.
        return (
            self.frontier.member is not None
            and self.frontier.run_status() == RUNNING
            and self.frontier.coordinator_alive()
        )

    def _sweep(self) -> None:
        """Finish the leases of requests the engine is done with.

        The engine holds a request in its slot until its download, callback and the
        pipelines of every item it gave are done (`ExecutionEngine._slot.inprogress`,
        an internal set: no signal says "this request is done"). A request that left
        it without coming back through `enqueue_request` is finished: its pages are
        committed, or it gave none.
        """
        if not self._out:
            return
        slot = getattr(self.crawler.engine, "_slot", None)
        inprogress = getattr(slot, "inprogress", None)
        if inprogress is None:
            return
        for token, request in list(self._out.items()):
            if request not in inprogress:
                del self._out[token]
                self.frontier.ack(self.worker, token)

    def _maybe_reclaim(self) -> None:
        now = time.monotonic()
        if now - self._reclaimed_at >= RECLAIM_EVERY:
            self._reclaimed_at = now
            self.frontier.reclaim()
