"""Runs as ranges (migration 0007): what consecutive runs saw again is one row whose range
grows, so an unchanged run adds (almost) no rows, and what each run saw stays answerable.

Every test runs on SQLite and PostgreSQL; the writer's tests with both stores.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, func, select, text

from storage import Archive
from storage import db as storage_db
from storage.check import verify_archive
from storage.models import ArticleTag, ListingPage, Observation, Run
from tests.databases import migrate
from tests.storage_records import BREAST, FACET_URL, article, listing, raw_page

T0 = dt.datetime(2026, 8, 19, 12, 0, tzinfo=dt.UTC)
ONE, TWO, THREE = "cancerwise/story-one", "cancerwise/story-two", "cancerwise/story-three"
RECORDS = {key: article(key) for key in (ONE, TWO, THREE)}
RANGED = {"observations": Observation, "listing_pages": ListingPage, "article_tags": ArticleTag}
RESEARCH_VIEWS = (
    "current_articles",
    "article_versions",
    "reviewed_changes",
    "field_changes",
    "tag_count_series",
)


def first_run(archive: Archive, *records: dict[str, Any]) -> int:
    """A full run: the articles fetched, the facet page listing them (with an ETag)."""
    run = archive.start_run("full", site_root="https://www.mdanderson.org", parser_version="1")
    for record in records:
        archive.save_article(run, record, raw=raw_page(record), url=record["url"], fetched_at=T0)
    links = [record["url"] for record in records]
    archive.save_listing(
        run, listing(links=links), raw=b"<html>facet</html>", url=FACET_URL, etag='"f1"'
    )
    archive.finish_run(run, "completed")
    return run


def unchanged_run(
    archive: Archive, keys: tuple[str, ...] = (ONE, TWO, THREE), **changed: dict[str, Any]
) -> int:
    """An incremental run: `keys` answer 304 but `changed` ones (fetched), the facet 304."""
    run = archive.start_run("incremental", site_root="https://www.mdanderson.org")
    for key in keys:
        if key in changed:
            record = changed[key]
            archive.save_article(run, record, raw=raw_page(record), url=record["url"])
        else:
            archive.mark_seen(run, key, RECORDS[key]["url"], http_status=304)
    assert archive.save_listing_unchanged(run, FACET_URL)
    archive.finish_run(run, "completed")
    return run


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.scalar(select(func.count()).select_from(model)) or 0
            for name, model in RANGED.items()
        }


def ranges(engine: Engine, model: Any, *columns: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                select(*columns, model.run_id, model.last_run_id).order_by(*columns, model.run_id)
            )
        ]


def errors(archive_url: str) -> list[str]:
    return [p.message for p in verify_archive(archive_url) if p.severity == "error"]


def test_unchanged_runs_grow_ranges_not_rows(opened: Archive, archive_url: str) -> None:
    first = first_run(opened, *RECORDS.values())
    second = unchanged_run(opened)
    after_second = row_counts(opened.engine)
    for _ in range(3):
        last = unchanged_run(opened)

    assert row_counts(opened.engine) == after_second
    seen = ranges(opened.engine, Observation, Observation.kind, Observation.url)
    assert [(kind, first_run_, end) for kind, _, first_run_, end in seen] == [
        *[("fetched", first, first)] * 3,
        *[("seen", second, last)] * 3,
    ]
    assert ranges(opened.engine, ListingPage, ListingPage.url) == [(FACET_URL, first, last)]
    assert ranges(opened.engine, ArticleTag, ArticleTag.article_key) == [
        (key, first, last) for key in sorted(RECORDS)
    ]
    with opened.engine.connect() as conn:
        counters = conn.execute(
            select(Run.id, Run.articles_seen, Run.listings).order_by(Run.id)
        ).all()
        last_runs = set(conn.scalars(text("SELECT last_run FROM current_articles")))
        listed = conn.execute(
            text(
                "SELECT c.run_id, c.listed FROM run_tag_counts c JOIN tags t ON t.id = c.tag_pk "
                "WHERE t.tag_id = :tag ORDER BY c.run_id"
            ),
            {"tag": BREAST},
        ).all()
    # What each run saw stays answerable: its counters, its tag's listed articles.
    assert [tuple(row) for row in counters] == [(first, 0, 1)] + [
        (run, 3, 1) for run in range(second, last + 1)
    ]
    assert last_runs == {last}
    assert [tuple(row) for row in listed] == [(run, 3) for run in range(first, last + 1)]
    assert errors(archive_url) == []


def test_a_run_that_did_not_see_an_article_ends_its_range(
    opened: Archive, archive_url: str
) -> None:
    first = first_run(opened, RECORDS[ONE], RECORDS[TWO])
    r2 = unchanged_run(opened, (ONE, TWO))
    r3 = unchanged_run(opened, (TWO,))  # story-one not met: its range ends in run 2
    r4 = unchanged_run(opened, (ONE, TWO))
    changed = article(TWO, title="Story two, retitled")
    r5 = unchanged_run(opened, (ONE, TWO), **{TWO: changed})
    r6 = unchanged_run(opened, (ONE, TWO))  # a sighting of the new version: a new range

    seen = [
        (url, start, end)
        for kind, url, start, end in ranges(
            opened.engine, Observation, Observation.kind, Observation.url
        )
        if kind == "seen"
    ]
    one_url, two_url = RECORDS[ONE]["url"], RECORDS[TWO]["url"]
    assert sorted(seen) == sorted(
        [(one_url, r2, r2), (one_url, r4, r6), (two_url, r2, r4), (two_url, r6, r6)]
    )
    with opened.engine.connect() as conn:
        versions = conn.execute(
            text(
                "SELECT article_key, version, first_run, last_run FROM article_versions "
                "ORDER BY article_key, version"
            )
        ).all()
    assert [tuple(v) for v in versions] == [
        (ONE, 1, first, r6),
        (TWO, 1, first, r4),
        (TWO, 2, r5, r6),
    ]
    assert r3 == r2 + 1
    assert errors(archive_url) == []


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every research view, and of the readings the tag counts come from."""
    found = {}
    with engine.connect() as conn:
        for view in (*RESEARCH_VIEWS, "tag_count_readings", "article_runs"):
            rows = [tuple(row) for row in conn.execute(text(f"SELECT * FROM {view}"))]
            found[view] = sorted(rows, key=lambda row: [(v is None, str(v)) for v in row])
    return found


