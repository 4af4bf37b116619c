"""cwarchive/commands/crawl.py: settings from options, `-s NAME=VALUE`, exit status."""

from __future__ import annotations

from typing import Any

import click
import pytest

from cwarchive.crawling import (
    MAX_AUTO_PARSE_JOBS,
    crawl_overrides,
    exit_status,
    is_loopback,
)
from cwarchive.options import parse_settings, usable_cores


@pytest.mark.parametrize(
    ("root", "loopback"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://localhost:1", True),
        ("http://[::1]:80", True),
        ("https://www.mdanderson.org", False),
        ("http://10.0.0.2", False),
    ],
)
def test_loopback_turns_the_throttle_off(root: str, loopback: bool) -> None:
    assert is_loopback(root) is loopback
    overrides = crawl_overrides(site=root, db_url=None)
    assert overrides.get("AUTOTHROTTLE_ENABLED", True) is not loopback
    assert "AUTOTHROTTLE_ENABLED" not in crawl_overrides(site=root, db_url=None, throttle=True)


def test_parser_workers_only_without_the_throttle() -> None:
    """The spare cores parse when pages come fast; a polite crawl parses in process."""
    spare = min(usable_cores() - 1, MAX_AUTO_PARSE_JOBS)
    assert crawl_overrides(site="http://127.0.0.1:8000", db_url=None)["PARSE_JOBS"] == spare
    assert "PARSE_JOBS" not in crawl_overrides(site="https://www.mdanderson.org", db_url=None)
    polite = crawl_overrides(site="http://127.0.0.1:8000", db_url=None, throttle=True)
    assert "PARSE_JOBS" not in polite  # the project's default, 0
    chosen = crawl_overrides(site="https://www.mdanderson.org", db_url=None, parse_jobs=3)
    assert chosen["PARSE_JOBS"] == 3


@pytest.mark.parametrize(
    ("numbers", "status"),
    [
        ({"finish_reason": "finished", "status": "completed", "error_rate": 0.01}, 0),
        ({"finish_reason": "finished", "status": "completed", "error_rate": 0.2}, 1),
        ({"finish_reason": "shutdown", "status": "interrupted"}, 3),
        ({"finish_reason": None}, 1),
    ],
)
def test_exit_status(numbers: dict[str, Any], status: int) -> None:
    assert exit_status(numbers, max_error_rate=0.05) == status


def test_parse_settings() -> None:
    assert parse_settings(("A=1", "B = x=y")) == {"A": "1", "B": " x=y"}
    with pytest.raises(click.BadParameter):
        parse_settings(("A",))


def test_a_distributed_process_parses_its_own_pages() -> None:
    """Its processes are the run's parallelism: no parser workers beside them."""
    from click.testing import CliRunner

    from cwarchive import distributed
    from cwarchive.cli import main

    assert distributed.overrides("redis://127.0.0.1:1/0", "n", "worker")["PARSE_JOBS"] == 0
    assert distributed.overrides("redis://127.0.0.1:1/0", "n", "coordinator")["PARSE_JOBS"] == 0
    result = CliRunner().invoke(
        main, ["crawl", "--frontier", "redis://127.0.0.1:1/0", "--parse-jobs", "1"]
    )
    assert result.exit_code == 2
    assert "--parse-jobs does not apply with --frontier" in result.output
