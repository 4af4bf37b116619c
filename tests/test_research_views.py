"""The research views (migration 0002, docs/research.md), on SQLite and on PostgreSQL.

The expected values are written out once and asserted on both backends, so the views
read the same (text, integers, JSON spacing) on each.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, func, select, text

from storage import Archive, queries
from storage.models import Article, Observation, Version
from tests.storage_records import BREAST, UTERINE, article, listing, raw_page, sidebar

T0 = dt.datetime(2026, 8, 19, 12, 0, tzinfo=dt.UTC)
ONE, TWO, THREE = "cancerwise/story-one", "cancerwise/story-two", "cancerwise/story-three"
BEVERS = {"name": "Therese Bevers, M.D.", "url": "https://faculty.mdanderson.org/bevers.html"}
# A name that JSON has to escape, with non-ASCII letters kept as they are.
NUNEZ = {"name": 'José "Pepe" Núñez, M.D.', "url": None}


def save(archive: Archive, run: int, record: dict[str, Any], minute: int = 0) -> None:
    archive.save_article(
        run,
        record,
        raw=raw_page(record),
        url=record["url"],
        http_status=200,
        fetched_at=T0 + dt.timedelta(days=run, minutes=minute),
    )


def one(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"reviewed": "2024-01-01", "reviewers": [BEVERS]}
    return article(ONE, **{**base, **fields})


def two(**fields: Any) -> dict[str, Any]:
    return article(TWO, **fields)


def three(**fields: Any) -> dict[str, Any]:
    return article(THREE, **{"authors": ["Jane Doe", "Ana Núñez"], **fields})


@pytest.fixture
def research(archive_url: str) -> Iterator[Archive]:
    """Five runs with changes in every kind of field, a revert, a removal and a reparse.

    run 1: the three articles, first versions
    run 2: story-one unchanged; story-two re-reviewed (from no date) by Núñez, retitled;
           story-three only seen (304)
    run 3: story-one re-reviewed (397 days later), longer, new read time; story-three
           gone (removed when the run completes)
    run 4: story-one back to its first content (a new version with the old hash);
           story-two loses its review date and changes takeaways, headings and
           publication date; story-three returns unchanged
    run 5: a reparse that reads story-three's authors differently
    """
    archive = Archive.open(archive_url, batch_size=2)
    start = dict(site_root="https://www.mdanderson.org", parser_version="1")

    run = archive.start_run("full", **start)
    save(archive, run, one())
    save(archive, run, two())
    save(archive, run, three())
    archive.save_listing(run, listing(tag_counts=sidebar(breast=700)), raw=None, url="f1")
    archive.finish_run(run, "completed")

    run = archive.start_run("incremental", **start)
    save(archive, run, one())
    save(archive, run, two(title="Story two, revised", reviewed="2024-06-01", reviewers=[NUNEZ]))
    archive.mark_seen(run, THREE, url=three()["url"], http_status=304)
    archive.save_listing(run, listing(tag_counts=sidebar(breast=701)), raw=None, url="f1")
    archive.finish_run(run, "completed")

    run = archive.start_run("full", **start)
    save(
        archive,
        run,
        one(
            reviewed="2025-02-01",
            reviewers=[BEVERS, NUNEZ],
            body_text="Screening finds cancer early.\n\nNow with new guidance.",
            read_minutes=6,
        ),
    )
    save(archive, run, two(title="Story two, revised", reviewed="2024-06-01", reviewers=[NUNEZ]))
    archive.mark_gone(run, THREE, url=three()["url"], http_status=404)
    archive.save_listing(
        run, listing(tag_counts=sidebar(breast=699, uterine=80)), raw=None, url="f1"
    )
    archive.finish_run(run, "completed")

    run = archive.start_run("full", **start)
    save(archive, run, one())
    save(
        archive,
        run,
        two(
            title="Story two, revised",
            reviewed=None,
            reviewers=[],
            key_takeaways=["Screening saves lives"],
            headings=["Who should be screened?"],
            published="2024-03-04",
        ),
    )
    save(archive, run, three())
    archive.finish_run(run, "completed")

    by_raw = {raw_page(three()): three(authors=["Jane Doe"])}
    archive.reparse(lambda raw, url: by_raw.get(raw) or _unchanged(raw), parser_version="2")
    yield archive
    archive.close()


def _unchanged(raw: bytes) -> dict[str, Any]:
    # Every other page reads as before: the fixture's records by their raw bytes.
    for record in _ALL_RECORDS:
        if raw_page(record) == raw:
            return record
    raise AssertionError("a page the fixture did not write")


_ALL_RECORDS = [
    one(),
    one(
        reviewed="2025-02-01",
        reviewers=[BEVERS, NUNEZ],
        body_text="Screening finds cancer early.\n\nNow with new guidance.",
        read_minutes=6,
    ),
    two(),
    two(title="Story two, revised", reviewed="2024-06-01", reviewers=[NUNEZ]),
    two(
        title="Story two, revised",
        reviewed=None,
        reviewers=[],
        key_takeaways=["Screening saves lives"],
        headings=["Who should be screened?"],
        published="2024-03-04",
    ),
    three(),
]


def rows(conn: Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(text(sql), params)]


# -- field_changes is `cwarchive diff` -------------------------------------------------


def oracle_diff(conn: Connection, field: str) -> list[dict[str, Any]]:
    """`queries.diff` as it was computed in Python before the view: the reference."""
    column = getattr(Version, field)
    seen = (
        select(Observation.version_id, func.max(Observation.run_id).label("last_run_id"))
        .where(Observation.version_id.is_not(None))
        .group_by(Observation.version_id)
        .subquery()
    )
    found = conn.execute(
        select(
            Article.article_key,
            Version.number,
            Version.first_run_id,
            func.coalesce(seen.c.last_run_id, Version.first_run_id).label("last_run_id"),
            column.label("value"),
        )
        .join(Article, Article.id == Version.article_id)
        .outerjoin(seen, seen.c.version_id == Version.id)
        .order_by(Article.article_key, Version.number)
    ).all()
    changes = []
    for old, new in zip(found, found[1:], strict=False):
        if old.article_key != new.article_key or old.value == new.value:
            continue
        changes.append(
            {
                "article_key": new.article_key,
                "field": field,
                "old": _plain(old.value),
                "new": _plain(new.value),
                "from_run": old.last_run_id,
                "to_run": new.first_run_id,
                "from_version": old.number,
                "to_version": new.number,
            }
        )
    return changes


def _plain(value: Any) -> Any:
    """A value as JSON output shows it: dates as ISO text, reviewer keys in one order."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [
            {"name": v["name"], "url": v.get("url")} if isinstance(v, dict) else v for v in value
        ]
    return value


