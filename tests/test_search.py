"""Full-text search (storage/search.py, `cwarchive search`), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, func, insert, select, text, update

from cwarchive.commands import archive as archive_commands
from cwarchive.commands import maintenance
from cwarchive.commands import search as search_commands
from storage import Archive, search
from storage import db as storage_db
from storage.models import Article, Run, Version
from tests.databases import migrate
from tests.storage_records import article, raw_page

SLEEP, SCREENING, DIET = (
    "cancerwise/sleep-and-cancer",
    "cancerwise/breast-cancer-screening",
    "cancerwise/diet-and-cancer",
)


def save(archive: Archive, run: int, record: dict[str, Any]) -> None:
    archive.save_article(run, record, raw=raw_page(record), url=record["url"])


def start(archive: Archive, mode: str = "full") -> int:
    return archive.start_run(mode, site_root="", parser_version="1")


def sleep(**fields: Any) -> dict[str, Any]:
    body = "Insomnia is common during chemotherapy. Melatonin may help some patients."
    return article(SLEEP, **{"title": "Sleep and cancer", "body_text": body, **fields})


def screening(**fields: Any) -> dict[str, Any]:
    body = (
        "Mammograms find tumors early. Screening saves lives, and regular screening "
        "is the best screening there is: ask about screening."
    )
    return article(SCREENING, **{"title": "Why mammograms matter", "body_text": body, **fields})


def diet(**fields: Any) -> dict[str, Any]:
    body = "Vegetables, fruit and whole grains. Screening is not covered here."
    return article(DIET, **{"title": "Screening your plate: diet", "body_text": body, **fields})


@pytest.fixture
def archive(archive_url: str) -> Iterator[Archive]:
    archive = Archive.open(archive_url, batch_size=2)
    run = start(archive)
    for record in (sleep(), screening(), diet()):
        save(archive, run, record)
    archive.finish_run(run, "completed")
    yield archive
    archive.close()


def find(archive: Archive, query: str, field: str = "all", limit: int = 20) -> list[str]:
    with archive.engine.connect() as conn:
        return [r["article_key"] for r in search.search(conn, query, field=field, limit=limit)]


def assert_index_complete(conn: Connection) -> None:
    """Every version is in the search index, once."""
    versions = conn.scalar(select(func.count()).select_from(Version))
    if conn.dialect.name == "sqlite":
        # Compares the index with its content table (versions); raises on a mismatch.
        conn.execute(text("INSERT INTO version_search (version_search) VALUES ('integrity-check')"))
        indexed = conn.scalar(text("SELECT count(*) FROM version_search_docsize"))
    else:
        indexed = conn.scalar(
            text("SELECT count(*) FROM version_search JOIN versions ON id = version_id")
        )
    assert indexed == versions


# -- what is found -----------------------------------------------------------------------


def test_words_match_their_stems(archive: Archive) -> None:
    assert find(archive, "insomnia") == [SLEEP]
    assert find(archive, "Screened", field="body") == [SCREENING, DIET]  # stemmed, any case
    assert find(archive, "melatonin chemotherapy") == [SLEEP]  # every word must be there
    assert find(archive, "melatonin mammograms") == []


def test_a_new_version_is_searched_and_the_old_one_is_not(archive: Archive) -> None:
    run = start(archive)
    save(
        archive,
        run,
        sleep(
            title="Sleep, fatigue and cancer",
            body_text="Insomnia is common during chemotherapy. Exercise helps some patients.",
        ),
    )
    archive.finish_run(run, "completed")
    assert find(archive, "exercise") == [SLEEP]  # the new version added it
    assert find(archive, "melatonin") == []  # the new version removed it
    assert find(archive, "fatigue", field="title") == [SLEEP]
    assert find(archive, "insomnia") == [SLEEP]  # in both: found once
    with archive.engine.connect() as conn:
        assert_index_complete(conn)


def test_an_article_pointed_back_at_an_older_version(archive: Archive) -> None:
    run = start(archive)
    save(archive, run, sleep(body_text="Exercise helps."))
    archive.finish_run(run, "completed")
    run = start(archive)
    save(archive, run, sleep())  # back to the first content: a new version, old text
    archive.finish_run(run, "completed")
    assert find(archive, "melatonin") == [SLEEP]
    assert find(archive, "exercise") == []


def test_reparse_versions_are_indexed(archive: Archive) -> None:
    fixed = {raw_page(r): r for r in (screening(), diet())}
    fixed[raw_page(sleep())] = sleep(title="Sleep well during cancer treatment")
    summary = archive.reparse(lambda raw, url: fixed[raw], parser_version="2")
    assert summary["versions_added"] == 1
    assert find(archive, "treatment", field="title") == [SLEEP]
    with archive.engine.connect() as conn:
        assert_index_complete(conn)


def test_fields(archive: Archive) -> None:
    assert find(archive, "screening", field="title") == [DIET]
    assert find(archive, "screening", field="body") == [SCREENING, DIET]
    assert find(archive, "mammograms", field="title") == [SCREENING]
    assert find(archive, "plate", field="body") == []
    with pytest.raises(ValueError, match="unknown field"):
        find(archive, "screening", field="authors")


def test_a_title_match_ranks_first(archive: Archive) -> None:
    # Four mentions in screening's body, one in diet's body and one in its title.
    with archive.engine.connect() as conn:
        results = search.search(conn, "screening", field="all")
    assert [r["article_key"] for r in results] == [DIET, SCREENING]
    assert results[0]["rank"] > results[1]["rank"]
    body_only = find(archive, "screening", field="body")
    assert body_only[0] == SCREENING  # by the body alone, the article that says it most


def test_limit(archive: Archive) -> None:
    assert find(archive, "screening", limit=1) == [DIET]
    with pytest.raises(ValueError, match="limit"):
        find(archive, "screening", limit=0)


def test_result_shape_and_snippet(archive: Archive) -> None:
    with archive.engine.connect() as conn:
        (result,) = search.search(conn, "melatonin", field="body")
        (title,) = search.search(conn, "mammograms", field="title")
    assert set(result) == {"article_key", "title", "url", "snippet", "rank"}
    assert result["article_key"] == SLEEP
    assert result["title"] == "Sleep and cancer"
    assert result["url"] == sleep()["url"]
    assert "«Melatonin»" in result["snippet"]
    assert isinstance(result["rank"], float) and result["rank"] > 0
    assert title["snippet"] == "Why «mammograms» matter"


HOSTILE = [
    '"',
    '""',
    "AND (",
    "OR",
    "NOT",
    "NEAR(",
    "*",
    "-",
    "title:",
    "{title} : x",
    "'; DROP TABLE versions; --",
    "\\",
    "^melatonin",
    "melatonin*",
    '"melatonin',
    "(melatonin OR",
    "mela\x00tonin",
    "!!! ??? ...",
    "",
    "   ",
    "😴 sleep",
    "a" * 5000,
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_any_text_is_a_query(archive: Archive, query: str) -> None:
    for field in search.FIELDS:
        found = find(archive, query, field=field)
        assert isinstance(found, list)
    with archive.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Version)) == 3


def test_syntax_characters_are_read_as_text(archive: Archive) -> None:
    for query in (
        '"melatonin',
        "melatonin*",
        "(melatonin)",
        "melatonin:",
        "-melatonin",
        "^melatonin",
    ):
        assert find(archive, query) == [SLEEP], query
    assert find(archive, "melatonin OR mammograms") == []  # OR is no operator
    assert find(archive, "  melatonin  ") == [SLEEP]


def test_the_index_is_written_with_the_versions(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch whose index rows fail leaves no version behind: one transaction."""

    def broken(conn: Connection, version_ids: Any) -> None:
        list(version_ids)
        raise RuntimeError("index write failed")

    monkeypatch.setattr(search, "index_versions", broken)
    run = start(archive)
    save(archive, run, sleep(body_text="Exercise helps."))
    with pytest.raises(RuntimeError, match="index write failed"):
        archive.flush()
    with archive.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Version)) == 3
        assert_index_complete(conn)


