"""Runs as ranges: what consecutive runs saw again is one row, not one row a run.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

`observations`, `listing_pages` and `article_tags` get `last_run_id`: a row holds for
every run from `run_id` (its first) through `last_run_id`, consecutive runs of the
archive (no run in between). A sighting of the version an article was sighted with in
the run before, a listing page that answers 304 with the validators it had, and a
facet page listing an article it listed in the run before extend the row instead of
adding one, so an unchanged run writes (almost) nothing new. Fetches, reparses and
evidence of removal keep one row each (`last_run_id == run_id`).

Rows written before are moved into ranges here: consecutive-run rows that say the same
thing become one. What is not kept is the clock time of each sighting after a range's
first (`observed_at`, `fetched_at`): a reading of a later run is dated by the run's
start (`tag_count_readings`). The views that read these tables are recreated with the
ranges; every research view keeps its columns and values (tests/test_run_ranges.py).

Reading no longer slows with the number of runs: `current_articles` asks each article's
last run of its own rows (it grouped every observation of the archive through
`article_runs`); `reviewed_changes` and `field_changes` pair a version with the one
before it by (article, number), so a question about one run reads that run's versions
(a window over every version before); `run_tag_counts(tag_pk)` is indexed for one tag's
`tag_count_series`.

The SQL is written out here rather than derived from the models or from 0002: a
migration is the schema as of its revision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("observations", "listing_pages", "article_tags")
# Dropped in this order, created in the reverse (current_articles reads article_runs).
VIEWS = (
    "current_articles",
    "article_versions",
    "reviewed_changes",
    "field_changes",
    "version_runs",
    "article_runs",
    "tag_count_readings",
)
_CHUNK = 5000

# What makes consecutive rows one range: every column but the id, the run and the time.
_SAME = {
    "observations": (
        "SELECT id, run_id, article_id, version_id, url, http_status FROM observations "
        "WHERE kind = 'seen' ORDER BY article_id, version_id, url, http_status, run_id, id"
    ),
    "listing_pages": (
        "SELECT id, run_id, url, listing_kind, tag_pk, article_links, raw_page_id, "
        "sidebar_id, etag, last_modified, CAST(links AS TEXT) FROM listing_pages "
        "ORDER BY url, listing_kind, tag_pk, article_links, raw_page_id, sidebar_id, etag, "
        "last_modified, CAST(links AS TEXT), run_id, id"
    ),
    "article_tags": (
        "SELECT NULL, run_id, tag_pk, article_key FROM article_tags "
        "ORDER BY tag_pk, article_key, run_id"
    ),
}


def upgrade() -> None:
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    for view in VIEWS:
        op.execute(f"DROP VIEW {view}")
    for table in TABLES:
        # SQLite adds a NOT NULL column only with a default; it is filled at once.
        op.execute(f"ALTER TABLE {table} ADD COLUMN last_run_id INTEGER NOT NULL DEFAULT 0")
        op.execute(f"UPDATE {table} SET last_run_id = run_id")
        if not sqlite:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN last_run_id DROP DEFAULT")
    _into_ranges(conn)
    op.drop_index("ix_observations_version_id_run_id", table_name="observations")
    op.create_index(
        "ix_observations_version_id_last_run_id", "observations", ["version_id", "last_run_id"]
    )
    op.create_index("ix_observations_last_run_id_kind", "observations", ["last_run_id", "kind"])
    op.create_index("ix_listing_pages_last_run_id", "listing_pages", ["last_run_id"])
    op.create_index("ix_article_tags_last_run_id", "article_tags", ["last_run_id"])
    # One tag's series (tag_count_series): its rows, not every tag's of every run.
    op.create_index("ix_run_tag_counts_tag_pk", "run_tag_counts", ["tag_pk"])
    # An article's last run (current_articles) from the index alone; it serves what
    # ix_observations_article_id did.
    op.drop_index("ix_observations_article_id", table_name="observations")
    op.create_index(
        "ix_observations_article_id_kind_last_run_id",
        "observations",
        ["article_id", "kind", "last_run_id"],
    )
    # The latest row of each listing page: a crawl's start reads these, not every content
    # every page ever had.
    op.create_table(
        "listing_heads",
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("listing_page_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_page_id"],
            ["listing_pages.id"],
            name=op.f("fk_listing_heads_listing_page_id_listing_pages"),
        ),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_listing_heads")),
    )
    op.execute(
        "INSERT INTO listing_heads (url, listing_page_id) "
        "SELECT url, max(id) FROM listing_pages WHERE links IS NOT NULL GROUP BY url"
    )
    s = Sql(conn.dialect.name)
    for build in (
        lambda s: TAG_COUNT_READINGS,
        lambda s: ARTICLE_RUNS,
        lambda s: VERSION_RUNS,
        field_changes,
        reviewed_changes,
        article_versions,
        current_articles,
    ):
        op.execute(build(s))


def downgrade() -> None:
    """Every range back into a row a run (a later run's row dated by the run's start)."""
    conn = op.get_bind()
    for view in VIEWS:
        op.execute(f"DROP VIEW {view}")
    op.execute(
        "INSERT INTO observations (run_id, last_run_id, article_id, kind, version_id, url, "
        "http_status, observed_at, etag, last_modified, raw_page_id, sidebar_id) "
        "SELECT r.id, r.id, o.article_id, o.kind, o.version_id, o.url, o.http_status, "
        "r.started_at, o.etag, o.last_modified, o.raw_page_id, o.sidebar_id "
        "FROM observations AS o JOIN runs AS r ON r.id > o.run_id AND r.id <= o.last_run_id"
    )
    op.execute(
        "INSERT INTO listing_pages (run_id, last_run_id, url, listing_kind, tag_pk, fetched_at, "
        "article_links, raw_page_id, sidebar_id, etag, last_modified, links) "
        "SELECT r.id, r.id, l.url, l.listing_kind, l.tag_pk, r.started_at, l.article_links, "
        "l.raw_page_id, l.sidebar_id, l.etag, l.last_modified, l.links "
        "FROM listing_pages AS l JOIN runs AS r ON r.id > l.run_id AND r.id <= l.last_run_id"
    )
    op.execute(
        "INSERT INTO article_tags (run_id, last_run_id, tag_pk, article_key) "
        "SELECT r.id, r.id, t.tag_pk, t.article_key "
        "FROM article_tags AS t JOIN runs AS r ON r.id > t.run_id AND r.id <= t.last_run_id"
    )
    op.drop_table("listing_heads")
    op.drop_index("ix_observations_article_id_kind_last_run_id", table_name="observations")
    op.create_index("ix_observations_article_id", "observations", ["article_id"])
    op.drop_index("ix_run_tag_counts_tag_pk", table_name="run_tag_counts")
    op.drop_index("ix_article_tags_last_run_id", table_name="article_tags")
    op.drop_index("ix_listing_pages_last_run_id", table_name="listing_pages")
    op.drop_index("ix_observations_last_run_id_kind", table_name="observations")
    op.drop_index("ix_observations_version_id_last_run_id", table_name="observations")
    op.create_index("ix_observations_version_id_run_id", "observations", ["version_id", "run_id"])
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN last_run_id")
    s = Sql(conn.dialect.name, ranges=False)
    for build in (
        lambda s: TAG_COUNT_READINGS_BEFORE,
        lambda s: ARTICLE_RUNS_BEFORE,
        lambda s: VERSION_RUNS_BEFORE,
        field_changes,
        reviewed_changes,
        article_versions,
        current_articles,
    ):
        op.execute(build(s))


# -- moving the rows ------------------------------------------------------------------------


def _into_ranges(conn: sa.Connection) -> None:
    order = [row[0] for row in conn.execute(sa.text("SELECT id FROM runs ORDER BY id"))]
    position = {run_id: i for i, run_id in enumerate(order)}
    for table, query in _SAME.items():
        extend: list[dict[str, Any]] = []
        drop: list[dict[str, Any]] = []
        for first, last, merged in _ranges(conn.execute(sa.text(query)), position):
            extend.append({"first": first, "last": last})
            drop.extend(merged)
            if len(drop) >= _CHUNK:
                _apply(conn, table, extend, drop)
                extend, drop = [], []
        _apply(conn, table, extend, drop)


def _ranges(
    rows: Any, position: dict[int, int]
) -> Iterator[tuple[dict[str, Any], int, list[dict[str, Any]]]]:
    """(the first row of a range, its last run, the rows it replaces), for ranges of 2+."""
    head: Any = None
    last_run = 0
    merged: list[dict[str, Any]] = []
    for row in rows:
        same = head is not None and tuple(row[2:]) == tuple(head[2:])
        if same and position[row[1]] == position[last_run] + 1:
            last_run = row[1]
            merged.append(_key(row))
            continue
        if same and row[1] == last_run:
            merged.append(_key(row))  # twice in one run: already in the range
            continue
        if merged:
            yield _key(head), last_run, merged
        head, last_run, merged = row, row[1], []
    if merged:
        yield _key(head), last_run, merged


def _key(row: Any) -> dict[str, Any]:
    if row[0] is not None:
        return {"id": row[0]}
    return {"run_id": row[1], "tag_pk": row[2], "article_key": row[3]}


def _apply(
    conn: sa.Connection, table: str, extend: list[dict[str, Any]], drop: list[dict[str, Any]]
) -> None:
    if not extend:
        return
    if table == "article_tags":
        where = "run_id = :run_id AND tag_pk = :tag_pk AND article_key = :article_key"
    else:
        where = "id = :id"
    conn.execute(
        sa.text(f"UPDATE {table} SET last_run_id = :last WHERE {where}"),
        [{**e["first"], "last": e["last"]} for e in extend],
    )
    conn.execute(sa.text(f"DELETE FROM {table} WHERE {where}"), drop)


# -- the views, reading ranges ----------------------------------------------------------------

TAG_COUNT_READINGS = """
CREATE VIEW tag_count_readings AS
SELECT p.run_id, p.page_url, p.page_type, p.fetched_at,
       c.tag_pk, t.tag_id, c.label, c."group", c.count, c.position
