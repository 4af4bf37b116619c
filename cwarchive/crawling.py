"""A crawl in this process, as `cwarchive crawl`, `worker` and `demo` run it.

Options become `ARCHIVE_*` and Scrapy settings over the project's
(`crawler/settings.py`), the crawl runs through `CrawlerProcess` (`run_crawl`), and the
stats it leaves become the summary and the exit status (0 completed, 1 completed with
an error rate over `--max-error-rate`, 2 usage error, 3 interrupted, 4 a field
degraded, 5 robots.txt unavailable). A job directory's life is
`crawler.jobdir.JobDirGuard`'s; this module only says when a job starts over. The
click commands (`cwarchive.commands.crawl`, `worker`) are thin shells over it.
"""

from __future__ import annotations

import ipaddress
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from common.urls import SITE
from cwarchive.errors import CliError
from cwarchive.options import usable_cores
from cwarchive.output import emit

if TYPE_CHECKING:
    from rich.console import Console

EXIT_COMPLETED = 0
EXIT_ERRORS = 1
EXIT_INTERRUPTED = 3
# A field disappeared from a large share of the articles that had it (storage.health):
# the run held back the versions that only lost it.
EXIT_DEGRADED = 4
# robots.txt answered 5xx or not at all (RFC 9309: every page disallowed): the crawl
# fetched nothing and the run is failed.
EXIT_ROBOTS_UNAVAILABLE = 5


def is_loopback(root: str) -> bool:
    host = urlsplit(root).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_site_root(root: str) -> str:
    parts = urlsplit(root)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise CliError(
            f"--site must be a root URL like http://127.0.0.1:8000, not {root!r} "
            "(the site's paths are kept as they are)"
        )
    return f"{parts.scheme}://{parts.netloc}"


MAX_AUTO_PARSE_JOBS = 2


def crawl_overrides(
    *,
    site: str = SITE,
    db_url: str | None,
    full: bool = False,
    tags: bool = False,
    limit: int = 0,
    since: str = "",
    sections: tuple[str, ...] = (),
    job_dir: str | None = None,
    warc_dir: str | None = None,
    max_error_rate: float = 0.05,
    throttle: bool | None = None,
    parse_jobs: int | None = None,
    log_level: str = "INFO",
) -> dict[str, Any]:
    """The settings a crawl's options stand for, over the project's defaults."""
    overrides: dict[str, Any] = {
        "ARCHIVE_SITE_ROOT": site,
        "ARCHIVE_DB_URL": db_url or "",
        "ARCHIVE_MODE": "full" if full else "incremental",
        "ARCHIVE_TAGS": tags,
        "ARCHIVE_LIMIT": limit,
        "ARCHIVE_SINCE": since,
        "ARCHIVE_MAX_ERROR_RATE": max_error_rate,
        "LOG_LEVEL": log_level,
    }
    if sections:
        overrides["ARCHIVE_SECTIONS"] = list(sections)
    if job_dir:
        overrides["JOBDIR"] = job_dir
    if warc_dir:
        overrides["ARCHIVE_WARC_DIR"] = warc_dir
    # Politeness is for other people's servers: a replay server on this machine is
    # ours, and the throttle would only measure itself.
    if throttle is False or (throttle is None and is_loopback(site)):
        overrides.update(
            AUTOTHROTTLE_ENABLED=False,
            DOWNLOAD_DELAY=0,
            DOWNLOAD_DELAY_JITTER=0,
            CONCURRENT_REQUESTS=16,
            CONCURRENT_REQUESTS_PER_DOMAIN=16,
        )
        # Pages then arrive faster than one core parses them: spare cores parse. Two at
        # most: the reactor's thread spends ~5 ms of its own on a page against ~2.5 ms
        # of parsing, so a third worker would wait (and cost its memory).
        if parse_jobs is None:
            parse_jobs = min(usable_cores() - 1, MAX_AUTO_PARSE_JOBS)
    if parse_jobs is not None:
        overrides["PARSE_JOBS"] = parse_jobs
    return overrides


class CrawlFailed(CliError):
    """The crawl could not start (the spider or a component raised): not a usage error."""

    exit_code = EXIT_ERRORS


