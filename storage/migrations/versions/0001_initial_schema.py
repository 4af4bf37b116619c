"""Initial schema: runs, articles, versions, observations, raw pages, tags, counts.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# Every (run, tag, count, page) reading: a view, because the readings are stored once
# per distinct sidebar (`sidebars`, `sidebar_counts`) and pages point at their sidebar.
TAG_COUNT_READINGS = """
CREATE VIEW tag_count_readings AS
SELECT p.run_id, p.page_url, p.page_type, p.fetched_at,
       c.tag_pk, t.tag_id, c.label, c."group", c.count, c.position
FROM (
    SELECT run_id, url AS page_url, 'article' AS page_type, observed_at AS fetched_at,
           sidebar_id
    FROM observations WHERE sidebar_id IS NOT NULL
    UNION ALL
    SELECT run_id, url, 'listing', fetched_at, sidebar_id
    FROM listing_pages WHERE sidebar_id IS NOT NULL
) AS p
JOIN sidebar_counts AS c ON c.sidebar_id = p.sidebar_id
JOIN tags AS t ON t.id = c.tag_pk
"""

# When a version / an article was seen, from the observations: nothing is updated in
# place when an unchanged page is fetched again (an unchanged re-run only adds rows).
VERSION_RUNS = """
CREATE VIEW version_runs AS
SELECT version_id, article_id, min(run_id) AS first_run_id, max(run_id) AS last_run_id,
       count(*) AS observations
FROM observations WHERE version_id IS NOT NULL AND kind <> 'gone'
GROUP BY version_id, article_id
"""
ARTICLE_RUNS = """
CREATE VIEW article_runs AS
SELECT article_id, min(run_id) AS first_run_id, max(run_id) AS last_run_id,
       max(CASE WHEN kind = 'fetched' THEN observed_at END) AS last_fetched_at
