"""Full-text search over the current version of every article (docs/research.md).

The index holds every version (title and body), not only the current ones: versions
never change once written, so the index only grows, in the same transaction as the
versions (`UnitOfWork` calls `index_versions`). A search joins
`articles.current_version_id`, so only current versions match: a word a newer version
removed is no longer found, one it added is, and a reparse that points an article back
at an older version needs no re-indexing.

- SQLite: an FTS5 table `version_search(title, body_text)` with the porter stemmer,
  reading its text from `versions` (external content: the text is not stored twice);
  ranked by bm25, snippets by `snippet()`.
- PostgreSQL: a table `version_search(version_id, document)` whose tsvector weighs the
  title `A` and the body `B` (English configuration), with a GIN index; ranked by
  `ts_rank`, snippets by `ts_headline`.

Migration 0003 creates the index and fills it for archives made before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, text

from storage.vocabulary import SEARCH_FIELDS

TABLE = "version_search"
FIELDS = SEARCH_FIELDS
# Around each match in a snippet (a person reads them; a program can split on them).
MARK_START, MARK_END, ELLIPSIS = "«", "»", "…"
# The text search configuration on PostgreSQL, named rather than left to the server's
# default_text_search_config, so that writing and searching always agree.
PG_CONFIG = "english"
PG_DOCUMENT = (
    f"setweight(to_tsvector('{PG_CONFIG}', v.title), 'A') || "
    f"setweight(to_tsvector('{PG_CONFIG}', v.body_text), 'B')"
)

_INDEX = {
    # Read back from the rows just written rather than sent again from Python: the
    # index always holds what `versions` holds.
    "sqlite": (
        f"INSERT INTO {TABLE} (rowid, title, body_text) "
        "SELECT v.id, v.title, v.body_text FROM versions AS v WHERE v.id = :id"
    ),
    "postgresql": (
        f"INSERT INTO {TABLE} (version_id, document) "
        f"SELECT v.id, {PG_DOCUMENT} FROM versions AS v WHERE v.id = :id"
    ),
}


def index_versions(conn: Connection, version_ids: Iterable[int]) -> None:
    """Add these (just inserted) versions to the search index, in the caller's transaction."""
    rows = [{"id": version_id} for version_id in version_ids]
    if rows:
        conn.execute(text(_INDEX[conn.dialect.name]), rows)


_UNINDEX = {
    # An external-content FTS5 table forgets a row by being told its indexed text, read
    # here from the version row before that row goes.
    "sqlite": (
        f"INSERT INTO {TABLE} ({TABLE}, rowid, title, body_text) "
        "SELECT 'delete', v.id, v.title, v.body_text FROM versions AS v WHERE v.id = :id"
    ),
    "postgresql": f"DELETE FROM {TABLE} WHERE version_id = :id",
}


def unindex_versions(conn: Connection, version_ids: Iterable[int]) -> None:
    """Take these versions out of the index before they are deleted (a version a
    degraded run held back, `storage.health`), in the caller's transaction."""
    rows = [{"id": version_id} for version_id in version_ids]
    if rows:
        conn.execute(text(_UNINDEX[conn.dialect.name]), rows)


def search(
    conn: Connection, query: str, field: str = "all", limit: int = 20
) -> list[dict[str, Any]]:
    """The articles whose current version matches every word of `query`, best first.

    `field` is `title`, `body` or `all` (a title match ranks above body matches). Each
    result is `{article_key, title, url, snippet, rank}`: `url` the article's last URL,
    `snippet` the matching passage with the matches between « and », `rank` higher for
    a better match (comparable within one search only). Any text is accepted: the
    words are searched for as words, never read as query syntax.
    """
    if field not in FIELDS:
        raise ValueError(f"unknown field {field!r}: one of {', '.join(FIELDS)}")
    if limit < 1:
        raise ValueError("limit must be at least 1")
    words = _words(query)
    if not words:
        return []
    if conn.dialect.name == "sqlite":
        return _search_sqlite(conn, words, field, limit)
    return _search_postgresql(conn, words, field, limit)


def _words(query: str) -> list[str]:
    """The whitespace-separated parts of `query` that contain a letter or a digit.

    A part with neither would tokenize to nothing (an empty phrase); NUL cannot reach
    PostgreSQL at all.
    """
    return [part for part in query.replace("\x00", " ").split() if any(c.isalnum() for c in part)]


# bm25 weights per field: (title, body). For `all`, a title match outweighs any number
# of body matches (bm25 saturates a term's frequency at about twice one occurrence).
_SQLITE_WEIGHTS = {"title": (1.0, 0.0), "body": (0.0, 1.0), "all": (10.0, 1.0)}
_SQLITE_COLUMN = {"title": (0, "title"), "body": (1, "body_text"), "all": (-1, None)}


