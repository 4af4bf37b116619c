"""Ranges updated in place: no index holds `last_run_id`.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

An unchanged run grows the range of each row it saw again (`last_run_id`, 0007). With
`last_run_id` in an index, PostgreSQL writes every such update as a new row version and
a new entry in each index, at the right-hand end of the `last_run_id` indexes, whose
emptied pages VACUUM gives back only slowly: an unchanged run of 3,400 articles left
0.3 to 1.2 MB behind. Here no index holds `last_run_id` and, on PostgreSQL, the three
tables keep half of each new page free (fillfactor 50), so the update stays in its page
without touching an index (a HOT update, pruned without VACUUM). Pages written before
keep their fill until rewritten (`VACUUM FULL observations`, at a quiet time); SQLite
updates in place either way.

`current_articles` counts an article's versions as its highest number (they are 1..n),
one index probe, rather than reading every version it has.

What the indexes on `last_run_id` served is read otherwise:
- an article's last run (`current_articles`) is the later of its last fetch and the end
  of its last range of sightings, each one probe of observations(article_id, kind,
  run_id): an article's ranges of sightings never overlap, so the one that starts last
  ends last;
- a version's last run reads that version's few rows through observations(version_id,
  run_id);
- the listing pages a run read are each page's row that starts last, no later than the
  run, through listing_pages(url, run_id).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("observations", "listing_pages", "article_tags")
FILLFACTOR = 50
# (name, table, columns) of 0007 that hold last_run_id, or that a new index replaces.
DROPPED = (
    ("ix_observations_last_run_id_kind", "observations", ["last_run_id", "kind"]),
    ("ix_observations_version_id_last_run_id", "observations", ["version_id", "last_run_id"]),
    (
        "ix_observations_article_id_kind_last_run_id",
        "observations",
        ["article_id", "kind", "last_run_id"],
    ),
    ("ix_listing_pages_last_run_id", "listing_pages", ["last_run_id"]),
    ("ix_listing_pages_url", "listing_pages", ["url"]),
    ("ix_article_tags_last_run_id", "article_tags", ["last_run_id"]),
)
CREATED = (
    ("ix_observations_version_id_run_id", "observations", ["version_id", "run_id"]),
    ("ix_observations_article_id_kind_run_id", "observations", ["article_id", "kind", "run_id"]),
    ("ix_listing_pages_url_run_id", "listing_pages", ["url", "run_id"]),
)

# An article's last run: its last fetch (a fetch is one run) or the end of its range of
# sightings that starts last, whichever is later.
ARTICLE_LAST_RUN = """(SELECT max(x.run) FROM (
        SELECT max(o.run_id) AS run FROM observations AS o
        WHERE o.article_id = a.id AND o.kind = 'fetched'
        UNION ALL
        SELECT (SELECT o.last_run_id FROM observations AS o
                WHERE o.article_id = a.id AND o.kind = 'seen'
                ORDER BY o.run_id DESC, o.id DESC LIMIT 1)
    ) AS x)"""


VERSION_COUNT_0007 = "(SELECT count(*) FROM versions AS n WHERE n.article_id = a.id)"
VERSION_COUNT = "coalesce((SELECT max(n.number) FROM versions AS n WHERE n.article_id = a.id), 0)"


def _revision_0007() -> ModuleType:
    """0007's module beside this one: its SQL helpers, and its `current_articles` for the
    downgrade (loaded by path, as Alembic loads it: the name is not an identifier)."""
    spec = importlib.util.spec_from_file_location(
        "cwarchive_migration_0007", Path(__file__).with_name("0007_run_ranges.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def current_articles(dialect: str) -> str:
    """0007's view, with the article's last run read as above and its version count read
    as its highest version number (numbers are 1..n: `db check`), one probe of
    versions(article_id, number) instead of counting every version it has."""
    revision_0007 = _revision_0007()
    s = revision_0007.Sql(dialect)
    view = revision_0007.current_articles(s)
    for before, after in (
        (revision_0007._article_last_run(s), ARTICLE_LAST_RUN),
        (VERSION_COUNT_0007, VERSION_COUNT),
    ):
        assert before in view
        view = view.replace(before, after)
    return view


def _indexes(drop: tuple[tuple[str, str, list[str]], ...], create: tuple[tuple[str, str, list[str]], ...]) -> None:
    for name, table, _ in drop:
        op.drop_index(name, table_name=table)
    for name, table, columns in create:
        op.create_index(name, table, columns)


def _fillfactor(dialect: str, value: str) -> None:
    if dialect == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} {value}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _indexes(DROPPED, CREATED)
    _fillfactor(dialect, f"SET (fillfactor = {FILLFACTOR})")
    op.execute("DROP VIEW current_articles")
    op.execute(current_articles(dialect))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP VIEW current_articles")
    _indexes(CREATED, DROPPED)
    _fillfactor(dialect, "RESET (fillfactor)")
    revision_0007 = _revision_0007()
    op.execute(revision_0007.current_articles(revision_0007.Sql(dialect)))
