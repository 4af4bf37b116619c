"""Extraction health: how well a run read its article pages, and what it holds back.

When a crawl's saves are all committed and before it finishes the run (`check_run`,
from `pipelines.persist`, once per run, distributed runs included), `close_run`
compares, in one transaction, what the run read of each article page with the same
article's version before the run, field by field (`FIELDS`):

- an article the run fetched and saved (new version or not) is compared with its
  version before the run: the one numbered one less when the run added a version,
  else the version itself; `tag_counts` with the sidebar of its last earlier fetch;
- a page of a known article that did not parse (a parse error of a 200 page, which
  includes an article that now reads as a listing) counts as having lost every field;
- an article new to the archive counts in `pages` and `present` only.

A field is **degraded** when at least `MIN_LOST` articles lost it and they are at least
`MIN_SHARE` of the compared articles that had it (one article of 40 losing its review
line is an edit). Then every version the run added that differs from the article's
previous version only by losing degraded fields is held back: moved to
`held_versions`, its observation pointed at the previous version, which stays
current, the run's counters moved from changed to unchanged. The raw page stays.
`storage.held.accept` stores a run's held versions later (`cwarchive accept`).

Nothing here runs in the hot path: a few queries per run, over the run's own rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Text,
    bindparam,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased

from common.record import non_content_fields
from common.urls import article_key
from storage import db, search
from storage.models import (
    VERSION_FIELDS,
    Article,
    HeldVersion,
    Observation,
    ParseError,
    Run,
    RunFieldHealth,
    Version,
    VersionReviewer,
)

# The fields whose presence is followed, in the record's names (`tag_counts` is the
# page's sidebar, kept on the observation, not on the version).
FIELDS = (
    "title",
    "published",
    "reviewed",
    "reviewers",
    "authors",
    "read_minutes",
    "key_takeaways",
    "tag_counts",
    "body_text",
)
# The rule of a degradation: at least this many articles lost the field ...
MIN_LOST = 10
# ... and they are at least this share of the compared articles that had it.
MIN_SHARE = 0.5
# Runs whose pages are not read anew from the site: a reparse re-reads stored pages
# with a parser someone chose, and is checked by `db check --deep` instead.
UNCHECKED_MODES = ("reparse",)
# What two versions are compared on to tell "only lost a degraded field".
CONTENT_FIELDS = tuple(
    name for name in VERSION_FIELDS if name not in non_content_fields() and name != "content_hash"
)


def is_degraded(had_before: int, lost: int) -> bool:
    """The rule: at least `MIN_LOST` articles lost the field, and at least `MIN_SHARE`
    of those that had it."""
    return lost >= MIN_LOST and lost >= MIN_SHARE * had_before


@dataclass
class FieldHealth:
    """One field's figures in one run (a `run_field_health` row)."""

    field: str
    pages: int = 0
    present: int = 0
    compared: int = 0
    had_before: int = 0
    has_after: int = 0
    lost: int = 0
    degraded: bool = False
    held: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def count(self, present: bool, before: bool | None) -> None:
        """One article page: whether it has the field, and whether its version before
        the run had it (None: no version before)."""
        self.pages += 1
        self.present += present
        if before is None:
            return
        self.compared += 1
        self.had_before += before
        self.has_after += present
        self.lost += before and not present


@dataclass
class Health:
    """A run's extraction health: every field's figures, and the versions held back."""

    run_id: int
    fields: list[FieldHealth] = field(default_factory=list)
    held: int = 0

    @property
    def degraded(self) -> list[FieldHealth]:
        return [f for f in self.fields if f.degraded]


def _is_present(value: Any) -> bool:
    return value not in (None, "", [], {})


def _presence(v: Any) -> list[Any]:
    """SQL expressions saying whether version alias `v` has each version field."""

    def listed(column: Any) -> Any:
        # JSON lists are stored as `[...]` text (SQLite) or jsonb (PostgreSQL's text
        # form of an empty one is `[]` too).
        return func.coalesce(cast(column, Text), "[]") != "[]"

    expressions = {
        "title": func.coalesce(v.title, "") != "",
        "published": v.published.is_not(None),
        "reviewed": v.reviewed.is_not(None),
        "reviewers": listed(v.reviewers),
        "authors": listed(v.authors),
        "read_minutes": v.read_minutes.is_not(None),
        "key_takeaways": listed(v.key_takeaways),
        "body_text": func.coalesce(v.body_text, "") != "",
    }
    return [expressions[name] for name in FIELDS if name != "tag_counts"]


