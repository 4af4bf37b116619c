"""Exports of the research views as CSV, JSON Lines or Parquet, in constant memory.

What each export selects is fixed here (`EXPORTS`): the view's columns by name, in a
stable order, so the file has the same columns and row order on SQLite and PostgreSQL.
Rows come from a read-only connection (`storage.readonly`) in batches: a server-side
cursor on PostgreSQL, `fetchmany` on SQLite. Each batch is converted and written
before the next is fetched, so memory stays flat however large the archive.

Values: dates and times are ISO text (the views already give text; the `runs` table's
times become `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`); list columns are JSON text in CSV, as
the views hold them, and lists in JSON Lines and Parquet. Parquet needs pyarrow, an
optional extra: `pip install 'cwarchive[parquet]'`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, TextIO

from sqlalchemy import Integer, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import Executable

from storage import readonly
from storage.db import ArchiveError
from storage.models import Run
from storage.queries import DIFF_FIELDS
from storage.statement import statement_error
from storage.vocabulary import EXPORT_BATCH_SIZE, EXPORT_FORMATS, EXPORT_WHATS

BATCH_SIZE = EXPORT_BATCH_SIZE
FORMATS = EXPORT_FORMATS
PARQUET_INSTALL = "pip install 'cwarchive[parquet]'"


class ExportError(ArchiveError):
    """An export that cannot be written as asked (one line)."""


@dataclass(frozen=True)
class Column:
    """An exported column: `int`, `text`, `list` (JSON text in the view) or `any`."""

    name: str
    kind: str = "any"


# -- what each export selects ---------------------------------------------------------------


def _text_columns(*names: str) -> tuple[Column, ...]:
    return tuple(Column(name, "text") for name in names)


def _int_columns(*names: str) -> tuple[Column, ...]:
    return tuple(Column(name, "int") for name in names)


@dataclass(frozen=True)
class Export:
    """One export: its columns and the statement that selects them in that order."""

    columns: tuple[Column, ...]
    sql: str | None = None  # over a view; None: `statement` builds it
    filters: Mapping[str, str] = field(default_factory=dict)  # option -> column

    def statement(self, where: Mapping[str, str]) -> tuple[Executable, dict[str, str]]:
        if self.sql is None:
            table = Run.__table__
            return select(*(table.c[c.name] for c in self.columns)).order_by(table.c.id), {}
        sql, params = self.sql, {}
        conditions = []
        for option, value in where.items():
            column = self.filters[option]
            conditions.append(f"{column} = :{option}")
            params[option] = value
        if conditions:
            head, order = sql.split("\nORDER BY ", 1)
            sql = f"{head}\nWHERE {' AND '.join(conditions)}\nORDER BY {order}"
        return text(sql), params


def _view_sql(view: str, columns: Sequence[Column], order: str) -> str:
    names = ", ".join(f'"{c.name}"' for c in columns)
    return f"SELECT {names}\nFROM {view}\nORDER BY {order}"


_ARTICLE_COLUMNS = (
    *_text_columns("article_key", "status", "url", "title", "published", "reviewed"),
    Column("reviewers", "list"),
    Column("authors", "list"),
    *_int_columns("read_minutes", "word_count", "versions", "first_run", "last_run", "removed_run"),
)
_VERSION_COLUMNS = (
    Column("article_key", "text"),
    Column("version", "int"),
    *_text_columns("title", "published", "reviewed"),
    Column("reviewers", "list"),
    Column("content_hash", "text"),
    *_int_columns("first_run", "last_run"),
    Column("parser_version", "text"),
)
_CHANGE_COLUMNS = (
    *_text_columns("article_key", "field", "old", "new"),
    *_int_columns("from_run", "to_run", "from_version", "to_version"),
)
_TAG_COLUMNS = (
    Column("run", "int"),
    *_text_columns("run_started", "tag_id", "label", "group"),
    Column("count", "int"),
)
_RUN_COLUMNS = tuple(
    Column(c.name, "int" if isinstance(c.type, Integer) else "text") for c in Run.__table__.columns
)

_VERSIONS_SQL = (
    "SELECT " + ", ".join(f'av."{c.name}"' for c in _VERSION_COLUMNS) + ", v.body_text\n"
    "FROM article_versions AS av\n"
    "JOIN articles AS a ON a.article_key = av.article_key\n"
    "JOIN versions AS v ON v.article_id = a.id AND v.number = av.version\n"
    "ORDER BY av.article_key, av.version"
)

EXPORTS: dict[str, Export] = {
    # current_articles: one row per article, its current version.
    "articles": Export(
        _ARTICLE_COLUMNS, _view_sql("current_articles", _ARTICLE_COLUMNS, "article_key")
    ),
    # article_versions, with each version's body text.
    "versions": Export((*_VERSION_COLUMNS, Column("body_text", "text")), _VERSIONS_SQL),
    # field_changes; `field` narrows it to one field.
    "changes": Export(
        _CHANGE_COLUMNS,
        _view_sql("field_changes", _CHANGE_COLUMNS, "article_key, field, to_version"),
        filters={"field": "field"},
    ),
    # tag_count_series. `tag_id IS NULL` first: the backends sort nulls differently.
    "tags": Export(
        _TAG_COLUMNS,
        _view_sql("tag_count_series", _TAG_COLUMNS, "run, tag_id IS NULL, tag_id, label"),
    ),
    "runs": Export(_RUN_COLUMNS),
}
WHATS = EXPORT_WHATS
assert set(WHATS) == set(EXPORTS), "storage.vocabulary.EXPORT_WHATS names every export"
CHANGE_FIELDS = DIFF_FIELDS


# -- values -----------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A database value as JSON-ready Python: ISO text for dates and times."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)  # the archive stores UTC
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.hex()
    return value


def json_value(value: Any, kind: str = "any") -> Any:
    """The value of a JSON Lines or Parquet cell: list columns become lists."""
    value = plain(value)
    if kind == "list" and isinstance(value, str):
        return json.loads(value)
    return value


def csv_value(value: Any) -> Any:
    """The value of a CSV cell: lists and objects as compact JSON text."""
    value = plain(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


# -- writers ------------------------------------------------------------------------------------

Batches = Iterable[Sequence[Sequence[Any]]]


def write_csv(columns: Sequence[Column], batches: Batches, stream: TextIO) -> int:
    writer = csv.writer(stream)
    writer.writerow([c.name for c in columns])
    count = 0
    for batch in batches:
        writer.writerows([csv_value(v) for v in row] for row in batch)
        count += len(batch)
    return count


def _objects(columns: Sequence[Column], batches: Batches) -> Iterator[str]:
    for batch in batches:
        for row in batch:
            record = {c.name: json_value(v, c.kind) for c, v in zip(columns, row, strict=True)}
            yield json.dumps(record, ensure_ascii=False)


def write_jsonl(columns: Sequence[Column], batches: Batches, stream: TextIO) -> int:
    count = 0
    for line in _objects(columns, batches):
        stream.write(line + "\n")
        count += 1
    return count


def write_json_array(columns: Sequence[Column], batches: Batches, stream: TextIO) -> int:
    """One JSON array of row objects, one object per line, written as rows come."""
    count = 0
    for line in _objects(columns, batches):
        stream.write(("[\n" if count == 0 else ",\n") + line)
        count += 1
    stream.write("\n]\n" if count else "[]\n")
    return count


def require_pyarrow() -> None:
    """Raise `ExportError` with the install line when pyarrow is missing."""
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise ExportError(f"Parquet export needs pyarrow: {PARQUET_INSTALL}") from None


def write_parquet(columns: Sequence[Column], batches: Batches, path: str | os.PathLike) -> int:
    """A Parquet file with one row group per batch, so memory holds one batch at a time."""
    require_pyarrow()
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"int": pa.int64(), "list": pa.list_(pa.string())}
    schema = pa.schema([pa.field(c.name, types.get(c.kind, pa.string())) for c in columns])
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        for batch in batches:
            arrays = [
                pa.array([json_value(row[i], c.kind) for row in batch], type=schema.field(i).type)
                for i, c in enumerate(columns)
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            count += len(batch)
    return count


WRITERS = {"csv": write_csv, "jsonl": write_jsonl}


# -- the export ---------------------------------------------------------------------------------


def batches(
    ro: readonly.ReadOnlyConnection,
    statement: Executable,
    params: Mapping[str, Any],
    batch_size: int = BATCH_SIZE,
) -> Iterator[list[Any]]:
    """The statement's rows, `batch_size` at a time, never more in memory."""
    try:
        result = ro.conn.execute(
            statement, dict(params), execution_options={"yield_per": batch_size}
        )
        while batch := result.fetchmany(batch_size):
            yield batch
    except SQLAlchemyError as error:
        raise statement_error(ro, error) from None


