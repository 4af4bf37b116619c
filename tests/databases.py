"""Test databases: a PostgreSQL schema of its own per test (shared by conftest and tests)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

PG_ENV = "CWARCHIVE_TEST_PG"


@contextmanager
def postgres_schema(server: str) -> Iterator[str]:
    """An archive URL on `server` whose `search_path` is a new schema, dropped afterwards.

    Each test gets its own schema, so tests can run in parallel (`pytest -n 2`).
    """
    import psycopg

    plain = server.replace("postgresql+psycopg://", "postgresql://", 1)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in server else "?"
    try:
        yield f"{server}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def migrate(engine: Engine, revision: str) -> None:
    """The archive at `engine` moved to schema `revision`: down to an older one, or up
    to "head" (Alembic's commands in one transaction, as `storage.db.upgrade` runs them)."""
    from alembic import command

    from storage import db as storage_db

    with engine.begin() as conn:
        config = storage_db.alembic_config(conn)
        if revision == "head":
            command.upgrade(config, "head")
        else:
            command.downgrade(config, revision)
