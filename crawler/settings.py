"""Scrapy project settings: polite defaults for the live site, and the `ARCHIVE_*` settings.

`cwarchive crawl` and `scrapy crawl cancerwise` both start from this module; tests
import the defaults from here. Every `ARCHIVE_*` setting is read by one component in
its `from_crawler`.
"""

from __future__ import annotations

import os

from scrapy.settings import default_settings as _scrapy

from common.urls import SITE

BOT_NAME = "cwarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# --- Identity and politeness (docs/crawl.md) -------------------------------------
# The contact is a placeholder: whoever runs the crawler against the live site sets
# theirs in env CWARCHIVE_CONTACT (or replaces the whole USER_AGENT with `-s`).
CWARCHIVE_CONTACT = os.environ.get("CWARCHIVE_CONTACT", "mailto:archive-operator@example.org")
USER_AGENT = f"cwarchive/0.1 (+https://github.com/cwarchive/cwarchive; {CWARCHIVE_CONTACT})"
# robots.txt is read as RFC 9309 says (crawler/middlewares/robots.py): a 4xx means no
# rules; a 5xx after RETRY_TIMES retries, or no answer, means nothing may be fetched and
# the crawl stops (exit 5).
ROBOTSTXT_OBEY = True
ROBOTSTXT_USER_AGENT = "cwarchive"

# One request a second against the live site: AutoThrottle adapts the delay to the
# server's latency but never goes below DOWNLOAD_DELAY.
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50%: no machine-regular beat
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
# Worker processes that parse pages (crawler/parsing.py); 0 parses in the crawl's own
# process, which is plenty at a page a second. `cwarchive crawl` uses the spare cores
# when it is not throttled (a replay server on this machine).
PARSE_JOBS = 0
# Scrapy starts this many asyncio tasks for the output of every response (default
# 100); a page gives one item and the pipelines do not wait on anything, so more than
# one only costs the reactor thread (8% of a crawl of a replay server).
CONCURRENT_ITEMS = 1
# Real pages are 75-110 KB (articles, listings), the Cancerwise sitemap ~0.5 MB and a
# full-size one a few MB: 16 MiB leaves room for any real page, and a body past it (on
# the wire, or expanded from gzip: a bomb) fails the page with "too large" instead of
# filling memory. A page past 4 MiB is logged as a warning: something changed.
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
# A body shorter than its Content-Length fails (Scrapy's default, kept on purpose):
# a cut page must never look like a whole one.
DOWNLOAD_FAIL_ON_DATALOSS = True

RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
# The longest Retry-After honoured; a server asking for more gets the page given up.
ARCHIVE_RETRY_AFTER_MAX = 300.0
# Exponential backoff between retries when the server sends no Retry-After.
ARCHIVE_RETRY_BACKOFF_BASE = 2.0

COOKIES_ENABLED = False
# No listening ports from a nightly job: neither the telnet console nor remote control.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
# Scheduling order: breadth-first keeps discovery pages ahead of the articles they list.
DEPTH_PRIORITY = 0

# Scale-out seam: the frontier and its de-duplication are plain Scrapy settings, so a
# shared frontier (e.g. scrapy-redis: SCHEDULER = "scrapy_redis.scheduler.Scheduler",
# DUPEFILTER_CLASS = "scrapy_redis.dupefilter.RFPDupeFilter") needs no code change.
SCHEDULER = "scrapy.core.scheduler.Scheduler"
DUPEFILTER_CLASS = "scrapy.dupefilters.RFPDupeFilter"

