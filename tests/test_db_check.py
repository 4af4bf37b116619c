"""`cwarchive db check`: sound archives built by the real writer pass, damage made
behind the archive's back is reported by name, and the check never writes.

Sound archives come from real parts: the demo crawl (SQLite), `ingest` of the fixture
pages in several runs with a changed page, `reparse` runs, and the `Archive` API for
removals, returns, an interrupted and a killed run. Damage is plain SQL with foreign
keys off (SQLite) or their triggers off (PostgreSQL `session_replication_role`).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import zstandard
from sqlalchemy import create_engine, insert, select, text

import storage
from common.record import content_hash
from crawler.parsers import PageError, parse_page
from storage import Archive
from storage import db as storage_db
from storage.check import KINDS, verify_archive
from storage.check import version_record as rebuilt_record
from storage.models import RUN_COUNTERS, Base, Run, Version
from tests.archive_cli import invoke
from tests.storage_records import article_html

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "fixtures" / "pages"
CYTOKINE = "cancerwise/what-is-a-cytokine-storm"


def check(db_url: str, *options: str) -> tuple[int, list[dict[str, Any]]]:
    """`db check --json`: exit status and the problems (exactly one JSON list)."""
    result = invoke("db", "check", "--db", db_url, "--json", *options)
    assert result.exit_code in (0, 1), result.output
    problems = json.loads(result.stdout)
    assert isinstance(problems, list)
    return result.exit_code, problems


def kinds(problems: list[dict[str, Any]]) -> set[str]:
    return {p["kind"] for p in problems}


def sql(db_url: str, statement: str, **params: Any) -> list[Any]:
    """Run `statement` behind the archive's back: no foreign key stops it."""
    engine = create_engine(storage_db.normalize_url(db_url))  # no pragmas: keys off
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            result = conn.execute(text(statement), params)
            return result.all() if result.returns_rows else []
    finally:
        engine.dispose()


def one(db_url: str, statement: str, **params: Any) -> Any:
    (row,) = sql(db_url, statement, **params)
    return row[0] if len(row) == 1 else row


