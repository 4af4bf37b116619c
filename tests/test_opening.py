"""One way into storage (`storage.open`): readers never create, migrate or write."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

import storage
from cwarchive.cli import main
from storage import db as storage_db
from storage.opening import NothingKnown, read_known

# Every command that only reads the archive, with what it needs besides `--db`.
READ_COMMANDS = [
    ("runs",),
    ("articles",),
    ("history", "cancerwise/x"),
    ("diff", "--field", "title"),
    ("tags",),
    ("search", "cancer"),
    ("changes",),
    ("query", "SELECT 1"),
    ("export", "--what", "runs", "--format", "csv", "--out", "-"),
    ("db", "check"),
]


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stderr


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0])
def test_a_reader_on_a_missing_path_creates_no_file(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    missing = tmp_path / "missing.sqlite"
    code, stderr = invoke(*command, "--db", str(missing))
    assert code == 2, stderr
    assert stderr.startswith("error: no archive at "), stderr
    assert "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []


def old_archive(path: Path) -> str:
    engine = storage_db.make_engine(str(path))
    try:
        storage_db.upgrade(engine, "0004")
    finally:
        engine.dispose()
    return str(path)


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0])
def test_a_reader_on_an_old_schema_says_to_upgrade(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    archive = old_archive(tmp_path / "old.sqlite")
    code, stderr = invoke(*command, "--db", archive)
    assert code == 2, stderr
    assert stderr.startswith("error: the archive schema is at 0004"), stderr
    assert "run `cwarchive db upgrade`" in stderr
    engine = storage_db.make_engine(archive)
    try:
        assert storage_db.current_revision(engine) == "0004"  # not migrated by a reader
    finally:
        engine.dispose()


@pytest.mark.parametrize("mode", storage.opening.READ_MODES)
def test_readers_refuse_what_they_cannot_read(tmp_path: Path, mode: str) -> None:
    with pytest.raises(storage.NoArchive):
        storage.open(str(tmp_path / "missing.sqlite"), mode=mode)
    with pytest.raises(storage.SchemaOutOfDate, match="run `cwarchive db upgrade`"):
        storage.open(old_archive(tmp_path / "old.sqlite"), mode=mode)
    # Nothing but the old archive (and SQLite's WAL companions a reader needs to read it).
    assert {p.name for p in tmp_path.iterdir()} <= {
        "old.sqlite",
        "old.sqlite-wal",
        "old.sqlite-shm",
    }


@pytest.mark.parametrize("mode", storage.opening.READ_MODES)
def test_a_write_through_a_reader_fails(tmp_path: Path, mode: str) -> None:
    url = str(tmp_path / "a.sqlite")
    storage.open(url, mode="write").close()
    with storage.open(url, mode=mode) as reader, reader.connect() as conn:
        with pytest.raises(Exception, match="readonly|read-only"):
            conn.execute(text("DELETE FROM runs"))
        assert reader.known_articles() == {}


def test_the_write_modes_open_the_writers(tmp_path: Path) -> None:
    url = str(tmp_path / "a.sqlite")
    with storage.open(url, mode="write") as archive:
        assert type(archive) is storage.Archive
    with storage.open(url, mode="shared") as shared:
        assert hasattr(shared, "save_article")
    with pytest.raises(ValueError, match="no storage mode 'append'"):
        storage.open(url, mode="append")


def test_the_spider_knows_nothing_of_an_archive_not_yet_created(tmp_path: Path) -> None:
    known = read_known(str(tmp_path / "new.sqlite"))
    assert isinstance(known, NothingKnown)
    assert known.known_articles() == {} and known.known_listings("1") == {}
    assert list(tmp_path.iterdir()) == []
