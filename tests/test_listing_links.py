"""A listing page's links stored once per distinct list (`listing_links`, migration 0010):
rows of pages that list the same links share one, other links get one of their own,
and an archive upgraded from 0009 reads the same and checks clean.

Every test runs on SQLite and PostgreSQL; the writer's tests with both stores.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, func, select

from storage import Archive
from storage import db as storage_db
from storage.identity import links_row
from storage.listings import latest_listings
from storage.models import ListingLinks, ListingPage
from tests.databases import migrate
from tests.storage_records import FACET_URL, SITE, listing, sidebar
from tests.test_run_ranges import (
    ONE,
    RECORDS,
    TWO,
    errors,
    first_run,
    snapshot,
    unchanged_run,
)

T0 = dt.datetime(2026, 8, 19, 12, 0, tzinfo=dt.UTC)
LANDING = f"{SITE}/cancerwise.html"
ARCHIVE = f"{SITE}/cancerwise/2020.html"


def page_links(engine: Engine) -> list[tuple[str, int, int | None]]:
    """(url, first run, links_id) of every listing row, in write order."""
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                select(ListingPage.url, ListingPage.run_id, ListingPage.links_id).order_by(
                    ListingPage.id
                )
            )
        ]


def stored_links(engine: Engine) -> dict[int, Any]:
    with engine.connect() as conn:
        return dict(conn.execute(select(ListingLinks.id, ListingLinks.links)).all())


def test_rows_with_the_same_links_share_one_list(opened: Archive, archive_url: str) -> None:
    """Two pages listing the same links, and a page whose bytes and sidebar changed but
    not its links, point at one `listing_links` row; other links get another."""
    links = [RECORDS[ONE]["url"], RECORDS[TWO]["url"]]
    run = opened.start_run("full", site_root=SITE, parser_version="1")
    opened.save_listing(
        run,
        listing(LANDING, kind="landing", tag_id=None, links=links),
        raw=b"<html>landing</html>",
        url=LANDING,
        fetched_at=T0,
    )
    opened.save_listing(
        run,
        listing(ARCHIVE, kind="landing", tag_id=None, links=links),
        raw=b"<html>2020</html>",
        url=ARCHIVE,
        fetched_at=T0,
    )
    opened.save_listing(
        run, listing(links=links[:1]), raw=b"<html>facet</html>", url=FACET_URL, fetched_at=T0
    )
    opened.finish_run(run, "completed")
    # The next run: the landing page's counts changed (its bytes and sidebar), not its
    # links; the facet page now lists both articles.
    again = opened.start_run("full", site_root=SITE, parser_version="1")
    opened.save_listing(
        again,
        listing(LANDING, kind="landing", tag_id=None, links=links, tag_counts=sidebar(breast=9)),
        raw=b"<html>landing, counts changed</html>",
        url=LANDING,
    )
    opened.save_listing(again, listing(links=links), raw=b"<html>facet 2</html>", url=FACET_URL)
    opened.finish_run(again, "completed")

    rows = page_links(opened.engine)
    lists = stored_links(opened.engine)
    assert [(url, first) for url, first, _ in rows] == [
        (LANDING, run),
        (ARCHIVE, run),
        (FACET_URL, run),
        (LANDING, again),
        (FACET_URL, again),
    ]
    landing, archive, facet, landing_again, facet_again = (links_id for *_, links_id in rows)
    assert landing == archive == landing_again == facet_again
    assert facet != landing
    assert len(lists) == 2
    expected = {"article_links": links, "archive_links": [], "next_page": None}
    assert lists[landing] == expected
    assert lists[facet] == {**expected, "article_links": links[:1]}
    with opened.engine.connect() as conn:
        shas = dict(conn.execute(select(ListingLinks.id, ListingLinks.sha256)).all())
    assert shas[landing] == links_row(expected)["sha256"]
    # What a crawl asks for again reads the links back through the list.
    opened.flush()
    with opened.engine.connect() as conn:
        known = latest_listings(conn)
    assert known[LANDING].links == known[FACET_URL].links == expected
    assert errors(archive_url) == []


def test_a_304_row_points_at_the_list_it_had(opened: Archive, archive_url: str) -> None:
    """A 304 with another ETag adds a row as the page was: its list, not a copy."""
    first = first_run(opened, *RECORDS.values())
    run = opened.start_run("incremental", site_root=SITE)
    assert opened.save_listing_unchanged(run, FACET_URL, etag='"f2"')
    opened.finish_run(run, "completed")
    rows = page_links(opened.engine)
    assert [(first_run_id, links_id) for _, first_run_id, links_id in rows] == [
        (first, rows[0][2]),
        (run, rows[0][2]),
    ]
    assert len(stored_links(opened.engine)) == 1
    assert errors(archive_url) == []


def _old_links(engine: Engine) -> dict[int, Any]:
    """listing_pages.id -> links, read from the column 0009 has."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    pages = sa.table("listing_pages", sa.column("id", sa.Integer), sa.column("links", json_type))
    with engine.connect() as conn:
        return dict(conn.execute(select(pages.c.id, pages.c.links).order_by(pages.c.id)).all())


def _new_links(engine: Engine) -> dict[int, Any]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                select(ListingPage.id, ListingLinks.links)
                .outerjoin(ListingLinks, ListingLinks.id == ListingPage.links_id)
                .order_by(ListingPage.id)
            ).all()
        )


def test_db_upgrade_moves_the_links_and_every_view_reads_the_same(archive_url: str) -> None:
    """An archive at 0009 (links in every listing row) upgraded to 0010: one list per
    distinct links, each row's links the same, every view's rows the same, `db check`
    clean; the downgrade puts `listing_pages.links` back as it was."""

    links = [RECORDS[ONE]["url"], RECORDS[TWO]["url"]]
    archive = Archive.open(archive_url, batch_size=3)
    try:
        first_run(archive, *RECORDS.values())
        unchanged_run(archive)
        for n in range(3):  # the landing page: its counts change every run, not its links
            run = archive.start_run("full", site_root=SITE)
            archive.save_listing(
                run,
                listing(
                    LANDING,
                    kind="landing",
                    tag_id=None,
                    links=links,
                    tag_counts=sidebar(breast=700 + n),
                ),
                raw=f"<html>landing {n}</html>".encode(),
                url=LANDING,
            )
            archive.save_listing(
                run,
                listing(links=links[: 1 + n % 2]),
                raw=f"<html>f{n}</html>".encode(),
                url=FACET_URL,
            )
            archive.finish_run(run, "completed")
        unchanged_run(archive)
    finally:
        archive.close()
    engine = storage_db.make_engine(archive_url)
    try:
        current = _new_links(engine)
        lists = len(stored_links(engine))
        migrate(engine, "0009")
        before_0010 = _old_links(engine)
        before = snapshot(engine)
        assert storage_db.upgrade(engine) == ("0009", storage_db.head_revision())
        after = snapshot(engine)
        upgraded = _new_links(engine)
        upgraded_lists = len(stored_links(engine))
        with engine.connect() as conn:
            pages = conn.scalar(select(func.count()).select_from(ListingPage))
        assert errors(archive_url) == []
        migrate(engine, "0009")
        downgraded = _old_links(engine)
        migrate(engine, "head")
    finally:
        engine.dispose()

    assert before_0010 == current  # 0009 held every row's links, the same
    assert upgraded == current
    assert upgraded_lists == lists == 3 < pages  # all three, two, one of the articles
    for view in before:
        assert after[view] == before[view], view
    assert before["tag_count_series"] and before["current_articles"]
    assert downgraded == before_0010
    assert errors(archive_url) == []