FROM observations WHERE kind IN ('fetched', 'seen')
GROUP BY article_id
"""


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _current_version_fk() -> list[sa.ForeignKeyConstraint]:
    # articles and versions point at each other. SQLite accepts a foreign key to a
    # table created later (and cannot add one afterwards); PostgreSQL needs it added
    # once `versions` exists.
    if not _is_sqlite():
        return []
    return [
        sa.ForeignKeyConstraint(
            ["current_version_id"],
            ["versions.id"],
            name=op.f("fk_articles_current_version_id_versions"),
        )
    ]


def upgrade() -> None:
    op.create_table(
        "raw_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("compression", sa.String(length=10), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_pages")),
        sa.UniqueConstraint("sha256", name=op.f("uq_raw_pages_sha256")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("site_root", sa.String(length=500), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("parser_version", sa.String(length=50), nullable=False),
        sa.Column("pages_fetched", sa.Integer(), nullable=False),
        sa.Column("articles_new", sa.Integer(), nullable=False),
        sa.Column("articles_changed", sa.Integer(), nullable=False),
        sa.Column("articles_unchanged", sa.Integer(), nullable=False),
        sa.Column("articles_seen", sa.Integer(), nullable=False),
        sa.Column("articles_removed", sa.Integer(), nullable=False),
        sa.Column("articles_returned", sa.Integer(), nullable=False),
        sa.Column("listings", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_status"), "runs", ["status"], unique=False)

    op.create_table(
        "sidebars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sidebars")),
        sa.UniqueConstraint("sha256", name=op.f("uq_sidebars_sha256")),
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.String(length=500), nullable=True),
        sa.Column("label", sa.String(length=500), nullable=True),
        sa.Column("group", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("tag_id", name=op.f("uq_tags_tag_id")),
    )
    op.create_table(
        "article_tags",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("tag_pk", sa.Integer(), nullable=False),
        sa.Column("article_key", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_article_tags_run_id_runs")),
        sa.ForeignKeyConstraint(["tag_pk"], ["tags.id"], name=op.f("fk_article_tags_tag_pk_tags")),
        sa.PrimaryKeyConstraint("run_id", "tag_pk", "article_key", name=op.f("pk_article_tags")),
    )
    op.create_index(
        op.f("ix_article_tags_article_key"), "article_tags", ["article_key"], unique=False
    )

    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_key", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("first_run_id", sa.Integer(), nullable=False),
        sa.Column("removed_run_id", sa.Integer(), nullable=True),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column("last_url", sa.String(length=1000), nullable=False),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        *_current_version_fk(),
        sa.ForeignKeyConstraint(
            ["first_run_id"], ["runs.id"], name=op.f("fk_articles_first_run_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["removed_run_id"], ["runs.id"], name=op.f("fk_articles_removed_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sa.UniqueConstraint("article_key", name=op.f("uq_articles_article_key")),
    )
    op.create_index(op.f("ix_articles_status"), "articles", ["status"], unique=False)

    op.create_table(
        "listing_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("listing_kind", sa.String(length=20), nullable=True),
        sa.Column("tag_pk", sa.Integer(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("article_links", sa.Integer(), nullable=False),
        sa.Column("raw_page_id", sa.Integer(), nullable=True),
        sa.Column("sidebar_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["raw_page_id"], ["raw_pages.id"], name=op.f("fk_listing_pages_raw_page_id_raw_pages")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_listing_pages_run_id_runs")),
        sa.ForeignKeyConstraint(
            ["sidebar_id"], ["sidebars.id"], name=op.f("fk_listing_pages_sidebar_id_sidebars")
        ),
        sa.ForeignKeyConstraint(["tag_pk"], ["tags.id"], name=op.f("fk_listing_pages_tag_pk_tags")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_pages")),
    )
    op.create_index(op.f("ix_listing_pages_run_id"), "listing_pages", ["run_id"], unique=False)

    op.create_table(
        "parse_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("raw_page_id", sa.Integer(), nullable=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["raw_page_id"], ["raw_pages.id"], name=op.f("fk_parse_errors_raw_page_id_raw_pages")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_parse_errors_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parse_errors")),
    )
    op.create_index(op.f("ix_parse_errors_run_id"), "parse_errors", ["run_id"], unique=False)

    op.create_table(
        "run_tag_counts",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("tag_pk", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=True),
        sa.Column("group", sa.String(length=200), nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("pages_agreeing", sa.Integer(), nullable=False),
        sa.Column("distinct_counts", sa.Integer(), nullable=False),
        sa.Column("listed", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_tag_counts_run_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["tag_pk"], ["tags.id"], name=op.f("fk_run_tag_counts_tag_pk_tags")
        ),
        sa.PrimaryKeyConstraint("run_id", "tag_pk", name=op.f("pk_run_tag_counts")),
    )
    op.create_table(
        "sidebar_counts",
        sa.Column("sidebar_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tag_pk", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=False),
        sa.Column("group", sa.String(length=200), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sidebar_id"], ["sidebars.id"], name=op.f("fk_sidebar_counts_sidebar_id_sidebars")
        ),
        sa.ForeignKeyConstraint(
            ["tag_pk"], ["tags.id"], name=op.f("fk_sidebar_counts_tag_pk_tags")
        ),
        sa.PrimaryKeyConstraint("sidebar_id", "position", name=op.f("pk_sidebar_counts")),
    )
    op.create_index(op.f("ix_sidebar_counts_tag_pk"), "sidebar_counts", ["tag_pk"], unique=False)

    op.create_table(
        "tag_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tag_pk", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=False),
        sa.Column("first_run_id", sa.Integer(), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["first_run_id"], ["runs.id"], name=op.f("fk_tag_labels_first_run_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["last_run_id"], ["runs.id"], name=op.f("fk_tag_labels_last_run_id_runs")
        ),
        sa.ForeignKeyConstraint(["tag_pk"], ["tags.id"], name=op.f("fk_tag_labels_tag_pk_tags")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_labels")),
        sa.UniqueConstraint("tag_pk", "label", name=op.f("uq_tag_labels_tag_pk_label")),
    )
    op.create_index(op.f("ix_tag_labels_label"), "tag_labels", ["label"], unique=False)

    op.create_table(
        "versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("parser_version", sa.String(length=50), nullable=False),
        sa.Column("first_run_id", sa.Integer(), nullable=False),
        sa.Column("canonical_url", sa.String(length=1000), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("seo_title", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("authors", JSON_TYPE, nullable=False),
        sa.Column("read_minutes", sa.Integer(), nullable=True),
        sa.Column("published", sa.Date(), nullable=True),
        sa.Column("reviewed", sa.Date(), nullable=True),
        sa.Column("reviewers", JSON_TYPE, nullable=False),
        sa.Column("filed_month", sa.String(length=7), nullable=True),
        sa.Column("key_takeaways", JSON_TYPE, nullable=False),
        sa.Column("headings", JSON_TYPE, nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("word_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_versions_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["first_run_id"], ["runs.id"], name=op.f("fk_versions_first_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_versions")),
        sa.UniqueConstraint("article_id", "number", name=op.f("uq_versions_article_id_number")),
    )
    op.create_index(
        "ix_versions_article_id_content_hash",
        "versions",
        ["article_id", "content_hash"],
        unique=False,
    )
    op.create_index(op.f("ix_versions_first_run_id"), "versions", ["first_run_id"], unique=False)
    op.create_index(op.f("ix_versions_reviewed"), "versions", ["reviewed"], unique=False)

    op.create_table(
        "observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("raw_page_id", sa.Integer(), nullable=True),
        sa.Column("sidebar_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_observations_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["raw_page_id"], ["raw_pages.id"], name=op.f("fk_observations_raw_page_id_raw_pages")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_observations_run_id_runs")),
        sa.ForeignKeyConstraint(
            ["sidebar_id"], ["sidebars.id"], name=op.f("fk_observations_sidebar_id_sidebars")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name=op.f("fk_observations_version_id_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
    )
    op.create_index(
        op.f("ix_observations_article_id"), "observations", ["article_id"], unique=False
    )
    op.create_index("ix_observations_run_id_kind", "observations", ["run_id", "kind"], unique=False)
    op.create_index(
        op.f("ix_observations_version_id"), "observations", ["version_id"], unique=False
    )

    op.create_table(
        "version_reviewers",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name=op.f("fk_version_reviewers_version_id_versions")
        ),
        sa.PrimaryKeyConstraint("version_id", "position", name=op.f("pk_version_reviewers")),
    )
    op.create_index(op.f("ix_version_reviewers_name"), "version_reviewers", ["name"], unique=False)

    if not _is_sqlite():
        op.create_foreign_key(
            op.f("fk_articles_current_version_id_versions"),
            "articles",
            "versions",
            ["current_version_id"],
            ["id"],
        )
    op.execute(TAG_COUNT_READINGS)
    op.execute(VERSION_RUNS)
    op.execute(ARTICLE_RUNS)


def downgrade() -> None:
    for view in ("article_runs", "version_runs", "tag_count_readings"):
        op.execute(f"DROP VIEW {view}")
    if not _is_sqlite():
        op.drop_constraint(
            op.f("fk_articles_current_version_id_versions"), "articles", type_="foreignkey"
        )
    for table in (
        "version_reviewers",
        "observations",
        "versions",
        "tag_labels",
        "sidebar_counts",
        "run_tag_counts",
        "parse_errors",
        "listing_pages",
        "articles",
        "article_tags",
        "tags",
        "sidebars",
        "runs",
        "raw_pages",
    ):
        op.drop_table(table)
