"""Research views: current_articles, article_versions, reviewed_changes, field_changes,
tag_count_series; the index they read the runs of a version through.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

The views have the same names, columns and values on SQLite and PostgreSQL, so one
query (and one export) reads both: dates are ISO text (`YYYY-MM-DD`), run start times
ISO text in UTC (`YYYY-MM-DDTHH:MM:SS.ffffffZ`), JSON lists compact JSON text (no spaces:
`["a","b"]`; PostgreSQL's `jsonb::text` would add spaces, and SQLite keeps whatever the
writer wrote), counts and day differences integers. docs/research.md documents them.

The SQL is written out here rather than derived from the models: a migration is the
schema as of its revision, and must not change when the models do.
"""

from __future__ import annotations

from collections.abc import Callable

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

VIEWS = ("current_articles", "article_versions", "reviewed_changes", "field_changes")
SERIES_VIEW = "tag_count_series"


class Sql:
    """The expressions that differ between the two backends; everything else is shared."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    def date(self, expr: str) -> str:
        # SQLite stores a DATE as ISO text already; PostgreSQL's date::text would follow
        # the session's DateStyle.
        return expr if self.sqlite else f"to_char({expr}, 'YYYY-MM-DD')"

    def utc_time(self, expr: str) -> str:
        if self.sqlite:
            # Stored as UTC text `YYYY-MM-DD HH:MM:SS.ffffff` (SQLAlchemy's SQLite format);
            # strftime('%f') would keep milliseconds only.
            return f"replace({expr}, ' ', 'T') || 'Z'"
        return f"""to_char({expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""

    def days(self, new: str, old: str) -> str:
        if self.sqlite:
            return f"CAST(julianday({new}) - julianday({old}) AS INTEGER)"
        return f"({new} - {old})"  # date - date is an integer on PostgreSQL

    def differs(self, a: str, b: str) -> str:
        # Null-safe: a value that appears or disappears is a change.
        return f"{a} IS NOT {b}" if self.sqlite else f"{a} IS DISTINCT FROM {b}"

    def _pg_array(self, expr: str, element: str) -> str:
        # '[' + elements joined by ',' + ']', in array order; '[]' for an empty list.
        return (
            f"coalesce((SELECT '[' || string_agg({element}, ',' ORDER BY e.ord) || ']' "
            f"FROM jsonb_array_elements({expr}) WITH ORDINALITY AS e(value, ord)), '[]')"
        )

    def json_list(self, expr: str) -> str:
        """A JSON list of strings as compact JSON text."""
        if self.sqlite:
            return f"json({expr})"
        return self._pg_array(expr, "e.value::text")

    def reviewer_names(self, expr: str) -> str:
        """The `name` of every {name, url} reviewer, as a compact JSON list."""
        if self.sqlite:
            return (
                f"(SELECT json_group_array(json_extract(e.value, '$.name')) "
                f"FROM json_each({expr}) AS e)"
            )
        return self._pg_array(expr, "coalesce(to_json(e.value ->> 'name')::text, 'null')")

    def reviewers(self, expr: str) -> str:
        """The {name, url} reviewers as compact JSON, keys in that order."""
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


# How each content field reads as text in `field_changes` (every field
# `cwarchive diff --field` compares).
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

# The last run a version was seen in: `version_runs.last_run_id`, asked per version so
# an index lookup (observations(version_id, run_id)) answers it instead of a scan of
# every observation. `gone` observations carry no version, so no kind filter is needed.
LAST_RUN = "(SELECT max(o.run_id) FROM observations AS o WHERE o.version_id = {version})"


def current_articles(s: Sql) -> str:
    return f"""
CREATE VIEW current_articles AS
SELECT a.article_key, a.status, a.last_url AS url, v.title,
       {s.date("v.published")} AS published, {s.date("v.reviewed")} AS reviewed,
       {s.reviewer_names("v.reviewers")} AS reviewers, {s.json_list("v.authors")} AS authors,
       v.read_minutes, v.word_count,
       (SELECT count(*) FROM versions AS n WHERE n.article_id = a.id) AS versions,
       a.first_run_id AS first_run, r.last_run_id AS last_run, a.removed_run_id AS removed_run
FROM articles AS a
LEFT JOIN versions AS v ON v.id = a.current_version_id
LEFT JOIN article_runs AS r ON r.article_id = a.id
"""


def article_versions(s: Sql) -> str:
    return f"""
CREATE VIEW article_versions AS
SELECT a.article_key, v.number AS version, v.title,
       {s.date("v.published")} AS published, {s.date("v.reviewed")} AS reviewed,
       {s.reviewer_names("v.reviewers")} AS reviewers, v.content_hash,
       v.first_run_id AS first_run,
       coalesce({LAST_RUN.format(version="v.id")}, v.first_run_id) AS last_run,
       v.parser_version
FROM versions AS v
JOIN articles AS a ON a.id = v.article_id
"""


def _steps(columns: str) -> str:
    """Each version beside the one before it (consecutive numbers of one article)."""
    return f"""
    SELECT a.article_key, v.number AS to_version, v.first_run_id AS to_run,
           LAG(v.number) OVER w AS from_version,
           LAG(v.id) OVER w AS from_version_id,
           LAG(v.first_run_id) OVER w AS from_first_run,
           {columns}
    FROM versions AS v
    JOIN articles AS a ON a.id = v.article_id
    WINDOW w AS (PARTITION BY a.article_key ORDER BY v.number)
"""


FROM_RUN = f"coalesce({LAST_RUN.format(version='c.from_version_id')}, c.from_first_run)"


def reviewed_changes(s: Sql) -> str:
    reviewed, names = s.date("v.reviewed"), s.reviewer_names("v.reviewers")
    columns = (
        f"v.title, LAG({reviewed}) OVER w AS old_reviewed, {reviewed} AS new_reviewed, "
        f"LAG({names}) OVER w AS old_reviewers, {names} AS new_reviewers"
    )
    return f"""
CREATE VIEW reviewed_changes AS
SELECT c.article_key, c.title, c.old_reviewed, c.new_reviewed,
       c.old_reviewers, c.new_reviewers,
       {FROM_RUN} AS from_run, c.to_run, c.from_version, c.to_version,
       {s.days("c.new_date", "c.old_date")} AS days_between
FROM ({_steps(columns + ", v.reviewed AS new_date, LAG(v.reviewed) OVER w AS old_date")}) AS c
WHERE c.from_version IS NOT NULL AND {s.differs("c.old_reviewed", "c.new_reviewed")}
"""


def field_changes(s: Sql) -> str:
    # One branch per field, each with its own window over the versions: a query for one
    # field (`WHERE field = 'reviewed'`) then leaves the other branches, body_text
    # among them, unread.
    branches = []
    for name, expression in FIELDS.items():
        value = expression(s, f"v.{name}")
        columns = f"LAG({value}) OVER w AS old, {value} AS new"
        branches.append(
            f"""SELECT c.article_key, '{name}' AS field, c.old, c.new,
       {FROM_RUN} AS from_run, c.to_run, c.from_version, c.to_version
FROM ({_steps(columns)}) AS c
WHERE c.from_version IS NOT NULL AND {s.differs("c.old", "c.new")}"""
        )
    return "CREATE VIEW field_changes AS\n" + "\nUNION ALL\n".join(branches)


def tag_count_series(s: Sql) -> str:
    # Label and group as shown in that run, the tag's current ones when the run showed
    # none (as `cwarchive tags` prints them).
    return f"""
CREATE VIEW tag_count_series AS
SELECT c.run_id AS run, {s.utc_time("r.started_at")} AS run_started, t.tag_id,
       coalesce(c.label, t.label) AS label, coalesce(c."group", t."group") AS "group",
       c.count
FROM run_tag_counts AS c
JOIN runs AS r ON r.id = c.run_id
JOIN tags AS t ON t.id = c.tag_pk
"""


def upgrade() -> None:
    s = Sql(op.get_bind().dialect.name)
    # observations(version_id) becomes (version_id, run_id): the last run of a version
    # is then one index lookup; the composite index still serves the foreign key.
    op.drop_index("ix_observations_version_id", table_name="observations")
    op.create_index("ix_observations_version_id_run_id", "observations", ["version_id", "run_id"])
    for build in (current_articles, article_versions, reviewed_changes, field_changes):
        op.execute(build(s))
    op.execute(tag_count_series(s))


def downgrade() -> None:
    for view in (SERIES_VIEW, *reversed(VIEWS)):
        op.execute(f"DROP VIEW {view}")
    op.drop_index("ix_observations_version_id_run_id", table_name="observations")
    op.create_index("ix_observations_version_id", "observations", ["version_id"])
