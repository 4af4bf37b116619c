"""Extraction health (storage/health.py): a run that stops reading a field keeps it out of
the history, says so, and can be accepted.

The storage tests save records through the real `Archive` into SQLite and PostgreSQL
(fixture `archive_url`) and close the run as the crawl does (`health.check_run`, then
`finish_run`); the crawl tests run `cwarchive crawl` against a generated site on the
replay server, whose markup hides the review line (`ArticleFacts.review_line`) for
none, a few or all of its articles.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from cwarchive.testing.replay import ReplayServer
from cwarchive.testing.sitegen import ArticleFacts, Person, Site
from cwarchive.testing.sitegen.site import noon
from storage import Archive, health, held
from storage.models import HeldVersion, Observation, Run, RunFieldHealth, Version
from tests.archive_cli import invoke
from tests.storage_records import article, raw_page
from tests.test_crawl import cli, crawl, query
from tests.test_notify import Hook

REVIEWED = {"reviewed": "2024-05-01", "reviewers": [{"name": "Pamela Schlembach", "url": None}]}
UNREVIEWED = {"reviewed": None, "reviewers": []}


def keys(n: int) -> list[str]:
    return [f"cancerwise/story-{i}" for i in range(n)]


def close(archive: Archive, run: int, status: str = "completed") -> health.Health | None:
    """Close the run as the crawl's persist pipeline does."""
    archive.flush()
    checked = health.check_run(archive.engine, run)
    archive.finish_run(run, status=status, pages_fetched=0)
    return checked


def crawl_records(archive: Archive, records: list[dict[str, Any]]) -> tuple[int, Any]:
    run = archive.start_run("full", parser_version="test")
    for record in records:
        archive.save_article(run, record, raw=raw_page(record), url=record["url"])
    return run, close(archive, run)


def figure(checked: Any, name: str) -> health.FieldHealth:
    return next(f for f in checked.fields if f.field == name)


