"""Switch a crawl onto the shared frontier when `ARCHIVE_FRONTIER_URL` is set.

A Scrapy add-on (`ADDONS` in `crawler/settings.py`): without the setting it does
nothing, so a crawl of one process runs exactly as before. With it, the crawl's
scheduler, dupefilter, archive class and politeness become the distributed ones, from
settings alone: `cwarchive crawl --frontier`, `cwarchive worker` and a plain
`scrapy crawl cancerwise -s ARCHIVE_FRONTIER_URL=...` (Scrapyd) are the same crawl.
Imports nothing heavy: it is loaded by every crawl.
"""

from __future__ import annotations

import os
import secrets
import socket
from typing import Any

from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings

# Over the project module, which names Scrapy's own scheduler and dupefilter (the
# "spider" priority beats it); a `-s` on the command line still wins.
PRIORITY = "spider"
ROLES = ("coordinator", "worker")
PERSIST = "pipelines.persist.PersistPipeline"
SHARED_PERSIST = "pipelines.shared.SharedPersistPipeline"


def worker_id() -> str:
    """host:pid:random: one per process, unique across restarts and machines."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class FrontierAddon:
    def update_settings(self, settings: Settings) -> None:
        url = settings.get("ARCHIVE_FRONTIER_URL")
        if not url:
            raise NotConfigured  # one process: Scrapy's scheduler, nothing changes
        role = settings.get("ARCHIVE_ROLE") or "coordinator"
        if role not in ROLES:
            raise ValueError(f"ARCHIVE_ROLE must be coordinator or worker, not {role!r}")
        name = settings.get("ARCHIVE_FRONTIER_NAME") or "cwarchive"
        shared: dict[str, Any] = {
            "SCHEDULER": "crawler.frontier.scheduler.FrontierScheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_QUEUE_CLASS": "crawler.frontier.scheduler.LeasedQueue",
            "SCHEDULER_QUEUE_KEY": f"{name}:queue",
            "SCHEDULER_DUPEFILTER_KEY": f"{name}:dupefilter",
            "SCHEDULER_SERIALIZER": "scrapy_redis.picklecompat",
            # Never flushed by a process that closes: the coordinator clears the
            # frontier when it opens the next run.
            "SCHEDULER_PERSIST": True,
            "REDIS_URL": url,
        }
        for key, value in shared.items():
            settings.set(key, value, priority=PRIORITY)
        if (settings.get("ARCHIVE_CLASS") or "storage.Archive") == "storage.Archive":
            settings.set("ARCHIVE_CLASS", "storage.shared.SharedArchive", priority=PRIORITY)
        if not settings.get("ARCHIVE_WORKER_ID"):
            settings.set("ARCHIVE_WORKER_ID", worker_id(), priority=PRIORITY)
        # The run belongs to the frontier: the persist pipeline that opens, joins and
        # finishes it there, in the place of the one that owns a run alone.
        pipelines = settings["ITEM_PIPELINES"]
        order = pipelines.get(PERSIST)
        if order is not None:
            pipelines[PERSIST] = None
            pipelines[SHARED_PERSIST] = order
        # Last before the download itself: retries and redirects wait for a slot too.
        settings["DOWNLOADER_MIDDLEWARES"][
            "crawler.frontier.ratelimit.GlobalRateLimitMiddleware"
        ] = 940
