"""The processes of a distributed run: `run_workers`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

One row per process that took requests from a shared frontier in a run (the crawl
that started it and every worker that joined), with the share of the run's counters
its saves added (docs/scale-out.md). Runs of one process have no rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COUNTERS = (
    "pages_fetched",
    "fetch_errors",
    "articles_new",
    "articles_changed",
    "articles_unchanged",
    "articles_seen",
    "articles_returned",
    "listings",
    "errors",
)


def upgrade() -> None:
    op.create_table(
        "run_workers",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_workers_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "worker", name=op.f("pk_run_workers")),
    )


def downgrade() -> None:
    op.drop_table("run_workers")