def sound(archive: Archive) -> None:
    """`cwarchive db check` finds nothing, and the search index holds the versions."""
    result = invoke("db", "check", "--db", archive.engine.url.render_as_string(False), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    with archive.engine.begin() as conn:
        if conn.dialect.name == "sqlite":  # raises when the index and `versions` differ
            check = "INSERT INTO version_search(version_search, rank) VALUES('integrity-check', 1)"
            conn.execute(text(check))
        else:
            indexed = conn.scalar(text("SELECT count(*) FROM version_search"))
            assert indexed == conn.scalar(select(func.count()).select_from(Version))


def field_changes(archive: Archive, field: str = "reviewed") -> list[Any]:
    with archive.engine.connect() as conn:
        return conn.execute(
            text("SELECT article_key, to_run FROM field_changes WHERE field = :f"), {"f": field}
        ).all()


@pytest.fixture
def archive(archive_url: str) -> Iterator[Archive]:
    with Archive.open(archive_url) as opened:
        yield opened


def test_a_few_articles_losing_a_field_is_an_edit(archive: Archive) -> None:
    crawl_records(archive, [article(key, **REVIEWED) for key in keys(40)])
    # 1 of 40, then 8 more: fewer than 10 articles is never a degradation.
    for without, lost in ((1, 1), (9, 8)):
        run, checked = crawl_records(
            archive,
            [
                article(key, **(UNREVIEWED if i < without else REVIEWED))
                for i, key in enumerate(keys(40))
            ],
        )
        reviewed = figure(checked, "reviewed")
        assert (reviewed.compared, reviewed.lost, reviewed.degraded) == (40, lost, False)
        assert checked.held == 0 and checked.degraded == []
    assert len(field_changes(archive)) == 9  # every loss is a version, as before
    sound(archive)


def test_a_field_lost_by_most_articles_is_held_back_then_accepted(archive: Archive) -> None:
    first, _ = crawl_records(archive, [article(key, **REVIEWED) for key in keys(12)])
    records = [article(key, **UNREVIEWED) for key in keys(12)]
    records[0] = article(keys(12)[0], **UNREVIEWED, title="A new title")  # more than a loss
    records.append(article("cancerwise/brand-new", **UNREVIEWED))  # new: not compared
    run, checked = crawl_records(archive, records)

    reviewed = figure(checked, "reviewed")
    assert (reviewed.pages, reviewed.compared, reviewed.had_before, reviewed.has_after) == (
        13,
        12,
        12,
        0,
    )
    assert (reviewed.lost, reviewed.degraded, reviewed.held) == (12, True, 11)
    assert {f.field for f in checked.degraded} == {"reviewed", "reviewers"}
    assert figure(checked, "title").degraded is False
    assert checked.held == 11
    # The held articles keep their version: one version each, current, observed again.
    with archive.engine.connect() as conn:
        versions = conn.scalar(select(func.count()).select_from(Version))
        counters = conn.execute(
            select(Run.articles_new, Run.articles_changed, Run.articles_unchanged).where(
                Run.id == run
            )
        ).one()
        fetched_first = conn.scalars(
            select(Observation.version_id).where(
                Observation.run_id == run,
                Observation.version_id.in_(select(Version.id).where(Version.first_run_id == first)),
            )
        ).all()
        rows = conn.scalar(select(func.count()).select_from(RunFieldHealth))
    assert versions == 12 + 1 + 1  # the retitled article's second version, the new one
    assert tuple(counters) == (1, 1, 11)
    assert len(fetched_first) == 11
    assert rows == len(health.FIELDS) * 2
    assert [change.article_key for change in field_changes(archive)] == [keys(12)[0]]
    sound(archive)

    with archive.engine.connect() as conn:
        assert held.held_counts(conn) == {run: 11}
    accepted = held.accept_run(archive.engine, run)
    assert (accepted.stored, accepted.superseded, accepted.already) == (11, 0, 0)
    assert sorted(change.article_key for change in field_changes(archive)) == sorted(keys(12))
    assert {change.to_run for change in field_changes(archive)} == {run}
    with archive.engine.connect() as conn:
        counters = conn.execute(
            select(Run.articles_changed, Run.articles_unchanged).where(Run.id == run)
        ).one()
        assert held.held_counts(conn) == {}
    assert tuple(counters) == (12, 0)
    sound(archive)
    assert held.accept_run(archive.engine, run).already == 11


def test_a_later_readable_run_is_ordinary_and_supersedes_what_was_held(archive: Archive) -> None:
    crawl_records(archive, [article(key, **REVIEWED) for key in keys(12)])
    degraded, checked = crawl_records(archive, [article(key, **UNREVIEWED) for key in keys(12)])
    assert checked.held == 12
    again, checked = crawl_records(archive, [article(key, **REVIEWED) for key in keys(12)])
    assert checked.degraded == [] and checked.held == 0
    with archive.engine.connect() as conn:
        counters = conn.execute(
            select(Run.articles_changed, Run.articles_unchanged).where(Run.id == again)
        ).one()
    assert tuple(counters) == (0, 12)
    assert field_changes(archive) == []
    # Accepted now, the held readings would rewrite what the later run read: not stored.
    accepted = held.accept_run(archive.engine, degraded)
    assert (accepted.stored, accepted.superseded) == (0, 12)
    assert field_changes(archive) == []
    with archive.engine.connect() as conn:
        assert (
            conn.scalar(
                select(func.count())
                .select_from(HeldVersion)
                .where(HeldVersion.accepted_at.is_(None))
            )
            == 0
        )
    sound(archive)


def test_pages_that_no_longer_read_as_articles_lose_every_field(archive: Archive) -> None:
    records = [article(key, **REVIEWED) for key in keys(12)]
    crawl_records(archive, records)
    run = archive.start_run("full", parser_version="test")
    for record in records:
        archive.save_parse_error(
            run,
            record["url"],
            f"expected an article page, got listing: {record['url']}",
            raw=b"<html>a listing</html>",
            http_status=200,
        )
    # A failed fetch is no reading of the page: not counted.
    archive.save_parse_error(run, records[0]["url"], "HTTP 503", http_status=503)
    checked = close(archive, run)
    assert {f.field for f in checked.degraded} == set(health.FIELDS)
    assert all((f.compared, f.lost) == (12, 12) for f in checked.fields if f.field != "reviewers")
    assert checked.held == 0
    sound(archive)


def test_accepted_after_sightings_the_held_version_is_what_they_saw(archive: Archive) -> None:
    crawl_records(archive, [article(key, **REVIEWED) for key in keys(12)])
    degraded, checked = crawl_records(archive, [article(key, **UNREVIEWED) for key in keys(12)])
    assert checked.held == 12
    # The next nightly run fetches nothing: every article is seen (lastmod not newer).
    seen = archive.start_run("incremental", parser_version="test")
    archive.mark_seen_many(seen, [(key, article(key)["url"]) for key in keys(12)])
    close(archive, seen)
    accepted = held.accept_run(archive.engine, degraded)
    assert (accepted.stored, accepted.superseded) == (12, 0)
    assert {change.to_run for change in field_changes(archive)} == {degraded}
    with archive.engine.connect() as conn:
        current = select(Version.id).where(Version.first_run_id == degraded)
        sightings = conn.scalar(
            select(func.count())
            .select_from(Observation)
            .where(Observation.run_id == seen, Observation.version_id.in_(current))
        )
    assert sightings == 12
    sound(archive)


def test_accepted_a_range_of_sightings_through_the_held_run_is_split(archive: Archive) -> None:
    """Seen and fetched in the degraded run, then seen again: the range of sightings that
    went through the held run ends there, and its later runs saw the stored version."""
    crawl_records(archive, [article(key, **REVIEWED) for key in keys(12)])
    sightings = [(key, article(key)["url"]) for key in keys(12)]
    degraded = archive.start_run("incremental", parser_version="test")
    archive.mark_seen_many(degraded, sightings)
    for record in [article(key, **UNREVIEWED) for key in keys(12)]:
        archive.save_article(degraded, record, raw=raw_page(record), url=record["url"])
    assert close(archive, degraded).held == 12  # type: ignore[union-attr]
    after = archive.start_run("incremental", parser_version="test")
    archive.mark_seen_many(after, sightings)
    close(archive, after)

    def seen_rows() -> list[tuple[int, int, int]]:
        with archive.engine.connect() as conn:
            return sorted(
                conn.execute(
                    select(Observation.run_id, Observation.last_run_id, Version.first_run_id)
                    .join(Version, Version.id == Observation.version_id)
                    .where(Observation.kind == "seen")
                ).tuples()
            )

    first = degraded - 1
    assert seen_rows() == [(degraded, after, first)] * 12  # one range, of the kept version
    assert held.accept_run(archive.engine, degraded).stored == 12
    assert seen_rows() == [(degraded, degraded, first)] * 12 + [(after, after, degraded)] * 12
    sound(archive)


def test_a_parser_fix_reparsed_confirms_the_kept_versions(archive: Archive) -> None:
    crawl_records(archive, [article(key, **REVIEWED) for key in keys(12)])
    _, checked = crawl_records(archive, [article(key, **UNREVIEWED) for key in keys(12)])
    assert checked.held == 12

    def fixed_parser(page: bytes, url: str) -> dict[str, Any]:
        # Reads the review line the broken one missed: every page as the site shows it.
        return article(url.split("/", 3)[3].split(".h00-")[0], **REVIEWED)

    summary = archive.reparse(fixed_parser, "fixed")
    assert (summary["pages"], summary["versions_added"]) == (24, 0)
    assert field_changes(archive) == []
    with archive.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Version)) == 12
    sound(archive)