FROM (
    SELECT run_id, url AS page_url, 'article' AS page_type, observed_at AS fetched_at,
           sidebar_id
    FROM observations WHERE sidebar_id IS NOT NULL
    UNION ALL
    SELECT r.id, l.url, 'listing',
           CASE WHEN r.id = l.run_id THEN l.fetched_at ELSE r.started_at END, l.sidebar_id
    FROM listing_pages AS l
    JOIN runs AS r ON r.id BETWEEN l.run_id AND l.last_run_id
    WHERE l.sidebar_id IS NOT NULL
) AS p
JOIN sidebar_counts AS c ON c.sidebar_id = p.sidebar_id
JOIN tags AS t ON t.id = c.tag_pk
"""

# `observations`: the rows (a range of sightings is one).
VERSION_RUNS = """
CREATE VIEW version_runs AS
SELECT version_id, article_id, min(run_id) AS first_run_id, max(last_run_id) AS last_run_id,
       count(*) AS observations
FROM observations WHERE version_id IS NOT NULL AND kind <> 'gone'
GROUP BY version_id, article_id
"""
ARTICLE_RUNS = """
CREATE VIEW article_runs AS
SELECT article_id, min(run_id) AS first_run_id, max(last_run_id) AS last_run_id,
       max(CASE WHEN kind = 'fetched' THEN observed_at END) AS last_fetched_at
