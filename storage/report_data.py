"""The data behind `cwarchive report`, read from the research views (docs/research.md).

Everything the report shows is read here, in one read transaction, so the charts, the
change table and the article pages describe the same snapshot even while a crawl
writes. The views give the same text on SQLite and PostgreSQL (ISO dates, compact JSON
lists), so nothing below depends on the backend except how the snapshot is taken.

A run is in the range when `from_run < run <= to_run`, either bound optional: the rule
of `cwarchive diff`, so `--from 3 --to 5` is "what runs 4 and 5 did".
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, select, text

from storage.models import Run
from storage.opening import Reader

# The fields whose changes the report lists, in the order a run's rows show them.
CHANGE_FIELDS = ("reviewed", "reviewers", "title")
TOP_TAGS = 10
# Keys per `IN (...)` list: well under SQLite's and psycopg's parameter limits.
CHUNK = 500


class UnknownTag(LookupError):
    """A `--tag` that is neither a tag id nor a label any tag has carried."""

    def __init__(self, tag: str) -> None:
        super().__init__(
            f"no tag {tag!r} in the archive: give a tag id or a label as `cwarchive tags` prints"
        )
        self.tag = tag


@dataclass(frozen=True)
class RunCounts:
    """One run's article counters (the `runs` table: no view holds them)."""

    run: int
    started: str
    mode: str
    status: str
    new: int
    changed: int
    unchanged: int  # fetched and equal to the current version
    seen: int  # a 304, or skipped because the sitemap said it was unchanged
    removed: int


@dataclass(frozen=True)
class TagSeries:
    """One tag's consolidated count per run of the range (`tag_count_series`)."""

    key: str  # the tag id, or `label:<label>` for a tag only ever shown without a link
    tag_id: str | None
    label: str  # as shown in the latest run of the range that showed it
    group: str | None
    counts: tuple[tuple[int, int | None], ...]  # (run, count), oldest run first
    latest: int | None  # the count in the latest run of the range with counts
    asked: bool  # named by `--tag`


@dataclass(frozen=True)
class Change:
    """One change of `reviewed`, `title` or `reviewers` (`field_changes`)."""

    article_key: str
    field: str
    old: Any  # a date (ISO text), a title, or a list of {name, url} reviewers
    new: Any
    from_run: int
    to_run: int
    from_version: int
    to_version: int
    title: str | None  # the article's current title (`current_articles`)
    url: str | None  # where it was last fetched: the live page
    status: str


@dataclass(frozen=True)
class VersionText:
    """One version of an article (`article_versions`) with its body text."""

    version: int
    title: str | None
    published: str | None
    reviewed: str | None
    reviewers: tuple[str, ...]
    first_run: int
    last_run: int
    parser_version: str
    body_text: str
    changed: tuple[str, ...]  # the fields that differ from the version before


@dataclass(frozen=True)
class ArticleHistory:
    article_key: str
    title: str | None
    url: str | None
    status: str
    versions: tuple[VersionText, ...]


@dataclass(frozen=True)
class ReportData:
    from_run: int | None
    to_run: int | None
    runs: tuple[RunCounts, ...]
    # Re-reviews in the range per month of the new review date, oldest month first.
    review_months: tuple[tuple[str, int], ...]
    reviews_dropped: int  # changes in the range where the review date disappeared
    # Days from publication to the current review date, one per active article.
    review_ages: tuple[int, ...]
    unreviewed: int  # active articles without a review date (or without a publication date)
    tags: tuple[TagSeries, ...]
    tags_run: int | None  # the run the top tags are ranked by
    changes: tuple[Change, ...]  # newest first
    articles: dict[str, ArticleHistory] = field(default_factory=dict)

    @property
    def run_ids(self) -> tuple[int, ...]:
        return tuple(r.run for r in self.runs)


@contextmanager
def snapshot(db_url: str) -> Iterator[Connection]:
    """A connection in one read transaction over a consistent snapshot of the archive.

    Refuses (`storage.ArchiveError`) a missing archive, without creating a SQLite file,
    and one whose schema is not the code's (`storage.opening`).
    """
    with Reader.open(db_url, snapshot=True) as reader, reader.connect() as conn:
        yield conn