def test_a_reparse_is_not_measured(archive: Archive) -> None:
    run = archive.start_run("reparse", parser_version="test")
    assert close(archive, run) is None


# -- the crawl ------------------------------------------------------------------------------

ARTICLES = 24


def reviewed_article(i: int) -> ArticleFacts:
    day = dt.date(2025, 1, 1) + dt.timedelta(days=9 * i)
    return ArticleFacts(
        slug=f"health-story-{i}",
        h00=str(159850000 + i),
        title=f"Health story {i}",
        published=day,
        authors=["Roman Gokhman"],
        reviewed=day + dt.timedelta(days=30),
        reviewers=[Person("Pamela Schlembach, M.D.", "https://faculty.mdanderson.org/p.html")],
        body=[("p", f"Paragraph one of story {i}."), ("p", f"Second of {i}.")],
        tags=["diseases/breast-cancer"],
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Site, Path, ReplayServer]]:
    site = Site()
    for i in range(ARTICLES):
        facts = reviewed_article(i)
        site.add(facts, when=noon(facts.published))
    root = tmp_path / "site"
    site.write(root)
    with ReplayServer(root) as server:
        yield site, root, server


def hide_review_lines(site: Site, root: Path, keys: list[str], hidden: bool = True) -> None:
    for key in keys:
        site.article(key).review_line = "script" if hidden else "text"
    site.write(root)


