"""Full-text search: the index of every version's title and body, filled from versions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

SQLite: an FTS5 table reading its text from `versions` (external content), porter
stemmer over unicode61 tokens. PostgreSQL: a tsvector per version (title weight A,
body B, English configuration) with a GIN index. The writer adds each new version in
the transaction that saves it (`storage/search.py`); this migration indexes the
versions already there, so `cwarchive db upgrade` makes search work on an older archive.
`articles.current_version_id` gets an index: a search keeps only current versions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# As storage/search.py writes it (written out: a migration must not follow the code).
PG_DOCUMENT = (
    "setweight(to_tsvector('english', v.title), 'A') || "
    "setweight(to_tsvector('english', v.body_text), 'B')"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE version_search USING fts5("
            "title, body_text, content='versions', content_rowid='id', "
            "tokenize='porter unicode61')"
        )
        # Reads every row of the content table (versions) into the index.
        op.execute("INSERT INTO version_search (version_search) VALUES ('rebuild')")
    else:
        op.create_table(
            "version_search",
            sa.Column("version_id", sa.Integer(), nullable=False),
            sa.Column("document", postgresql.TSVECTOR(), nullable=False),
            sa.ForeignKeyConstraint(
                ["version_id"], ["versions.id"], name="fk_version_search_version_id_versions"
            ),
            sa.PrimaryKeyConstraint("version_id", name="pk_version_search"),
        )
        op.execute(
            "INSERT INTO version_search (version_id, document) "
            f"SELECT v.id, {PG_DOCUMENT} FROM versions AS v"
        )
        # Built after the fill: one pass instead of an update per row.
        op.create_index(
            "ix_version_search_document",
            "version_search",
            ["document"],
            postgresql_using="gin",
        )
    op.create_index(
        "ix_articles_current_version_id", "articles", ["current_version_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_articles_current_version_id", table_name="articles")
    op.execute("DROP TABLE version_search")