FROM observations WHERE kind IN ('fetched', 'seen')
GROUP BY article_id
"""


TAG_COUNT_READINGS_BEFORE = """
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
VERSION_RUNS_BEFORE = """
CREATE VIEW version_runs AS
SELECT version_id, article_id, min(run_id) AS first_run_id, max(run_id) AS last_run_id,
       count(*) AS observations
FROM observations WHERE version_id IS NOT NULL AND kind <> 'gone'
GROUP BY version_id, article_id
"""
ARTICLE_RUNS_BEFORE = """
CREATE VIEW article_runs AS
SELECT article_id, min(run_id) AS first_run_id, max(run_id) AS last_run_id,
       max(CASE WHEN kind = 'fetched' THEN observed_at END) AS last_fetched_at
FROM observations WHERE kind IN ('fetched', 'seen')
GROUP BY article_id
"""


class Sql:
    """The expressions that differ between the two backends (as in 0002); `ranges`:
    the views of this revision, else 0002's."""

    def __init__(self, dialect: str, ranges: bool = True) -> None:
        self.sqlite = dialect == "sqlite"
        self.ranges = ranges

    def last_run(self, version: str) -> str:
        end = "last_run_id" if self.ranges else "run_id"
        return f"(SELECT max(o.{end}) FROM observations AS o WHERE o.version_id = {version})"

    def date(self, expr: str) -> str:
        return expr if self.sqlite else f"to_char({expr}, 'YYYY-MM-DD')"

    def days(self, new: str, old: str) -> str:
        if self.sqlite:
            return f"CAST(julianday({new}) - julianday({old}) AS INTEGER)"
        return f"({new} - {old})"

    def differs(self, a: str, b: str) -> str:
        return f"{a} IS NOT {b}" if self.sqlite else f"{a} IS DISTINCT FROM {b}"

    def _pg_array(self, expr: str, element: str) -> str:
        return (
            f"coalesce((SELECT '[' || string_agg({element}, ',' ORDER BY e.ord) || ']' "
            f"FROM jsonb_array_elements({expr}) WITH ORDINALITY AS e(value, ord)), '[]')"
        )

    def json_list(self, expr: str) -> str:
        if self.sqlite:
            return f"json({expr})"
        return self._pg_array(expr, "e.value::text")

    def reviewer_names(self, expr: str) -> str:
        if self.sqlite:
            return (
                f"(SELECT json_group_array(json_extract(e.value, '$.name')) "
                f"FROM json_each({expr}) AS e)"
            )
        return self._pg_array(expr, "coalesce(to_json(e.value ->> 'name')::text, 'null')")

    def reviewers(self, expr: str) -> str:
        if self.sqlite:
            return (
                "(SELECT json_group_array(json_object("
                "'name', json_extract(e.value, '$.name'), 'url', json_extract(e.value, '$.url'))) "
                f"FROM json_each({expr}) AS e)"
            )
        return self._pg_array(
            expr,
            """'{"name":' || coalesce(to_json(e.value ->> 'name')::text, 'null')"""
            """ || ',"url":' || coalesce(to_json(e.value ->> 'url')::text, 'null') || '}'""",
        )

    def text(self, expr: str) -> str:
        return f"CAST({expr} AS TEXT)"