def _from_text(field: str, value: str | None) -> Any:
    """A `field_changes` text value back as the Python value `diff` returns."""
    if value is None:
        return None
    if field in ("authors", "reviewers", "key_takeaways", "headings"):
        return json.loads(value)
    if field in ("read_minutes", "word_count"):
        return int(value)
    return value


@pytest.mark.parametrize("field", queries.DIFF_FIELDS)
def test_field_changes_are_the_rows_diff_prints(research: Archive, field: str) -> None:
    with research.engine.connect() as conn:
        expected = oracle_diff(conn, field)
        viewed = rows(
            conn,
            "SELECT * FROM field_changes WHERE field = :field ORDER BY article_key, to_version",
            field=field,
        )
        printed = queries.diff(conn, field)
    for row in viewed:
        assert row["old"] is None or isinstance(row["old"], str)
        assert row["new"] is None or isinstance(row["new"], str)
        row["old"], row["new"] = _from_text(field, row["old"]), _from_text(field, row["new"])
    assert viewed == expected
    assert printed == expected


def test_every_field_changes_somewhere_in_the_fixture(research: Archive) -> None:
    # The equality above means something only where the fixture changes the field.
    with research.engine.connect() as conn:
        changed = set(conn.scalars(text("SELECT DISTINCT field FROM field_changes")))
    assert changed == set(queries.DIFF_FIELDS) - {
        "canonical_url",
        "seo_title",
        "description",
        "filed_month",
    }


def test_diff_range_reads_the_view(research: Archive) -> None:
    with research.engine.connect() as conn:
        run4 = queries.diff(conn, "reviewed", from_run=3, to_run=4)
        upto2 = queries.diff(conn, "reviewed", to_run=2)
    assert [(c["article_key"], c["old"], c["new"]) for c in run4] == [
        (ONE, "2025-02-01", "2024-01-01"),
        (TWO, "2024-06-01", None),
    ]
    assert [(c["article_key"], c["from_run"], c["to_run"]) for c in upto2] == [(TWO, 1, 2)]


