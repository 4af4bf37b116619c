"""Extraction health: `run_field_health` and `held_versions`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

Each run closed from now on records, per field of the article record, how many of the
article pages it parsed had it, beside the same articles' versions before the run
(`run_field_health`). A run in which a field disappeared from a large share of the
articles that had it holds back the versions that only lost such a field
(`held_versions`): the articles keep their version until a reparse or `cwarchive runs
accept` (docs/crawl.md, "When the site changes"). Runs closed before have no rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
FIGURES = ("pages", "present", "compared", "had_before", "has_after", "lost")


def upgrade() -> None:
    op.create_table(
        "run_field_health",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=30), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in FIGURES),
        sa.Column("degraded", sa.Boolean(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_field_health_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "field", name=op.f("pk_run_field_health")),
    )
    op.create_table(
        "held_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("kept_version_id", sa.Integer(), nullable=False),
        sa.Column("fields", JSON_TYPE, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("parser_version", sa.String(length=50), nullable=False),
        sa.Column("record", JSON_TYPE, nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_held_versions_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["kept_version_id"],
            ["versions.id"],
            name=op.f("fk_held_versions_kept_version_id_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_held_versions_observation_id_observations"),
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_held_versions_run_id_runs")),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name=op.f("fk_held_versions_version_id_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_versions")),
    )
    # Deleting a held version's row (the run holding it back) looks up what points at
    # it: without these, a scan of held_versions per version deleted.
    for column in ("run_id", "kept_version_id", "version_id"):
        op.create_index(op.f(f"ix_held_versions_{column}"), "held_versions", [column])


def downgrade() -> None:
    for column in ("run_id", "kept_version_id", "version_id"):
        op.drop_index(op.f(f"ix_held_versions_{column}"), table_name="held_versions")
    op.drop_table("held_versions")
    op.drop_table("run_field_health")