def export(
    db_url: str,
    what: str,
    fmt: str,
    target: str | os.PathLike | TextIO,
    *,
    field: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Write the export `what` as `fmt` to a file path or a text stream; the row count.

    A file appears only once complete: rows go to a temporary file beside it, renamed
    at the end (removed if the export fails).
    """
    if what not in EXPORTS:
        raise ExportError(f"nothing to export as {what!r}: one of {', '.join(WHATS)}")
    if fmt not in FORMATS:
        raise ExportError(f"no export format {fmt!r}: one of {', '.join(FORMATS)}")
    spec = EXPORTS[what]
    where: dict[str, str] = {}
    if field is not None:
        if "field" not in spec.filters:
            raise ExportError(f"a field applies to the changes export, not to {what}")
        if field not in CHANGE_FIELDS:
            raise ExportError(f"no field {field!r}: one of {', '.join(CHANGE_FIELDS)}")
        where["field"] = field
    stream = not isinstance(target, str | os.PathLike)
    if fmt == "parquet":
        require_pyarrow()
        if stream:
            raise ExportError("Parquet is written to a file, not to a stream")
    statement, params = spec.statement(where)
    with readonly.connect(db_url) as ro:
        rows = batches(ro, statement, params, batch_size)
        if stream:
            return WRITERS[fmt](spec.columns, rows, target)  # type: ignore[arg-type]
        return _to_file(spec.columns, rows, fmt, Path(target))  # type: ignore[arg-type]


def _to_file(columns: Sequence[Column], rows: Batches, fmt: str, path: Path) -> int:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        if fmt == "parquet":
            count = write_parquet(columns, rows, partial)
        else:
            handle: IO[str]
            with open(partial, "w", encoding="utf-8", newline="") as handle:
                count = WRITERS[fmt](columns, rows, handle)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count