def test_field_changes_json_is_compact_text(research: Archive) -> None:
    with research.engine.connect() as conn:
        (reviewers,) = rows(
            conn,
            "SELECT old, new FROM field_changes WHERE field = 'reviewers' AND article_key = :k "
            "AND to_version = 2",
            k=ONE,
        )
        (minutes,) = rows(
            conn,
            "SELECT old, new FROM field_changes WHERE field = 'read_minutes' AND to_version = 2",
        )
    assert reviewers == {
        "old": '[{"name":"Therese Bevers, M.D.","url":"https://faculty.mdanderson.org/bevers.html"}]',
        "new": '[{"name":"Therese Bevers, M.D.","url":"https://faculty.mdanderson.org/bevers.html"},'
        '{"name":"José \\"Pepe\\" Núñez, M.D.","url":null}]',
    }
    assert minutes == {"old": "4", "new": "6"}


# -- reviewed_changes -------------------------------------------------------------------


def test_reviewed_changes(research: Archive) -> None:
    with research.engine.connect() as conn:
        found = rows(conn, "SELECT * FROM reviewed_changes ORDER BY to_run, article_key")
        reviewed_rows = rows(
            conn,
            "SELECT article_key, from_run, to_run, from_version, to_version "
            "FROM field_changes WHERE field = 'reviewed' ORDER BY to_run, article_key",
        )
    bevers, both = (
        '["Therese Bevers, M.D."]',
        '["Therese Bevers, M.D.","José \\"Pepe\\" Núñez, M.D."]',
    )
    nunez = '["José \\"Pepe\\" Núñez, M.D."]'
    assert found == [
        {
            "article_key": TWO,
            "title": "Story two, revised",
            "old_reviewed": None,
            "new_reviewed": "2024-06-01",
            "old_reviewers": "[]",
            "new_reviewers": nunez,
            "from_run": 1,
            "to_run": 2,
            "from_version": 1,
            "to_version": 2,
            "days_between": None,
        },
        {
            "article_key": ONE,
            "title": "Story one",
            "old_reviewed": "2024-01-01",
            "new_reviewed": "2025-02-01",
            "old_reviewers": bevers,
            "new_reviewers": both,
            "from_run": 2,
            "to_run": 3,
            "from_version": 1,
            "to_version": 2,
            "days_between": 397,
        },
        {
            "article_key": ONE,
            "title": "Story one",
            "old_reviewed": "2025-02-01",
            "new_reviewed": "2024-01-01",
            "old_reviewers": both,
            "new_reviewers": bevers,
            "from_run": 3,
            "to_run": 4,
            "from_version": 2,
            "to_version": 3,
            "days_between": -397,
        },
        {
            "article_key": TWO,
            "title": "Story two, revised",
            "old_reviewed": "2024-06-01",
            "new_reviewed": None,
            "old_reviewers": nunez,
            "new_reviewers": "[]",
            "from_run": 3,
            "to_run": 4,
            "from_version": 2,
            "to_version": 3,
            "days_between": None,
        },
    ]
    # The same changes as `cwarchive diff --field reviewed`.
    assert [
        {k: r[k] for k in ("article_key", "from_run", "to_run", "from_version", "to_version")}
        for r in found
    ] == reviewed_rows


# -- current_articles and article_versions ----------------------------------------------