def feed(db: Path, run: int) -> list[dict[str, Any]]:
    """The run's review-date changes, as `cwarchive changes --json` lists them."""
    return query(db, "changes", "--from", str(run - 1), "--to", str(run), "--field", "reviewed")


def test_a_crawl_that_stops_reading_a_field(
    served: tuple[Site, Path, ReplayServer], tmp_path: Path
) -> None:
    site, root, server = served
    db = tmp_path / "archive.sqlite"
    everyone = sorted(site.articles)
    hook = Hook()
    try:
        first = crawl(server, db, "--full", "--notify", hook.url)
        assert (first["new"], first["errors"]) == (ARTICLES, 0)

        # None hidden: an ordinary run, every field as before.
        second = crawl(server, db, "--full", "--notify", hook.url)
        assert (second["status"], second["unchanged"], second["changed"]) == ("completed", 24, 0)
        runs = query(db, "runs")
        reviewed = next(f for f in runs[1]["health"] if f["field"] == "reviewed")
        assert (reviewed["compared"], reviewed["had_before"], reviewed["has_after"]) == (24, 24, 24)
        assert runs[1]["degraded"] == [] and runs[1]["held"] == 0
        assert hook.posts == []

        # A few hidden: an edit. Versions saved, the feed and the alert carry them.
        hide_review_lines(site, root, everyone[:3])
        few = crawl(server, db, "--full", "--notify", hook.url)
        assert (few["status"], few["changed"], few["unchanged"]) == ("completed", 3, 21)
        assert "degraded" not in few
        assert sorted(c["article_key"] for c in feed(db, few["run_id"])) == everyone[:3]
        assert query(db, "runs")[2]["degraded"] == []
        (post,) = hook.posts
        assert post["title"] == f"Cancerwise: 3 changes in run {few['run_id']}"

        # All hidden: 21 more lose it. Exit 4, one line, nothing written to the history.
        hide_review_lines(site, root, everyone)
        result = cli(
            "crawl", "--site", server.url, "--db", str(db), "--json", "--full",
            "--notify", hook.url, "--notify-fields", "title",
            check=False,
        )  # fmt: skip
        assert result.returncode == 4, result.stderr[-3000:]
        degraded = json.loads(result.stdout)
        run = degraded["run_id"]
        assert (degraded["status"], degraded["changed"], degraded["unchanged"]) == (
            "completed",
            0,
            24,
        )
        assert degraded["held"] == 21
        assert {f["field"] for f in degraded["degraded"]} == {"reviewed", "reviewers"}
        lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and "reviewed (21 of the 21 articles" in lines[0]
        assert f"cwarchive accept {run}" in lines[0] and "Traceback" not in result.stderr
        assert feed(db, run) == []
        assert len(query(db, "history", everyone[5])) == 1
        readable = cli("runs", "--db", str(db)).stdout
        assert f"run {run}: extraction health; stopped reading reviewed, reviewers" in readable
        shown = query(db, "runs")[-1]
        assert shown["degraded"] == ["reviewed", "reviewers"] and shown["held"] == 21
        assert shown["articles_changed"] == 0 and shown["articles_unchanged"] == 24
        # The alert goes out though `reviewed` is not a watched field, naming it.
        assert len(hook.posts) == 2
        assert (
            hook.posts[1]["title"] == f"Cancerwise: run {run} stopped reading reviewed, reviewers"
        )
        assert "21 of the 21 articles" in hook.posts[1]["message"]
        assert cli("db", "check", "--db", str(db), check=False).returncode == 0

        # Accepted (on a copy): the held readings become the run's versions.
        accepted_db = tmp_path / "accepted.sqlite"
        shutil.copy(db, accepted_db)
        assert query(accepted_db, "accept", str(run)) == {
            "run_id": run,
            "stored": 21,
            "superseded": 0,
            "already": 0,
        }
        assert len(feed(accepted_db, run)) == 21
        assert len(query(accepted_db, "history", everyone[5])) == 2
        assert query(accepted_db, "runs")[-1]["held"] == 0
        assert cli("db", "check", "--db", str(accepted_db), check=False).returncode == 0

        # The field readable again: an ordinary run. The held articles are unchanged; the
        # three whose loss was saved as an edit get their review line back as versions.
        hide_review_lines(site, root, everyone, hidden=False)
        later = crawl(server, db, "--full", "--notify", hook.url)
        assert (later["status"], later["changed"], later["unchanged"]) == ("completed", 3, 21)
        assert "degraded" not in later
        assert sorted(c["article_key"] for c in feed(db, later["run_id"])) == everyone[:3]
        assert query(db, "accept", str(run))["superseded"] == 21
        assert cli("db", "check", "--db", str(db), check=False).returncode == 0
    finally:
        hook.close()


