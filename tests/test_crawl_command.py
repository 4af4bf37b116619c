"""cwarchive/commands/crawl.py: settings from options, `-s NAME=VALUE`, exit status."""

from __future__ import annotations

from typing import Any

import click
import pytest

from cwarchive.commands.crawl import crawl_overrides, exit_status, is_loopback, parse_settings


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
