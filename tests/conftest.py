"""Shared fixtures. Keep them general: several test modules use them."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.databases import PG_ENV, postgres_schema

if TYPE_CHECKING:
    from cwarchive.testing.replay import ReplayServer
    from cwarchive.testing.sitegen import Site
    from storage import Archive

FIXTURE_SITE = Path(__file__).resolve().parents[1] / "fixtures" / "site"

REDIS_ENV = "CWARCHIVE_TEST_REDIS"
# A database number of its own: the tests never touch a real frontier's keys.
DEFAULT_TEST_REDIS = "redis://127.0.0.1:6379/15"


@pytest.fixture(params=["sqlite", "postgresql"])
def archive_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty archive database URL: a SQLite file, then a PostgreSQL schema.

    PostgreSQL runs when CWARCHIVE_TEST_PG is set (`.ci/run` sets it); each test gets
    its own schema (via `search_path`), so tests can run in parallel (`pytest -n 2`).
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.sqlite'}"
        return
    server = os.environ.get(PG_ENV)
    if not server:
        reason = f"{PG_ENV} is not set: PostgreSQL storage tests skipped"
        print(reason)
        pytest.skip(reason)
    with postgres_schema(server) as url:
        yield url


@pytest.fixture(params=["Archive", "SharedArchive"])
def opened(request: pytest.FixtureRequest, archive_url: str) -> Iterator[Archive]:
    """An archive opened on `archive_url` by each writer: the single one and the shared
    (distributed) one, in small batches."""
    from storage import Archive
    from storage.shared import SharedArchive

    archive = (SharedArchive if request.param == "SharedArchive" else Archive).open(
        archive_url, batch_size=2
    )
    yield archive
    archive.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """An empty PostgreSQL archive URL (a schema of its own); skipped without CWARCHIVE_TEST_PG."""
    server = os.environ.get(PG_ENV)
    if not server:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL tests skipped")
    with postgres_schema(server) as url:
        yield url


@pytest.fixture
def frontier_url() -> Iterator[tuple[str, str]]:
    """(Redis URL, frontier name): a name of its own, its keys deleted afterwards.

    Redis from CWARCHIVE_TEST_REDIS (default redis://127.0.0.1:6379/15, `.ci/run` starts
    a server); skipped when none answers.
    """
    import redis

    url = os.environ.get(REDIS_ENV) or DEFAULT_TEST_REDIS
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis at {url} ({REDIS_ENV}): {error}")
    from crawler.frontier.state import Frontier

    name = f"test-{uuid.uuid4().hex[:10]}"
    yield url, name
    Frontier(url, name).clear()


@pytest.fixture
def bundled(tmp_path: Path) -> Iterator[tuple[Site, Path, ReplayServer]]:
    """fixtures/site (a copy: the test changes it), the model it was written from, and a
    replay server on it."""
    from cwarchive.testing.replay import ReplayServer
    from cwarchive.testing.sitegen.cases import small_site

    root = tmp_path / "site"
    shutil.copytree(FIXTURE_SITE, root)  # copy2: mtimes, hence Last-Modified, kept
    with ReplayServer(root) as server:
        yield small_site(), root, server
