"""`storage.pages.store_page`: each kind of page ends as the right rows and outcome.

One table, run on SQLite and PostgreSQL (fixture `archive_url`): run 1 archives a
known article; run 2 stores one page of the table; the rows run 2 added, its counters
and the article's status once it completes are compared with the row of the table.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from common.urls import article_key
from storage import Archive
from storage.models import (
    RUN_COUNTERS,
    Article,
    ArticleTag,
    ListingPage,
    Observation,
    ParseError,
    RawPage,
    Run,
    Version,
)
from storage.pages import OUTCOMES, Page, store_page
from tests.storage_records import FACET_URL, article, listing, raw_page

T0 = dt.datetime(2026, 8, 19, 12, 0, tzinfo=dt.UTC)
KNOWN = article("cancerwise/story-one")
CHANGED = article("cancerwise/story-one", title="Story one, reviewed again")
NEW = article("cancerwise/story-two")
URL = KNOWN["url"]


@dataclass(frozen=True)
class Case:
    page: Page
    outcome: str
    added: dict[str, int]  # rows run 2 added, by table (observations by kind)
    counters: dict[str, int] = field(default_factory=dict)  # run 2's non-zero counters
    known_status: str = "active"  # the known article's status once run 2 completes
    # Stored earlier in run 2 (its rows and counters are not counted): the page met again.
    first: Page | None = None


CASES = {
    "new article": Case(
        Page(
            url=NEW["url"],
            http_status=200,
            record=NEW,
            raw=raw_page(NEW),
            fetched_at=T0,
            etag='"v1"',
            last_modified="Wed, 19 Aug 2026 12:00:00 GMT",
        ),
        "new",
        {"articles": 1, "versions": 1, "fetched": 1, "raw_pages": 1},
        {"articles_new": 1},
    ),
    "article unchanged": Case(
        Page(url=URL, http_status=200, record=KNOWN, raw=raw_page(KNOWN), fetched_at=T0),
        "unchanged",
        {"fetched": 1},
        {"articles_unchanged": 1},
    ),
    "article changed": Case(
        Page(url=URL, http_status=200, record=CHANGED, raw=raw_page(CHANGED), fetched_at=T0),
        "changed",
        {"versions": 1, "fetched": 1, "raw_pages": 1},
        {"articles_changed": 1},
    ),
    "article fetched again in the run, the same capture": Case(
        Page(url=URL, http_status=200, record=CHANGED, raw=raw_page(CHANGED), fetched_at=T0),
        "duplicate",
        {},
        {"articles_changed": 1},
        first=Page(url=URL, http_status=200, record=CHANGED, raw=raw_page(CHANGED), fetched_at=T0),
    ),
    "article not modified (304)": Case(
        Page(url=URL, http_status=304), "not_modified", {"seen": 1}, {"articles_seen": 1}
    ),
    "article not fetched: sitemap lastmod not newer": Case(
        Page(url=URL, http_status=None), "skipped", {"seen": 1}, {"articles_seen": 1}
    ),
    "article gone (404)": Case(
        Page(url=URL, http_status=404), "gone", {"gone": 1}, known_status="removed"
    ),
    "article gone (410)": Case(
        Page(url=URL, http_status=410), "gone", {"gone": 1}, known_status="removed"
    ),
    "article with another status (500)": Case(
        Page(url=URL, http_status=500), "unexpected_status", {}
    ),
    "facet listing": Case(
        Page(
            url=FACET_URL,
            http_status=200,
            record=listing(links=[URL]),
            raw=b"<html>facet page</html>",
            fetched_at=T0,
            listing=True,
        ),
        "listing",
        {"listing_pages": 1, "article_tags": 1, "raw_pages": 1},
        {"listings": 1},
    ),
    "facet listing not modified (304)": Case(
        Page(url=FACET_URL, http_status=304, fetched_at=T0, listing=True),
        "listing",
        {"listing_pages": 1, "article_tags": 1},
        {"listings": 1},
    ),
    "listing not modified, never fetched before": Case(
        Page(url=f"{FACET_URL}-not-known", http_status=304, listing=True), "ignored", {}
    ),
    "listing without a record": Case(
        Page(url=FACET_URL, http_status=206, raw=b"<html>", listing=True), "ignored", {}
    ),
    "page that does not parse": Case(
        Page(url=URL, http_status=200, error="no published date", raw=b"<html>junk</html>"),
        "error",
        {"parse_errors": 1, "raw_pages": 1},
        {"errors": 1},
    ),
    "fetch that got no response": Case(
        Page(url=URL, http_status=None, error="no response: timeout"),
        "error",
        {"parse_errors": 1},
        {"errors": 1},
    ),
}


@pytest.fixture
def archive(archive_url: str) -> Iterator[Archive]:
    archive = Archive.open(archive_url, batch_size=3)
    run = archive.start_run("full", site_root="https://www.mdanderson.org", parser_version="1")
    archive.save_article(run, KNOWN, raw=raw_page(KNOWN), url=URL, fetched_at=T0)
    archive.save_listing(
        run, listing(links=[URL]), raw=b"<html>run 1</html>", url=FACET_URL, etag='"l1"'
    )
    archive.finish_run(run, "completed")
    yield archive
    archive.close()


def row_counts(archive: Archive) -> Counter[str]:
    """Rows by table (observations by kind), a range counted once for each run it holds."""
    tables = {
        "articles": Article,
        "versions": Version,
        "raw_pages": RawPage,
        "listing_pages": ListingPage,
        "article_tags": ArticleTag,
        "parse_errors": ParseError,
    }
    archive.flush()

    def readings(t: Any) -> Any:
        # A row of a range holds for each of its runs (consecutive here): what a run
        # added is what it holds, whether as a row or as a range grown by one.
        if hasattr(t, "last_run_id"):
            return func.coalesce(func.sum(t.last_run_id - t.run_id + 1), 0)
        return func.count()

    with archive.engine.connect() as conn:
        counts = Counter(
            {
                name: conn.scalar(select(readings(t)).select_from(t)) or 0
                for name, t in tables.items()
            }
        )
        by_kind = select(Observation.kind, readings(Observation)).group_by(Observation.kind)
        counts.update({kind: n for kind, n in conn.execute(by_kind)})
    return counts


def last_row(archive: Archive, model: Any) -> Any:
    with archive.engine.connect() as conn:
        return conn.execute(select(model).order_by(model.id.desc()).limit(1)).one()


def test_the_table_covers_every_outcome() -> None:
    assert {case.outcome for case in CASES.values()} == set(OUTCOMES)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_store_page(archive: Archive, case: Case) -> None:
    run = archive.start_run("incremental", site_root="https://www.mdanderson.org")
    if case.first is not None:
        store_page(archive, run, case.first)
    before = row_counts(archive)

    assert store_page(archive, run, case.page) == case.outcome

    after = row_counts(archive)
    added = {name: after[name] - before[name] for name in after if after[name] != before[name]}
    assert added == case.added
    page = case.page
    if added.keys() & {"fetched", "seen", "gone"}:
        observation = last_row(archive, Observation)
        assert (observation.url, observation.http_status) == (page.url, page.http_status)
        if observation.kind == "fetched":
            assert (observation.etag, observation.last_modified) == (
                page.etag,
                page.last_modified,
            )
    if "parse_errors" in added:
        error = last_row(archive, ParseError)
        assert (error.url, error.reason, error.http_status) == (
            page.url,
            page.error,
            page.http_status,
        )
        assert (error.raw_page_id is not None) == bool(page.raw)
    if "listing_pages" in added:
        assert last_row(archive, ListingPage).url == page.url

    archive.finish_run(run, "completed")
    with archive.engine.connect() as conn:
        run_row = conn.execute(select(Run).where(Run.id == run)).one()
        status = conn.scalar(
            select(Article.status).where(Article.article_key == KNOWN["article_key"])
        )
    counters = {name: getattr(run_row, name) for name in RUN_COUNTERS if getattr(run_row, name)}
    assert counters == case.counters
    assert status == case.known_status


@pytest.mark.parametrize("shared", [False, True], ids=["Archive", "SharedArchive"])
def test_a_listing_not_modified_is_recorded_as_its_last_fetch(
    archive_url: str, shared: bool
) -> None:
    from storage.shared import SharedArchive

    opened = (SharedArchive if shared else Archive).open(archive_url)
    try:
        first = opened.start_run("full", site_root="https://www.mdanderson.org", parser_version="7")
        page = listing(links=[URL, NEW["url"]])
        page["next_page"] = f"{FACET_URL}?page=2"
        opened.save_listing(
            first, page, raw=b"<html>facet</html>", url=FACET_URL, fetched_at=T0, etag='"f1"'
        )
        opened.finish_run(first, "completed")
        known = opened.known_listings("7")
        assert list(known) == [FACET_URL]
        assert opened.known_listings("8") == {}  # links another parser found: read again
        assert (known[FACET_URL].etag, known[FACET_URL].last_modified) == ('"f1"', None)
        assert known[FACET_URL].listing_kind == "facet"
        assert known[FACET_URL].links == {
            "article_links": [URL, NEW["url"]],
            "archive_links": [],
            "next_page": f"{FACET_URL}?page=2",
        }

        second = opened.start_run("incremental", site_root="https://www.mdanderson.org")
        assert opened.save_listing_unchanged(second, FACET_URL, fetched_at=T0)
        assert not opened.save_listing_unchanged(second, f"{FACET_URL}-never-fetched")
        opened.finish_run(second, "completed")
        # A 304 with other validators in the run after: a row of its own, as it was.
        third = opened.start_run("incremental", site_root="https://www.mdanderson.org")
        assert opened.save_listing_unchanged(third, FACET_URL, fetched_at=T0, etag='"f2"')
        opened.finish_run(third, "completed")
        with opened.engine.connect() as conn:
            pages = conn.execute(
                select(ListingPage).where(ListingPage.url == FACET_URL).order_by(ListingPage.id)
            ).all()
            tags = conn.execute(
                select(
                    ArticleTag.run_id,
                    ArticleTag.last_run_id,
                    ArticleTag.tag_pk,
                    ArticleTag.article_key,
                ).order_by(ArticleTag.run_id, ArticleTag.article_key)
            ).all()
            runs = dict(conn.execute(select(Run.id, Run.listings)).all())
    finally:
        opened.close()
    copied = ("listing_kind", "tag_pk", "article_links", "raw_page_id", "sidebar_id", "links_id")
    # The second run read the page as the first did: the first row holds for both.
    before, after = pages
    assert (before.run_id, before.last_run_id) == (first, second)
    assert (after.run_id, after.last_run_id) == (third, third)
    assert {name: getattr(after, name) for name in copied} == {
        name: getattr(before, name) for name in copied
    }
    assert (before.etag, after.etag) == ('"f1"', '"f2"')
    # The facet's links tag its articles in every run: one range each.
    assert [(t.run_id, t.last_run_id) for t in tags] == [(first, third)] * 2
    assert (runs[first], runs[second], runs[third]) == (1, 1, 1)


@pytest.mark.parametrize("shared", [False, True], ids=["Archive", "SharedArchive"])
def test_pages_not_fetched_are_stored_at_once_as_each_alone(archive_url: str, shared: bool) -> None:
    """`store_not_fetched` (a sitemap's articles that need no fetch): each is seen, a
    removed one returns, an unknown one is left out, as `store_page` does with one."""
    from storage.pages import store_not_fetched
    from storage.shared import SharedArchive

    opened = (SharedArchive if shared else Archive).open(archive_url)
    try:
        first = opened.start_run("full", site_root="https://www.mdanderson.org")
        for record in (KNOWN, NEW):
            opened.save_article(first, record, raw=raw_page(record), url=record["url"])
        opened.finish_run(first, "completed")
        gone = opened.start_run("incremental", site_root="https://www.mdanderson.org")
        opened.mark_gone(gone, KNOWN["article_key"], URL, 404)
        opened.finish_run(gone, "completed")

        third = opened.start_run("incremental", site_root="https://www.mdanderson.org")
        unknown = "https://www.mdanderson.org/cancerwise/never-archived.h00-1.html"
        not_fetched = [(article_key(url), url) for url in (URL, NEW["url"], unknown)]
        assert store_not_fetched(opened, third, not_fetched) == "skipped"
        opened.finish_run(third, "completed")
        with opened.engine.connect() as conn:
            seen = conn.execute(
                select(Observation.url, Observation.kind, Observation.http_status)
                .where(Observation.run_id == third)
                .order_by(Observation.url)
            ).all()
            statuses = dict(conn.execute(select(Article.article_key, Article.status)).all())
            run_row = conn.execute(select(Run).where(Run.id == third)).one()
    finally:
        opened.close()
    assert seen == sorted([(URL, "seen", None), (NEW["url"], "seen", None)])
    assert statuses == {KNOWN["article_key"]: "active", NEW["article_key"]: "active"}
    assert (run_row.articles_seen, run_row.articles_returned) == (2, 1)
