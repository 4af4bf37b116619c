"""A run's tag counts: one consolidated count per tag, and the tags' label history.

Pages of one run can disagree on a count (they are cached separately). The rule, also
in docs/storage.md: the count shown on the most pages of the run wins; a tie goes to
the count read from the latest-fetched page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, insert, select, update

from storage import ranges
from storage.models import (
    ArticleTag,
    ListingPage,
    Observation,
    Run,
    RunTagCount,
    SidebarCount,
    Tag,
    TagLabel,
)


def finalize_run(conn: Connection, run_id: int) -> None:
    """The run's consolidated tag counts and label history (docs/storage.md)."""
    # A listing page's row may hold for earlier runs too (a range): read in a later run
    # than its first, it is dated by that run's start.
    started = select(Run.started_at).where(Run.id == run_id).scalar_subquery()
    listings = ranges.listing_rows_of_run(
        run_id,
        ListingPage.sidebar_id,
        case((ListingPage.run_id == run_id, ListingPage.fetched_at), else_=started).label("at"),
    ).subquery()
    pages = (
        select(Observation.sidebar_id, Observation.observed_at.label("at"))
        .where(Observation.run_id == run_id, Observation.sidebar_id.is_not(None))
        .union_all(
            select(listings.c.sidebar_id, listings.c.at).where(listings.c.sidebar_id.is_not(None))
        )
        .subquery()
    )
    per_sidebar = conn.execute(
        select(pages.c.sidebar_id, func.count(), func.max(pages.c.at)).group_by(pages.c.sidebar_id)
    ).all()
    sidebar_stats = {sid: (n, latest) for sid, n, latest in per_sidebar}
    readings = (
        conn.execute(
            select(
                SidebarCount.sidebar_id,
                SidebarCount.tag_pk,
                SidebarCount.label,
                SidebarCount.group,
                SidebarCount.count,
            ).where(SidebarCount.sidebar_id.in_(list(sidebar_stats)))
        ).all()
        if sidebar_stats
        else []
    )
    listed = dict(
        conn.execute(
            select(ArticleTag.tag_pk, func.count())
            .where(ArticleTag.run_id <= run_id, ArticleTag.last_run_id >= run_id)
            .group_by(ArticleTag.tag_pk)
        ).all()
    )
    rows = _consolidate(readings, sidebar_stats, listed)
    conn.execute(RunTagCount.__table__.delete().where(RunTagCount.run_id == run_id))
    if rows:
        conn.execute(insert(RunTagCount), [{"run_id": run_id, **row} for row in rows])
    shown = [row for row in rows if row["count"] is not None]
    if shown:
        conn.execute(
            update(Tag.__table__)
            .where(Tag.__table__.c.id == bindparam("pk"))
            .values(label=bindparam("label_"), group=bindparam("group_")),
            [{"pk": r["tag_pk"], "label_": r["label"], "group_": r["group"]} for r in shown],
        )
    labels = {(r.tag_pk, r.label) for r in readings}
    if labels:
        _record_labels(conn, run_id, labels)


def _consolidate(
    readings: Iterable[Any],
    sidebar_stats: dict[int, tuple[int, dt.datetime]],
    listed: dict[int, int],
) -> list[dict[str, Any]]:
    """One count per tag: the count shown on most pages; ties go to the latest page."""
    by_tag: dict[int, dict[int, list[Any]]] = {}
    for sidebar_id, tag_pk, label, group, count in readings:
        pages, latest = sidebar_stats[sidebar_id]
        entry = by_tag.setdefault(tag_pk, {}).setdefault(count, [0, latest, label, group])
        entry[0] += pages
        if latest >= entry[1]:
            entry[1], entry[2], entry[3] = latest, label, group
    rows = []
    for tag_pk, counts in by_tag.items():
        count, (pages, _, label, group) = max(counts.items(), key=lambda kv: (kv[1][0], kv[1][1]))
        rows.append(
            {
                "tag_pk": tag_pk,
                "label": label,
                "group": group,
                "count": count,
                "pages": sum(entry[0] for entry in counts.values()),
                "pages_agreeing": pages,
                "distinct_counts": len(counts),
                "listed": listed.get(tag_pk),
            }
        )
    for tag_pk, n in listed.items():
        if tag_pk not in by_tag:
            rows.append(
                {
                    "tag_pk": tag_pk,
                    "label": None,
                    "group": None,
                    "count": None,
                    "pages": 0,
                    "pages_agreeing": 0,
                    "distinct_counts": 0,
                    "listed": n,
                }
            )
    return rows


def _record_labels(conn: Connection, run_id: int, labels: set[tuple[int, str]]) -> None:
    tag_pks = {tag_pk for tag_pk, _ in labels}
    known = {
        (row.tag_pk, row.label): row.id
        for row in conn.execute(
            select(TagLabel.id, TagLabel.tag_pk, TagLabel.label).where(
                TagLabel.tag_pk.in_(list(tag_pks))
            )
        )
    }
    table = TagLabel.__table__
    seen_again = [{"pk": known[pair], "run": run_id} for pair in labels if pair in known]
    if seen_again:
        conn.execute(
            update(table).where(table.c.id == bindparam("pk")).values(last_run_id=bindparam("run")),
            seen_again,
        )
    new = [
        {"tag_pk": tag_pk, "label": label, "first_run_id": run_id, "last_run_id": run_id}
        for tag_pk, label in sorted(labels)
        if (tag_pk, label) not in known
    ]
    if new:
        conn.execute(insert(table), new)
