"""A run's rows: how it is opened, joined, interrupted and closed (for every writer)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from storage import rules, tagcounts
from storage.models import Article, Observation, Run


def insert_run(conn: Connection, row: dict[str, Any]) -> int:
    return conn.execute(insert(Run).returning(Run.id), row).scalar_one()


def previous(conn: Connection, run_id: int) -> int | None:
    """The run before `run_id` (the greatest id below it): what a range continues from."""
    return conn.scalar(select(func.max(Run.id)).where(Run.id < run_id))


def running(conn: Connection, run_id: int) -> tuple[str, str]:
    """(status, parser version) of `run_id`; it must still be running."""
    row = conn.execute(select(Run.status, Run.parser_version).where(Run.id == run_id)).one_or_none()
    if row is None or row.status != "running":
        raise ValueError(f"run {run_id} is not running: {row.status if row else 'no such run'}")
    return row.status, row.parser_version


def interrupt(conn: Connection, run_id: int) -> None:
    """A run left `running` (its writer or coordinator died) becomes `interrupted`."""
    tagcounts.finalize_run(conn, run_id)
    conn.execute(
        update(Run).where(Run.id == run_id).values(status="interrupted", finished_at=rules.now())
    )


def finish(conn: Connection, run_id: int, status: str, pages_fetched: int) -> list[int]:
    """Close the run; its removals are applied only when it completed. The removed ids."""
    removed = apply_removals(conn, run_id) if status == "completed" else []
    tagcounts.finalize_run(conn, run_id)
    conn.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(
            status=status,
            finished_at=rules.now(),
            pages_fetched=pages_fetched,
            articles_removed=len(removed),
        )
    )
    return removed


def apply_removals(conn: Connection, run_id: int) -> list[int]:
    """Active articles the run found gone (404/410) and neither fetched nor saw."""
    # Evidence of removal is one run's row; a sighting may be a range that reaches the
    # run. Both are read by article (observations(article_id, kind, run_id)).
    gone = select(Observation.article_id).where(
        Observation.run_id == run_id, Observation.kind == "gone"
    )
    sighted = (
        select(Observation.id)
        .where(
            Observation.article_id == Article.id,
            Observation.kind.in_(rules.SIGHTINGS),
            Observation.run_id <= run_id,
            Observation.last_run_id >= run_id,
        )
        .exists()
    )
    gone_ids = list(
        conn.scalars(
            select(Article.id).where(Article.status == "active", Article.id.in_(gone), ~sighted)
        ).all()
    )
    if gone_ids:
        conn.execute(
            update(Article)
            .where(Article.id.in_(gone_ids))
            .values(status="removed", removed_run_id=run_id)
        )
    return gone_ids
