"""Option decorators shared by several commands (one definition, no copies)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click

DEFAULT_DB = "cwarchive.sqlite"

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print exactly one JSON document on stdout."
)


def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--db URL`: any SQLAlchemy URL or a SQLite file path; env CWARCHIVE_DB."""
    return click.option(
        "--db",
        "db_url",
        envvar="CWARCHIVE_DB",
        default=DEFAULT_DB,
        show_default=True,
        help="Archive database: a SQLAlchemy URL or a SQLite file path (env CWARCHIVE_DB).",
    )(func)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def parse_settings(values: tuple[str, ...]) -> dict[str, str]:
    """`NAME=VALUE` pairs of `-s` (as `scrapy crawl -s` takes them)."""
    settings = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{value!r} is not NAME=VALUE", param_hint="-s/--set")
        settings[name.strip()] = setting
    return settings


def settings_option(example: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`-s/--set NAME=VALUE`: any Scrapy setting over the options (`crawl`, `worker`)."""
    return click.option(
        "-s",
        "--set",
        "extra_settings",
        multiple=True,
        metavar="NAME=VALUE",
        callback=lambda ctx, param, values: parse_settings(values),
        help="Any Scrapy setting, over the options above; repeatable." + example,
    )