FIELDS: dict[str, Callable[[Sql, str], str]] = {
    "canonical_url": lambda s, e: e,
    "title": lambda s, e: e,
    "seo_title": lambda s, e: e,
    "description": lambda s, e: e,
    "authors": Sql.json_list,
    "read_minutes": Sql.text,
    "published": Sql.date,
    "reviewed": Sql.date,
    "reviewers": Sql.reviewers,
    "filed_month": lambda s, e: e,
    "key_takeaways": Sql.json_list,
    "headings": Sql.json_list,
    "body_text": lambda s, e: e,
    "word_count": Sql.text,
}



def current_articles(s: Sql) -> str:
    return f"""
CREATE VIEW current_articles AS
SELECT a.article_key, a.status, a.last_url AS url, v.title,
       {s.date("v.published")} AS published, {s.date("v.reviewed")} AS reviewed,
       {s.reviewer_names("v.reviewers")} AS reviewers, {s.json_list("v.authors")} AS authors,
       v.read_minutes, v.word_count,
       (SELECT count(*) FROM versions AS n WHERE n.article_id = a.id) AS versions,
       a.first_run_id AS first_run, {_article_last_run(s)} AS last_run,
       a.removed_run_id AS removed_run
FROM articles AS a
LEFT JOIN versions AS v ON v.id = a.current_version_id
{"" if s.ranges else "LEFT JOIN article_runs AS r ON r.article_id = a.id"}"""


