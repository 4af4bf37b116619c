"""cwarchive/progress.py: the run's figures and the summary table."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from cwarchive.progress import figures, summary_table


def test_figures_and_summary_table() -> None:
    start = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    stats = {
        "start_time": start,
        "finish_time": start.replace(second=10),
        "archive/pages": 48,
        "archive/new": 40,
        "archive/fetch_errors": 2,
        "finish_reason": "finished",
        "archive/run_id": 3,
        "archive/run_status": "completed",
    }
    numbers = figures(stats)
    assert numbers["pages_per_second"] == 4.8
    assert numbers["errors"] == 2 and numbers["error_rate"] == 0.04
    console = Console(record=True, width=80)
    console.print(summary_table(numbers))
    text = console.export_text()
    assert "3 (completed)" in text
    assert "4.0%" in text
