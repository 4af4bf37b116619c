"""`cwarchive changes` (storage/changes.py, cwarchive/digest.py), on SQLite and PostgreSQL.

One archive with a change of every kind the feed reports, run by run:

run 1 (completed): four articles, first versions
run 2 (completed): story-one re-reviewed, by one more reviewer
run 3 (completed): story-two retitled (a title XML and Markdown must escape),
                   story-three's text edited, story-four gone (404): removed
run 4 (interrupted): story-one retitled
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from cwarchive import digest
from cwarchive.commands import changes as changes_commands
from storage import Archive
from storage.changes import ChangeSet, RunRange, changes
from tests.storage_records import article, raw_page

ATOM = "{http://www.w3.org/2005/Atom}"
T0 = dt.datetime(2026, 8, 19, 12, 0, tzinfo=dt.UTC)
ONE, TWO, THREE, FOUR = (f"cancerwise/story-{n}" for n in ("one", "two", "three", "four"))
BEVERS = {"name": "Therese Bevers, M.D.", "url": "https://faculty.mdanderson.org/bevers.html"}
NUNEZ = {"name": "José Núñez, M.D.", "url": None}
RETITLED = "Story two: <screening> & *you*"
BODY = "Screening finds cancer early.\n\nThis article is about story-three."
EDITED = "Screening finds cancer early.\n\nNew guidance from 2026.\n\nAsk your doctor."


def one(**fields: Any) -> dict[str, Any]:
    return article(ONE, **{"reviewed": "2024-01-01", "reviewers": [BEVERS], **fields})


REVIEWED = {"reviewed": "2025-02-01", "reviewers": [BEVERS, NUNEZ]}


def fetched(run: int, minute: int) -> dt.datetime:
    return T0 + dt.timedelta(days=run, minutes=minute)


def save(archive: Archive, run: int, record: dict[str, Any], minute: int) -> None:
    archive.save_article(
        run,
        record,
        raw=raw_page(record),
        url=record["url"],
        http_status=200,
        fetched_at=fetched(run, minute),
    )


@pytest.fixture
def archive_db(archive_url: str) -> Iterator[str]:
    archive = Archive.open(archive_url, batch_size=2)
    start = {"site_root": "https://www.mdanderson.org", "parser_version": "1"}

    run = archive.start_run("full", **start)
    save(archive, run, one(), 1)
    save(archive, run, article(TWO), 2)
    save(archive, run, article(THREE, body_text=BODY), 3)
    save(archive, run, article(FOUR), 4)
    archive.finish_run(run, "completed")

    run = archive.start_run("incremental", **start)
    save(archive, run, one(**REVIEWED), 1)
    save(archive, run, article(TWO), 2)
    archive.mark_seen(run, THREE, url=article(THREE)["url"], http_status=304)
    archive.mark_seen(run, FOUR, url=article(FOUR)["url"], http_status=304)
    archive.finish_run(run, "completed")

    run = archive.start_run("incremental", **start)
    archive.mark_seen(run, ONE, url=one()["url"], http_status=304)
    save(archive, run, article(TWO, title=RETITLED), 2)
    save(archive, run, article(THREE, body_text=EDITED), 3)
    archive.mark_gone(run, FOUR, url=article(FOUR)["url"], http_status=404)
    archive.finish_run(run, "completed")

    run = archive.start_run("incremental", **start)
    save(archive, run, one(**REVIEWED, title="Story one, again"), 1)
    archive.finish_run(run, "interrupted")
    archive.close()
    yield archive_url


def cli() -> click.Group:
    group = click.Group()
    changes_commands.register(group)
    return group


def invoke(db: str, *args: str) -> Result:
    return CliRunner().invoke(cli(), ["changes", *args, "--db", db], catch_exceptions=False)


def run(db: str, *args: str) -> str:
    result = invoke(db, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def entries(db: str, *args: str) -> list[dict[str, Any]]:
    return json.loads(run(db, "--format", "json", *args))


def keys(found: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(e["article_key"], e["field"], e["to_run"]) for e in found]


# -- ranges and fields ------------------------------------------------------------------


def test_default_range_is_the_last_completed_run(archive_db: str) -> None:
    # Run 4 was interrupted: its retitle of story-one waits for an explicit range.
    assert keys(entries(archive_db)) == [
        (FOUR, "removed", 3),
        (THREE, "body_text", 3),
        (TWO, "title", 3),
    ]


def test_ranges_follow_diff(archive_db: str) -> None:
    assert keys(entries(archive_db, "--from", "1", "--to", "2")) == [
        (ONE, "reviewed", 2),
        (ONE, "reviewers", 2),
    ]
    assert keys(entries(archive_db, "--since", "2")) == [
        (FOUR, "removed", 3),
        (THREE, "body_text", 3),
        (TWO, "title", 3),
        (ONE, "title", 4),
    ]
    assert keys(entries(archive_db, "--to", "2")) == keys(entries(archive_db, "--since", "0"))[:2]
    assert entries(archive_db, "--since", "4") == []


def test_field_filter(archive_db: str) -> None:
    assert keys(entries(archive_db, "--since", "0", "--field", "reviewed")) == [
        (ONE, "reviewed", 2)
    ]
    found = entries(archive_db, "--since", "0", "--field", "title", "--field", "removed")
    assert keys(found) == [(FOUR, "removed", 3), (TWO, "title", 3), (ONE, "title", 4)]
    # Any field diff compares: the new review came with no other change.
    assert entries(archive_db, "--since", "0", "--field", "read_minutes") == []


def test_json_entries_are_the_field_changes_of_the_range(archive_db: str) -> None:
    found = entries(archive_db, "--from", "1", "--to", "4")
    engine = Archive.open(archive_db, create=False).engine
    try:
        with engine.connect() as conn:
            view = [
                dict(row._mapping)
                for row in conn.execute(
                    text(
                        "SELECT * FROM field_changes WHERE to_run > 1 AND to_run <= 4 AND field "
                        "IN ('reviewed', 'title', 'reviewers', 'body_text')"
                    )
                )
            ]
    finally:
        engine.dispose()
    columns = ("article_key", "field", "from_run", "to_run", "from_version", "to_version")
    assert sorted(tuple(e[c] for c in columns) for e in found if e["field"] != "removed") == sorted(
        tuple(row[c] for c in columns) for row in view
    )
    by_key = {(e["article_key"], e["field"]): e for e in found}
    for row in view:
        entry = by_key[(row["article_key"], row["field"])]
        # The view's text, read back as the field's own type (as `cwarchive diff` does).
        decoded = [
            json.loads(v) if row["field"] == "reviewers" else v for v in (row["old"], row["new"])
        ]
        assert [entry["old"], entry["new"]] == decoded

    reviewed = by_key[(ONE, "reviewed")]
    assert reviewed == {
        "id": "tag:cwarchive,2026:cancerwise/story-one/reviewed/v2",
        "article_key": ONE,
        "field": "reviewed",
        "title": "Re-reviewed: Story one",
        "article_title": "Story one",
        "url": one()["url"],
        "updated": "2026-08-21T12:01:00Z",  # the fetch in run 2 that found it
        "old": "2024-01-01",
        "new": "2025-02-01",
        "from_run": 1,
        "to_run": 2,
        "from_version": 1,
        "to_version": 2,
    }
    assert by_key[(ONE, "reviewers")]["new"] == [BEVERS, NUNEZ]
    removed = by_key[(FOUR, "removed")]
    assert removed["id"] == "tag:cwarchive,2026:cancerwise/story-four/removed/r3"
    assert removed["title"] == "Removed: Story four"
    assert (removed["old"], removed["new"]) == (article(FOUR)["url"], None)
    assert (removed["from_run"], removed["to_run"], removed["from_version"]) == (2, 3, 1)
    assert removed["url"] == article(FOUR)["url"]


def test_usage_errors(archive_db: str, tmp_path: Any) -> None:
    for args, message in [
        (("--since", "1", "--to", "3"), "--since RUN or --from/--to"),
        (("--from", "3", "--to", "3"), "must be after --from 3"),
        (("--field", "colour"), "--field colour: not a field"),
        (("--json", "--format", "markdown"), "--json prints JSON"),
    ]:
        result = invoke(archive_db, *args)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: ") and message in result.stderr
        assert result.stderr.count("\n") == 1
    missing = CliRunner().invoke(cli(), ["changes", "--db", str(tmp_path / "none.sqlite")])
    assert missing.exit_code == 2 and missing.stderr.startswith("error: no archive")


# -- Atom -------------------------------------------------------------------------------


def parse_feed(data: str) -> ET.Element:
    feed = ET.fromstring(data.encode())
    assert feed.tag == f"{ATOM}feed"
    return feed


def one_text(element: ET.Element, name: str) -> str:
    found = element.findall(f"{ATOM}{name}")
    assert len(found) == 1, f"{element.tag}: {len(found)} {name} elements"
    return found[0].text or ""


def rfc3339(value: str) -> dt.datetime:
    assert value.endswith("Z"), value
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def check_rfc4287(feed: ET.Element) -> list[ET.Element]:
    """The elements RFC 4287 requires of a feed and of its entries; the entries."""
    assert one_text(feed, "id").startswith("tag:cwarchive,2026:")
    assert one_text(feed, "title")
    updated = rfc3339(one_text(feed, "updated"))
    # A feed without an author needs one in every entry: this one names itself.
    assert one_text(feed.find(f"{ATOM}author"), "name") == "cwarchive"
    found = feed.findall(f"{ATOM}entry")
    for entry in found:
        assert one_text(entry, "id").startswith("tag:cwarchive,2026:cancerwise/")
        assert one_text(entry, "title")
        assert rfc3339(one_text(entry, "updated")) <= updated
        (link,) = entry.findall(f"{ATOM}link")
        assert link.get("rel") == "alternate"
        assert link.get("href", "").startswith("https://www.mdanderson.org/cancerwise/")
        content = entry.find(f"{ATOM}content")
        assert content is not None and content.get("type") == "text" and content.text
    ids = [one_text(entry, "id") for entry in found]
    assert len(set(ids)) == len(ids)
    return found


def test_atom_feed_is_valid_and_its_ids_are_stable(archive_db: str) -> None:
    first = run(archive_db, "--since", "0")
    feed = parse_feed(first)
    found = check_rfc4287(feed)
    assert len(found) == 6
    # The feed's time is its latest entry's (the removal: noted when the run met the 404).
    assert one_text(feed, "updated") == max(one_text(e, "updated") for e in found)
    titles = [one_text(e, "title") for e in found]
    assert titles == [
        "Re-reviewed: Story one",
        "Reviewers changed: Story one",
        "Removed: Story four",
        "Rewritten: Story three",
        f"Retitled: {RETITLED}",  # escaped by the writer, read back as written
        "Retitled: Story one, again",
    ]
    by_title = {one_text(e, "title"): e for e in found}
    reviewed = by_title["Re-reviewed: Story one"]
    assert one_text(reviewed, "id") == "tag:cwarchive,2026:cancerwise/story-one/reviewed/v2"
    assert "2024-01-01 -> 2025-02-01" in one_text(reviewed, "content")
    body = one_text(by_title["Rewritten: Story three"], "content")
    assert "+New guidance from 2026." in body and "-This article is about story-three." in body
    assert one_text(by_title["Reviewers changed: Story one"], "content").count(NUNEZ["name"]) == 1

    # Rendered again: the same document; the entries keep their ids in a wider feed.
    assert run(archive_db, "--since", "0") == first
    ids = {one_text(e, "id") for e in found}
    later = check_rfc4287(parse_feed(run(archive_db, "--since", "2")))
    assert {one_text(e, "id") for e in later} < ids
    # The feed's id names the archive and the range (and the fields when narrowed).
    feed_ids = {
        one_text(parse_feed(run(archive_db, *args)), "id")
        for args in [(), ("--from", "2", "--to", "3"), ("--since", "0"), ("--field", "title")]
    }
    assert len(feed_ids) == 3  # the default range is run 3: --from 2 --to 3
    assert one_text(parse_feed(run(archive_db)), "id").endswith("/changes/run/3")


def test_empty_feed_is_valid(archive_db: str) -> None:
    feed = parse_feed(run(archive_db, "--since", "4"))
    assert check_rfc4287(feed) == []


def test_the_feed_carries_any_text(archive_db: str) -> None:
    """Characters XML 1.0 cannot hold become U+FFFD instead of an unreadable feed;
    a long body diff is cut with a note of what was left out."""
    long_old = "\n".join(f"line {i}" for i in range(500))
    change = {
        "article_key": "cancerwise/odd",
        "field": "body_text",
        "old": long_old,
        "new": "bell \x07 and form feed \x0c\n" + long_old.replace("line", "row"),
        "from_run": 1,
        "to_run": 2,
        "from_version": 1,
        "to_version": 2,
        "title": "Odd \x01 title",
        "url": "https://www.mdanderson.org/cancerwise/odd.h00-1.html",
        "updated": T0,
    }
    found = ChangeSet(RunRange(1, 2), ("body_text",), [change], T0, T0)
    (entry,) = check_rfc4287(parse_feed(digest.atom(found).decode()))
    assert one_text(entry, "title") == "Rewritten: Odd \ufffd title"
    content = one_text(entry, "content")
    assert "more lines of the diff not shown" in content
    assert len(content) < digest.MAX_DIFF_CHARS + 500


# -- Markdown ---------------------------------------------------------------------------


def test_markdown_digest(archive_db: str) -> None:
    text = run(archive_db, "--since", "0", "--format", "markdown")
    assert text.startswith("# Cancerwise changes: runs after 0\n")
    assert "6 changes in 4 articles." in text
    sections = text.split("\n## ")[1:]
    assert [s.splitlines()[0] for s in sections] == [
        "Re-reviewed (1)",
        "Retitled (2)",
        "Reviewers changed (1)",
        "Rewritten (1)",
        "Removed (1)",
    ]
    reviewed, retitled, reviewers, rewritten, removed = sections
    assert f"- [Story one]({one()['url']}): 2024-01-01 → 2025-02-01" in reviewed
    # Markdown's own characters in a title are escaped, not interpreted.
    assert r"Story two: \<screening\> & \*you\*" in retitled
    assert "Story one, again" in retitled
    assert f"Therese Bevers, M.D. → Therese Bevers, M.D.; {NUNEZ['name']}" in reviewers
    assert "[Story three]" in rewritten and "2 lines added, 1 removed" in rewritten
    assert "[Story four]" in removed and "404/410 in run 3, last seen in run 2" in removed


def test_markdown_without_changes(archive_db: str) -> None:
    assert run(archive_db, "--since", "4", "--format", "markdown") == (
        "# Cancerwise changes: runs after 4\n\n"
        "No changes of reviewed, title, reviewers, body_text, removed.\n"
    )


# -- the query itself -------------------------------------------------------------------


def test_an_archive_without_completed_runs_has_no_changes(archive_url: str) -> None:
    archive = Archive.open(archive_url)
    try:
        with archive.engine.connect() as conn:
            from storage.changes import default_range

            wanted = default_range(conn)
            found = changes(conn, wanted)
    finally:
        archive.close()
    assert wanted.empty and found.changes == [] and found.archive_started is None
    feed = parse_feed(digest.atom(found).decode())
    assert check_rfc4287(feed) == []
    assert one_text(feed, "id").endswith("archive/empty/changes/runs/none")


def test_the_alert_range_of_a_run_reaches_back_over_unfinished_runs(archive_db: str) -> None:
    from storage.changes import since_last_completed

    engine = Archive.open(archive_db, create=False).engine
    try:
        with engine.connect() as conn:
            ranges = [since_last_completed(conn, run) for run in (1, 3, 5)]
    finally:
        engine.dispose()
    # Run 5 does not exist yet: the range of a completed run 5 takes in interrupted run 4.
    assert ranges == [RunRange(None, 1), RunRange(2, 3), RunRange(3, 5)]


@pytest.mark.parametrize(
    ("run_range", "label", "slug"),
    [
        (RunRange(6, 7), "run 7", "run/7"),
        (RunRange(3, 7), "runs 4 to 7", "runs/4-7"),
        (RunRange(3, None), "runs after 3", "runs/4-"),
        (RunRange(None, 7), "runs up to 7", "runs/-7"),
        (RunRange(), "all runs", "runs/all"),
        (RunRange(0, 0), "no run", "runs/none"),
    ],
)
def test_run_range_names(run_range: RunRange, label: str, slug: str) -> None:
    assert (run_range.label, run_range.slug) == (label, slug)
