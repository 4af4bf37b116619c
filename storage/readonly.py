"""The one read-only opening of the archive: every reader's connection comes from here.

Readers never create, migrate or write a database. `read_only_engine` is the only
place that knows how a connection is made read-only:

- SQLite: the file is opened through a `file:...?mode=ro` URI (`immutable=1` for
  Datasette, which must not leave a `-shm` file either) with `PRAGMA query_only=1`; a
  missing file is `NoArchive`, never created. Each SQLAlchemy transaction is one
  SQLite read transaction (`BEGIN`), so a reader sees one snapshot while a crawl
  writes. With a `SqliteGuard` (the statements a person types: `cwarchive query` and
  `export`), an authorizer (`sqlite3.Connection.set_authorizer`) allows only reading:
  SELECT, reading columns, recursive CTEs, functions (not `load_extension` and the
  like) and a list of PRAGMAs that only report. ATTACH is denied before it runs: a
  read-only connection would otherwise still create the attached file, and `VACUUM
  INTO` (which attaches its target) would write a copy of the archive. `sqlite3`
  itself refuses several statements in one call. Such a connection runs each
  statement on its own (no BEGIN: the authorizer refuses transactions).
- PostgreSQL: the session starts with `default_transaction_read_only=on`; a snapshot
  reader's transactions are `REPEATABLE READ`, so every statement of one sees the same
  rows.

`connect` checks the schema (`NoArchive`, `SchemaOutOfDate`: "run `cwarchive db
upgrade`") and yields one connection never committed. One researcher's statement run
on such a connection is `storage.statement`.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from storage import db
from storage.db import ArchiveError, NoArchive

# SQLite VM instructions between two looks at the deadline: often enough to stop within
# milliseconds, rare enough to cost nothing measurable.
PROGRESS_STEPS = 10_000


# -- SQLite: what the authorizer lets through ----------------------------------------------

# PRAGMAs that only report, whatever their argument (a table or index name, a number).
_PRAGMAS_ANY_ARGUMENT = frozenset(
    {
        "collation_list",
        "compile_options",
        "database_list",
        "foreign_key_check",
        "foreign_key_list",
        "function_list",
        "index_info",
        "index_list",
        "index_xinfo",
        "integrity_check",
        "module_list",
        "pragma_list",
        "quick_check",
        "table_info",
        "table_list",
        "table_xinfo",
    }
)
# PRAGMAs that report when asked without a value and change something when given one.
_PRAGMAS_WITHOUT_VALUE = frozenset(
    {
        "application_id",
        "auto_vacuum",
        "busy_timeout",
        "cache_size",
        "data_version",
        "encoding",
        "foreign_keys",
        "freelist_count",
        "journal_mode",
        "max_page_count",
        "page_count",
        "page_size",
        "query_only",
        "read_uncommitted",
        "schema_version",
        "synchronous",
        "user_version",
    }
)
# Functions that reach outside the database (files, shared libraries) where an
# extension or the sqlite3 shell provides them.
_FUNCTIONS_DENIED = frozenset(
    {"load_extension", "writefile", "readfile", "edit", "fts3_tokenizer", "sqlar_compress"}
)
_SCHEMA_TABLES = ("sqlite_master", "sqlite_schema")
_ACTION_NAMES = {
    code: name
    for name in (
        "ALTER_TABLE",
        "ANALYZE",
        "ATTACH",
        "CREATE_INDEX",
        "CREATE_TABLE",
        "CREATE_TEMP_INDEX",
        "CREATE_TEMP_TABLE",
        "CREATE_TEMP_TRIGGER",
        "CREATE_TEMP_VIEW",
        "CREATE_TRIGGER",
        "CREATE_VIEW",
        "CREATE_VTABLE",
        "DELETE",
        "DETACH",
        "DROP_INDEX",
        "DROP_TABLE",
        "DROP_TEMP_INDEX",
        "DROP_TEMP_TABLE",
        "DROP_TEMP_TRIGGER",
        "DROP_TEMP_VIEW",
        "DROP_TRIGGER",
        "DROP_VIEW",
        "DROP_VTABLE",
        "FUNCTION",
        "INSERT",
        "PRAGMA",
        "READ",
        "RECURSIVE",
        "REINDEX",
        "SAVEPOINT",
        "SELECT",
        "TRANSACTION",
        "UPDATE",
    )
    if (code := getattr(sqlite3, f"SQLITE_{name}", None)) is not None
}


@dataclass
class SqliteGuard:
    """The authorizer and progress handler of one read-only SQLite connection."""

    deadline: float | None = None
    timed_out: bool = False
    denied: list[str] = field(default_factory=list)

    def authorize(
        self, action: int, arg1: str | None, arg2: str | None, dbname: str | None, _: Any
    ) -> int:
        if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() not in _FUNCTIONS_DENIED:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_UPDATE and arg1 in _SCHEMA_TABLES and dbname == "main":
            # SQLite asks this when a statement first uses an eponymous virtual table
            # (json_each, pragma_table_info) on the connection. No write can follow:
            # the file is open read-only, query_only is on and writable_schema refused.
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA:
            name = (arg1 or "").lower()
            if name in _PRAGMAS_ANY_ARGUMENT or (name in _PRAGMAS_WITHOUT_VALUE and arg2 is None):
                return sqlite3.SQLITE_OK
        self.denied.append(_describe(action, arg1, arg2))
        return sqlite3.SQLITE_DENY

    def progress(self) -> int:
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.timed_out = True
            return 1  # non-zero: SQLite abandons the statement ("interrupted")
        return 0


def _describe(action: int, arg1: str | None, arg2: str | None) -> str:
    name = _ACTION_NAMES.get(action, f"action {action}")
    if action == sqlite3.SQLITE_PRAGMA:
        return f"PRAGMA {arg1}" + (f"={arg2}" if arg2 is not None else "")
    if action == sqlite3.SQLITE_FUNCTION:
        return f"the function {arg2}()"
    if action == getattr(sqlite3, "SQLITE_ATTACH", None):
        # VACUUM INTO attaches its target file too.
        return f"ATTACH or VACUUM INTO {arg1!r}" if arg1 else "VACUUM"
    verb = {"INSERT": "INSERT INTO", "DELETE": "DELETE FROM"}.get(name, name.replace("_", " "))
    target = arg1 if action != sqlite3.SQLITE_TRANSACTION else None
    return verb + (f" {target}" if target else "")


# -- the engine ---------------------------------------------------------------------------


def read_only_engine(
    db_url: str,
    *,
    snapshot: bool = False,
    guard: SqliteGuard | None = None,
    immutable: bool = False,
) -> Engine:
    """An engine that cannot write the archive at `db_url`, nor create it.

    `snapshot`: on PostgreSQL each transaction is REPEATABLE READ (SQLite's read
    transaction holds one snapshot already). `guard`: SQLite's authorizer and time
    limit (a person's SQL). `immutable`: SQLite reads the file as never changing and
    writes nothing beside it, as Datasette reads it.
    Raises `NoArchive` for a missing SQLite file, `ArchiveError` for an in-memory one.
    """
    url = make_url(db.normalize_url(db_url))
    if url.get_backend_name() != "sqlite":
        # Read-only from the session's first transaction on, whatever runs in it.
        url = db.with_session_options(url, "-c default_transaction_read_only=on")
        if snapshot:
            return create_engine(url, poolclass=NullPool, isolation_level="REPEATABLE READ")
        return create_engine(url, poolclass=NullPool)
    path = db.sqlite_file(db_url)
    if path is None:
        raise ArchiveError(f"{db_url}: an in-memory database holds no archive")
    if not os.path.isfile(path):
        raise NoArchive(
            f"no archive at {path}: run a crawl, `cwarchive ingest` or `cwarchive db upgrade` first"
        )
    uri = Path(path).resolve().as_uri() + ("?immutable=1" if immutable else "?mode=ro")
    engine = create_engine("sqlite://", creator=_sqlite_connect(uri, guard), poolclass=NullPool)
    if guard is None:
        # BEGIN is ours: the sqlite3 module would run each SELECT on its own.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    return engine


def _sqlite_connect(uri: str, guard: SqliteGuard | None) -> Callable[[], sqlite3.Connection]:
    def connect() -> sqlite3.Connection:
        isolation = "" if guard is not None else None
        conn = sqlite3.connect(uri, uri=True, isolation_level=isolation, check_same_thread=False)
        conn.execute("PRAGMA query_only=1")
        conn.execute(f"PRAGMA busy_timeout={db.SQLITE_BUSY_TIMEOUT_MS}")
        if guard is not None:
            conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
            conn.set_authorizer(guard.authorize)
            conn.set_progress_handler(guard.progress, PROGRESS_STEPS)
        return conn

    return connect


def shown(db_url: str) -> str:
    """The archive as a message names it: a SQLite file's path, a URL without password."""
    url = make_url(db.normalize_url(db_url))
    return db.sqlite_file(db_url) or url.render_as_string(hide_password=True)


def first_line(error: BaseException) -> str:
    """An exception as one line (a driver's message can span several)."""
    original = error.orig if isinstance(error, DBAPIError) else error
    text_ = str(original).strip()
    return text_.splitlines()[0] if text_ else type(original).__name__


def check_schema(engine: Engine, shown_as: str) -> None:
    """Refuse a database that is not an archive at the code's schema, in one line."""
    try:
        db.check_schema(engine, create=False)
    except ArchiveError:
        raise
    except SQLAlchemyError as error:  # not a database, unreachable, a bad password
        raise ArchiveError(f"cannot open the archive {shown_as}: {first_line(error)}") from None


# -- one connection -------------------------------------------------------------------------


class ReadOnlyConnection:
    """A SQLAlchemy connection that can only read, inside one transaction never committed."""

    def __init__(self, conn: Connection, guard: SqliteGuard | None) -> None:
        self.conn = conn
        self.guard = guard

    def limit(self, seconds: float | None) -> None:
        """Let the database's next work run at most `seconds` (None: no limit)."""
        if self.guard is not None:
            self.guard.deadline = None if seconds is None else time.monotonic() + seconds
            return
        # statement_timeout is in milliseconds; 0 turns it off. The value is ours (a
        # number), never the caller's text.
        ms = 0 if seconds is None else max(1, int(seconds * 1000))
        self.conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")


@contextmanager
def connect(db_url: str) -> Iterator[ReadOnlyConnection]:
    """A guarded read-only connection to the archive at `db_url` (at the code's schema).

    Raises `NoArchive` for a missing or empty database, `SchemaOutOfDate` for one
    behind the code, `ArchiveError` (one line) when it cannot be opened.
    """
    url = make_url(db.normalize_url(db_url))
    guard = SqliteGuard() if url.get_backend_name() == "sqlite" else None
    engine = read_only_engine(db_url, guard=guard)
    try:
        named = shown(db_url)
        check_schema(engine, named)
        try:
            conn = engine.connect()
        except SQLAlchemyError as error:
            raise ArchiveError(f"cannot open the archive {named}: {first_line(error)}") from None
        with conn:
            if guard is None:
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            try:
                yield ReadOnlyConnection(conn, guard)
            finally:
                conn.rollback()
    finally:
        engine.dispose()
