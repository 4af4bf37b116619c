"""The archive's rules, on SQLite and on PostgreSQL (fixture `archive_url`), with each of
the writer's stores: one process (`BatchStore`) and a distributed run's (`SharedStore`).

Every behaviour test takes the `archive` fixture and runs with both stores; the few
that only one process does (reparse, batches, a leftover run) take `one_process`.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from storage import Archive, ArchiveError, NoArchive, SchemaOutOfDate, queries
from storage import db as storage_db
from storage.batch import BatchStore
from storage.models import (
    Article,
    ArticleTag,
    Observation,
    ParseError,
    RawPage,
    Run,
    RunTagCount,
    Tag,
    TagLabel,
    Version,
    VersionReviewer,
)
from storage.shared import SharedStore
from tests.databases import migrate
from tests.storage_records import BREAST, FACET_URL, UTERINE, article, listing, raw_page, sidebar

ROOT = Path(__file__).resolve().parents[1]

T0 = dt.datetime(2026, 8, 19, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["one-process", "distributed"])
def archive(request: pytest.FixtureRequest, archive_url: str) -> Iterator[Archive]:
    store = BatchStore if request.param == "one-process" else SharedStore
    archive = Archive.open(archive_url, batch_size=3, store=store)
    yield archive
    archive.close()


@pytest.fixture
def one_process(archive_url: str) -> Iterator[Archive]:
    archive = Archive.open(archive_url, batch_size=3)
    yield archive
    archive.close()


def save(archive: Archive, run: int, record: dict[str, Any], minute: int = 0) -> str:
    return archive.save_article(
        run,
        record,
        raw=raw_page(record),
        url=record["url"],
        http_status=200,
        fetched_at=T0 + dt.timedelta(minutes=minute),
    )


def count(archive: Archive, model: Any, *where: Any) -> int:
    archive.flush()
    with archive.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model).where(*where)) or 0


def run_row(archive: Archive, run: int) -> Any:
    with archive.engine.connect() as conn:
        return conn.execute(select(Run).where(Run.id == run)).one()


def start(archive: Archive, mode: str = "full") -> int:
    return archive.start_run(mode=mode, site_root="https://www.mdanderson.org", parser_version="1")


def test_new_unchanged_changed(archive: Archive) -> None:
    first = article()
    changed = article(body_text="Screening finds cancer early. Updated in 2026.")
    runs = []
    for record, outcome in ((first, "new"), (first, "unchanged"), (changed, "changed")):
        run = start(archive)
        assert save(archive, run, record) == outcome
        archive.finish_run(run, "completed", pages_fetched=1)
        runs.append(run_row(archive, run))

    assert count(archive, Version) == 2
    assert count(archive, Observation) == 3
    assert count(archive, RawPage) == 2
    outcomes = [(r.articles_new, r.articles_unchanged, r.articles_changed) for r in runs]
    assert outcomes == [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
    assert (runs[-1].status, runs[-1].pages_fetched) == ("completed", 1)
    with archive.engine.connect() as conn:
        versions = queries.history(conn, first["article_key"])
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["body_text"] == changed["body_text"]
    assert versions[1]["parser_version"] == "1"


def test_unchanged_rerun_adds_no_version_and_no_raw_page(archive: Archive) -> None:
    records = [article(f"cancerwise/story-{i}") for i in range(5)]
    for _ in range(2):
        run = start(archive)
        for record in records:
            save(archive, run, record)
        archive.finish_run(run, "completed")
    assert count(archive, Version) == 5
    assert count(archive, RawPage) == 5
    assert count(archive, Observation) == 10
    assert run_row(archive, 2).articles_unchanged == 5
    with archive.engine.connect() as conn:
        assert {a["last_seen"] for a in queries.articles(conn)} == {2}
        assert {queries.history(conn, r["article_key"])[0]["last_seen_run"] for r in records} == {2}
        spans = conn.execute(text("SELECT first_run_id, last_run_id FROM version_runs")).all()
    assert {tuple(span) for span in spans} == {(1, 2)}


def test_url_only_change_is_an_observation_not_a_version(archive: Archive) -> None:
    before = article(h00=158_901)
    after = article(h00=160_002)
    assert before["content_hash"] == after["content_hash"]
    run = start(archive)
    save(archive, run, before)
    archive.finish_run(run)
    run = start(archive)
    assert save(archive, run, after) == "unchanged"
    archive.finish_run(run)

    assert count(archive, Version) == 1
    with archive.engine.connect() as conn:
        (version,) = queries.history(conn, before["article_key"])
    assert version["urls"] == [before["url"], after["url"]]
    assert archive.known_articles()[before["article_key"]].last_url == after["url"]


def test_removed_then_returned(archive: Archive) -> None:
    record = article()
    key = record["article_key"]
    run = start(archive)
    save(archive, run, record)
    archive.finish_run(run)

    run = start(archive)
    archive.mark_gone(run, key, url=record["url"], http_status=404)
    assert archive.known_articles()[key].status == "active"  # evidence only, until completed
    archive.finish_run(run, "completed")
    assert archive.known_articles()[key].status == "removed"
    assert run_row(archive, run).articles_removed == 1
    assert count(archive, Version) == 1  # its versions stay

    run = start(archive)
    assert save(archive, run, record) == "unchanged"
    archive.finish_run(run)
    assert archive.known_articles()[key].status == "active"
    assert run_row(archive, run).articles_returned == 1
    with archive.engine.connect() as conn:
        (row,) = queries.articles(conn)
    assert (row["status"], row["removed_in"], row["versions"]) == ("active", None, 1)


@pytest.mark.parametrize("status", ["interrupted", "failed"])
def test_no_removal_unless_the_run_completes(archive: Archive, status: str) -> None:
    record = article()
    run = start(archive)
    save(archive, run, record)
    archive.finish_run(run)
    run = start(archive)
    archive.mark_gone(run, record["article_key"], url=record["url"], http_status=410)
    archive.finish_run(run, status)
    assert archive.known_articles()[record["article_key"]].status == "active"


def test_gone_evidence_ignored_when_fetched_in_the_same_run(archive: Archive) -> None:
    record = article()
    run = start(archive)
    save(archive, run, record)
    archive.finish_run(run)
    run = start(archive)
    archive.mark_gone(run, record["article_key"], url=record["url"], http_status=404)
    save(archive, run, article(h00=999))  # found again under a new URL
    archive.finish_run(run)
    assert archive.known_articles()[record["article_key"]].status == "active"


@pytest.mark.parametrize("http_status", [500, 503, 200])
def test_mark_gone_needs_404_or_410(archive: Archive, http_status: int) -> None:
    run = start(archive)
    with pytest.raises(ValueError, match="404 or 410"):
        archive.mark_gone(run, "cancerwise/x", url="https://x", http_status=http_status)


def test_mark_seen_is_an_observation_of_the_current_version(archive: Archive) -> None:
    record = article()
    run = start(archive)
    save(archive, run, record)
    archive.finish_run(run)
    run = start(archive, "incremental")
    archive.mark_seen(run, record["article_key"], url=record["url"], http_status=304)
    archive.mark_seen(run, "cancerwise/never-archived", url="https://x", http_status=304)
    archive.finish_run(run)
    assert count(archive, Observation, Observation.kind == "seen") == 1
    assert run_row(archive, run).articles_seen == 1
    with archive.engine.connect() as conn:
        assert queries.history(conn, record["article_key"])[0]["last_seen_run"] == run
        assert queries.articles(conn)[0]["last_seen"] == run


def test_renamed_tag_keeps_its_identity(archive: Archive) -> None:
    seed = sidebar(uterine=78)
    renamed = [dict(t) for t in sidebar(uterine=84)]
    renamed[1]["label"] = "Endometrial Cancer"
    run1 = start(archive)
    save(archive, run1, article(tag_counts=seed))
    archive.finish_run(run1)
    run2 = start(archive)
    save(archive, run2, article(tag_counts=renamed))
    archive.finish_run(run2)

    assert count(archive, Tag, Tag.tag_id == UTERINE) == 1
    with archive.engine.connect() as conn:
        labels = conn.execute(
            select(TagLabel.label, TagLabel.first_run_id, TagLabel.last_run_id)
            .join(Tag, Tag.id == TagLabel.tag_pk)
            .where(Tag.tag_id == UTERINE)
            .order_by(TagLabel.first_run_id)
        ).all()
        by_label = queries.tags(conn, "uterine cancer")  # an old label finds the tag
        current = conn.execute(select(Tag.label).where(Tag.tag_id == UTERINE)).scalar_one()
    assert [tuple(r) for r in labels] == [("Uterine Cancer", 1, 1), ("Endometrial Cancer", 2, 2)]
    assert [(r["run"], r["label"], r["count"]) for r in by_label] == [
        (1, "Uterine Cancer", 78),
        (2, "Endometrial Cancer", 84),
    ]
    assert current == "Endometrial Cancer"


def test_label_only_tag_takes_the_id_when_one_appears(archive: Archive) -> None:
    seed = [{**t, "tag_id": None} for t in sidebar()]  # the seed shows text only
    run = start(archive)
    save(archive, run, article(tag_counts=seed))
    archive.finish_run(run)
    assert count(archive, Tag, Tag.tag_id.is_(None)) == 3
    run = start(archive)
    save(archive, run, article(tag_counts=sidebar(breast=708)))
    archive.finish_run(run)
    assert count(archive, Tag) == 3
    with archive.engine.connect() as conn:
        rows = queries.tags(conn, BREAST)
    assert [(r["run"], r["count"]) for r in rows] == [(1, 712), (2, 708)]


@pytest.mark.parametrize(
    ("shown", "expected", "agreeing"),
    [
        ([126, 126, 128], 126, 2),  # the count most pages show
        ([126, 128], 128, 1),  # a tie: the latest-fetched page's count
        ([128, 126], 126, 1),
        ([130], 130, 1),
    ],
)
def test_pages_disagreeing_on_a_count(
    archive: Archive, shown: list[int], expected: int, agreeing: int
) -> None:
    run = start(archive)
    for minute, value in enumerate(shown):
        record = article(f"cancerwise/story-{minute}", tag_counts=sidebar(breast=value))
        save(archive, run, record, minute=minute)
    archive.finish_run(run)
    with archive.engine.connect() as conn:
        (row,) = [r for r in queries.tags(conn, BREAST)]
        readings = conn.execute(
            text("SELECT page_url, count FROM tag_count_readings WHERE tag_id = :t"),
            {"t": BREAST},
        ).all()
    assert row["count"] == expected
    assert (row["pages"], row["pages_agreeing"]) == (len(shown), agreeing)
    assert row["distinct_counts"] == len(set(shown))
    assert sorted(r.count for r in readings) == sorted(shown)  # every page's reading is kept


def test_facet_pages_give_article_tags_and_listed_counts(archive: Archive) -> None:
    keys = [f"cancerwise/story-{i}" for i in range(3)]
    links = [f"https://www.mdanderson.org/{k}.h00-1.html" for k in keys]
    run = start(archive)
    archive.save_listing(run, listing(links=links[:2]), raw=b"<html>p1</html>", url="u1")
    archive.save_listing(run, listing(links=links[1:]), raw=b"<html>p2</html>", url="u2")
    archive.save_listing(run, listing(kind="landing", tag_id=None, links=links), raw=None, url="u3")
    archive.finish_run(run)
    assert count(archive, ArticleTag) == 3  # de-duplicated across the facet's pages
    with archive.engine.connect() as conn:
        row = conn.execute(
            select(RunTagCount).join(Tag, Tag.id == RunTagCount.tag_pk).where(Tag.tag_id == BREAST)
        ).one()
        carried = conn.scalars(
            select(ArticleTag.article_key)
            .join(Tag, Tag.id == ArticleTag.tag_pk)
            .where(Tag.tag_id == BREAST, ArticleTag.run_id == run)
            .order_by(ArticleTag.article_key)
        ).all()
    assert (row.listed, row.count) == (3, 712)
    assert carried == keys
    assert run_row(archive, run).listings == 3


def test_parse_error_keeps_the_page(archive: Archive) -> None:
    run = start(archive)
    archive.save_parse_error(run, url="https://x/a.html", reason="no title", raw=b"<html></html>")
    archive.save_parse_error(run, url="https://x/b.html", reason="empty file", http_status=200)
    archive.finish_run(run)
    assert count(archive, ParseError) == 2
    assert count(archive, ParseError, ParseError.raw_page_id.is_not(None)) == 1
    assert run_row(archive, run).errors == 2


def test_reviewers_are_queryable_rows(archive: Archive) -> None:
    reviewers = [
        {"name": "Therese Bevers, M.D.", "url": "https://faculty.mdanderson.org/bevers.html"},
        {"name": "Jane Roe", "url": None},
    ]
    run = start(archive)
    save(archive, run, article(reviewed="2025-01-02", reviewers=reviewers))
    archive.finish_run(run)
    with archive.engine.connect() as conn:
        rows = conn.execute(
            select(Article.article_key, Version.reviewed)
            .join(Version, Version.article_id == Article.id)
            .join(VersionReviewer, VersionReviewer.version_id == Version.id)
            .where(VersionReviewer.name.like("Therese Bevers%"))
        ).all()
        stored = conn.scalar(select(Version.reviewers))
    assert [(r.article_key, r.reviewed) for r in rows] == [
        (article()["article_key"], dt.date(2025, 1, 2))
    ]
    assert stored == reviewers


def test_diff_of_reviewed_between_runs(archive: Archive) -> None:
    for run_number, reviewed in enumerate(["2024-01-01", "2024-01-01", "2025-06-30"], start=1):
        run = start(archive)
        assert run == run_number
        save(archive, run, article(reviewed=reviewed))
        save(archive, run, article("cancerwise/other", title=f"Title {run}"))
        archive.finish_run(run)
    with archive.engine.connect() as conn:
        everything = queries.diff(conn, "reviewed")
        run3 = queries.diff(conn, "reviewed", from_run=2, to_run=3)
        none = queries.diff(conn, "reviewed", from_run=1, to_run=2)
        titles = queries.diff(conn, "title", to_run=2)
        with pytest.raises(ValueError, match="unknown field"):
            queries.diff(conn, "colour")
    expected = {
        "article_key": article()["article_key"],
        "field": "reviewed",
        "old": "2024-01-01",
        "new": "2025-06-30",
        "from_run": 2,
        "to_run": 3,
        "from_version": 1,
        "to_version": 2,
    }
    assert everything == run3 == [expected]
    assert none == []
    assert [(c["old"], c["new"]) for c in titles] == [("Title 1", "Title 2")]


def test_start_run_marks_a_leftover_running_run_interrupted(archive_url: str) -> None:
    crashed = Archive.open(archive_url)
    run1 = start(crashed)
    save(crashed, run1, article())
    crashed.flush()
    crashed.engine.dispose()  # the process died: no finish_run

    archive = Archive.open(archive_url)
    run2 = start(archive)
    assert run_row(archive, run1).status == "interrupted"
    assert run_row(archive, run1).finished_at is not None
    assert save(archive, run2, article()) == "unchanged"
    archive.finish_run(run2)
    archive.close()


def test_batches_commit_every_batch_size_saves(archive_url: str) -> None:
    archive = Archive.open(archive_url, batch_size=2)
    reader = Archive.open(archive_url, create=False)
    run = start(archive)
    save(archive, run, article("cancerwise/a"))
    assert count(reader, Article) == 0  # still in memory
    save(archive, run, article("cancerwise/b"))
    assert count(reader, Article) == 2
    assert count(reader, Version) == 2
    archive.close()
    reader.close()


def test_reparse_adds_versions_only_where_the_output_differs(one_process: Archive) -> None:
    records = {f"cancerwise/story-{i}": article(f"cancerwise/story-{i}") for i in range(3)}
    by_raw = {raw_page(r): r for r in records.values()}
    run = start(one_process)
    for record in records.values():
        save(one_process, run, record)
    one_process.finish_run(run)

    def fixed_parser(raw: bytes, url: str) -> dict[str, Any]:
        record = by_raw[raw]
        if record["article_key"].endswith("-1"):  # the parser fix changes one article
            return article(record["article_key"], title="Fixed title")
        return record

    summary = one_process.reparse(fixed_parser, parser_version="2")
    assert summary == {"run": 2, "pages": 3, "versions_added": 1, "unchanged": 2, "errors": 0}
    assert count(one_process, Version) == 4
    with one_process.engine.connect() as conn:
        versions = queries.history(conn, "cancerwise/story-1")
        current = conn.scalar(
            select(Version.title)
            .join(Article, Article.current_version_id == Version.id)
            .where(Article.article_key == "cancerwise/story-1")
        )
    assert [(v["version"], v["parser_version"], v["title"]) for v in versions] == [
        (1, "1", "Story 1"),
        (2, "2", "Fixed title"),
    ]
    assert current == "Fixed title"
    assert run_row(one_process, 2).mode == "reparse"
    # A second reparse with the same parser finds nothing new.
    again = one_process.reparse(fixed_parser, parser_version="2")
    assert (again["versions_added"], again["unchanged"]) == (0, 3)


def test_reparse_records_pages_that_no_longer_parse(one_process: Archive) -> None:
    run = start(one_process)
    save(one_process, run, article())
    one_process.finish_run(run)

    def strict_parser(raw: bytes, url: str) -> dict[str, Any]:
        raise ValueError("no published date")

    summary = one_process.reparse(strict_parser, parser_version="3")
    assert summary["errors"] == 1
    assert count(one_process, ParseError, ParseError.reason == "no published date") == 1


def test_open_refuses_an_out_of_date_schema(
    archive_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Archive.open(archive_url).close()
    monkeypatch.setattr(storage_db, "head_revision", lambda: "9999")
    with pytest.raises(SchemaOutOfDate, match=r"run `cwarchive db upgrade`") as error:
        Archive.open(archive_url)
    assert "\n" not in str(error.value)


def test_the_head_revision_is_the_migration_scripts_head() -> None:
    # Opening an archive compares with the constant, so that Alembic is not loaded.
    assert storage_db.scripts_head() == storage_db.HEAD_REVISION


def test_opening_a_current_archive_loads_no_alembic(tmp_path: Any) -> None:
    Archive.open(str(tmp_path / "a.sqlite")).close()  # created: migrated by Alembic
    code = (
        "import sys; from storage import Archive; "
        f"Archive.open({str(tmp_path / 'a.sqlite')!r}).close(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"


def test_read_only_open_of_a_missing_archive(tmp_path: Any) -> None:
    with pytest.raises(NoArchive):
        Archive.open(str(tmp_path / "missing.sqlite"), create=False)
    assert not (tmp_path / "missing.sqlite").exists()


def test_sqlite_pragmas(tmp_path: Any) -> None:
    archive = Archive.open(str(tmp_path / "a.sqlite"))
    with archive.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    archive.close()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # A plain path is a SQLite file, made absolute against the working directory.
        ("archive.sqlite", "sqlite:///{cwd}/archive.sqlite"),
        ("data/../archive.sqlite", "sqlite:///{cwd}/archive.sqlite"),
        ("/srv/cw/archive.sqlite", "sqlite:////srv/cw/archive.sqlite"),
        # PostgreSQL goes through psycopg 3, whichever spelling is given.
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        (
            "postgresql://u@h:5433/db?sslmode=require",
            "postgresql+psycopg://u@h:5433/db?sslmode=require",
        ),
        # Full SQLAlchemy URLs pass through unchanged.
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.sqlite", "sqlite:////tmp/x.sqlite"),
    ],
)
def test_normalize_url(
    given: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert storage_db.normalize_url(given) == expected.format(cwd=os.getcwd())


def test_a_plain_path_opens_that_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Archive.open("archive.sqlite").close()
    assert (tmp_path / "archive.sqlite").is_file()


def test_migrations_match_the_models(archive_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from storage.models import Base

    Archive.open(archive_url).close()
    engine = storage_db.make_engine(archive_url)
    with engine.connect() as conn:
        # As `alembic revision --autogenerate` compares (storage/migrations/env.py).
        context = MigrationContext.configure(
            conn, opts={"include_object": storage_db.include_object}
        )
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_migrations_downgrade_and_upgrade_again(archive_url: str) -> None:
    Archive.open(archive_url).close()
    engine = storage_db.make_engine(archive_url)
    migrate(engine, "base")
    assert storage_db.current_revision(engine) is None
    assert storage_db.upgrade(engine) == (None, storage_db.head_revision())
    engine.dispose()


def test_open_refuses_a_schema_newer_than_the_code(archive_url: str) -> None:
    Archive.open(archive_url).close()
    engine = storage_db.make_engine(archive_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    engine.dispose()
    with pytest.raises(ArchiveError, match="newer than this cwarchive"):
        Archive.open(archive_url)


def test_reparse_can_point_the_current_version_back(one_process: Archive) -> None:
    first, second = article(title="Title A"), article(title="Title B")
    for record in (first, second):
        run = start(one_process)
        save(one_process, run, record)
        one_process.finish_run(run)

    # The new parser reads the second page as the first: B was a parser artefact.
    summary = one_process.reparse(lambda raw, url: first, parser_version="2")
    assert (summary["versions_added"], summary["unchanged"]) == (0, 2)
    with one_process.engine.connect() as conn:
        (row,) = queries.articles(conn)
    assert (row["title"], row["versions"]) == ("Title A", 2)


def test_known_articles_carry_what_conditional_requests_need(archive: Archive) -> None:
    record = article()
    run = start(archive)
    archive.save_article(
        run,
        record,
        raw=raw_page(record),
        url=record["url"],
        http_status=200,
        fetched_at=T0,
        etag='"abc"',
        last_modified="Wed, 19 Aug 2026 12:00:00 GMT",
    )
    archive.finish_run(run)
    run = start(archive, "incremental")
    archive.mark_seen(run, record["article_key"], url=record["url"], http_status=304)
    archive.finish_run(run)
    known = archive.known_articles()[record["article_key"]]
    assert known.last_url == record["url"]
    assert known.last_fetched_at == T0  # a 304 is not a fetch of new bytes
    assert (known.etag, known.last_modified) == ('"abc"', "Wed, 19 Aug 2026 12:00:00 GMT")
    assert known.status == "active"


def test_an_unchanged_rerun_only_appends_observations(archive: Archive) -> None:
    records = [article(f"cancerwise/story-{i}") for i in range(4)]
    run = start(archive)
    for record in records:
        save(archive, run, record)
    archive.finish_run(run)
    before = _table_counts(archive)
    run = start(archive)
    for record in records:
        save(archive, run, record)
    archive.finish_run(run)
    after = _table_counts(archive)
    grown = {name for name in after if after[name] != before[name]}
    assert grown == {"runs", "observations", "run_tag_counts"}
    assert after["observations"] - before["observations"] == len(records)


def _table_counts(archive: Archive) -> dict[str, int]:
    from storage.models import Base

    with archive.engine.connect() as conn:
        return {
            name: conn.scalar(select(func.count()).select_from(table)) or 0
            for name, table in Base.metadata.tables.items()
        }


def test_an_upgrade_of_the_hash_rule_adds_no_version(archive: Archive) -> None:
    """Versions stored by parser 1 (which hashed filed_month) are compared by today's rule."""
    from common.record import content_hash

    record = article("cancerwise/legacy")
    legacy = {**record, "content_hash": content_hash(record, "1")}
    run = start(archive)  # parser_version "1"
    assert save(archive, run, legacy) == "new"
    archive.finish_run(run, "completed")
    run = archive.start_run(mode="full", site_root="https://www.mdanderson.org", parser_version="2")
    moved = {**record, "filed_month": None}  # the redesign's page shows no filed month
    assert save(archive, run, moved) == "unchanged"
    archive.finish_run(run, "completed")
    run = start(archive)
    assert save(archive, run, article("cancerwise/legacy", title="Another title")) == "changed"
    archive.finish_run(run, "completed")
    assert count(archive, Version) == 2


