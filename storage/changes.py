"""The changes of a range of runs, removals included: what a feed or an alert reports.

A change belongs to the run `r` in which the new state first appeared, and is in the
range when `after < r <= through` (either bound open), the rule of `cwarchive diff`.
Field changes are the view `field_changes` (migration 0002), the one definition of a
change between consecutive versions; a removal is an article whose `removed_run_id`
is in the range (an article that came back since is active again and no longer
listed). Each change carries what a reader needs besides the values: the article's
title, its last URL and when the run met the change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, and_, func, select

from storage.models import Article, Observation, Run, Version
from storage.queries import DIFF_FIELDS, FIELD_CHANGES, _decoder

REMOVED = "removed"
# Every kind of change a feed can carry: each field `diff` compares, and removal.
CHANGE_FIELDS = (*DIFF_FIELDS, REMOVED)
# What a reader of the feed cares about by default; the other fields move with these
# (a new review usually brings a new read time or word count) and would only repeat them.
DEFAULT_FIELDS = ("reviewed", "title", "reviewers", "body_text", REMOVED)


@dataclass(frozen=True)
class RunRange:
    """Runs `r` with `after < r <= through`; `None` leaves that side open."""

    after: int | None = None
    through: int | None = None

    @classmethod
    def single(cls, run_id: int) -> RunRange:
        return cls(run_id - 1, run_id)

    @property
    def empty(self) -> bool:
        return self.after is not None and self.through is not None and self.through <= self.after

    @property
    def label(self) -> str:
        """The range for a person: "run 7", "runs 4 to 7", "runs after 3"."""
        after, through = self.after, self.through
        if self.empty:
            return "no run"
        if after is None and through is None:
            return "all runs"
        if after is None:
            return f"runs up to {through}"
        if through is None:
            return f"runs after {after}"
        if through - after == 1:
            return f"run {through}"
        return f"runs {after + 1} to {through}"

    @property
    def slug(self) -> str:
        """The range as a path segment of an identifier: "run/7", "runs/4-7", "runs/4-"."""
        after, through = self.after, self.through
        if self.empty:
            return "runs/none"
        if after is not None and through is not None and through - after == 1:
            return f"run/{through}"
        first = "" if after is None else str(after + 1)
        last = "" if through is None else str(through)
        return "runs/all" if not first and not last else f"runs/{first}-{last}"


@dataclass
class ChangeSet:
    """The changes of a range, oldest run first, and what a feed says about the range."""

    range: RunRange
    fields: tuple[str, ...]
    changes: list[dict[str, Any]]
    # When the archive's first run started: a stable name for the archive (it survives
    # a copy of the file or a move to another server, unlike its URL).
    archive_started: dt.datetime | None
    # The latest start or finish of a run in the range: a feed without entries still
    # says when it was last brought up to date.
    last_activity: dt.datetime | None


def last_completed_run(conn: Connection) -> int | None:
    return conn.scalar(select(func.max(Run.id)).where(Run.status == "completed"))


def default_range(conn: Connection) -> RunRange:
    """The last completed run alone (an empty range when no run has completed)."""
    run_id = last_completed_run(conn)
    return RunRange.single(run_id) if run_id is not None else RunRange(0, 0)


def since_last_completed(conn: Connection, run_id: int) -> RunRange:
    """Run `run_id` and the runs since the completed run before it.

    What the alert of a completed run reports: a run interrupted on the way (the night
    before, resumed with the same job) kept what it fetched, and the next completed
    run meets those articles unchanged, so their changes are told with it.
    """
    previous = conn.scalar(
        select(func.max(Run.id)).where(Run.status == "completed", Run.id < run_id)
    )
    return RunRange(previous, run_id)


def changes(
    conn: Connection, run_range: RunRange, fields: tuple[str, ...] = DEFAULT_FIELDS
) -> ChangeSet:
    """The changes of `fields` in `run_range`, ordered by run, article, field.

    Each change: `article_key`, `field`, `old`, `new` (the field's own type, as
    `cwarchive diff` returns them), `from_run`, `to_run`, `from_version`, `to_version`,
    `title` (of the new version; the last title for a removal), `url` (the article's
    last URL), `updated` (when the run first fetched the new version, or noted the
    404/410; the run's start if it recorded no time). A removal has `old` = the last
    URL, `new` = None, `to_run` = the run that removed it, `from_run` = the last run
    that fetched or saw it, and no `to_version`.
    """
    unknown = [field for field in fields if field not in CHANGE_FIELDS]
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}: one of {', '.join(CHANGE_FIELDS)}")
    found: list[dict[str, Any]] = []
    if not run_range.empty:
        version_fields = [field for field in fields if field != REMOVED]
        if version_fields:
            found += _field_changes(conn, run_range, version_fields)
        if REMOVED in fields:
            found += _removals(conn, run_range)
    order = {field: position for position, field in enumerate(CHANGE_FIELDS)}
    found.sort(
        key=lambda c: (c["to_run"], c["article_key"], order[c["field"]], c["to_version"] or 0)
    )
    return ChangeSet(
        range=run_range,
        fields=tuple(fields),
        changes=found,
        archive_started=conn.scalar(select(Run.started_at).order_by(Run.id).limit(1)),
        last_activity=_last_activity(conn, run_range),
    )


def _in_range(query: Select[Any], run: Any, run_range: RunRange) -> Select[Any]:
    if run_range.after is not None:
        query = query.where(run > run_range.after)
    if run_range.through is not None:
        query = query.where(run <= run_range.through)
    return query


def _field_changes(
    conn: Connection, run_range: RunRange, fields: list[str]
) -> list[dict[str, Any]]:
    changed = FIELD_CHANGES.c
    # The first fetch (or reparse) of the new version in the run it appeared in.
    first_seen = (
        select(func.min(Observation.observed_at))
        .where(Observation.version_id == Version.id, Observation.run_id == changed.to_run)
        .scalar_subquery()
    )
    query = (
        select(
            FIELD_CHANGES,
            Version.title,
            Article.last_url.label("url"),
            func.coalesce(first_seen, Run.started_at).label("updated"),
        )
        .join(Article, Article.article_key == changed.article_key)
        .join(Version, and_(Version.article_id == Article.id, Version.number == changed.to_version))
        .join(Run, Run.id == changed.to_run)
        .where(changed.field.in_(fields))
    )
    query = _in_range(query, changed.to_run, run_range)
    decoders = {field: _decoder(field) for field in fields}
    rows = []
    for row in conn.execute(query):
        change = row._asdict()
        decode = decoders[change["field"]]
        change["old"], change["new"] = decode(change["old"]), decode(change["new"])
        change["updated"] = _utc(change["updated"])
        rows.append(change)
    return rows


def _removals(conn: Connection, run_range: RunRange) -> list[dict[str, Any]]:
    noted = (
        select(func.min(Observation.observed_at))
        .where(
            Observation.article_id == Article.id,
            Observation.run_id == Article.removed_run_id,
            Observation.kind == "gone",
        )
        .scalar_subquery()
    )
    last_seen = (
        select(func.max(Observation.last_run_id))
        .where(
            Observation.article_id == Article.id,
            Observation.kind.in_(("fetched", "seen")),
            Observation.last_run_id < Article.removed_run_id,
        )
        .scalar_subquery()
    )
    query = (
        select(
            Article.article_key,
            Article.last_url,
            Article.removed_run_id,
            Version.title,
            Version.number,
            last_seen.label("last_seen"),
            func.coalesce(noted, Run.started_at).label("updated"),
        )
        .outerjoin(Version, Version.id == Article.current_version_id)
        .join(Run, Run.id == Article.removed_run_id)
        .where(Article.status == "removed")
    )
    query = _in_range(query, Article.removed_run_id, run_range)
    return [
        {
            "article_key": row.article_key,
            "field": REMOVED,
            "old": row.last_url,
            "new": None,
            "from_run": row.last_seen,
            "to_run": row.removed_run_id,
            "from_version": row.number,
            "to_version": None,
            "title": row.title,
            "url": row.last_url,
            "updated": _utc(row.updated),
        }
        for row in conn.execute(query)
    ]


def _last_activity(conn: Connection, run_range: RunRange) -> dt.datetime | None:
    if run_range.empty:
        return None
    query = select(func.max(func.coalesce(Run.finished_at, Run.started_at)))
    return _utc(conn.scalar(_in_range(query, Run.id, run_range)))


def _utc(value: Any) -> dt.datetime | None:
    """An aware UTC datetime: an expression over the column can lose its type (and
    SQLite then returns the stored text), so the value is read back here."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