def _earlier_sidebar(run_id: int, article: Any) -> Any:
    """Whether the article's last fetch before run `run_id` showed a sidebar."""
    earlier = aliased(Observation)
    return (
        select(earlier.sidebar_id)
        .where(
            earlier.kind == "fetched",
            earlier.article_id == article,
            earlier.run_id < run_id,
        )
        .order_by(earlier.observed_at.desc(), earlier.id.desc())
        .limit(1)
        .scalar_subquery()
    )


VERSION_PRESENCE = tuple(name for name in FIELDS if name != "tag_counts")


def measure(conn: Connection, run_id: int) -> tuple[Health, list[tuple[int, int]]]:
    """The run's figures, and (version added, version before) of its changed articles."""
    figures = {name: FieldHealth(name) for name in FIELDS}
    now, before = aliased(Version), aliased(Version)
    n = len(VERSION_PRESENCE)
    query = (
        select(
            Observation.article_id,
            Observation.sidebar_id.is_not(None),
            _earlier_sidebar(run_id, Observation.article_id).is_not(None),
            Article.first_run_id,
            now.id,
            before.id,
            *_presence(now),
            *_presence(before),
        )
        .join(Article, Article.id == Observation.article_id)
        .join(now, now.id == Observation.version_id)
        .outerjoin(
            before,
            (before.article_id == now.article_id)
            & (before.number == now.number - 1)
            & (now.first_run_id == run_id),
        )
        .where(Observation.run_id == run_id, Observation.kind == "fetched")
    )
    fetched: set[int] = set()
    changed: list[tuple[int, int]] = []
    for row in conn.execute(query):
        article_id, sidebar, earlier_sidebar, first_run, now_id, before_id = row[:6]
        has, had = row[6 : 6 + n], row[6 + n :]
        fetched.add(article_id)
        if first_run == run_id:  # new to the archive: nothing to compare with
            for name, present in zip(VERSION_PRESENCE, has, strict=True):
                figures[name].count(bool(present), None)
            figures["tag_counts"].count(bool(sidebar), None)
            continue
        if before_id is not None:
            changed.append((now_id, before_id))
        else:
            had = has  # unchanged: the version before the run is this one
        for name, present, was in zip(VERSION_PRESENCE, has, had, strict=True):
            figures[name].count(bool(present), bool(was))
        figures["tag_counts"].count(bool(sidebar), bool(earlier_sidebar))
    for had, earlier_sidebar in _unreadable_articles(conn, run_id, fetched):
        for name, was in zip(VERSION_PRESENCE, had, strict=True):
            figures[name].count(False, bool(was))
        figures["tag_counts"].count(False, bool(earlier_sidebar))
    for figure in figures.values():
        figure.degraded = is_degraded(figure.had_before, figure.lost)
    return Health(run_id, list(figures.values())), changed


def _unreadable_articles(conn: Connection, run_id: int, fetched: set[int]) -> list[tuple[Any, Any]]:
    """(presence in the current version, earlier sidebar) of each known article whose
    page the run fetched (200) and could not read as an article."""
    urls = set(
        conn.scalars(
            select(ParseError.url).where(
                ParseError.run_id == run_id,
                ParseError.http_status == 200,
                ParseError.raw_page_id.is_not(None),
            )
        )
    )
    if not urls:
        return []
    keys = {article_key(url) for url in urls}
    current = aliased(Version)
    rows = conn.execute(
        select(
            Article.id,
            Article.article_key,
            Article.last_url,
            _earlier_sidebar(run_id, Article.id),
            *_presence(current),
        )
        .join(current, current.id == Article.current_version_id)
        .where(or_(Article.last_url.in_(urls), Article.article_key.in_(keys)))
    ).all()
    # A URL is the article's last URL, else the article of its key (a twin's last URL
    # is the only way to it).
    by_url = {row[2]: row for row in rows}
    by_key = {row[1]: row for row in rows}
    found: dict[int, tuple[Any, Any]] = {}
    for url in urls:
        row = by_url.get(url) or by_key.get(article_key(url))
        if row is not None and row[0] not in fetched:
            found[row[0]] = (row[4:], row[3])
    return list(found.values())


