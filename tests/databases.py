"""Test databases: a PostgreSQL schema of its own per test (shared by conftest and tests)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

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
