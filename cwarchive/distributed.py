"""What `cwarchive crawl --frontier` and `cwarchive worker` share (docs/scale-out.md).

The checks made before any process starts crawling (a Redis frontier that answers, a
PostgreSQL archive, one coordinator per frontier), the Scrapy settings of a process's
role, and the run's figures read back from the archive once it is over. Redis and
SQLAlchemy are imported inside the functions: `--help` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cwarchive.errors import CliError

if TYPE_CHECKING:
    from crawler.frontier.state import Frontier
    from cwarchive.output import Column

# The processes of a distributed run, as `runs` and the coordinator's summary show them.
WORKER_COLUMNS: dict[str, Column] = {
    "worker": "worker",
    "role": "role",
    "status": "status",
    "pages": "pages_fetched",
    "new": "articles_new",
    "changed": "articles_changed",
    "unchanged": "articles_unchanged",
    "seen": "articles_seen",
    "listings": "listings",
    "errors": "errors",
}


DEFAULT_NAME = "cwarchive"
# Requests per second per host, all processes together, for the live site: the same
# pace as one polite crawl (`DOWNLOAD_DELAY = 1`).
LIVE_MAX_RATE = 1.0
OPEN_STATUSES = ("opening", "running", "finishing")


def check_db(db_url: str | None) -> str:
    if not db_url or db_url.startswith("sqlite"):
        raise CliError(
            "--frontier needs a PostgreSQL --db (postgresql://...): the processes of a "
            "distributed run write one archive at once, and SQLite has one writer at a time"
        )
    return db_url


def connect(frontier_url: str, name: str) -> Frontier:
    """The frontier, checked to answer; a usage error (exit 2) when it does not."""
    if urlsplit(frontier_url).scheme not in ("redis", "rediss", "unix"):
        raise CliError(
            f"--frontier must be a Redis URL (redis://HOST:PORT/DB), not {frontier_url!r}"
        )
    import redis

    from crawler.frontier.state import Frontier

    try:
        frontier = Frontier(frontier_url, name)
        frontier.redis.ping()
    except (redis.RedisError, ValueError) as error:
        raise CliError(f"cannot reach the frontier {frontier_url}: {error}") from None
    return frontier


def check_not_busy(frontier: Frontier) -> None:
    """One coordinator per frontier: a second one would reset the first one's run."""
    run = frontier.run()
    owner = run.get("coordinator")
    if run.get("status") in OPEN_STATUSES and owner and frontier.alive(owner):
        raise CliError(
            f"run {run.get('id', '?')} is open on frontier {frontier.name!r} (coordinator "
            f"{owner}): start workers with `cwarchive worker`, or another --frontier-name"
        )


def overrides(
    frontier_url: str,
    name: str,
    role: str,
    *,
    max_rate: float | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """The settings of a process of a distributed run (`crawler.frontier.addon`)."""
    settings: dict[str, Any] = {
        "ARCHIVE_FRONTIER_URL": frontier_url,
        "ARCHIVE_FRONTIER_NAME": name,
        "ARCHIVE_ROLE": role,
        # The run's processes are its parallelism, one per core: each parses its own
        # pages rather than start parser workers beside the others.
        "PARSE_JOBS": 0,
    }
    if max_rate is not None:
        settings["ARCHIVE_MAX_RATE"] = max_rate
    if run_id is not None:
        settings["ARCHIVE_FRONTIER_RUN"] = run_id
    return settings


def run_figures(db_url: str, run_id: int | None) -> dict[str, Any]:
    """The run's row and its processes, as the archive holds them after the run."""
    if run_id is None:
        return {}
    from sqlalchemy import select

    from storage import db, queries
    from storage.models import Run

    engine = db.make_engine(db_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(Run).where(Run.id == run_id)).one_or_none()
            workers = queries.run_workers(conn, run_id)
    finally:
        engine.dispose()
    if row is None:
        return {}
    run = {k: v for k, v in row._asdict().items() if k not in ("started_at", "finished_at")}
    return {"run": run, "workers": workers}
