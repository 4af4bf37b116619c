"""`cwarchive worker`: join the open run of a shared frontier and take requests from it.

Any number of workers, on any machine that reaches the frontier (Redis) and the
archive (PostgreSQL): each waits for a run to open (`cwarchive crawl --frontier`),
joins it, fetches and saves what the shared queue hands it, and exits 0 when the run
ends (docs/scale-out.md).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from cwarchive.crawling import (
    EXIT_COMPLETED,
    EXIT_INTERRUPTED,
    EXIT_ROBOTS_UNAVAILABLE,
    check_site_root,
    crawl_overrides,
    ensure_archive,
    report,
    run_crawl,
    tell_robots_unavailable,
)
from cwarchive.options import db_option, json_option, settings_option
from cwarchive.output import emit
from storage.locations import normalize_url


@click.command("worker")
@click.option(
    "--frontier",
    "frontier_url",
    required=True,
    metavar="URL",
    envvar="CWARCHIVE_FRONTIER",
    help="The Redis frontier of the run to join (redis://HOST:PORT/DB); env CWARCHIVE_FRONTIER.",
)
@click.option(
    "--frontier-name",
    default="cwarchive",
    show_default=True,
    metavar="NAME",
    help="Prefix of the frontier's Redis keys, as given to `crawl --frontier-name`.",
)
@db_option
@click.option(
    "--site",
    default=None,
    help="Request the site's URLs on this root (a replay server); default: the run's.",
)
@click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Give up (exit 0) when no run opens within SECONDS (default: wait as long as it takes).",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="INFO",
    show_default=True,
    help="Scrapy's log level.",
)
@settings_option()
@json_option
def worker_command(
    frontier_url: str,
    frontier_name: str,
    db_url: str,
    site: str | None,
    wait_seconds: float | None,
    log_level: str,
    extra_settings: dict[str, str],
    as_json: bool,
) -> None:
    """Join the open run of a shared frontier and take requests from it.

    Waits for `cwarchive crawl --frontier` to open a run, takes part in it until the
    frontier is drained, then exits 0 (3 when interrupted, 5 when robots.txt answered
    5xx or not at all: this process then fetched nothing). What it had taken and not
    saved when it dies is handed to another process once its lease runs out.

    \b
    Examples:
      cwarchive worker --frontier redis://queue:6379/0 --db postgresql://db/cwarchive
      cwarchive worker --frontier redis://127.0.0.1:6379/0 --db postgresql://localhost/test \\
        --site http://127.0.0.1:8000 --wait 60
    """
    from cwarchive import distributed
    from cwarchive.progress import figures

    db = distributed.check_db(normalize_url(db_url))
    frontier = distributed.connect(frontier_url, frontier_name)
    # Imported while waiting, not once the run is open: a worker joining late fetches
    # nothing during the second or two Scrapy and the parsers take to import.
    import scrapy.crawler  # noqa: F401

    import crawler.spiders.cancerwise  # noqa: F401
    import pipelines.shared  # noqa: F401

    run = frontier.wait_for_run(timeout=wait_seconds)
    if run is None:
        emit({"run_id": None, "joined": False}, as_json, lambda console: console.print("no run"))
        sys.exit(EXIT_COMPLETED)
    # After the wait: the coordinator creates an empty archive's schema, not a worker.
    ensure_archive(db)
    overrides: dict[str, Any] = crawl_overrides(
        site=check_site_root(site or run.get("site_root") or ""),
        db_url=db,
        full=run.get("mode") == "full",
        log_level=log_level.upper(),
    )
    # The coordinator's discovery settings: this process parses sitemaps and listings
    # of the run too, and must decide as it would.
    overrides.update(json.loads(run.get("crawl") or "{}"))
    overrides.update(distributed.overrides(frontier_url, frontier_name, "worker", run_id=run["id"]))
    overrides.update(extra_settings)
    stats = run_crawl(overrides, live=False)
    numbers = figures(stats)
    numbers["status"] = stats.get("archive/run_status")
    report(numbers, as_json, db, f"worker of run {run['id']}")
    if tell_robots_unavailable(stats):
        sys.exit(EXIT_ROBOTS_UNAVAILABLE)
    finished = numbers.get("finish_reason") == "finished"
    sys.exit(EXIT_COMPLETED if finished else EXIT_INTERRUPTED)


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(worker_command)