def test_a_distributed_run_is_measured_once_by_its_coordinator(
    served: tuple[Site, Path, ReplayServer],
    pg_url: str,
    frontier_url: tuple[str, str],
    tmp_path: Path,
) -> None:
    from tests.test_distributed import coordinator, finish, worker

    site, root, server = served

    def run(*extra: str, workers: int = 0) -> tuple[int, dict[str, Any], str]:
        helpers = [worker(frontier_url, pg_url, tmp_path / f"w{i}.log") for i in range(workers)]
        crawl = coordinator(frontier_url, pg_url, server.url, tmp_path / "c.log", "--full", *extra)
        code, out = finish(crawl, tmp_path / "c.log")
        assert [finish(w, tmp_path / f"w{i}.log")[0] for i, w in enumerate(helpers)] == (
            [0] * workers
        )
        return code, json.loads(out), (tmp_path / "c.log").read_text()

    code, first, _ = run()
    assert (code, first["new"]) == (0, ARTICLES)
    hide_review_lines(site, root, sorted(site.articles))
    code, degraded, log = run(workers=1)
    assert code == 4, log[-3000:]
    assert degraded["held"] == ARTICLES
    assert f"error: run {degraded['run_id']} stopped reading reviewed" in log
    shown = query_pg(pg_url)[-1]
    assert shown["degraded"] == ["reviewed", "reviewers"] and shown["held"] == ARTICLES
    assert (shown["articles_changed"], shown["articles_unchanged"]) == (0, ARTICLES)
    assert [w["role"] for w in shown["workers"]].count("worker") == 1
    assert len(query_pg(pg_url, "changes", "--field", "reviewed")) == 0
    assert cli("db", "check", "--db", pg_url, check=False).returncode == 0


def query_pg(db: str, *args: str) -> Any:
    return json.loads(cli(*(args or ("runs",)), "--db", db, "--json").stdout)
