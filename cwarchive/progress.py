"""What a person watching a crawl sees: a live panel on a terminal, a summary at the end.

Reads only Scrapy's stats (the `archive/*` keys the pipelines and the spider keep),
so it shows the same numbers the runs table and the exit status are made from.
Off a terminal, the `crawler.extensions.ProgressLog` extension logs a plain line per
1,000 pages instead.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from crawler.extensions import error_count, error_rate

if TYPE_CHECKING:  # rich is imported when a person is shown something, not for --json
    from rich.console import Console
    from rich.table import Table


def figures(stats: dict[str, Any], elapsed: float | None = None) -> dict[str, Any]:
    """The numbers of a crawl, by name: the live panel, the summary and `--json` share them."""
    pages = stats.get("archive/pages", 0)
    if elapsed is None:
        start, finish = stats.get("start_time"), stats.get("finish_time")
        elapsed = (finish - start).total_seconds() if start and finish else 0.0
    return {
        "run_id": stats.get("archive/run_id"),
        "status": stats.get("archive/run_status"),
        "pages_fetched": pages,
        "requests": stats.get("downloader/request_count", 0),
        "queued": max(0, stats.get("scheduler/enqueued", 0) - stats.get("scheduler/dequeued", 0)),
        "new": stats.get("archive/new", 0),
        "changed": stats.get("archive/changed", 0),
        "unchanged": stats.get("archive/unchanged", 0),
        "not_modified": stats.get("archive/not_modified", 0),
        "skipped": stats.get("archive/skipped", 0),
        "gone": stats.get("archive/gone", 0),
        "listings": stats.get("archive/listings", 0),
        "errors": error_count(stats),
        "error_rate": round(error_rate(stats), 4),
        "elapsed_seconds": round(elapsed, 2),
        "pages_per_second": round(pages / elapsed, 1) if elapsed else 0.0,
        "finish_reason": stats.get("finish_reason"),
        "warc_file": stats.get("archive/warc_file"),
    }


_ROWS = (
    ("pages fetched", "pages_fetched"),
    ("queued", "queued"),
    ("new", "new"),
    ("changed", "changed"),
    ("unchanged", "unchanged"),
    ("  of which 304", "not_modified"),
    ("not fetched (lastmod)", "skipped"),
    ("gone (404/410)", "gone"),
    ("listing pages", "listings"),
    ("errors", "errors"),
    ("pages/s", "pages_per_second"),
)


def summary_table(numbers: dict[str, Any], title: str = "crawl") -> Table:
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, key in _ROWS:
        table.add_row(label, str(numbers.get(key, "")))
    table.add_row("error rate", f"{numbers.get('error_rate', 0.0):.1%}")
    table.add_row("time", f"{numbers.get('elapsed_seconds', 0.0):.1f} s")
    if numbers.get("run_id") is not None:
        table.add_row("run", f"{numbers['run_id']} ({numbers.get('status') or 'running'})")
    if numbers.get("warc_file"):
        table.add_row("WARC", str(numbers["warc_file"]))
    return table


class LiveProgress:
    """A rich panel refreshed from the crawler's stats twice a second."""

    def __init__(self, crawler: Any, console: Console) -> None:
        # The crawler, not its stats: Scrapy sets `crawler.stats` only when it starts.
        from rich.live import Live

        self.crawler = crawler
        self._started = time.monotonic()
        self._live = Live(
            self._render(),
            console=console,
            refresh_per_second=4,
            transient=True,
            # Scrapy's log handler keeps the original stderr: let nothing be redirected.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._loop: Any = None

    def _render(self) -> Table:
        stats = self.crawler.stats.get_stats() if self._running() else {}
        numbers = figures(stats, time.monotonic() - self._started)
        return summary_table(numbers, title="crawling…")

    def _running(self) -> bool:
        try:
            return self.crawler.stats is not None
        except RuntimeError:  # not started yet
            return False

    def _refresh(self) -> None:
        self._live.update(self._render())

    def start(self) -> None:
        from twisted.internet.task import LoopingCall  # the reactor is installed by now

        self._live.start()
        self._loop = LoopingCall(self._refresh)
        self._loop.start(0.5, now=True)

    def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self._live.is_started:
            self._live.stop()
