"""The identities a distributed run's saves share, made by the database.

Each is one row per what defines it (a raw page, a sidebar or a listing page's links
by sha256, a tag by id or, without one, by label), found or inserted with `INSERT ...
ON CONFLICT DO NOTHING` inside the save's transaction, so concurrent saves agree; tags
are resolved in one sorted order (`tag_ids`), so two saves never wait for each other's
locks. The one-process counterpart, answered from memory, is
`storage.identity.IdentityMap`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import zstandard
from sqlalchemy import Connection, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.identity import canonical_json, links_row
from storage.models import ListingLinks, RawPage, Sidebar, SidebarCount, Tag, TagLabel


def dialect_insert(conn: Connection, model: Any) -> Any:
    """The dialect's INSERT, which has `on_conflict_do_nothing`."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(model)


def distinct_id(conn: Connection, model: Any, sha: str, row: Callable[[], dict[str, Any]]) -> int:
    """The row of `model` whose `sha256` is `sha`, inserted (`row()`'s columns) if new."""
    table = model.__table__
    found = conn.scalar(select(table.c.id).where(table.c.sha256 == sha))
    if found is None:
        found = conn.scalar(
            dialect_insert(conn, model)
            .values(sha256=sha, **row())
            .on_conflict_do_nothing(index_elements=["sha256"])
            .returning(table.c.id)
        )
    if found is None:  # another save stored it first
        found = conn.execute(select(table.c.id).where(table.c.sha256 == sha)).scalar_one()
    return found


def raw_id(conn: Connection, raw: bytes, sha: str, compressor: zstandard.ZstdCompressor) -> int:
    """The raw page with these bytes (sha256 `sha`), stored compressed if new."""
    return distinct_id(
        conn,
        RawPage,
        sha,
        lambda: {"size": len(raw), "compression": "zstd", "data": compressor.compress(raw)},
    )


def links_id(conn: Connection, links: dict[str, Any]) -> int:
    """The stored list of a listing page's links (`storage.identity.links_row`)."""
    row = links_row(links)
    return distinct_id(conn, ListingLinks, row["sha256"], lambda: {"links": row["links"]})


def sidebar_id(
    conn: Connection,
    tag_counts: list[dict[str, Any]],
    tags: dict[tuple[str | None, str | None], int],
) -> int | None:
    if not tag_counts:
        return None
    sha = hashlib.sha256(canonical_json(tag_counts)).hexdigest()
    found = conn.scalar(select(Sidebar.id).where(Sidebar.sha256 == sha))
    if found is not None:
        return found
    inserted = conn.scalar(
        dialect_insert(conn, Sidebar)
        .values(sha256=sha)
        .on_conflict_do_nothing(index_elements=["sha256"])
        .returning(Sidebar.id)
    )
    if inserted is None:  # another save stored it first: its counts came with it
        return conn.execute(select(Sidebar.id).where(Sidebar.sha256 == sha)).scalar_one()
    conn.execute(
        insert(SidebarCount),
        [
            {
                "sidebar_id": inserted,
                "position": position,
                "tag_pk": tags[_tag_key(t.get("tag_id"), t["label"])],
                "label": t["label"],
                "group": t.get("group"),
                "count": t["count"],
            }
            for position, t in enumerate(tag_counts)
        ],
    )
    return inserted


def tag_ids(
    conn: Connection, wanted: Iterable[tuple[str | None, str | None, str | None]]
) -> dict[tuple[str | None, str | None], int]:
    """Tag row ids, by (tag_id, None) or (None, label); resolved in one sorted order."""
    unique: dict[tuple[str | None, str | None], tuple[str | None, str | None, str | None]] = {}
    for tag_id, label, group in wanted:
        unique.setdefault(_tag_key(tag_id, label), (tag_id, label, group))
    found = {}
    for key in sorted(unique, key=lambda k: (k[0] is None, k[0] or k[1] or "")):
        found[key] = tag_pk(conn, *unique[key])
    return found


def tag_pk(conn: Connection, tag_id: str | None, label: str | None, group: str | None) -> int:
    """As `IdentityMap.tag_ref`: by id; a label-only tag showing its id is adopted."""
    if tag_id:
        pk = conn.scalar(select(Tag.id).where(Tag.tag_id == tag_id))
        if pk is not None:
            return pk
        if label:
            lock_label(conn, label)
            label_only = conn.scalar(
                select(Tag.id).where(Tag.tag_id.is_(None), Tag.label == label).order_by(Tag.id)
            )
            if label_only is not None:
                adopted = conn.execute(
                    update(Tag)
                    .where(Tag.id == label_only, Tag.tag_id.is_(None))
                    .values(tag_id=tag_id)
                ).rowcount
                if adopted:
                    return label_only
        pk = conn.scalar(
            dialect_insert(conn, Tag)
            .values(tag_id=tag_id, label=label, group=group)
            .on_conflict_do_nothing(index_elements=["tag_id"])
            .returning(Tag.id)
        )
        if pk is not None:
            return pk
        return conn.execute(select(Tag.id).where(Tag.tag_id == tag_id)).scalar_one()
    assert label, "a tag needs an id or a label"
    lock_label(conn, label)
    # A label once shown with an id, then a label-only tag, then an id tag's label.
    pk = conn.scalar(
        select(TagLabel.tag_pk)
        .join(Tag, Tag.id == TagLabel.tag_pk)
        .where(TagLabel.label == label, Tag.tag_id.is_not(None))
        .order_by(TagLabel.last_run_id.desc())
        .limit(1)
    )
    if pk is None:
        pk = conn.scalar(
            select(Tag.id)
            .where(Tag.label == label)
            .order_by(Tag.tag_id.is_not(None), Tag.id)
            .limit(1)
        )
    if pk is not None:
        return pk
    return conn.execute(
        insert(Tag).values(tag_id=None, label=label, group=group).returning(Tag.id)
    ).scalar_one()


def lock_label(conn: Connection, label: str) -> None:
    # Label-only tags have no unique constraint to conflict on: two saves creating
    # or adopting one by its label take turns (SQLite's writers already do).
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"cwarchive-tag:{label}"},
        )


def _tag_key(tag_id: str | None, label: str | None) -> tuple[str | None, str | None]:
    return (tag_id, None) if tag_id else (None, label)