def _search_sqlite(
    conn: Connection, words: list[str], field: str, limit: int
) -> list[dict[str, Any]]:
    # Each word becomes an FTS5 string ("..." with " doubled): its text goes through
    # the table's tokenizer (so it is stemmed) and nothing in it is syntax. A hyphenated
    # word becomes the phrase of its parts. Strings side by side must all match.
    phrases = " ".join('"' + word.replace('"', '""') + '"' for word in words)
    column, name = _SQLITE_COLUMN[field]
    match = f"{{{name}}} : ({phrases})" if name else phrases
    title_weight, body_weight = _SQLITE_WEIGHTS[field]
    bm25 = f"bm25({TABLE}, {title_weight}, {body_weight})"
    rows = conn.execute(
        text(
            f"SELECT a.article_key, v.title, a.last_url AS url, "
            f"snippet({TABLE}, {column}, :start, :end, :ellipsis, 16) AS snippet, "
            f"-{bm25} AS rank "
            f"FROM {TABLE} "
            f"JOIN articles AS a ON a.current_version_id = {TABLE}.rowid "
            f"JOIN versions AS v ON v.id = {TABLE}.rowid "
            f"WHERE {TABLE} MATCH :match "
            f"ORDER BY {bm25}, a.article_key LIMIT :limit"
        ),
        {
            "match": match,
            "limit": limit,
            "start": MARK_START,
            "end": MARK_END,
            "ellipsis": ELLIPSIS,
        },
    )
    return [dict(row._mapping) for row in rows]


# ts_rank weights {D, C, B, A}: the title is A, the body B. For `all`, a title match
# outweighs any number of body matches (ts_rank sums a term's occurrences with
# weights decreasing as 1/n^2, so B's share stays below 0.1 * pi^2/6).
_PG_WEIGHTS = {"title": "{0, 0, 0, 1}", "body": "{0, 0, 1, 0}", "all": "{0, 0, 0.1, 1}"}
# Only the field's part of the document must match (ts_filter keeps those weights).
_PG_FILTER = {"title": "{a}", "body": "{b}"}


def _search_postgresql(
    conn: Connection, words: list[str], field: str, limit: int
) -> list[dict[str, Any]]:
    # plainto_tsquery reads text as words joined by AND, ignoring punctuation: no
    # operator or quote in the user's text can make an invalid query.
    restrict = (
        f"AND ts_filter(s.document, '{_PG_FILTER[field]}') @@ q.query"
        if field in _PG_FILTER
        else ""
    )
    marks = f"StartSel={MARK_START}, StopSel={MARK_END}"
    options = {
        # A title whole; one passage of the body, as FTS5's snippet() gives.
        "title": f"{marks}, HighlightAll=true",
        "body_text": (
            f'{marks}, MaxWords=16, MinWords=8, MaxFragments=1, FragmentDelimiter="{ELLIPSIS}"'
        ),
    }

    def headline(column: str) -> str:
        # Highlights any of the words: with all of them required, a passage is chosen
        # around a span holding every word, which in a long body is often too wide to
        # show and comes back with no match in it.
        return f"ts_headline('{PG_CONFIG}', m.{column}, q.any_word, :{column}_options)"

    if field == "title":
        snippet = headline("title")
    elif field == "body":
        snippet = headline("body_text")
    else:  # the body's passage, or the title where only the title matches
        snippet = (
            f"CASE WHEN ts_filter(m.document, '{{b}}') @@ q.query "
            f"THEN {headline('body_text')} ELSE {headline('title')} END"
        )
    rows = conn.execute(
        text(
            "WITH q AS ("
            "  SELECT query, replace(query::text, ' & ', ' | ')::tsquery AS any_word"
            f"  FROM plainto_tsquery('{PG_CONFIG}', :query) AS query"
            ") "
            f"SELECT m.article_key, m.title, m.url, {snippet} AS snippet, m.rank "
            "FROM ("
            "  SELECT a.article_key, v.title, a.last_url AS url, v.body_text, s.document, "
            f"        ts_rank('{_PG_WEIGHTS[field]}', s.document, q.query) AS rank "
            f"  FROM {TABLE} AS s "
            "   JOIN articles AS a ON a.current_version_id = s.version_id "
            "   JOIN versions AS v ON v.id = s.version_id "
            "   CROSS JOIN q "
            f"  WHERE s.document @@ q.query {restrict} "
            "   ORDER BY rank DESC, a.article_key LIMIT :limit"
            ") AS m CROSS JOIN q "
            "ORDER BY m.rank DESC, m.article_key"
        ),
        {
            "query": " ".join(words),
            "limit": limit,
            **{f"{column}_options": value for column, value in options.items()},
        },
    )
    return [{**row._mapping, "rank": float(row.rank)} for row in rows]