# -- the migration fills the index of an older archive -----------------------------------


def test_upgrade_indexes_an_archive_made_before_search(archive_url: str) -> None:
    engine = storage_db.make_engine(archive_url)
    storage_db.upgrade(engine, "0002")
    # Rows as a cwarchive of schema 0002 wrote them (no search index then).
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        run_id = conn.scalar(
            insert(Run)
            .values(started_at=now, site_root="", mode="full", status="completed")
            .values(parser_version="1", pages_fetched=1)
            .values({name: 0 for name in _RUN_COUNTERS})
            .returning(Run.id)
        )
        for record in (sleep(), screening()):
            article_id = conn.scalar(
                insert(Article)
                .values(article_key=record["article_key"], status="active")
                .values(first_run_id=run_id, last_url=record["url"])
                .returning(Article.id)
            )
            version_id = conn.scalar(
                insert(Version)
                .values(_version_row(record))
                .values(article_id=article_id, number=1, first_run_id=run_id)
                .returning(Version.id)
            )
            conn.execute(
                update(Article)
                .where(Article.id == article_id)
                .values(current_version_id=version_id)
            )
    engine.dispose()

    result = CliRunner().invoke(
        _cli(), ["db", "upgrade", "--db", archive_url, "--json"], catch_exceptions=False
    )
    assert json.loads(result.stdout) == {"from": "0002", "to": storage_db.head_revision()}
    archive = Archive.open(archive_url, create=False)
    try:
        assert find(archive, "melatonin") == [SLEEP]
        assert find(archive, "mammograms", field="title") == [SCREENING]
        with archive.engine.connect() as conn:
            assert_index_complete(conn)
        # And the writer keeps it in step from there on.
        run = start(archive)
        save(archive, run, sleep(body_text="Exercise helps."))
        archive.finish_run(run, "completed")
        assert find(archive, "exercise") == [SLEEP]
        assert find(archive, "melatonin") == []
    finally:
        archive.close()