def close_run(conn: Connection, run_id: int) -> Health | None:
    """Measure the run, hold back what only lost degraded fields, record both; in the
    caller's transaction (the one that closes the run). None for a run not checked
    (a reparse) or already measured."""
    mode = conn.scalar(select(Run.mode).where(Run.id == run_id))
    if mode is None or mode in UNCHECKED_MODES:
        return None
    if conn.scalar(select(RunFieldHealth.run_id).where(RunFieldHealth.run_id == run_id).limit(1)):
        return None
    health, changed = measure(conn, run_id)
    degraded = {f.field for f in health.degraded} - {"tag_counts"}
    if degraded and changed:
        _hold_back(conn, health, changed, degraded)
    conn.execute(insert(RunFieldHealth), [{"run_id": run_id, **f.as_dict()} for f in health.fields])
    return health


def _stored(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _hold_back(
    conn: Connection, health: Health, changed: list[tuple[int, int]], degraded: set[str]
) -> None:
    run_id = health.run_id
    ids = [now_id for now_id, _ in changed]
    before_of = dict(changed)
    rows = {
        row.id: row
        for row in conn.execute(
            select(Version).where(Version.id.in_(ids + list(before_of.values())))
        )
    }
    held: list[tuple[Any, Any, list[str]]] = []
    for now_id, before_id in changed:
        now, before = rows[now_id], rows[before_id]
        differs = [name for name in CONTENT_FIELDS if getattr(now, name) != getattr(before, name)]
        if (
            differs
            and set(differs) <= degraded
            and all(
                _is_present(getattr(before, name)) and not _is_present(getattr(now, name))
                for name in differs
            )
        ):
            held.append((now, before, differs))
    if not held:
        return
    lost_fields = {name: 0 for name in FIELDS}
    observations = dict(
        conn.execute(
            select(Observation.version_id, Observation.id).where(
                Observation.run_id == run_id,
                Observation.kind == "fetched",
                Observation.version_id.in_([now.id for now, _, _ in held]),
            )
        ).all()
    )
    conn.execute(
        insert(HeldVersion),
        [
            {
                "run_id": run_id,
                "article_id": now.article_id,
                "observation_id": observations[now.id],
                "kept_version_id": before.id,
                "fields": differs,
                "content_hash": now.content_hash,
                "parser_version": now.parser_version,
                "record": {name: _stored(getattr(now, name)) for name in VERSION_FIELDS},
                "version_id": None,
                "accepted_at": None,
            }
            for now, before, differs in held
        ],
    )
    repoint = [{"old": now.id, "new": before.id} for now, before, _ in held]
    conn.execute(
        update(Observation)
        .where(Observation.version_id == bindparam("old"))
        .values(version_id=bindparam("new")),
        repoint,
    )
    conn.execute(
        update(Article)
        .where(Article.current_version_id == bindparam("old"))
        .values(current_version_id=bindparam("new")),
        repoint,
    )
    gone = [now.id for now, _, _ in held]
    search.unindex_versions(conn, gone)
    conn.execute(delete(VersionReviewer).where(VersionReviewer.version_id.in_(gone)))
    conn.execute(delete(Version).where(Version.id.in_(gone)))
    move_counts(conn, run_id, len(held))
    for _, _, differs in held:
        for name in differs:
            lost_fields[name] += 1
    for figure in health.fields:
        figure.held = lost_fields[figure.field]
    health.held = len(held)


def move_counts(conn: Connection, run_id: int, versions: int) -> None:
    """`versions` of the run's saves move from changed to unchanged (negative: back)."""
    conn.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(
            articles_changed=Run.articles_changed - versions,
            articles_unchanged=Run.articles_unchanged + versions,
        )
    )


# -- reading ----------------------------------------------------------------------------


def run_health(
    conn: Connection, run_ids: Iterable[int] | None = None
) -> dict[int, list[FieldHealth]]:
    """The recorded figures of the runs (all, or `run_ids`), by run, in `FIELDS` order."""
    query = select(RunFieldHealth)
    if run_ids is not None:
        query = query.where(RunFieldHealth.run_id.in_(list(run_ids)))
    order = {name: i for i, name in enumerate(FIELDS)}
    found: dict[int, list[FieldHealth]] = {}
    for row in conn.execute(query):
        values = row._asdict()
        run = values.pop("run_id")
        values["degraded"] = bool(values["degraded"])
        found.setdefault(run, []).append(FieldHealth(**values))
    for figures in found.values():
        figures.sort(key=lambda f: order.get(f.field, len(order)))
    return found


def check_run(engine: Engine, run_id: int) -> Health | None:
    """`close_run` in a write transaction of its own: a crawl calls it once every save of
    the run is committed, just before it finishes the run (`pipelines.persist`). Killed
    between the two, the run is still whole: measured, and what it held back held."""
    with engine.connect().execution_options(**{db.WRITE: True}) as conn, conn.begin():
        return close_run(conn, run_id)