def load(
    conn: Connection,
    *,
    from_run: int | None = None,
    to_run: int | None = None,
    tags: Sequence[str] = (),
    top: int = TOP_TAGS,
) -> ReportData:
    """Everything the report shows for runs `from_run < run <= to_run`.

    Raises `UnknownTag` for a `tags` entry no tag matches.
    """
    review_months, dropped = _review_months(conn, from_run, to_run)
    ages, unreviewed = _review_ages(conn)
    series, tags_run = _tag_series(conn, from_run, to_run, tags, top)
    changes = _changes(conn, from_run, to_run)
    return ReportData(
        from_run=from_run,
        to_run=to_run,
        runs=_runs(conn, from_run, to_run),
        review_months=review_months,
        reviews_dropped=dropped,
        review_ages=ages,
        unreviewed=unreviewed,
        tags=series,
        tags_run=tags_run,
        changes=changes,
        articles=_histories(conn, changes),
    )


def _range(column: str, from_run: int | None, to_run: int | None) -> tuple[str, dict[str, int]]:
    """`AND ...` conditions putting `column` in the range, and their parameters."""
    sql, params = "", {}
    if from_run is not None:
        sql += f" AND {column} > :from_run"
        params["from_run"] = from_run
    if to_run is not None:
        sql += f" AND {column} <= :to_run"
        params["to_run"] = to_run
    return sql, params


def _rows(conn: Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(text(sql), params)]


def _runs(conn: Connection, from_run: int | None, to_run: int | None) -> tuple[RunCounts, ...]:
    runs = Run.__table__
    query = select(runs).order_by(runs.c.id)
    if from_run is not None:
        query = query.where(runs.c.id > from_run)
    if to_run is not None:
        query = query.where(runs.c.id <= to_run)
    return tuple(
        RunCounts(
            run=run.id,
            started=_utc_text(run.started_at),
            mode=run.mode,
            status=run.status,
            new=run.articles_new or 0,
            changed=run.articles_changed or 0,
            unchanged=run.articles_unchanged or 0,
            seen=run.articles_seen or 0,
            removed=run.articles_removed or 0,
        )
        for run in conn.execute(query)
    )


