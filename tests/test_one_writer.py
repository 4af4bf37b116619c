"""One writer: the same site history archived in one process and as a distributed run
gives the same archive.

The scenarios: new articles, twins, a change (a re-review), a move with a 301, a
removal and a return, and a parser upgrade (an archive whose versions were stored by
parser 1, which hashed `filed_month`, crawled `--full` on the unchanged site). Each
crawl is a real `python -m cwarchive crawl`: into SQLite in one process, and with
`--frontier` (Redis) plus a `worker` into PostgreSQL. The archives are compared by
what they hold, not by their ids: articles, statuses, versions and hashes,
observations, runs' counters and tag counts.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update

from common.record import content_hash
from cwarchive.testing.replay import ReplayServer
from cwarchive.testing.sitegen.site import noon
from storage import db as storage_db
from storage.models import Article, Version, version_record
from tests.test_distributed import coordinator, finish, start, worker
from tests.test_twins_and_publications import NEW_TWIN, SLUG, twin_site

DUMPS = {
    "articles": "SELECT article_key, status, removed_run_id, last_url FROM articles",
    "versions": "SELECT a.article_key, v.number, v.content_hash, v.parser_version, "
    "v.first_run_id, v.title, v.reviewed FROM versions v JOIN articles a ON a.id = v.article_id",
    "current": "SELECT a.article_key, v.number FROM articles a "
    "JOIN versions v ON v.id = a.current_version_id",
    "observations": "SELECT o.run_id, a.article_key, o.kind, o.url, o.http_status, v.number "
    "FROM observations o JOIN articles a ON a.id = o.article_id "
    "LEFT JOIN versions v ON v.id = o.version_id",
    "runs": "SELECT id, mode, status, articles_new, articles_changed, articles_unchanged, "
    "articles_seen, articles_returned, articles_removed, errors FROM runs",
    "tag_counts": "SELECT c.run_id, t.tag_id, t.label, c.count FROM run_tag_counts c "
    "JOIN tags t ON t.id = c.tag_pk",
}


def dump(db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = storage_db.make_engine(db_url)
    try:
        with engine.connect() as conn:
            return {
                name: sorted(
                    (
                        tuple(str(v) if v is not None else "" for v in row)
                        for row in conn.execute(text(sql))
                    ),
                )
                for name, sql in DUMPS.items()
            }
    finally:
        engine.dispose()


def as_parser_one(db_url: str) -> None:
    """The archive as an earlier release wrote it: every version stored by parser 1."""
    engine = storage_db.make_engine(db_url)
    try:
        with engine.begin() as conn:
            rows = conn.execute(
                select(Version, Article.article_key).join(Article, Article.id == Version.article_id)
            ).all()
            for row in rows:
                record = version_record(row, row.article_key, "1")
                conn.execute(
                    update(Version)
                    .where(Version.id == row.id)
                    .values(parser_version="1", content_hash=content_hash(record, "1"))
                )
    finally:
        engine.dispose()


def test_one_process_and_a_distributed_run_write_the_same_archive(
    tmp_path: Path, pg_url: str, frontier_url: tuple[str, str]
) -> None:
    site = twin_site()
    root = tmp_path / "site"
    alone = f"sqlite:///{tmp_path / 'alone.sqlite'}"

    def crawl_both(*args: str) -> None:
        site.write(root)
        with ReplayServer(root) as server:
            log = tmp_path / "alone.log"
            code, _ = finish(start(["crawl", "--site", server.url, "--db", alone, *args], log), log)
            assert code == 0, log.read_text()[-3000:]
            helper = worker(frontier_url, pg_url, tmp_path / "worker.log")
            crawl = coordinator(frontier_url, pg_url, server.url, tmp_path / "crawl.log", *args)
            code, _ = finish(crawl, tmp_path / "crawl.log")
            assert code == 0, (tmp_path / "crawl.log").read_text()[-3000:]
            assert finish(helper, tmp_path / "worker.log")[0] == 0
        one, many = dump(alone), dump(pg_url)
        differences = {
            name: (
                sorted(set(one[name]) - set(many[name])),
                sorted(set(many[name]) - set(one[name])),
            )
            for name in DUMPS
            if one[name] != many[name]
        }
        assert not differences, json.dumps(differences, indent=1)

    crawl_both()  # new articles, twins among them
    day = dt.date(2026, 9, 1)
    site.rereview("cancerwise/story-0", day, when=noon(day))  # a change
    site.rereview("cancerwise/story-1", day, new_h00=str(789 * 202609), when=noon(day))  # moved
    removed = site.articles["cancerwise/story-2"]
    site.remove("cancerwise/story-2", when=noon(day))
    site.rereview(f"cancerwise/{SLUG}.h00-{NEW_TWIN}", day, when=noon(day))  # a twin changes
    crawl_both()
    site.add(removed, when=noon(day + dt.timedelta(days=1)))  # back
    crawl_both()
    # A parser upgrade: the archive as parser 1 wrote it, crawled in full, unchanged.
    as_parser_one(alone)
    as_parser_one(pg_url)
    crawl_both("--full")
    archive = dump(alone)
    # What each run did: (new, changed, returned, removed).
    assert [(r[3], r[4], r[7], r[8]) for r in archive["runs"]] == [
        ("6", "0", "0", "0"),
        ("0", "3", "0", "1"),
        ("0", "0", "1", "0"),
        ("0", "0", "0", "0"),
    ]
    # The twins are two articles; the upgrade added no version.
    keys = {row[0] for row in archive["articles"]}
    assert {f"cancerwise/{SLUG}", f"cancerwise/{SLUG}.h00-{NEW_TWIN}"} <= keys
    assert {row[3] for row in archive["versions"]} == {"1"}