def test_db_upgrade_moves_rows_into_ranges_and_every_view_reads_the_same(
    archive_url: str,
) -> None:
    """An archive written one row a run (0006's layout) upgraded to 0007: the consecutive
    rows that say the same become ranges, every view reads the same, `db check` passes."""

    archive = Archive.open(archive_url, batch_size=3)
    try:
        first_run(archive, *RECORDS.values())
        for _ in range(3):
            unchanged_run(archive)
        unchanged_run(archive, **{TWO: article(TWO, reviewed="2025-01-02")})
        unchanged_run(archive, (ONE, TWO))
        run = archive.start_run("incremental", site_root="https://www.mdanderson.org")
        archive.mark_seen(run, ONE, RECORDS[ONE]["url"], http_status=304)
        archive.mark_seen(run, TWO, RECORDS[TWO]["url"], http_status=304)
        archive.mark_gone(run, THREE, RECORDS[THREE]["url"], 404)
        archive.save_listing(
            run, listing(links=[RECORDS[ONE]["url"]]), raw=b"<html>2</html>", url=FACET_URL
        )
        archive.finish_run(run, "completed")
        for _ in range(2):
            unchanged_run(archive, (ONE, TWO, THREE))  # story-three returns
    finally:
        archive.close()
    engine = storage_db.make_engine(archive_url)
    try:
        ranged = row_counts(engine)
        migrate(engine, "0006")
        one_a_run = row_counts(engine)
        before = snapshot(engine)
        assert storage_db.upgrade(engine) == ("0006", storage_db.head_revision())
        after = snapshot(engine)
        upgraded = row_counts(engine)
    finally:
        engine.dispose()

    assert all(one_a_run[name] > ranged[name] for name in RANGED)  # 0006: a row a run
    assert upgraded == ranged
    for view in before:
        assert after[view] == before[view], view
    assert len(before["current_articles"]) == 3 and before["reviewed_changes"]
    assert errors(archive_url) == []