def _article_last_run(s: Sql) -> str:
    # Asked per article (its few rows, by observations(article_id)), not by grouping
    # every observation of the archive as article_runs does.
    if not s.ranges:
        return "r.last_run_id"
    return (
        "(SELECT max(o.last_run_id) FROM observations AS o "
        "WHERE o.article_id = a.id AND o.kind IN ('fetched', 'seen'))"
    )


def article_versions(s: Sql) -> str:
    return f"""
CREATE VIEW article_versions AS
SELECT a.article_key, v.number AS version, v.title,
       {s.date("v.published")} AS published, {s.date("v.reviewed")} AS reviewed,
       {s.reviewer_names("v.reviewers")} AS reviewers, v.content_hash,
       v.first_run_id AS first_run,
       coalesce({s.last_run("v.id")}, v.first_run_id) AS last_run,
       v.parser_version
FROM versions AS v
JOIN articles AS a ON a.id = v.article_id
"""


def _steps(columns: str) -> str:
    """Each version beside the one before it (numbers are 1..n: `db check`), joined by
    (article, number) rather than a window over every version: a question about one run
    (`WHERE to_run = ...`) then reads that run's versions only, whatever the history."""
    return f"""
    SELECT a.article_key, v.number AS to_version, v.first_run_id AS to_run,
           p.number AS from_version,
           p.id AS from_version_id,
           p.first_run_id AS from_first_run,
           {columns}
    FROM versions AS v
    JOIN versions AS p ON p.article_id = v.article_id AND p.number = v.number - 1
    JOIN articles AS a ON a.id = v.article_id
"""


def _from_run(s: Sql) -> str:
    return f"coalesce({s.last_run('c.from_version_id')}, c.from_first_run)"


def reviewed_changes(s: Sql) -> str:
    columns = (
        f"v.title, {s.date('p.reviewed')} AS old_reviewed, {s.date('v.reviewed')} AS new_reviewed, "
        f"{s.reviewer_names('p.reviewers')} AS old_reviewers, "
        f"{s.reviewer_names('v.reviewers')} AS new_reviewers"
    )
    return f"""
CREATE VIEW reviewed_changes AS
SELECT c.article_key, c.title, c.old_reviewed, c.new_reviewed,
       c.old_reviewers, c.new_reviewers,
       {_from_run(s)} AS from_run, c.to_run, c.from_version, c.to_version,
       {s.days("c.new_date", "c.old_date")} AS days_between
FROM ({_steps(columns + ", v.reviewed AS new_date, p.reviewed AS old_date")}) AS c
WHERE c.from_version IS NOT NULL AND {s.differs("c.old_reviewed", "c.new_reviewed")}
"""


def field_changes(s: Sql) -> str:
    branches = []
    for name, expression in FIELDS.items():
        columns = f"{expression(s, f'p.{name}')} AS old, {expression(s, f'v.{name}')} AS new"
        branches.append(
            f"""SELECT c.article_key, '{name}' AS field, c.old, c.new,
       {_from_run(s)} AS from_run, c.to_run, c.from_version, c.to_version
FROM ({_steps(columns)}) AS c
WHERE c.from_version IS NOT NULL AND {s.differs("c.old", "c.new")}"""
        )
    return "CREATE VIEW field_changes AS\n" + "\nUNION ALL\n".join(branches)
