"""A listing page's links stored once per distinct list: `listing_links`.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

`listing_pages.links` (the record's `article_links`, `archive_links` and `next_page`,
about 1.2 KB) was copied into every row of a page, though most new rows of a page list
what its row before listed (a tag count or a retitled card changes the page's bytes and
sidebar, not its links); on PostgreSQL, whose `listing_pages` keeps half of each page
free (0008), every such row cost twice that. The lists move to `listing_links`, one row
per sha256 of the list's canonical JSON, as sidebars are stored; `listing_pages.links_id`
points at it (null where `links` was null: rows of before 0005).

Plain ALTERs, not a batch: SQLite's batch mode rebuilds the table, which the views that
read `listing_pages` and the foreign key of `listing_heads` would have to survive;
SQLite (3.35+) adds a column with a REFERENCES clause and drops a column in place.
The space `links` took is reused by new rows; `VACUUM` (SQLite) or `VACUUM FULL
listing_pages` (PostgreSQL) gives it back at once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_CHUNK = 2000

PAGES = sa.table(
    "listing_pages",
    sa.column("id", sa.Integer),
    sa.column("links", JSON_TYPE),
    sa.column("links_id", sa.Integer),
)
LINKS = sa.table(
    "listing_links",
    sa.column("id", sa.Integer),
    sa.column("sha256", sa.String),
    sa.column("links", JSON_TYPE),
)


def links_sha256(links: Any) -> str:
    """The sha256 of a list of links, by the rule of `storage.identity.links_row` (its
    canonical JSON): a copy, since a migration is the schema and its rules as of its
    revision. `db check` verifies every row by the writer's function."""
    canonical = json.dumps(links, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def upgrade() -> None:
    conn = op.get_bind()
    op.create_table(
        "listing_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("links", JSON_TYPE, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_links")),
        sa.UniqueConstraint("sha256", name=op.f("uq_listing_links_sha256")),
    )
    # The same statement on both backends (Alembic's add_column would add the key as
    # a constraint of its own, which SQLite cannot).
    op.execute(
        "ALTER TABLE listing_pages ADD COLUMN links_id INTEGER "
        "CONSTRAINT fk_listing_pages_links_id_listing_links REFERENCES listing_links (id)"
    )
    _move_links(conn)
    op.execute("ALTER TABLE listing_pages DROP COLUMN links")


def _move_links(conn: sa.Connection) -> None:
    """Every row's links into `listing_links`, one row per distinct list, read by id in
    chunks (memory holds the distinct lists' hashes, not the rows)."""
    stored: dict[str, int] = {}
    last = 0
    while True:
        rows = conn.execute(
            sa.select(PAGES.c.id, PAGES.c.links)
            .where(PAGES.c.links.is_not(None), PAGES.c.id > last)
            .order_by(PAGES.c.id)
            .limit(_CHUNK)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        shas = {row.id: links_sha256(row.links) for row in rows}
        new: dict[str, Any] = {}
        for row in rows:
            if shas[row.id] not in stored:
                new.setdefault(shas[row.id], row.links)
        if new:
            conn.execute(
                sa.insert(LINKS), [{"sha256": sha, "links": links} for sha, links in new.items()]
            )
            stored.update(
                conn.execute(
                    sa.select(LINKS.c.sha256, LINKS.c.id).where(LINKS.c.sha256.in_(list(new)))
                ).all()
            )
        conn.execute(
            sa.update(PAGES)
            .where(PAGES.c.id == sa.bindparam("page"))
            .values(links_id=sa.bindparam("list")),
            [{"page": page, "list": stored[sha]} for page, sha in shas.items()],
        )


def downgrade() -> None:
    op.add_column("listing_pages", sa.Column("links", JSON_TYPE, nullable=True))
    op.execute(
        "UPDATE listing_pages SET links = "
        "(SELECT l.links FROM listing_links AS l WHERE l.id = listing_pages.links_id) "
        "WHERE links_id IS NOT NULL"
    )
    op.execute("ALTER TABLE listing_pages DROP COLUMN links_id")
    op.drop_table("listing_links")