def dump(db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for a before/after comparison."""
    engine = create_engine(storage_db.normalize_url(db_url))
    try:
        with engine.connect() as conn:
            tables = [*Base.metadata.sorted_tables]
            rows = {t.name: sorted(map(repr, conn.execute(select(t)))) for t in tables}
            rows["alembic_version"] = conn.execute(
                text("SELECT version_num FROM alembic_version")
            ).all()
            return rows
    finally:
        engine.dispose()


def ingest(db_url: str, *files: Path | str) -> dict[str, Any]:
    result = invoke("ingest", *map(str, files), "--db", db_url, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def ingested(archive_url: str, tmp_path: Path) -> str:
    return build_ingested(archive_url, tmp_path)


def build_ingested(archive_url: str, tmp_path: Path) -> str:
    """Four runs through the CLI: every fixture page, a changed page, reparse, a re-fetch.

    The fixture pages (and their block-markup twins) hold articles with two reviewers,
    none, an unnamed one, two authors, no author; one article in several versions from
    one run; pages of one content (the redesign, the twins); listings; pages that do not
    parse.
    """
    changed = tmp_path / "cytokine-changed.html"
    original = (PAGES / "cytokine-storm.html").read_bytes()
    changed.write_bytes(original.replace(b"Family survivors type", b"Family survivors kind"))
    assert changed.read_bytes() != original
    first = ingest(archive_url, *sorted(PAGES.glob("*.html")))
    # The block-markup twins read as their originals: unchanged. The `-eds-authored`
    # pages carry no URL (an authored page has no <head> yet): errors without --url.
    assert (first["new"], first["changed"], first["unchanged"]) == (9, 5, 32)
    assert (first["listings"], first["errors"]) == (8, 6 + 15)
    second = ingest(archive_url, changed, PAGES / "zebrafish-no-reviewer.html")
    assert (second["changed"], second["unchanged"]) == (1, 1)
    result = invoke("reparse", "--db", archive_url, "--json")
    assert result.exit_code == 0, result.output
    # After the reparse: the current version is again the latest fetch's.
    fourth = ingest(archive_url, changed, PAGES / "melanoma-seed-unnamed-reviewer.html")
    assert fourth["unchanged"] == 2
    return archive_url


# -- sound archives pass ----------------------------------------------------------------


def test_an_ingested_archive_is_sound_and_left_untouched(ingested: str, tmp_path: Path) -> None:
    sqlite_file = storage_db.sqlite_file(ingested)
    before_bytes = Path(sqlite_file).read_bytes() if sqlite_file else None
    before = dump(ingested)
    assert check(ingested) == (0, [])
    assert check(ingested, "--deep") == (0, [])
    readable = invoke("db", "check", "--db", ingested)
    assert (readable.exit_code, readable.stdout) == (0, "archive sound, 0 warnings\n")
    assert dump(ingested) == before
    if sqlite_file:
        assert Path(sqlite_file).read_bytes() == before_bytes


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's two crawls (all new, then changed, seen, removed), then a reparse:
    SQLite only."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    subprocess.run(
        [sys.executable, "-m", "cwarchive", "demo", "--db", str(path), "--json"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert invoke("reparse", "--db", str(path)).exit_code == 0
    return path


def test_a_demo_crawl_archive_is_sound_and_left_untouched(demo_archive: Path) -> None:
    url = f"sqlite:///{demo_archive}"
    runs = sql(url, "SELECT mode, articles_new, articles_seen FROM runs ORDER BY id")
    assert [r[0] for r in runs] == ["incremental", "incremental", "reparse"]
    assert runs[0][1] > 0 and 0 < runs[1][2] < runs[0][1]
    before_bytes, before = demo_archive.read_bytes(), dump(url)
    assert check(str(demo_archive)) == (0, [])
    assert check(str(demo_archive), "--deep") == (0, [])
    assert demo_archive.read_bytes() == before_bytes
    assert dump(url) == before


def _retitled(raw: bytes, url: str) -> dict[str, Any]:
    record = parse_page(raw, url) | {"title": "Fixed"}
    return record | {"content_hash": content_hash(record)}


def _save(archive: Archive, run: int, page: bytes) -> str:
    record = parse_page(page, None)
    return archive.save_article(run, record, raw=page, url=record["url"])


def test_removals_returns_reparses_and_a_killed_run_are_sound(archive_url: str) -> None:
    one, two, three = (article_html(s, title=s.title()) for s in ("one", "two", "three"))
    one_reviewed = article_html("one", title="One", reviewed="July 1, 2025")
    archive = Archive.open(archive_url, batch_size=2)
    try:
        run = archive.start_run("full")
        for page in (one, two, three):
            _save(archive, run, page)
        archive.finish_run(run)
        run = archive.start_run("full")
        assert _save(archive, run, one_reviewed) == "changed"
        archive.mark_gone(run, "cancerwise/two", url="https://x/two", http_status=404)
        archive.mark_seen(run, "cancerwise/three", url="https://x/three", http_status=304)
        archive.finish_run(run)  # two removed
        run = archive.start_run("incremental")
        archive.mark_gone(run, "cancerwise/three", url="https://x/three", http_status=410)
        assert _save(archive, run, two) == "unchanged"  # two returns
        archive.finish_run(run, "interrupted")  # no removal: three stays
        # A parser that reads every page differently: each page gets a version, the
        # latest pages' become current, the older page's of `one` does not.
        archive.reparse(_retitled, "2", page_errors=(PageError,))
        # The current parser again: the latest pages read as older versions, which
        # become current again with no row recording it.
        archive.reparse(parse_page, "1", page_errors=(PageError,))
    finally:
        archive.close()
    counters = sql(
        archive_url,
        "SELECT mode, articles_changed, articles_removed, articles_returned FROM runs ORDER BY id",
    )
    assert counters == [
        ("full", 0, 0, 0),
        ("full", 1, 1, 0),
        ("incremental", 0, 0, 1),
        ("reparse", 4, 0, 0),
        ("reparse", 0, 0, 0),
    ]
    titles = sql(
        archive_url,
        "SELECT v.title FROM articles a JOIN versions v ON v.id = a.current_version_id "
        "ORDER BY a.article_key",
    )
    assert [t for (t,) in titles] == ["One", "Three", "Two"]
    assert check(archive_url) == (0, [])
    assert check(archive_url, "--deep") == (0, [])

    # A killed writer leaves its run `running`: a warning, exit 0.
    archive = Archive.open(archive_url)
    killed = archive.start_run("incremental")
    _save(archive, killed, one_reviewed)
    archive.close()  # the batch is written, the run never finished
    status, problems = check(archive_url)
    assert (status, [(p["kind"], p["severity"], p["ids"]) for p in problems]) == (
        0,
        [("running_run", "warning", {"runs.id": killed})],
    )
    readable = invoke("db", "check", "--db", archive_url)
    assert readable.exit_code == 0
    assert readable.stdout.startswith(f"warning: running_run runs.id={killed}: ")
    assert readable.stdout.endswith("archive sound, 1 warning\n")
    # The next run marks it interrupted: sound again.
    with Archive.open(archive_url) as archive:
        archive.finish_run(archive.start_run("incremental"))
    assert check(archive_url) == (0, [])

    # An article's status against its observations; a removal counter.
    sql(archive_url, "UPDATE articles SET status = 'removed' WHERE article_key = 'cancerwise/two'")
    sql(archive_url, "UPDATE runs SET articles_removed = 0 WHERE id = 2")
    status, problems = check(archive_url)
    assert status == 1
    assert kinds(problems) == {"article_status", "run_counters"}
    (counter,) = (p for p in problems if p["kind"] == "run_counters")
    assert counter["ids"] == {"runs.id": 2}
    assert "articles_removed = 0" in counter["message"]


# -- damage is reported by name ---------------------------------------------------------


def _cytokine(db_url: str) -> tuple[int, int, int]:
    """The changed cytokine article: (article id, current version id, its raw page id)."""
    return one(
        db_url,
        "SELECT a.id, a.current_version_id, o.raw_page_id FROM articles a "
        "JOIN observations o ON o.version_id = a.current_version_id AND o.kind = 'fetched' "
        "WHERE a.article_key = :key ORDER BY o.id DESC LIMIT 1",
        key=CYTOKINE,
    )


def flip_page_byte(db_url: str) -> dict[str, int]:
    """One byte of the page itself changed (recompressed): the hash no longer matches."""
    _, _, raw_id = _cytokine(db_url)
    data = one(db_url, "SELECT data FROM raw_pages WHERE id = :id", id=raw_id)
    page = bytearray(zstandard.ZstdDecompressor().decompress(bytes(data)))
    page[len(page) // 2] ^= 0x20
    sql(
        db_url,
        "UPDATE raw_pages SET data = :data WHERE id = :id",
        data=zstandard.ZstdCompressor().compress(bytes(page)),
        id=raw_id,
    )
    return {"raw_pages.id": raw_id}


def flip_stored_byte(db_url: str) -> dict[str, int]:
    """One byte of the compressed data flipped: it fails to decompress, or to hash."""
    _, _, raw_id = _cytokine(db_url)
    data = bytearray(one(db_url, "SELECT data FROM raw_pages WHERE id = :id", id=raw_id))
    data[len(data) // 2] ^= 0x01
    sql(db_url, "UPDATE raw_pages SET data = :data WHERE id = :id", data=bytes(data), id=raw_id)
    return {"raw_pages.id": raw_id}


def edit_title(db_url: str) -> dict[str, int]:
    _, version_id, _ = _cytokine(db_url)
    sql(db_url, "UPDATE versions SET title = title || '!' WHERE id = :id", id=version_id)
    return {"versions.id": version_id}


def delete_raw_page(db_url: str) -> dict[str, int]:
    _, _, raw_id = _cytokine(db_url)
    sql(db_url, "DELETE FROM raw_pages WHERE id = :id", id=raw_id)
    return {"observations.raw_page_id": raw_id}


def delete_version(db_url: str) -> dict[str, int]:
    _, version_id, _ = _cytokine(db_url)
    sql(db_url, "DELETE FROM version_reviewers WHERE version_id = :id", id=version_id)
    sql(db_url, "DELETE FROM versions WHERE id = :id", id=version_id)
    return {"observations.version_id": version_id}


def number_gap(db_url: str) -> dict[str, int]:
    article_id, version_id, _ = _cytokine(db_url)
    sql(db_url, "UPDATE versions SET number = number + 1 WHERE id = :id", id=version_id)
    return {"articles.id": article_id}


def wrong_counter(db_url: str) -> dict[str, int]:
    sql(db_url, "UPDATE runs SET articles_new = articles_new + 1 WHERE id = 1")
    return {"runs.id": 1}


def older_current(db_url: str) -> dict[str, int]:
    """The current version moved back to version 1, though the last fetch read version 2."""
    article_id, _, _ = _cytokine(db_url)
    sql(
        db_url,
        "UPDATE articles SET current_version_id = "
        "(SELECT id FROM versions WHERE article_id = :id AND number = 1) WHERE id = :id",
        id=article_id,
    )
    return {"articles.id": article_id}


def other_articles_version(db_url: str) -> dict[str, int]:
    article_id, _, _ = _cytokine(db_url)
    observation = one(
        db_url,
        "SELECT min(id) FROM observations WHERE article_id = :id AND kind = 'fetched'",
        id=article_id,
    )
    sql(
        db_url,
        "UPDATE observations SET version_id = "
        "(SELECT min(id) FROM versions WHERE article_id <> :a) WHERE id = :o",
        a=article_id,
        o=observation,
    )
    return {"observations.id": observation}


def drop_reviewer_row(db_url: str) -> dict[str, int]:
    version_id = one(db_url, "SELECT min(version_id) FROM version_reviewers WHERE position = 1")
    sql(
        db_url,
        "DELETE FROM version_reviewers WHERE version_id = :id AND position = 1",
        id=version_id,
    )
    return {"versions.id": version_id}


def overlapping_sightings(db_url: str) -> dict[str, int]:
    """Two ranges of sightings of one article that both hold for run 2 (their counts in
    the runs' counters are off too)."""
    article_id, version_id, _ = _cytokine(db_url)
    url = one(db_url, "SELECT last_url FROM articles WHERE id = :id", id=article_id)
    for first in (1, 2):
        sql(
            db_url,
            "INSERT INTO observations (run_id, last_run_id, article_id, kind, version_id, url, "
            "http_status, observed_at) VALUES (:first, 2, :a, 'seen', :v, :url, 304, "
            "'2026-01-01 00:00:00')",
            first=first,
            a=article_id,
            v=version_id,
            url=url,
        )
    later = one(
        db_url,
        "SELECT max(id) FROM observations WHERE article_id = :id AND kind = 'seen'",
        id=article_id,
    )
    return {"observations.id": later}


def lost_listing_head(db_url: str) -> dict[str, str]:
    url = one(db_url, "SELECT min(url) FROM listing_heads")
    sql(db_url, "DELETE FROM listing_heads WHERE url = :url", url=url)
    return {"listing_pages.url": url}


def edit_listing_links(db_url: str) -> dict[str, int]:
    """A stored list of links whose sha256 is no longer its content's."""
    links_id = one(db_url, "SELECT min(id) FROM listing_links")
    sql(
        db_url,
        "UPDATE listing_links SET sha256 = :sha WHERE id = :id",
        sha="0" * 64,
        id=links_id,
    )
    return {"listing_links.id": links_id}


def delete_listing_links(db_url: str) -> dict[str, int]:
    """A listing page's row pointing at a list of links that is not there."""
    links_id = one(db_url, "SELECT max(links_id) FROM listing_pages")
    sql(db_url, "DELETE FROM listing_links WHERE id = :id", id=links_id)
    return {"listing_pages.links_id": links_id}


# (damage, the kinds it must be reported as, whether those are all that is reported)
DAMAGE: list[tuple[Callable[[str], dict[str, Any]], set[str], bool]] = [
    (flip_page_byte, {"raw_page_hash"}, True),
    (flip_stored_byte, {"raw_page_data", "raw_page_hash", "raw_page_size"}, False),
    (edit_title, {"version_hash"}, True),
    (delete_raw_page, {"dangling_reference"}, True),
    (delete_version, {"dangling_reference"}, False),
    (number_gap, {"version_numbers"}, True),
    (wrong_counter, {"run_counters"}, True),
    (older_current, {"current_version"}, True),
    (other_articles_version, {"wrong_article"}, False),
    (drop_reviewer_row, {"version_reviewers"}, True),
    (overlapping_sightings, {"overlapping_ranges"}, False),
    (lost_listing_head, {"listing_head"}, True),
    (edit_listing_links, {"listing_links_hash"}, True),
    (delete_listing_links, {"dangling_reference"}, False),
]


@pytest.mark.parametrize(
    ("damage", "expected", "only"), DAMAGE, ids=[d.__name__ for d, _, _ in DAMAGE]
)
def test_damage_is_reported_by_name(
    ingested: str, damage: Callable[[str], dict[str, Any]], expected: set[str], only: bool
) -> None:
    ids = damage(ingested)
    before = dump(ingested)
    status, problems = check(ingested)
    assert status == 1
    found = [p for p in problems if p["kind"] in expected]
    assert found, problems
    assert all(p["severity"] == "error" for p in problems)
    assert any(ids.items() <= p["ids"].items() for p in found), problems
    if only:
        assert kinds(problems) <= expected, problems
    lines = invoke("db", "check", "--db", ingested).stdout.splitlines()
    assert len(lines) == len(problems) + 1  # one line per problem, then the verdict
    assert lines[-1].startswith(f"{sum(p['severity'] == 'error' for p in problems)} problem")
    assert dump(ingested) == before


def test_sqlite_damage_below_the_rows(tmp_path: Path) -> None:
    """SQLite's own checks: an index that no longer matches its table, and a declared
    foreign key the models do not know (only `PRAGMA foreign_key_check` sees it)."""
    url = build_ingested(f"sqlite:///{tmp_path / 'archive.sqlite'}", tmp_path)
    sql(url, "CREATE TABLE notes (id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs (id))")
    sql(url, "INSERT INTO notes (id, run_id) VALUES (1, 99)")
    with closing(sqlite3.connect(tmp_path / "archive.sqlite")) as conn, conn:
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = 'CREATE INDEX ix_runs_status ON runs (mode)' "
            "WHERE name = 'ix_runs_status'"
        )
    status, problems = check(url)
    assert status == 1
    assert kinds(problems) == {"integrity", "foreign_keys"}
    assert any("ix_runs_status" in p["message"] for p in problems if p["kind"] == "integrity")
    (key,) = (p for p in problems if p["kind"] == "foreign_keys")
    assert key["ids"] == {"notes.rowid": 1}


def test_every_kind_is_documented() -> None:
    doc = (ROOT / "docs" / "storage.md").read_text("utf-8")
    section = doc.split("## Verifying an archive", 1)[1].split("\n## ", 1)[0]
    for kind in KINDS:
        assert f"`{kind}`" in section, kind


# -- --deep: the current parser against the stored pages ---------------------------------


def test_deep_reports_a_consistently_edited_version_as_drift(ingested: str) -> None:
    """Title and hash edited together: no hash error, but the page no longer reads so."""
    _, version_id, raw_id = _cytokine(ingested)
    engine = create_engine(storage_db.normalize_url(ingested))
    with engine.connect() as conn:
        row = conn.execute(select(Version).where(Version.id == version_id)).one()
    engine.dispose()
    record = rebuilt_record(row, CYTOKINE) | {"title": "Edited"}
    sql(
        ingested,
        "UPDATE versions SET title = 'Edited', content_hash = :h WHERE id = :id",
        h=content_hash(record),
        id=version_id,
    )
    assert check(ingested) == (0, [])
    status, problems = check(ingested, "--deep")
    assert status == 0  # drift is a warning
    assert {(p["kind"], p["severity"]) for p in problems} == {("parser_drift", "warning")}
    assert any(
        p["ids"].get("raw_pages.id") == raw_id
        and CYTOKINE in p["message"]
        and p["message"].endswith(": title")
        for p in problems
    ), problems


def test_deep_reports_what_a_different_parser_reads(ingested: str) -> None:
    def drifted(raw: bytes, url: str) -> dict[str, Any]:
        record = parse_page(raw, url)
        if record.get("article_key") == CYTOKINE:
            return {**record, "headings": ["New heading"]}
        if "melanoma" in str(record.get("article_key")):
            raise PageError("no title")
        return record

    problems = verify_archive(ingested, parse=drifted, page_errors=(PageError,))
    assert {p.kind for p in problems} == {"parser_drift"}
    assert all(p.severity == "warning" for p in problems)
    messages = [p.message for p in problems]
    assert any(CYTOKINE in m and m.endswith(": headings") for m in messages), messages
    assert any("melanoma" in m and "no longer parses: no title" in m for m in messages)
    assert verify_archive(ingested) == []  # without a parser, nothing to compare


# -- read-only, and archives that cannot be checked -----------------------------------


@pytest.mark.parametrize("mode", ["snapshot", "readonly"])
def test_a_write_through_a_read_only_opening_fails(ingested: str, mode: str) -> None:
    with storage.open(ingested, mode=mode) as reader, reader.connect() as conn:
        with pytest.raises(Exception) as error:
            conn.execute(
                insert(Run).values(
                    started_at=dt.datetime.now(dt.UTC),
                    site_root="",
                    mode="full",
                    status="running",
                    parser_version="1",
                    **dict.fromkeys(RUN_COUNTERS, 0),
                    pages_fetched=0,
                    articles_removed=0,
                )
            )
        assert "read" in str(error.value).lower()  # "readonly database" / "read-only transaction"


def test_a_missing_archive_is_an_error_line_and_stays_missing(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite"
    result = invoke("db", "check", "--db", str(missing))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no archive at ")
    assert not missing.exists()


def test_a_bad_url_is_an_error_line() -> None:
    result = invoke("db", "check", "--db", "nosuchdriver://x/y")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot check the archive nosuchdriver://x/y: ")


def test_a_file_that_is_no_database_is_an_error_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, " * 1000)
    result = invoke("db", "check", "--db", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot open the archive {path}: ")
    assert "not a database" in result.stderr


def test_a_schema_behind_the_code_is_an_error_line(archive_url: str) -> None:
    sql(archive_url, "CREATE TABLE something (x INTEGER)")  # tables, no alembic revision
    result = invoke("db", "check", "--db", archive_url)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: the archive schema is at an unknown revision")
    assert "cwarchive db upgrade" in result.stderr


def test_problem_lines_and_json() -> None:
    from storage.check import Problem

    problem = Problem("raw_page_hash", "error", "bytes hash to x", (("raw_pages.id", 3),))
    assert problem.line() == "raw_page_hash raw_pages.id=3: bytes hash to x"
    assert problem.as_dict() == {
        "kind": "raw_page_hash",
        "severity": "error",
        "message": "bytes hash to x",
        "ids": {"raw_pages.id": 3},
    }
    warning = Problem("running_run", "warning", "still running", (("runs.id", 2),))
    assert warning.line() == "warning: running_run runs.id=2: still running"


def test_versions_of_an_earlier_parser_are_checked_by_its_hash_rule(ingested: str) -> None:
    """Parser 1 hashed `filed_month`; its versions are sound by that rule, not damage."""
    rows = sql(
        ingested,
        "SELECT v.id, a.article_key FROM versions v JOIN articles a ON a.id = v.article_id",
    )
    engine = create_engine(storage_db.normalize_url(ingested))
    with engine.begin() as conn:
        for version_id, key in rows:
            row = conn.execute(select(Version).where(Version.id == version_id)).one()
            record = rebuilt_record(row, key)
            record["filed_month"] = row.filed_month  # what parser 1 counted as content
            conn.execute(
                Version.__table__.update()
                .where(Version.__table__.c.id == version_id)
                .values(parser_version="1", content_hash=content_hash(record, "1"))
            )
    engine.dispose()
    status, problems = check(ingested)
    assert (status, kinds(problems)) == (0, set()), problems
    # By parser 1's rule, filed_month is content: editing it is damage.
    sql(ingested, "UPDATE versions SET filed_month = '1999-01' WHERE id = :id", id=rows[0][0])
    status, problems = check(ingested)
    assert status == 1 and "version_hash" in kinds(problems)