# --- Components --------------------------------------------------------------------
SPIDER_MIDDLEWARES = {
    # Before the offsite middleware (500) sees them, site URLs are already on the root.
    "crawler.middlewares.SiteRootSpiderMiddleware": 40,
}
DOWNLOADER_MIDDLEWARES = {
    # Catches what the spider did not build (redirect targets on the site's host);
    # runs before the robots middleware (100) so the root's robots.txt is obeyed.
    "crawler.middlewares.SiteRootDownloaderMiddleware": 50,
    # Nothing off the site is requested (redirects, foreign sitemap entries); before
    # the robots middleware, which would fetch that host's robots.txt first.
    "crawler.middlewares.OffsiteGuardMiddleware": 60,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.RetryAfterMiddleware": 550,
    # In response order before HttpCompression (590): bodies decoded whole or refused.
    "crawler.middlewares.StrictDecompressionMiddleware": 595,
    # In response order before the redirect middleware (600) follows a 3xx.
    "crawler.middlewares.RedirectLoopMiddleware": 610,
    # After HttpCompression (590) and redirects (600) in response order: the WARC
    # gets the bytes as sent, 301s included.
    "crawler.middlewares.WarcMiddleware": 950,
}
ITEM_PIPELINES = {
    "pipelines.validate.ValidatePipeline": 100,
    "pipelines.dedupe.DedupePipeline": 200,
    "pipelines.persist.PersistPipeline": 300,
}
EXTENSIONS = {
    "crawler.extensions.ProgressLog": 500,
    # A JOBDIR whose last crawl died is started over, whatever runs the crawl.
    "crawler.jobdir.JobDirGuard": 0,
}
# A component switched off above is left out of Scrapy's base lists too: Scrapy imports
# every listed component, even one set to None, and these import tldextract and
# requests, aiohttp and twisted.conch (0.25 s of every crawl's start). Derived from the
# switches, so turning one on here brings its component back; `-s COOKIES_ENABLED=1`
# alone does not (the base lists are read from this module).
_left_out = {
    path
    for enabled, path in (
        (COOKIES_ENABLED, "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"),
        (TELNETCONSOLE_ENABLED, "scrapy.extensions.telnet.TelnetConsole"),
        (REMOTE_CONTROL_ENABLED, "scrapy.extensions.remote_control.RemoteControl"),
    )
    if not enabled
}
DOWNLOADER_MIDDLEWARES_BASE = {
    path: order
    for path, order in _scrapy.DOWNLOADER_MIDDLEWARES_BASE.items()
    if path not in _left_out
}
EXTENSIONS_BASE = {
    path: order for path, order in _scrapy.EXTENSIONS_BASE.items() if path not in _left_out
}
# Does nothing unless ARCHIVE_FRONTIER_URL is set; then the scheduler, dupefilter,
# archive class, persist pipeline and politeness become the distributed ones.
ADDONS = {
    "crawler.frontier.addon.FrontierAddon": 0,
}

# --- The archive (docs/architecture.md) ----------------------------------------------
# Any SQLAlchemy URL (sqlite:///path, postgresql+psycopg://...); empty turns persisting off.
ARCHIVE_DB_URL = "sqlite:///cwarchive.sqlite"
# The archive implementation: `open(db_url, batch_size=)` and the storage API.
ARCHIVE_CLASS = "storage.Archive"
# What the spider reads of the archive before it starts (`crawler.knowledge`): read-only,
# nothing known of an archive that does not exist yet.
ARCHIVE_KNOWN_READER = "storage.opening.read_known"
# Where requests go; records keep https://www.mdanderson.org URLs whatever this is.
ARCHIVE_SITE_ROOT = SITE
ARCHIVE_SECTIONS = ["cancerwise"]
ARCHIVE_MODE = "incremental"  # or "full"
# Follow every facet through its next pages even when incremental (`--tags`).
ARCHIVE_TAGS = False
ARCHIVE_LIMIT = 0  # at most this many article pages fetched; 0 = no limit
ARCHIVE_SINCE = ""  # ISO date: only articles whose sitemap lastmod is on/after it
ARCHIVE_BATCH_SIZE = 200
ARCHIVE_WARC_DIR = ""  # empty: no WARC
ARCHIVE_MAX_ERROR_RATE = 0.05
# Sitemaps declared in robots.txt that are read besides `<section>-sitemap.xml`.
ARCHIVE_SITEMAPS = ["sitemap.xml"]
# Log a plain progress line every this many pages (when not on a terminal).
ARCHIVE_PROGRESS_EVERY = 1000

# --- A distributed run (docs/scale-out.md) -------------------------------------------
# The shared frontier: a Redis URL. Empty: a crawl of one process (everything above).
ARCHIVE_FRONTIER_URL = ""
ARCHIVE_FRONTIER_NAME = "cwarchive"  # prefix of its Redis keys
# coordinator: opens the run, does discovery, finishes the run; worker: joins it.
ARCHIVE_ROLE = "coordinator"
# Requests per second per host, all processes together (0: no limit).
ARCHIVE_MAX_RATE = 1.0
# A process whose heartbeat stops for this long is lost: what it held is requeued.
ARCHIVE_FRONTIER_LEASE = 10.0
