"""The archive commands, through click (in process) and the installed entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import common.record
import crawler.parsers
from storage import db as storage_db
from tests.archive_cli import as_json, cli, invoke
from tests.storage_records import article_html


def write(path: Path, page: bytes) -> str:
    path.write_bytes(page)
    return str(path)


def test_ingest_then_ask(archive_url: str, tmp_path: Path) -> None:
    one = write(tmp_path / "one.html", article_html("story-one"))
    two = write(tmp_path / "two.html", article_html("story-two", title="Story two"))
    first = as_json("ingest", one, two, "--db", archive_url)
    assert (first["run"], first["new"], first["errors"]) == (1, 2, 0)
    assert [f["result"] for f in first["files"]] == ["new", "new"]

    write(
        tmp_path / "one.html", article_html("story-one", reviewed="July 1, 2025", h00=159_000_777)
    )
    second = as_json("ingest", one, two, "--db", archive_url)
    assert (second["changed"], second["unchanged"]) == (1, 1)

    runs = as_json("runs", "--db", archive_url)
    assert [(r["id"], r["mode"], r["status"]) for r in runs] == [
        (1, "ingest", "completed"),
        (2, "ingest", "completed"),
    ]
    articles = as_json("articles", "--db", archive_url)
    assert [(a["article_key"], a["versions"], a["reviewed"]) for a in articles] == [
        ("cancerwise/story-one", 2, "2025-07-01"),
        ("cancerwise/story-two", 1, "2024-03-06"),
    ]
    assert as_json("articles", "--status", "removed", "--db", archive_url) == []

    history = as_json("history", "cancerwise/story-one", "--db", archive_url)
    assert [(v["version"], v["first_seen_run"], v["last_seen_run"]) for v in history] == [
        (1, 1, 1),
        (2, 2, 2),
    ]
    assert history[1]["urls"] == [
        "https://www.mdanderson.org/cancerwise/story-one.h00-159000777.html"
    ]
    assert set(history[0]) >= {"title", "reviewers", "body_text", "content_hash", "urls"}

    (change,) = as_json("diff", "--field", "reviewed", "--db", archive_url)
    assert change == {
        "article_key": "cancerwise/story-one",
        "field": "reviewed",
        "old": "2024-03-06",
        "new": "2025-07-01",
        "from_run": 1,
        "to_run": 2,
        "from_version": 1,
        "to_version": 2,
    }
    assert as_json("diff", "--field", "reviewed", "--from", "2", "--db", archive_url) == []
    assert as_json("tags", "--db", archive_url) == []

    readable = invoke("runs", "--db", archive_url)
    assert readable.exit_code == 0 and "ingest" in readable.output


def test_body_text_diff_is_unified_when_readable(archive_url: str, tmp_path: Path) -> None:
    page = tmp_path / "one.html"
    invoke("ingest", write(page, article_html(body="Old sentence.")), "--db", archive_url)
    invoke("ingest", write(page, article_html(body="New sentence.")), "--db", archive_url)
    result = invoke("diff", "--field", "body_text", "--db", archive_url)
    assert result.exit_code == 0
    assert "-Old sentence." in result.output and "+New sentence." in result.output
    assert "--- cancerwise/story-one (run 1)" in result.output


def test_ingest_keeps_pages_that_do_not_parse(archive_url: str, tmp_path: Path) -> None:
    junk = write(tmp_path / "junk.html", b"<html><body>no article</body></html>")
    summary = as_json("ingest", junk, "--db", archive_url)
    assert summary["errors"] == 1
    assert summary["files"][0]["result"] == "error"
    (run,) = as_json("runs", "--db", archive_url)
    assert run["errors"] == 1


def test_reparse_after_a_parser_change(
    archive_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = [
        write(tmp_path / "one.html", article_html("story-one")),
        write(tmp_path / "two.html", article_html("story-two", title="Story two")),
    ]
    as_json("ingest", *pages, "--db", archive_url)
    unchanged = as_json("reparse", "--db", archive_url)
    assert (unchanged["versions_added"], unchanged["unchanged"]) == (0, 2)

    # The parser "fix": titles lose their trailing word on one article.
    original = crawler.parsers.parse_page
    ingested_by = crawler.parsers.PARSER_VERSION

    def fixed(html: bytes | str, url: str | None = None) -> dict[str, Any]:
        record = original(html, url)
        if record["article_key"] == "cancerwise/story-two":
            record["title"] = "Story 2"
            record["content_hash"] = common.record.content_hash(record)
        return record

    monkeypatch.setattr(crawler.parsers, "parse_page", fixed)
    monkeypatch.setattr(crawler.parsers, "PARSER_VERSION", "2-test")
    summary = as_json("reparse", "--db", archive_url)
    assert (summary["versions_added"], summary["unchanged"]) == (1, 1)
    assert summary["parser_version"] == "2-test"

    history = as_json("history", "cancerwise/story-two", "--db", archive_url)
    assert [(v["version"], v["parser_version"], v["title"]) for v in history] == [
        (1, ingested_by, "Story two"),
        (2, "2-test", "Story 2"),
    ]
    assert len(as_json("history", "cancerwise/story-one", "--db", archive_url)) == 1
    runs = as_json("runs", "--db", archive_url)
    assert [(r["mode"], r["parser_version"]) for r in runs][-1] == ("reparse", "2-test")


def test_out_of_date_schema_is_refused_in_one_line(
    archive_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = storage_db.head_revision()
    assert as_json("db", "upgrade", "--db", archive_url) == {"from": None, "to": head}
    assert as_json("db", "upgrade", "--db", archive_url) == {"from": head, "to": head}
    monkeypatch.setattr(storage_db, "head_revision", lambda: "9999")
    result = CliRunner().invoke(cli(), ["runs", "--db", archive_url])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "run `cwarchive db upgrade`" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["runs"], "no archive at"),
        (["history", "cancerwise/nope"], "no article 'cancerwise/nope'"),
        (["tags", "--tag", "nope"], "no tag 'nope'"),
        (["ingest", "missing.html"], "missing.html"),
        (["ingest", "a.html", "b.html", "--url", "https://x"], "--url applies to one FILE"),
    ],
)
def test_user_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    db = tmp_path / "a.sqlite"
    if args[0] in ("history", "tags"):
        invoke("db", "upgrade", "--db", str(db))
    result = CliRunner().invoke(cli(), [*args, "--db", str(db)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr


def test_installed_entry_point(tmp_path: Path) -> None:
    db = str(tmp_path / "a.sqlite")
    page = write(tmp_path / "one.html", article_html())
    # The console script pip installed, as a user runs it (not the module by import).
    main = [str(Path(sys.executable).with_name("cwarchive"))]
    done = subprocess.run(
        [*main, "ingest", page, "--db", db, "--json"], capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout)["new"] == 1
    done = subprocess.run(
        [*main, "articles", "--json"],
        capture_output=True,
        text=True,
        check=True,
        env={"CWARCHIVE_DB": db, "PATH": "/usr/bin:/bin"},
    )
    assert [a["article_key"] for a in json.loads(done.stdout)] == ["cancerwise/story-one"]