def test_one_capture_is_saved_once_a_run(archive: Archive) -> None:
    """With either store: the same capture (URL and bytes) saved twice in a run (a
    request fetched again after the worker that saved it was killed) is a duplicate and
    writes nothing; another capture is kept (pages of two dates ingested in one run); a
    sighting after a fetch adds nothing; a 404 met first is evidence the fetch cancels."""
    run = start(archive)
    record = article()
    archive.mark_gone(run, record["article_key"], url=record["url"], http_status=404)
    assert save(archive, run, record) == "new"
    assert save(archive, run, record) == "duplicate"
    assert save(archive, run, article(title="Another title")) == "changed"
    archive.mark_seen(run, record["article_key"], url=record["url"], http_status=304)
    archive.mark_gone(run, record["article_key"], url=record["url"], http_status=404)
    archive.finish_run(run)
    assert count(archive, Observation) == 3  # the 404, two captures
    assert count(archive, Version) == 2
    row = run_row(archive, run)
    assert (row.articles_new, row.articles_changed, row.articles_seen) == (1, 1, 0)
    assert archive.known_articles()[record["article_key"]].status == "active"


def test_a_page_back_to_older_bytes_is_stored_once(archive: Archive) -> None:
    """The writer remembers only the current raw pages at a run's start; bytes that an
    older fetch stored (an article back to its first page, a listing page back to an
    earlier content) are found when the batch is written, not stored twice."""
    first, second = article(), article(title="Retitled")
    for record in (first, second, first):
        run = archive.start_run("full", parser_version="1")
        archive.save_article(run, record, raw=raw_page(record), url=record["url"])
        archive.save_listing(run, listing(), raw=b"<html>facet</html>", url=FACET_URL)
        archive.finish_run(run, "completed")
    with archive.engine.connect() as conn:
        pages = conn.scalar(select(func.count()).select_from(RawPage))
        fetched = conn.scalars(
            select(Observation.raw_page_id)
            .where(Observation.kind == "fetched")
            .order_by(Observation.id)
        ).all()
    assert pages == 3  # the two article pages and the facet page
    assert fetched[0] == fetched[2] != fetched[1]


def test_postgresql_sessions_compile_no_jit(pg_url: str) -> None:
    """The writer's and the readers' PostgreSQL sessions run without JIT compilation and
    price random reads as reads from memory (`storage.db.POSTGRES_SESSION_OPTIONS`),
    keeping the URL's own options (the test's search_path) and the read-only one."""
    from storage.readonly import read_only_engine

    Archive.open(pg_url).close()
    writer, reader = storage_db.make_engine(pg_url), read_only_engine(pg_url)
    try:
        with writer.connect() as conn:
            assert conn.scalar(text("SHOW jit")) == "off"
            assert conn.scalar(text("SHOW random_page_cost")) == "1.1"
            assert conn.scalar(text("SHOW default_transaction_read_only")) == "off"
            schema = conn.scalar(text("SELECT current_schema()"))
        with reader.connect() as conn:
            assert conn.scalar(text("SHOW jit")) == "off"
            assert conn.scalar(text("SHOW random_page_cost")) == "1.1"
            assert conn.scalar(text("SHOW default_transaction_read_only")) == "on"
            assert conn.scalar(text("SELECT current_schema()")) == schema
        assert schema and schema != "public"
    finally:
        writer.dispose()
        reader.dispose()
