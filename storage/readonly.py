"""Read-only connections to the archive, and one researcher's statement run on one.

`cwarchive query` runs SQL typed by a person and `cwarchive export` streams views; both
must leave the archive exactly as it was, so the guarantee comes from the database,
not from looking at the SQL text:

- SQLite: the file is opened through a `file:...?mode=ro` URI with `PRAGMA
  query_only=1`, and an authorizer (`sqlite3.Connection.set_authorizer`) allows only
  reading: SELECT, reading columns, recursive CTEs, functions (not `load_extension`
  and the like) and a list of PRAGMAs that only report. ATTACH is denied before it
  runs: a read-only connection would otherwise still create the attached file, and
  `VACUUM INTO` (which attaches its target) would write a copy of the archive.
  `sqlite3` itself refuses several statements in one call.
- PostgreSQL: the session starts with `default_transaction_read_only=on` and the
  transaction is `SET TRANSACTION READ ONLY`; the statement runs as a server-side
  cursor (`DECLARE ... CURSOR FOR <statement>`), sent with the extended protocol,
  which accepts one statement only, and a cursor accepts only a query.

Nothing is ever committed. A time limit covers the database's work on the statement
(its execution and every fetch), not the time the caller spends on the rows: SQLite
checks a deadline from a progress handler, PostgreSQL gets `statement_timeout`.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from storage import db
from storage.db import ArchiveError, NoArchive
from storage.vocabulary import QUERY_BATCH_SIZE, QUERY_TIMEOUT

DEFAULT_TIMEOUT = QUERY_TIMEOUT
BATCH_SIZE = QUERY_BATCH_SIZE
# SQLite VM instructions between two looks at the deadline: often enough to stop within
# milliseconds, rare enough to cost nothing measurable.
PROGRESS_STEPS = 10_000


class QueryError(ArchiveError):
    """The database could not run the statement (syntax, unknown table, ...)."""


class QueryRefused(QueryError):
    """The statement would change something, or is more than one statement."""


class QueryTimeout(QueryError):
    """The statement ran longer than its time limit and was cancelled."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the query ran longer than {seconds:g} s and was cancelled")
        self.seconds = seconds


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
class _SqliteGuard:
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


def _sqlite_readonly(path: str, guard: _SqliteGuard) -> sqlite3.Connection:
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    conn.execute("PRAGMA query_only=1")
    conn.execute(f"PRAGMA busy_timeout={db.SQLITE_BUSY_TIMEOUT_MS}")
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.set_authorizer(guard.authorize)
    conn.set_progress_handler(guard.progress, PROGRESS_STEPS)
    return conn


# -- the connection ---------------------------------------------------------------------


class ReadOnlyConnection:
    """A SQLAlchemy connection that can only read, inside one transaction never committed."""

    def __init__(self, conn: Connection, guard: _SqliteGuard | None) -> None:
        self.conn = conn
        self._guard = guard

    def limit(self, seconds: float | None) -> None:
        """Let the database's next work run at most `seconds` (None: no limit)."""
        if self._guard is not None:
            self._guard.deadline = None if seconds is None else time.monotonic() + seconds
            return
        # statement_timeout is in milliseconds; 0 turns it off. The value is ours (a
        # number), never the caller's text.
        ms = 0 if seconds is None else max(1, int(seconds * 1000))
        self.conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")

    def error(
        self, error: BaseException, seconds: float | None = None, sql: str = ""
    ) -> QueryError:
        """The one-line error for a failure of the caller's statement `sql`."""
        original = error.orig if isinstance(error, DBAPIError) else error
        message = _first_line(original)
        guard = self._guard
        if guard is not None:
            if guard.timed_out and seconds is not None:
                return QueryTimeout(seconds)
            if guard.denied:
                denied = guard.denied[0]
                guard.denied.clear()
                return QueryRefused(f"refused: the archive is open read-only ({denied})")
            if "one statement at a time" in message:
                return QueryRefused("refused: one statement at a time")
            if "readonly database" in message:
                return QueryRefused(f"refused: the archive is open read-only ({message})")
            return QueryError(f"the query failed: {message}")
        sqlstate = getattr(original, "sqlstate", None)
        if sqlstate == "57014" and seconds is not None:  # query_canceled
            return QueryTimeout(seconds)
        if sqlstate == "25006":  # read_only_sql_transaction
            return QueryRefused(f"refused: the archive is open read-only ({message})")
        if "multiple commands" in message:
            return QueryRefused("refused: one statement at a time")
        if sqlstate == "0A000" and "data-modifying" in message:
            return QueryRefused(f"refused: the archive is open read-only ({message})")
        if sqlstate == "42601":  # syntax_error: also what a cursor says to a non-query
            first = _FIRST_WORD.match(sql)
            if (
                first
                and first.group(1).upper() in _NOT_QUERIES
                and message.endswith(f'at or near "{first.group(1)}"')
            ):
                return QueryRefused(
                    f"refused: only a query runs here (SELECT, WITH, VALUES or TABLE), "
                    f"not {first.group(1).upper()}"
                )
            return QueryError(
                f"the query failed: {message} (one SELECT, WITH, VALUES or TABLE statement)"
            )
        return QueryError(f"the query failed: {message}")