def run_crawl(overrides: dict[str, Any], live: bool = False) -> dict[str, Any]:
    """Run the spider once in this process; its final stats. Once per process (Twisted)."""
    # Imported here, before the engine's HTTP handler would: at import it makes three
    # deprecated-class aliases, each calling inspect.stack(), whose cost grows with the
    # stack's depth (~90 ms of an unchanged re-crawl inside the engine's start, ~40 here).
    import scrapy.core.downloader.contextfactory  # noqa: F401
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from crawler.spiders.cancerwise import CancerwiseSpider
    from cwarchive.cli import start_up_done

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.setdict(overrides, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(CancerwiseSpider)
    progress = None
    if live:
        from cwarchive.output import console
        from cwarchive.progress import LiveProgress

        progress = LiveProgress(crawler, console(stderr=True))
    failures: list[Any] = []
    done = process.crawl(crawler)
    done.addErrback(failures.append)  # Scrapy would only log it as "Unhandled error"
    if progress is not None:
        progress.start()
    start_up_done()  # Scrapy is loaded, the spider has read the archive: the crawl starts
    try:
        process.start()
    finally:
        if progress is not None:
            progress.stop()
    if failures:
        error = failures[0].value
        raise CrawlFailed(f"the crawl could not run: {type(error).__name__}: {error}")
    return crawler.stats.get_stats()


def exit_status(numbers: dict[str, Any], max_error_rate: float) -> int:
    from crawler.middlewares.robots import ROBOTS_UNAVAILABLE

    if numbers.get("finish_reason") == ROBOTS_UNAVAILABLE:
        return EXIT_ROBOTS_UNAVAILABLE
    if numbers.get("status") == "interrupted" or numbers.get("finish_reason") in (
        "shutdown",
        "killed",
        "cancelled",
    ):
        return EXIT_INTERRUPTED
    if numbers.get("degraded"):
        return EXIT_DEGRADED
    if numbers.get("finish_reason") != "finished" or numbers.get("status") == "failed":
        return EXIT_ERRORS
    if numbers.get("error_rate", 0.0) > max_error_rate:
        return EXIT_ERRORS
    return EXIT_COMPLETED


def tell_robots_unavailable(stats: dict[str, Any]) -> bool:
    """The one `error:` line of a crawl that stopped on its robots.txt (stderr); whether
    it did."""
    from crawler.middlewares.robots import UNAVAILABLE_STAT

    why = stats.get(UNAVAILABLE_STAT)
    if why:
        click.echo(
            f"error: robots.txt unavailable ({why}): RFC 9309 reads that as every page "
            "disallowed, so nothing was crawled and the run is failed (nothing removed); "
            "run again when the site answers",
            err=True,
        )
    return bool(why)


def health_figures(stats: dict[str, Any]) -> dict[str, Any]:
    """The fields the run stopped reading and the versions it held back (none: {})."""
    degraded = stats.get("archive/degraded")
    return {"degraded": degraded, "held": stats.get("archive/held", 0)} if degraded else {}


def tell_degraded(numbers: dict[str, Any]) -> None:
    """The one `error:` line of a run that stopped reading a field (stderr)."""
    degraded = numbers.get("degraded")
    if not degraded:
        return
    run = numbers.get("run_id")
    lost = ", ".join(
        f"{f['field']} ({f['lost']} of the {f['had_before']} articles that had it lost it)"
        for f in degraded
    )
    click.echo(
        f"error: run {run} stopped reading {lost}: {numbers.get('held', 0)} versions that only "
        "lost it were held back and those articles keep their current version; fix the "
        f"parser and `cwarchive reparse`, or accept the change: `cwarchive accept {run}`",
        err=True,
    )


def ensure_archive(db_url: str) -> None:
    """Open the archive once before crawling: a bad URL or an old schema is a usage error."""
    from storage import Archive, SchemaOutOfDate

    try:
        Archive.open(db_url).close()
    except SchemaOutOfDate as error:
        raise CliError(str(error)) from None
    except Exception as error:  # a bad URL, a missing driver, an unwritable path
        raise CliError(f"cannot open the archive {db_url}: {error}") from None


@dataclass(frozen=True)
class Alerts:
    """Where to send the digest of a completed run, and which fields it reports."""

    urls: tuple[str, ...]
    fields: tuple[str, ...]


def notify_settings(values: tuple[str, ...], fields: str) -> Alerts | None:
    """`--notify` URLs and `--notify-fields`, checked before the crawl: a typo found
    after an hour of crawling would lose that run's alert."""
    from cwarchive.notify import split_urls, unreadable_url

    urls = split_urls(values)
    if not urls:
        return None
    from storage.changes import CHANGE_FIELDS  # imported only when --notify is given

    bad = unreadable_url(urls)
    if bad is not None:
        raise CliError(f"--notify {bad!r}: not a notification URL Apprise knows")
    watched = tuple(dict.fromkeys(f.strip() for f in fields.split(",") if f.strip()))
    unknown = [field for field in watched if field not in CHANGE_FIELDS]
    if unknown or not watched:
        raise CliError(
            f"--notify-fields {fields!r}: fields separated by commas, from "
            f"{', '.join(CHANGE_FIELDS)}"
        )
    return Alerts(tuple(urls), watched)


def report(numbers: dict[str, Any], as_json: bool, db_url: str | None, title: str) -> None:
    from cwarchive.progress import summary_table

    def readable(console: Console) -> None:
        console.print(summary_table(numbers, title=title))
        if db_url:
            console.print(f"archive: {db_url}")
        if "notifications" in numbers:
            sent, failed = numbers["notifications"]["sent"], numbers["notifications"]["failed"]
            console.print(f"notifications: {sent} sent, {failed} failed", highlight=False)

    emit({**numbers, "db": db_url} if as_json else numbers, as_json, readable)


def crawl_and_report(
    overrides: dict[str, Any],
    *,
    as_json: bool,
    max_error_rate: float,
    title: str,
    show_db: bool = True,
    alerts: Alerts | None = None,
) -> int:
    from cwarchive.progress import figures

    db_url = overrides.get("ARCHIVE_DB_URL") or None
    if db_url:
        ensure_archive(db_url)
    live = not as_json and sys.stderr.isatty()
    if live and "LOG_LEVEL" not in overrides:
        overrides["LOG_LEVEL"] = "WARNING"
    job_dir = overrides.get("JOBDIR")
    if job_dir:
        from crawler.jobdir import STARTED_OVER, job_died

        # Said here, before the crawl's log; `crawler.jobdir.JobDirGuard` clears the job.
        if job_died(job_dir):
            click.echo(f"warning: {STARTED_OVER.format(job=job_dir)}", err=True)
    stats = run_crawl(overrides, live=live)
    numbers = {**figures(stats), **health_figures(stats)}
    if alerts is not None and db_url:
        from cwarchive.notify import after_crawl

        # After the run is finished and stored: the message reads it back from the
        # archive, and nothing it does can change the run or the exit status.
        delivery = after_crawl(db_url, numbers, list(alerts.urls), alerts.fields)
        numbers["notifications"] = delivery.as_dict()
    report(numbers, as_json, db_url if show_db or as_json else None, title)
    tell_robots_unavailable(stats)
    tell_degraded(numbers)
    return exit_status(numbers, max_error_rate)


def distributed_crawl_and_report(
    overrides: dict[str, Any],
    *,
    frontier_url: str,
    frontier_name: str,
    max_rate: float | None,
    as_json: bool,
    max_error_rate: float,
    alerts: Alerts | None = None,
) -> int:
    """The coordinator of a distributed run: this process does discovery and takes its
    share of the shared queue; the run ends when the frontier is drained and every
    worker has left (docs/scale-out.md). The summary is this process's, with the run's
    totals and its processes beside it."""
    from cwarchive import distributed
    from cwarchive.progress import figures

    db_url = distributed.check_db(overrides.get("ARCHIVE_DB_URL"))
    frontier = distributed.connect(frontier_url, frontier_name)
    distributed.check_not_busy(frontier)
    ensure_archive(db_url)
    if max_rate is None:
        site = overrides.get("ARCHIVE_SITE_ROOT", SITE)
        max_rate = 0.0 if is_loopback(site) else distributed.LIVE_MAX_RATE
    overrides.update(
        distributed.overrides(frontier_url, frontier_name, "coordinator", max_rate=max_rate)
    )
    live = not as_json and sys.stderr.isatty()
    if live and "LOG_LEVEL" not in overrides:
        overrides["LOG_LEVEL"] = "WARNING"
    stats = run_crawl(overrides, live=live)
    numbers = {**figures(stats), **health_figures(stats)}
    if stats.get("archive/error_rate") is not None:
        numbers["error_rate"] = stats["archive/error_rate"]  # all processes together
    numbers.update(distributed.run_figures(db_url, numbers.get("run_id")))
    if alerts is not None and numbers.get("status") is not None:
        from cwarchive.notify import after_crawl

        delivery = after_crawl(db_url, numbers, list(alerts.urls), alerts.fields)
        numbers["notifications"] = delivery.as_dict()
    report(numbers, as_json, db_url, "crawl (coordinator)")
    if not as_json and numbers.get("workers"):
        from cwarchive.distributed import WORKER_COLUMNS
        from cwarchive.output import console, table

        run = numbers.get("run") or {}
        title = f"run {run.get('id')}: {run.get('pages_fetched')} pages by these processes"
        console().print(table(title, numbers["workers"], WORKER_COLUMNS))
    tell_robots_unavailable(stats)
    tell_degraded(numbers)
    return exit_status(numbers, max_error_rate)