def test_current_articles(research: Archive) -> None:
    with research.engine.connect() as conn:
        found = rows(conn, "SELECT * FROM current_articles ORDER BY article_key")
    assert found == [
        {
            "article_key": ONE,
            "status": "active",
            "url": one()["url"],
            "title": "Story one",
            "published": "2024-03-05",
            "reviewed": "2024-01-01",
            "reviewers": '["Therese Bevers, M.D."]',
            "authors": '["Jane Doe"]',
            "read_minutes": 4,
            "word_count": one()["word_count"],
            "versions": 3,
            "first_run": 1,
            "last_run": 4,
            "removed_run": None,
        },
        {
            "article_key": THREE,
            "status": "active",
            "url": three()["url"],
            "title": "Story three",
            "published": "2024-03-05",
            "reviewed": None,
            "reviewers": "[]",
            # The reparse (run 5) made its reading of the latest page current.
            "authors": '["Jane Doe"]',
            "read_minutes": 4,
            "word_count": three()["word_count"],
            "versions": 2,
            "first_run": 1,
            "last_run": 4,
            "removed_run": None,
        },
        {
            "article_key": TWO,
            "status": "active",
            "url": two()["url"],
            "title": "Story two, revised",
            "published": "2024-03-04",
            "reviewed": None,
            "reviewers": "[]",
            "authors": '["Jane Doe"]',
            "read_minutes": 4,
            "word_count": two()["word_count"],
            "versions": 3,
            "first_run": 1,
            "last_run": 4,
            "removed_run": None,
        },
    ]


def test_current_articles_of_a_removed_article(archive_url: str) -> None:
    archive = Archive.open(archive_url)
    run = archive.start_run("full", site_root="", parser_version="1")
    save(archive, run, three())
    archive.finish_run(run, "completed")
    run = archive.start_run("full", site_root="", parser_version="1")
    archive.mark_gone(run, THREE, url=three()["url"], http_status=410)
    archive.finish_run(run, "completed")
    with archive.engine.connect() as conn:
        (found,) = rows(
            conn, "SELECT status, authors, first_run, last_run, removed_run FROM current_articles"
        )
    archive.close()
    assert found == {
        "status": "removed",
        "authors": '["Jane Doe","Ana Núñez"]',
        "first_run": 1,
        "last_run": 1,
        "removed_run": 2,
    }


def test_article_versions_match_history(research: Archive) -> None:
    with research.engine.connect() as conn:
        found = rows(conn, "SELECT * FROM article_versions ORDER BY article_key, version")
        histories = {key: queries.history(conn, key) for key in (ONE, TWO, THREE)}
    expected = [
        {
            "article_key": key,
            "version": v["version"],
            "title": v["title"],
            "published": v["published"],
            "reviewed": v["reviewed"],
            "reviewers": json.dumps(
                [r["name"] for r in v["reviewers"]], ensure_ascii=False, separators=(",", ":")
            ),
            "content_hash": v["content_hash"],
            "first_run": v["first_seen_run"],
            "last_run": v["last_seen_run"],
            "parser_version": v["parser_version"],
        }
        for key in sorted(histories)
        for v in histories[key]
    ]
    assert found == expected
    assert [(r["article_key"], r["version"], r["first_run"], r["last_run"]) for r in found] == [
        (ONE, 1, 1, 2),
        (ONE, 2, 3, 3),
        (ONE, 3, 4, 4),
        (THREE, 1, 1, 4),
        (THREE, 2, 5, 5),
        (TWO, 1, 1, 1),
        (TWO, 2, 2, 3),
        (TWO, 3, 4, 4),
    ]


# -- tag_count_series -------------------------------------------------------------------


def test_tag_count_series(research: Archive) -> None:
    with research.engine.connect() as conn:
        found = rows(
            conn,
            "SELECT * FROM tag_count_series WHERE tag_id IN (:b, :u) ORDER BY tag_id, run",
            b=BREAST,
            u=UTERINE,
        )
        starts = dict(conn.execute(text("SELECT id, started_at FROM runs")).all())
        tags = queries.tags(conn)
    breast = [(r["run"], r["count"]) for r in found if r["tag_id"] == BREAST]
    uterine = [(r["run"], r["count"]) for r in found if r["tag_id"] == UTERINE]
    # Articles' sidebars (default counts) and the facet page disagree; the count most
    # pages of the run showed wins (docs/storage.md).
    assert breast == [(r["run"], r["count"]) for r in tags if r["tag_id"] == BREAST]
    assert uterine == [(1, 78), (2, 78), (3, 78), (4, 78)]
    for row in found:
        assert (row["label"], row["group"]) in {
            ("Breast Cancer", "Diseases"),
            ("Uterine Cancer", "Diseases"),
        }
        started = starts[row["run"]]
        if isinstance(started, str):  # SQLite hands back the stored text
            started = dt.datetime.fromisoformat(started).replace(tzinfo=dt.UTC)
        assert row["run_started"] == started.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
