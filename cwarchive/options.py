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
