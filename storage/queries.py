"""Read-only questions researchers ask the archive; each returns JSON-ready dicts.

The CLI (`cwarchive runs|articles|history|diff|tags`) is a thin shell over these.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Integer, column, func, or_, select, table

from storage import health, ranges
from storage import held as held_versions
from storage.models import (
    VERSION_FIELDS,
    Article,
    JsonType,
    Observation,
    Run,
    RunTagCount,
    RunWorker,
    Tag,
    TagLabel,
    Version,
)
from storage.vocabulary import DIFF_FIELDS

# The view behind `diff` (migration 0002): changes between consecutive versions.
FIELD_CHANGES = table(
    "field_changes",
    *(
        column(name)
        for name in (
            "article_key",
            "field",
            "old",
            "new",
            "from_run",
            "to_run",
            "from_version",
            "to_version",
        )
    ),
)


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def runs(conn: Connection) -> list[dict[str, Any]]:
    """Every run, oldest first, with status and counters, and its extraction health
    (`storage.health`): `health` (one object per field; empty for a run not measured),
    `degraded` (the fields it stopped reading) and `held` (versions still held back)."""
    rows = conn.execute(select(Run).order_by(Run.id))
    found = [{k: _json(v) for k, v in row._asdict().items()} for row in rows]
    figures = health.run_health(conn)
    held = held_versions.held_counts(conn)
    for run in found:
        measured = figures.get(run["id"], [])
        run["health"] = [figure.as_dict() for figure in measured]
        run["degraded"] = [figure.field for figure in measured if figure.degraded]
        run["held"] = held.get(run["id"], 0)
    return found


def run_workers(conn: Connection, run_id: int | None = None) -> list[dict[str, Any]]:
    """The processes of distributed runs (all, or `run_id`'s), by run then join time."""
    query = select(RunWorker).order_by(RunWorker.run_id, RunWorker.joined_at, RunWorker.worker)
    if run_id is not None:
        query = query.where(RunWorker.run_id == run_id)
    return [{k: _json(v) for k, v in row._asdict().items()} for row in conn.execute(query)]


def articles(conn: Connection, status: str | None = None) -> list[dict[str, Any]]:
    """One object per article with its current title and dates and its version count."""
    query = (
        select(
            Article.article_key,
            Article.status,
            Version.title,
            Version.published,
            Version.reviewed,
            func.coalesce(ranges.highest_version_number(Article.id), 0).label("versions"),
            Article.first_run_id.label("first_seen"),
            ranges.article_last_run(Article.id).label("last_seen"),
            Article.removed_run_id.label("removed_in"),
        )
        .outerjoin(Version, Version.id == Article.current_version_id)
        .order_by(Article.article_key)
    )
    if status:
        query = query.where(Article.status == status)
    return [{k: _json(v) for k, v in row._asdict().items()} for row in conn.execute(query)]


def history(conn: Connection, article_key: str) -> list[dict[str, Any]]:
    """The article's versions, oldest first: every record field and where it was fetched.

    Raises KeyError for an article the archive does not hold.
    """
    article_id = conn.scalar(select(Article.id).where(Article.article_key == article_key))
    if article_id is None:
        raise KeyError(article_key)
    versions = conn.execute(
        select(Version).where(Version.article_id == article_id).order_by(Version.number)
    ).all()
    urls: dict[int, list[str]] = {}
    last_run: dict[int, int] = {}
    for version_id, url, run_id in conn.execute(
        select(Observation.version_id, Observation.url, Observation.last_run_id)
        .where(Observation.article_id == article_id, Observation.version_id.is_not(None))
        .order_by(Observation.id)
    ):
        seen = urls.setdefault(version_id, [])
        if url not in seen:
            seen.append(url)
        last_run[version_id] = max(run_id, last_run.get(version_id, run_id))
    return [
        {
            "article_key": article_key,
            "version": v.number,
            "first_seen_run": v.first_run_id,
            "last_seen_run": last_run.get(v.id, v.first_run_id),
            "parser_version": v.parser_version,
            **{name: _json(getattr(v, name)) for name in VERSION_FIELDS},
            "urls": urls.get(v.id, []),
        }
        for v in versions
    ]


def diff(
    conn: Connection, field: str, from_run: int | None = None, to_run: int | None = None
) -> list[dict[str, Any]]:
    """Each change of `field` between consecutive versions of an article.

    A change is in the range when the newer version first appeared in a run `r` with
    `from_run < r <= to_run` (either bound optional): `--from 3 --to 4` is "what
    changed in run 4". `from_run` of a change is the last run the old value was seen.
    The changes are the view `field_changes` (docs/research.md), one definition for the
    command and for SQL; its text values are read back as the field's own type.
    """
    if field not in DIFF_FIELDS:
        raise ValueError(f"unknown field {field!r}: one of {', '.join(DIFF_FIELDS)}")
    query = (
        select(FIELD_CHANGES)
        .where(FIELD_CHANGES.c.field == field)
        .order_by(FIELD_CHANGES.c.article_key, FIELD_CHANGES.c.to_version)
    )
    if from_run is not None:
        query = query.where(FIELD_CHANGES.c.to_run > from_run)
    if to_run is not None:
        query = query.where(FIELD_CHANGES.c.to_run <= to_run)
    decode = _decoder(field)
    changes = []
    for row in conn.execute(query):
        change = row._asdict()
        change["old"], change["new"] = decode(change["old"]), decode(change["new"])
        changes.append(change)
    return changes


def _decoder(field: str) -> Callable[[str | None], Any]:
    """How a `field_changes` text value reads back as the version column's type."""
    column_type = Version.__table__.c[field].type
    if isinstance(column_type, JsonType):
        convert: Callable[[str], Any] = json.loads
    elif isinstance(column_type, Integer):
        convert = int
    else:  # text, and dates (ISO text in the view, as `_json` prints them)
        return lambda value: value
    return lambda value: None if value is None else convert(value)


def tags(conn: Connection, tag: str | None = None) -> list[dict[str, Any]]:
    """The consolidated count per run and tag, oldest run first.

    `tag` matches a tag id exactly, or any label the tag has carried (case-insensitive).
    """
    query = (
        select(
            RunTagCount.run_id.label("run"),
            Tag.tag_id,
            func.coalesce(RunTagCount.label, Tag.label).label("label"),
            func.coalesce(RunTagCount.group, Tag.group).label("group"),
            RunTagCount.count,
            RunTagCount.listed,
            RunTagCount.pages,
            RunTagCount.pages_agreeing,
            RunTagCount.distinct_counts,
        )
        .join(Tag, Tag.id == RunTagCount.tag_pk)
        .order_by(RunTagCount.run_id, Tag.group, Tag.label, Tag.id)
    )
    if tag:
        labelled = select(TagLabel.tag_pk).where(func.lower(TagLabel.label) == tag.lower())
        query = query.where(
            or_(Tag.tag_id == tag, func.lower(Tag.label) == tag.lower(), Tag.id.in_(labelled))
        )
    return [row._asdict() for row in conn.execute(query)]
