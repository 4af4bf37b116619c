"""Held versions: a degraded run's readings kept aside (`storage.health`), and accepting
them later (`cwarchive accept RUN`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from storage import db, health, rules, search
from storage.models import Article, HeldVersion, Observation, Run, Version, VersionReviewer

# -- accepting -----------------------------------------------------------------------------


@dataclass
class Accepted:
    """What `accept` did with a run's held versions."""

    run_id: int
    stored: int = 0  # now versions, current where the held page is the latest fetch
    superseded: int = 0  # a later run observed the article: its reading stands
    already: int = 0  # accepted before

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def accept(conn: Connection, run_id: int) -> Accepted:
    """Store run `run_id`'s held versions, in the caller's transaction.

    Each becomes the article's next version (first seen in `run_id`, where the page was
    fetched), its observation points at it and it is current, as if the run had kept
    it; later sightings of the article (a 304, a sitemap lastmod not newer) saw that
    same page, so they point at it too. A held version whose article a later run read
    again (fetched or reparsed), or whose current version moved since, is not stored:
    what came after it stands.
    """
    result = Accepted(run_id)
    held = conn.execute(
        select(HeldVersion).where(HeldVersion.run_id == run_id).order_by(HeldVersion.id)
    ).all()
    now = dt.datetime.now(dt.UTC)
    for row in held:
        if row.accepted_at is not None:
            result.already += 1
            continue
        later = conn.scalar(
            select(Observation.id)
            .where(
                Observation.article_id == row.article_id,
                Observation.run_id > run_id,
                Observation.kind.in_(("fetched", "reparsed")),
            )
            .limit(1)
        )
        current = conn.scalar(
            select(Article.current_version_id).where(Article.id == row.article_id)
        )
        version_id = None
        if later is None and current == row.kept_version_id:
            version_id = _store(conn, row)
            result.stored += 1
        else:
            result.superseded += 1
        conn.execute(
            update(HeldVersion)
            .where(HeldVersion.id == row.id)
            .values(version_id=version_id, accepted_at=now)
        )
    if result.stored:
        health.move_counts(conn, run_id, -result.stored)
    return result


def _store(conn: Connection, held: Any) -> int:
    number = conn.scalar(
        select(func.max(Version.number)).where(Version.article_id == held.article_id)
    )
    record = {**held.record, "content_hash": held.content_hash}
    row = rules.version_row(
        record, held.article_id, (number or 0) + 1, held.parser_version, held.run_id
    )
    version_id = conn.execute(insert(Version).returning(Version.id), row).scalar_one()
    search.index_versions(conn, [version_id])
    reviewers = rules.reviewer_rows(version_id, row)
    if reviewers:
        conn.execute(insert(VersionReviewer), reviewers)
    conn.execute(
        update(Observation)
        .where(Observation.id == held.observation_id)
        .values(version_id=version_id)
    )
    _split_sightings(conn, held, version_id)
    conn.execute(
        update(Observation)
        .where(
            Observation.article_id == held.article_id,
            Observation.run_id > held.run_id,
            Observation.kind == "seen",
            Observation.version_id == held.kept_version_id,
        )
        .values(version_id=version_id)
    )
    conn.execute(
        update(Article).where(Article.id == held.article_id).values(current_version_id=version_id)
    )
    return version_id


def _split_sightings(conn: Connection, held: Any, version_id: int) -> None:
    """A range of sightings of the kept version that reaches past the held run (the
    article was seen as well as fetched in it) ends there: its later runs saw the held
    page, so they become a range of their own, of the stored version."""
    observations = Observation.__table__
    spanning = conn.execute(
        select(observations).where(
            observations.c.article_id == held.article_id,
            observations.c.kind == "seen",
            observations.c.version_id == held.kept_version_id,
            observations.c.run_id <= held.run_id,
            observations.c.last_run_id > held.run_id,
        )
    ).all()
    if not spanning:
        return
    # A range reaches past the held run, so a run follows it.
    after, started = conn.execute(
        select(Run.id, Run.started_at).where(Run.id > held.run_id).order_by(Run.id).limit(1)
    ).one()
    for row in spanning:
        columns = {name: value for name, value in row._mapping.items() if name != "id"}
        conn.execute(
            insert(observations).values(
                {**columns, "run_id": after, "version_id": version_id, "observed_at": started}
            )
        )
        conn.execute(
            update(observations).where(observations.c.id == row.id).values(last_run_id=held.run_id)
        )


def held_counts(conn: Connection) -> dict[int, int]:
    """Versions still held back (not accepted), by run."""
    rows = conn.execute(
        select(HeldVersion.run_id, func.count())
        .where(HeldVersion.accepted_at.is_(None))
        .group_by(HeldVersion.run_id)
    )
    return {run: n for run, n in rows}


def accept_run(engine: Engine, run_id: int) -> Accepted:
    """`accept` in a write transaction of its own (`cwarchive accept`)."""
    with engine.connect().execution_options(**{db.WRITE: True}) as conn, conn.begin():
        if conn.scalar(select(Run.id).where(Run.id == run_id)) is None:
            raise LookupError(f"no run {run_id} in the archive")
        return accept(conn, run_id)