def _first_line(error: BaseException) -> str:
    text_ = str(error).strip()
    return text_.splitlines()[0] if text_ else type(error).__name__


def _engine(db_url: str) -> tuple[Engine, _SqliteGuard | None, str]:
    """The engine, the SQLite guard (None on PostgreSQL), and the archive as shown."""
    url = make_url(db.normalize_url(db_url))
    if url.get_backend_name() == "sqlite":
        path = db.sqlite_file(db_url)
        if path is None:
            raise ArchiveError(f"{db_url}: an in-memory database holds no archive")
        if not os.path.isfile(path):
            raise NoArchive(
                f"no archive at {path}: run a crawl, `cwarchive ingest` or "
                "`cwarchive db upgrade` first"
            )
        guard = _SqliteGuard()
        engine = create_engine(
            "sqlite://", creator=lambda: _sqlite_readonly(path, guard), poolclass=NullPool
        )
        return engine, guard, path
    # Read-only from the session's first transaction on, whatever runs in it; the URL's
    # own `options` (a search_path, say) are kept.
    given = url.query.get("options")
    options = [given] if isinstance(given, str) else list(given or ())
    options.append("-c default_transaction_read_only=on")
    url = url.update_query_dict({"options": " ".join(options)})
    engine = create_engine(url, poolclass=NullPool)
    return engine, None, db.safe_url(engine)


@contextmanager
def connect(db_url: str) -> Iterator[ReadOnlyConnection]:
    """A read-only connection to the archive at `db_url` (at the code's schema).

    Raises `NoArchive` for a missing or empty database, `SchemaOutOfDate` for one
    behind the code, `ArchiveError` (one line) when it cannot be opened.
    """
    engine, guard, shown = _engine(db_url)
    try:
        try:
            db.check_schema(engine, create=False)
            conn = engine.connect()
        except ArchiveError:
            raise
        except SQLAlchemyError as error:
            original = error.orig if isinstance(error, DBAPIError) else error
            raise ArchiveError(
                f"cannot open the archive {shown}: {_first_line(original)}"
            ) from None
        with conn:
            if guard is None:
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            try:
                yield ReadOnlyConnection(conn, guard)
            finally:
                conn.rollback()
    finally:
        engine.dispose()