def _range_indexes(engine: Engine) -> dict[str, list[str]]:
    """Each index of the ranged tables, by name: the columns it holds."""
    from sqlalchemy import inspect

    inspector = inspect(engine)
    found: dict[str, list[str]] = {}
    for table in RANGED:
        for index in inspector.get_indexes(table):
            found[str(index["name"])] = [str(c) for c in index["column_names"]]
        key = inspector.get_pk_constraint(table)
        found[f"{table} (primary key)"] = [str(c) for c in key["constrained_columns"]]
    return found


def test_ranges_grow_in_place_no_index_holds_last_run_id(archive_url: str) -> None:
    """What lets a range grow in place (migration 0008): no index of the ranged tables
    holds `last_run_id`, so PostgreSQL updates the row within its page (HOT) and the
    tables keep room for it there (fillfactor); the same on an archive migrated from
    0007, and back down on the downgrade."""

    from storage.models import ARTICLE_TAGS_FILLFACTOR, RANGE_TABLE_FILLFACTOR

    Archive.open(archive_url).close()
    engine = storage_db.make_engine(archive_url)

    def fillfactors() -> dict[str, Any]:
        if engine.dialect.name != "postgresql":
            return dict.fromkeys(RANGED)
        with engine.connect() as conn:
            options = dict(
                conn.execute(
                    text(
                        "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(:names) "
                        "AND relnamespace = current_schema()::regnamespace"
                    ),
                    {"names": list(RANGED)},
                ).all()
            )
        return {name: options.get(name) for name in RANGED}

    in_place = dict.fromkeys(RANGED)
    if engine.dialect.name == "postgresql":
        in_place = dict.fromkeys(RANGED, [f"fillfactor={RANGE_TABLE_FILLFACTOR}"])
        in_place["article_tags"] = [f"fillfactor={ARTICLE_TAGS_FILLFACTOR}"]  # 0009
    try:
        fresh = _range_indexes(engine)
        assert not [name for name, columns in fresh.items() if "last_run_id" in columns]
        assert fillfactors() == in_place
        migrate(engine, "0007")
        assert [
            name for name, columns in _range_indexes(engine).items() if "last_run_id" in columns
        ]
        assert fillfactors() == dict.fromkeys(RANGED)
        migrate(engine, "head")
        assert _range_indexes(engine) == fresh
        assert fillfactors() == in_place
    finally:
        engine.dispose()


def _plan(conn: Any, statement: Any) -> str:
    """The plan's text: PostgreSQL's EXPLAIN (index scans preferred, as on a large
    archive), SQLite's EXPLAIN QUERY PLAN."""
    sql = str(statement.compile(conn, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        return "\n".join(conn.scalars(text(f"EXPLAIN {sql}")))
    return "\n".join(str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))


def test_latest_row_probes_read_the_index_in_its_order(archive_url: str) -> None:
    """An article's row that starts last (`storage.ranges`) and one tag's latest counts
    come out of an index in the order asked (migration 0009), whatever the history: no
    sort of every row the article or the tag has."""

    from storage import ranges
    from storage.models import RunTagCount

    Archive.open(archive_url).close()
    engine = storage_db.make_engine(archive_url)
    probes = {
        "sighting": select(ranges.last_sighting_id(1)),
        "fetch": select(ranges.last_observation_id(1, "fetched")),
        "tag's last runs": select(RunTagCount.run_id)
        .where(RunTagCount.tag_pk == 1, RunTagCount.run_id > 500)
        .order_by(RunTagCount.run_id),
    }

    def sorted_probes() -> list[str]:
        found = []
        for name, probe in probes.items():
            with engine.begin() as conn:
                plan = _plan(conn, probe)
            if "Sort" in plan or "TEMP B-TREE" in plan:
                found.append(f"{name}: {plan}")
        return found

    try:
        assert sorted_probes() == []
        migrate(engine, "0008")
        sorted_before = ["sighting", "fetch", "tag's last runs"]
        if engine.dialect.name == "sqlite":  # its index entries end with the rowid (the id)
            sorted_before = ["tag's last runs"]
        assert [found.split(":")[0] for found in sorted_probes()] == sorted_before
        migrate(engine, "head")
        assert sorted_probes() == []
    finally:
        engine.dispose()