_RUN_COUNTERS = (
    "articles_new",
    "articles_changed",
    "articles_unchanged",
    "articles_seen",
    "articles_removed",
    "articles_returned",
    "listings",
    "errors",
)


def _version_row(record: dict[str, Any]) -> dict[str, Any]:
    row = {
        name: record[name]
        for name in (
            "content_hash",
            "canonical_url",
            "title",
            "seo_title",
            "description",
            "authors",
            "read_minutes",
            "reviewers",
            "filed_month",
            "key_takeaways",
            "headings",
            "body_text",
            "word_count",
        )
    }
    return {**row, "parser_version": "1", "published": dt.date(2024, 3, 5), "reviewed": None}


def test_downgrade_drops_the_index(archive: Archive) -> None:
    migrate(archive.engine, "0002")
    with archive.engine.connect() as conn:
        tables = set(
            conn.scalars(
                text("SELECT name FROM sqlite_master WHERE type = 'table'")
                if conn.dialect.name == "sqlite"
                else text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
        )
    assert not {name for name in tables if name.startswith("version_search")}
    assert storage_db.upgrade(archive.engine)[1] == storage_db.head_revision()
    assert find(archive, "melatonin") == [SLEEP]


# -- the command ---------------------------------------------------------------------------


def _cli() -> click.Group:
    group = click.Group()
    archive_commands.register(group)
    maintenance.register(group)
    search_commands.register(group)
    return group


def invoke(*args: str) -> Any:
    return CliRunner().invoke(_cli(), list(args), catch_exceptions=False)


def test_command_json(archive: Archive, archive_url: str) -> None:
    result = invoke("search", "screening", "--db", archive_url, "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)  # exactly one JSON document
    assert [r["article_key"] for r in found] == [DIET, SCREENING]
    for r in found:
        assert list(r) == ["article_key", "title", "url", "snippet", "rank"]
        assert isinstance(r["rank"], float)
        assert "«" in r["snippet"]
    titles = json.loads(
        invoke(
            "search", "screening", "--field", "title", "--limit", "5", "--db", archive_url, "--json"
        ).stdout
    )
    assert [r["article_key"] for r in titles] == [DIET]
    assert json.loads(invoke("search", '"', "--db", archive_url, "--json").stdout) == []


def test_command_table(archive: Archive, archive_url: str) -> None:
    result = invoke("search", "melatonin [bold]", "--db", archive_url)
    assert result.exit_code == 0, result.output
    assert "0 articles matching" in result.stdout
    result = invoke("search", "melatonin", "--db", archive_url)
    assert SLEEP in result.stdout
    assert "Melatonin" in result.stdout and "«" not in result.stdout


def test_command_errors(tmp_path: Any, archive_url: str) -> None:
    missing = invoke("search", "x", "--db", str(tmp_path / "none.sqlite"))
    assert missing.exit_code == 2
    assert "no archive" in missing.stderr
    bad = CliRunner().invoke(_cli(), ["search", "x", "--limit", "0", "--db", archive_url])
    assert bad.exit_code == 2


def test_command_table_ranks_and_relevance(archive: Archive, archive_url: str) -> None:
    """The table numbers the hits and shows each one's share of the best score; the
    JSON keeps the raw scores (tiny bm25 values on a small archive)."""
    found = json.loads(invoke("search", "screening", "--db", archive_url, "--json").stdout)
    rows = [
        line.split("│")[1:3]
        for line in invoke("search", "screening", "--db", archive_url).stdout.splitlines()
        if line.startswith("│") and line.split("│")[1].strip()
    ]
    expected = [search_commands.relevance(r["rank"], found[0]["rank"]) for r in found]
    assert [(place.strip(), share.strip()) for place, share in rows] == [
        (str(place), share) for place, share in enumerate(expected, start=1)
    ]
    assert expected[0] == "100%"


@pytest.mark.parametrize(
    ("score", "best", "shown"),
    [(1.89e-06, 1.89e-06, "100%"), (1.2e-06, 1.89e-06, "63%"), (1e-9, 1.0, "<1%"), (0, 0, "-")],
)
def test_relevance_is_a_share_of_the_best_hit(score: float, best: float, shown: str) -> None:
    assert search_commands.relevance(score, best) == shown