def _utc_text(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ", timespec="minutes")


def _review_months(
    conn: Connection, from_run: int | None, to_run: int | None
) -> tuple[tuple[tuple[str, int], ...], int]:
    where, params = _range("to_run", from_run, to_run)
    months: Counter[str] = Counter()
    dropped = 0
    for row in _rows(
        conn, f"SELECT new_reviewed FROM reviewed_changes WHERE 1 = 1{where}", **params
    ):
        if row["new_reviewed"] is None:
            dropped += 1
        else:
            months[row["new_reviewed"][:7]] += 1
    return tuple(sorted(months.items())), dropped


def _review_ages(conn: Connection) -> tuple[tuple[int, ...], int]:
    ages = []
    unreviewed = 0
    for row in _rows(
        conn, "SELECT published, reviewed FROM current_articles WHERE status = 'active'"
    ):
        if row["published"] is None or row["reviewed"] is None:
            unreviewed += 1
            continue
        published = dt.date.fromisoformat(row["published"])
        ages.append((dt.date.fromisoformat(row["reviewed"]) - published).days)
    return tuple(sorted(ages)), unreviewed


def _tag_key(tag_id: str | None, label: str) -> str:
    return tag_id if tag_id is not None else f"label:{label}"


def _asked(conn: Connection, tags: Sequence[str]) -> dict[str, tuple[str | None, str]]:
    """The series the `--tag` values name (key -> tag id, label): a tag id, or any label
    a tag was shown with in any run, case-insensitive."""
    if not tags:
        return {}
    known = _rows(conn, "SELECT DISTINCT tag_id, label FROM tag_count_series")
    found: dict[str, tuple[str | None, str]] = {}
    for asked in tags:
        # A label can name several tags (one label in two groups): each is drawn.
        matches = {
            _tag_key(row["tag_id"], row["label"]): (row["tag_id"], row["label"])
            for row in known
            if row["tag_id"] == asked or (row["label"] or "").lower() == asked.lower()
        }
        if not matches:
            raise UnknownTag(asked)
        found.update(matches)
    return found


def _tag_series(
    conn: Connection,
    from_run: int | None,
    to_run: int | None,
    tags: Sequence[str],
    top: int,
) -> tuple[tuple[TagSeries, ...], int | None]:
    asked = _asked(conn, tags)
    where, params = _range("run", from_run, to_run)
    rows = _rows(
        conn,
        f'SELECT run, tag_id, label, "group", count FROM tag_count_series WHERE 1 = 1{where} '
        "ORDER BY run",
        **params,
    )
    counted = [row["run"] for row in rows if row["count"] is not None]
    latest_run = max(counted) if counted else None
    by_key: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_key.setdefault(_tag_key(row["tag_id"], row["label"]), []).append(row)
    latest = {
        key: next((r["count"] for r in found if r["run"] == latest_run), None)
        for key, found in by_key.items()
    }

    def rank(key: str) -> tuple[int, str, str]:
        return (-(latest[key] or 0), (by_key[key][-1]["label"] or "").lower(), key)

    ranked = sorted((key for key, count in latest.items() if count is not None), key=rank)
    chosen = ranked[:top] + sorted(set(asked) - set(ranked[:top]))
    series = []
    for key in chosen:
        found = by_key.get(key, [])
        # An asked tag with no counts in the range still gets its line in the legend.
        tag_id, label = asked.get(key) or (found[-1]["tag_id"], found[-1]["label"])
        series.append(
            TagSeries(
                key=key,
                tag_id=tag_id,
                label=found[-1]["label"] if found else label,
                group=found[-1]["group"] if found else None,
                counts=tuple((r["run"], r["count"]) for r in found),
                latest=latest.get(key),
                asked=key in asked,
            )
        )
    return tuple(series), latest_run


def _decode(field: str, value: str | None) -> Any:
    # The view gives reviewers as compact JSON text; dates and titles are text already.
    if value is None or field != "reviewers":
        return value
    return json.loads(value)


def _changes(conn: Connection, from_run: int | None, to_run: int | None) -> tuple[Change, ...]:
    where, params = _range("c.to_run", from_run, to_run)
    changes = []
    # One query per field: the view computes each field on its own branch, so naming a
    # single field leaves the others (body_text among them) unread.
    for name in CHANGE_FIELDS:
        for row in _rows(
            conn,
            "SELECT c.article_key, c.old, c.new, c.from_run, c.to_run, c.from_version, "
            "c.to_version, a.title, a.url, a.status "
            "FROM field_changes AS c "
            "JOIN current_articles AS a ON a.article_key = c.article_key "
            f"WHERE c.field = :field{where}",
            field=name,
            **params,
        ):
            changes.append(
                Change(
                    article_key=row["article_key"],
                    field=name,
                    old=_decode(name, row["old"]),
                    new=_decode(name, row["new"]),
                    from_run=row["from_run"],
                    to_run=row["to_run"],
                    from_version=row["from_version"],
                    to_version=row["to_version"],
                    title=row["title"],
                    url=row["url"],
                    status=row["status"],
                )
            )
    changes.sort(
        key=lambda c: (
            -c.to_run,
            (c.title or "").lower(),
            c.article_key,
            -c.to_version,
            CHANGE_FIELDS.index(c.field),
        )
    )
    return tuple(changes)


def _chunks(keys: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(keys), CHUNK):
        yield list(keys[start : start + CHUNK])


_VERSIONS_SQL = text(
    "SELECT av.article_key, av.version, av.title, av.published, av.reviewed, av.reviewers, "
    "av.first_run, av.last_run, av.parser_version, v.body_text "
    "FROM article_versions AS av "
    "JOIN articles AS a ON a.article_key = av.article_key "
    "JOIN versions AS v ON v.article_id = a.id AND v.number = av.version "
    "WHERE av.article_key IN :keys "
    "ORDER BY av.article_key, av.version"
).bindparams(bindparam("keys", expanding=True))

_STEPS_SQL = text(
    "SELECT article_key, to_version, field FROM field_changes WHERE article_key IN :keys"
).bindparams(bindparam("keys", expanding=True))


def _histories(conn: Connection, changes: Sequence[Change]) -> dict[str, ArticleHistory]:
    """Every version of each article the change table names, with its body text."""
    heads = {c.article_key: c for c in changes}
    keys = sorted(heads)
    changed: dict[tuple[str, int], list[str]] = {}
    versions: dict[str, list[dict[str, Any]]] = {}
    for chunk in _chunks(keys):
        for row in conn.execute(_STEPS_SQL, {"keys": chunk}):
            changed.setdefault((row.article_key, row.to_version), []).append(row.field)
        for row in conn.execute(_VERSIONS_SQL, {"keys": chunk}):
            versions.setdefault(row.article_key, []).append(dict(row._mapping))
    histories = {}
    for key in keys:
        head = heads[key]
        histories[key] = ArticleHistory(
            article_key=key,
            title=head.title,
            url=head.url,
            status=head.status,
            versions=tuple(
                VersionText(
                    version=row["version"],
                    title=row["title"],
                    published=row["published"],
                    reviewed=row["reviewed"],
                    reviewers=tuple(json.loads(row["reviewers"] or "[]")),
                    first_run=row["first_run"],
                    last_run=row["last_run"],
                    parser_version=row["parser_version"],
                    body_text=row["body_text"] or "",
                    changed=tuple(sorted(changed.get((key, row["version"]), []))),
                )
                for row in versions.get(key, [])
            ),
        )
    return histories
