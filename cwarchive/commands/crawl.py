"""`cwarchive crawl`: the options of a crawl in this process, or of a distributed run's
coordinator (`--frontier`); the crawl itself is `cwarchive.crawling`.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from common.urls import SITE
from cwarchive.crawling import (
    check_site_root,
    crawl_and_report,
    crawl_overrides,
    distributed_crawl_and_report,
    notify_settings,
)
from cwarchive.errors import CliError
from cwarchive.notify import DEFAULT_NOTIFY_FIELDS
from cwarchive.options import db_option, json_option, settings_option
from storage.locations import normalize_url


@click.command("crawl")
@click.option(
    "--site",
    default=SITE,
    show_default=True,
    help="Request every site URL on this root instead (same path and query), e.g. a "
    "replay server. Records keep www.mdanderson.org URLs.",
)
@db_option
@click.option("--full", is_flag=True, help="Fetch every article, not only what changed.")
@click.option("--tags", is_flag=True, help="Follow every facet through its next pages.")
@click.option("--limit", type=click.IntRange(min=0), default=0, help="Fetch at most N articles.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only articles whose sitemap lastmod is on or after DATE (YYYY-MM-DD).",
)
@click.option(
    "--section",
    "sections",
    multiple=True,
    help="Section to archive (cancerwise, publications/cancer-frontline); repeatable.",
)
@click.option(
    "--job-dir",
    type=click.Path(file_okay=False),
    help="Scrapy JOBDIR: an interrupted crawl run again with it resumes where it "
    "stopped; a completed crawl clears it.",
)
@click.option("--warc", "warc_dir", type=click.Path(file_okay=False), help="Also write a WARC.")
@click.option(
    "--max-error-rate",
    type=click.FloatRange(0, 1),
    default=0.05,
    show_default=True,
    help="Exit 1 when more than this share of pages failed.",
)
@click.option(
    "--throttle/--no-throttle",
    default=None,
    help="AutoThrottle and 1 s delay (default: on, off for a loopback --site).",
)
@click.option(
    "--parse-jobs",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Parse pages in N worker processes while this one fetches and stores (default: "
    "the spare cores, at most 2, without the throttle; 0 with it: the page a second of a polite "
    "crawl takes a core a few milliseconds).",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default=None,
    help="Scrapy's log level (default INFO; WARNING under the live display).",
)
@settings_option(" E.g. -s DOWNLOAD_TIMEOUT=60 (a shared frontier is --frontier).")
@click.option(
    "--notify",
    "notify_urls",
    multiple=True,
    metavar="URL",
    envvar="CWARCHIVE_NOTIFY",
    help="After a completed run with changes, send its digest to this Apprise URL "
    "(mailto://, slack://, json://, ...), and after any run that stopped reading a "
    "field, whatever --notify-fields says; repeatable. Env CWARCHIVE_NOTIFY: URLs "
    "separated by spaces or commas. A failed send is a warning, never a failed crawl.",
)
@click.option(
    "--notify-fields",
    default=",".join(DEFAULT_NOTIFY_FIELDS),
    show_default=True,
    metavar="FIELDS",
    help="The changes that make a run worth a message, separated by commas (the fields "
    "of `cwarchive changes --field`).",
)
@click.option(
    "--frontier",
    "frontier_url",
    metavar="URL",
    help="Start a distributed run on this Redis frontier (redis://HOST:PORT/DB): "
    "discovery feeds the shared queue, `cwarchive worker` processes on any machine take "
    "from it too. Needs a PostgreSQL --db (docs/scale-out.md).",
)
@click.option(
    "--frontier-name",
    default="cwarchive",
    show_default=True,
    metavar="NAME",
    help="Prefix of the frontier's Redis keys: several frontiers can share one Redis.",
)
@click.option(
    "--max-rate",
    type=click.FloatRange(min=0),
    default=None,
    metavar="N",
    help="With --frontier: at most N requests a second to the site, all processes "
    "together (default 1 for the live site, no limit for a loopback --site; 0: none).",
)
@json_option
def crawl_command(
    site: str,
    db_url: str,
    full: bool,
    tags: bool,
    limit: int,
    since: Any,
    sections: tuple[str, ...],
    job_dir: str | None,
    warc_dir: str | None,
    max_error_rate: float,
    throttle: bool | None,
    parse_jobs: int | None,
    log_level: str | None,
    extra_settings: dict[str, str],
    notify_urls: tuple[str, ...],
    notify_fields: str,
    frontier_url: str | None,
    frontier_name: str,
    max_rate: float | None,
    as_json: bool,
) -> None:
    """Crawl the site (or a replay of it) into the archive.

    Incremental by default: articles whose sitemap lastmod is not newer than their
    last fetch are not fetched; the rest get conditional requests. Exit status: 0
    completed, 1 error rate over --max-error-rate, 2 usage error, 3 interrupted, 4 a
    field degraded (its versions held back: `cwarchive accept`), 5 robots.txt
    unavailable.

    \b
    Examples:
      cwarchive crawl --db archive.sqlite                 # nightly, incremental
      cwarchive crawl --full --warc warc/ --job-dir job/  # everything, resumable
      cwarchive crawl --site http://127.0.0.1:8000 --limit 50
      cwarchive crawl --notify mailto://me:app-password@gmail.com  # mail the changes
      cwarchive crawl --frontier redis://queue:6379/0 --db postgresql://db/cwarchive
    """
    alerts = notify_settings(notify_urls, notify_fields)
    if frontier_url is None and max_rate is not None:
        raise CliError("--max-rate is the shared rate of a distributed run: it needs --frontier")
    if frontier_url is not None and job_dir:
        raise CliError("--job-dir does not apply with --frontier: the frontier keeps the queue")
    if frontier_url is not None and parse_jobs is not None:
        raise CliError(
            "--parse-jobs does not apply with --frontier: each process of the run parses "
            "its own pages (start more `cwarchive worker` processes instead)"
        )
    overrides = crawl_overrides(
        site=check_site_root(site),
        db_url=normalize_url(db_url),
        full=full,
        tags=tags,
        limit=limit,
        since=since.date().isoformat() if since else "",
        sections=sections,
        job_dir=job_dir,
        warc_dir=warc_dir,
        max_error_rate=max_error_rate,
        throttle=throttle,
        parse_jobs=parse_jobs,
        log_level=(log_level or "INFO").upper(),
    )
    if log_level is None:
        overrides.pop("LOG_LEVEL")
    overrides.update(extra_settings)
    if frontier_url is not None:
        sys.exit(
            distributed_crawl_and_report(
                overrides,
                frontier_url=frontier_url,
                frontier_name=frontier_name,
                max_rate=max_rate,
                as_json=as_json,
                max_error_rate=max_error_rate,
                alerts=alerts,
            )
        )
    sys.exit(
        crawl_and_report(
            overrides, as_json=as_json, max_error_rate=max_error_rate, title="crawl", alerts=alerts
        )
    )


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(crawl_command)