# -- one statement ------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_FIRST_WORD = re.compile(r"\s*(\w+)")
# Statements that are not queries: a cursor refuses them with a syntax error at their
# first word, which is worth saying plainly.
_NOT_QUERIES = frozenset(
    {
        "ALTER",
        "ANALYZE",
        "ATTACH",
        "BEGIN",
        "CALL",
        "CHECKPOINT",
        "CLUSTER",
        "COMMENT",
        "COMMIT",
        "COPY",
        "CREATE",
        "DEALLOCATE",
        "DELETE",
        "DETACH",
        "DISCARD",
        "DO",
        "DROP",
        "END",
        "EXECUTE",
        "EXPLAIN",
        "GRANT",
        "IMPORT",
        "INSERT",
        "LISTEN",
        "LOAD",
        "LOCK",
        "MERGE",
        "NOTIFY",
        "PRAGMA",
        "PREPARE",
        "REASSIGN",
        "REFRESH",
        "REINDEX",
        "RELEASE",
        "RESET",
        "REVOKE",
        "ROLLBACK",
        "SAVEPOINT",
        "SECURITY",
        "SET",
        "SHOW",
        "START",
        "TRUNCATE",
        "UPDATE",
        "VACUUM",
    }
)


@dataclass
class Query:
    """The result of one statement: unique column names and the rows, as fetched."""

    columns: list[str]
    rows: Iterator[tuple[Any, ...]]


def unique_names(names: list[str]) -> list[str]:
    """Column names made unique (`id`, `id_2`), so each row can be one JSON object."""
    seen: set[str] = set()
    result = []
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate)
        result.append(candidate)
    return result


def _statement(sql: str, params: Mapping[str, Any]) -> Any:
    clause = text(sql)
    wanted = set(clause.compile().params)
    missing = sorted(wanted - set(params))
    if missing:
        raise QueryError(
            "the query has a placeholder without a value: "
            + ", ".join(f":{name}" for name in missing)
        )
    unused = sorted(set(params) - wanted)
    if unused:
        has = ", ".join(f":{name}" for name in sorted(wanted)) or "none"
        raise QueryError(
            f"no placeholder for {', '.join(unused)} in the query (placeholders: {has})"
        )
    return clause


@contextmanager
def run_readonly(
    db_url: str,
    sql: str,
    params: Mapping[str, Any] | None = None,
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    batch_size: int = BATCH_SIZE,
) -> Iterator[Query]:
    """Run one statement on a read-only connection; the rows stream while inside.

    `:name` placeholders are bound from `params` (never pasted into the SQL). Raises
    `QueryRefused` for a statement that would write or for several statements,
    `QueryTimeout` past `timeout` seconds of database work, `QueryError` for anything
    else the database refuses: all before a row is returned, or from the row iterator.
    """
    params = dict(params or {})
    for name in params:
        if not _NAME.match(name):
            raise QueryError(f"{name!r} is not a placeholder name (letters, digits, _)")
    clause = _statement(sql, params)
    with connect(db_url) as ro:
        budget = _Budget(timeout)
        try:
            ro.limit(budget.remaining())
            with budget.spending():
                # yield_per: a server-side cursor on PostgreSQL, fetchmany on SQLite.
                result = ro.conn.execute(
                    clause, params, execution_options={"yield_per": batch_size}
                )
            columns = unique_names(list(result.keys()))
        except (SQLAlchemyError, sqlite3.Error) as error:
            raise ro.error(error, timeout, sql) from None
        yield Query(columns, _rows(ro, result, budget, batch_size, sql))


class _Budget:
    """The database time left to a statement, spent by its execution and fetches."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.spent = 0.0

    def remaining(self) -> float | None:
        if self.seconds is None:
            return None
        left = self.seconds - self.spent
        if left <= 0:
            raise QueryTimeout(self.seconds)
        return left

    @contextmanager
    def spending(self) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.spent += time.monotonic() - start


def _rows(
    ro: ReadOnlyConnection, result: Any, budget: _Budget, batch_size: int, sql: str
) -> Iterator[tuple[Any, ...]]:
    while True:
        try:
            ro.limit(budget.remaining())
            with budget.spending():
                batch = result.fetchmany(batch_size)
        except (SQLAlchemyError, sqlite3.Error) as error:
            raise ro.error(error, budget.seconds, sql) from None
        if not batch:
            return
        for row in batch:
            yield tuple(row)
