"""One researcher's statement, run on a read-only connection (`cwarchive query`).

The guarantee that nothing changes comes from the database (`storage.readonly`), not
from looking at the SQL text. This module binds the `:name` placeholders, streams the
rows in batches, keeps the database's work within a time limit (its execution and
every fetch, not the time the caller spends on the rows: SQLite checks a deadline from
a progress handler, PostgreSQL gets `statement_timeout`) and turns what the database
refuses into one line.

On PostgreSQL the statement runs as a server-side cursor (`DECLARE ... CURSOR FOR
<statement>`), sent with the extended protocol, which accepts one statement only, and
a cursor accepts only a query.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from storage import readonly
from storage.db import ArchiveError
from storage.readonly import ReadOnlyConnection, first_line
from storage.vocabulary import QUERY_BATCH_SIZE, QUERY_TIMEOUT

DEFAULT_TIMEOUT = QUERY_TIMEOUT
BATCH_SIZE = QUERY_BATCH_SIZE


class QueryError(ArchiveError):
    """The database could not run the statement (syntax, unknown table, ...)."""


class QueryRefused(QueryError):
    """The statement would change something, or is more than one statement."""


class QueryTimeout(QueryError):
    """The statement ran longer than its time limit and was cancelled."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the query ran longer than {seconds:g} s and was cancelled")
        self.seconds = seconds


def statement_error(
    ro: ReadOnlyConnection, error: BaseException, seconds: float | None = None, sql: str = ""
) -> QueryError:
    """The one-line error for a failure of the caller's statement `sql`."""
    original = error.orig if isinstance(error, DBAPIError) else error
    message = first_line(original)
    guard = ro.guard
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
    with readonly.connect(db_url) as ro:
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
            raise statement_error(ro, error, timeout, sql) from None
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
            raise statement_error(ro, error, budget.seconds, sql) from None
        if not batch:
            return
        for row in batch:
            yield tuple(row)
