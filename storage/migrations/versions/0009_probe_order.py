"""Indexes in the order the probes ask: an article's latest row, a tag's latest counts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

Two reads asked an index for an order it did not hold, so they read every row of the
article or tag, more each run:
- an article's row of a kind that starts last (`storage.ranges.last_observation_id`: its
  last fetch, its range of sightings that a run may continue; `current_articles`'s last
  run) orders by (run_id, id). observations(article_id, kind, run_id) gives that order
  on SQLite, whose index entries end with the rowid, but not on PostgreSQL, which sorted
  all the article's rows of that kind (20 by week 520 of benchmarks/growth.py) and
  fetched each from the table to find one. The index now ends with `id`.
- one tag's counts over the last runs (`tag_count_series ... WHERE run > ...`) read every
  count the tag ever had through run_tag_counts(tag_pk); the index now holds (tag_pk,
  run_id), and the whole series comes out of it in run order.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# article_tags' short rows all grow in the same run: at 0008's half a page free, the new
# versions of a full page's rows and their line pointers did not quite fit, and the first
# unchanged run wrote 2% of its updates out of place, each with a new index entry
# (PostgreSQL; 16 KB of primary key for 500 articles). Pages written before keep their
# fill until rewritten.
ARTICLE_TAGS_FILLFACTOR = 40

# (name, table, columns) before and after.
BEFORE = (
    ("ix_observations_article_id_kind_run_id", "observations", ["article_id", "kind", "run_id"]),
    ("ix_run_tag_counts_tag_pk", "run_tag_counts", ["tag_pk"]),
)
AFTER = (
    (
        "ix_observations_article_id_kind_run_id_id",
        "observations",
        ["article_id", "kind", "run_id", "id"],
    ),
    ("ix_run_tag_counts_tag_pk_run_id", "run_tag_counts", ["tag_pk", "run_id"]),
)


def _replace(drop: tuple[tuple[str, str, list[str]], ...], create: tuple[tuple[str, str, list[str]], ...]) -> None:
    # Created first: the foreign keys on article_id and tag_pk keep an index throughout.
    for name, table, columns in create:
        op.create_index(name, table, columns)
    for name, table, _ in drop:
        op.drop_index(name, table_name=table)


def _article_tags_fillfactor(fillfactor: int) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE article_tags SET (fillfactor = {fillfactor})")


def upgrade() -> None:
    _replace(BEFORE, AFTER)
    _article_tags_fillfactor(ARTICLE_TAGS_FILLFACTOR)


def downgrade() -> None:
    _replace(AFTER, BEFORE)
    _article_tags_fillfactor(50)  # 0008's
