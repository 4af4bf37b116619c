"""Reading rows kept as ranges of runs (`run_id` through `last_run_id`) through indexes
that do not hold `last_run_id` (migration 0008: a range that grows is then updated in
place). One article's ranges of sightings never overlap (a run sees an article once), so
the one that starts last is the one that ends last.

Each read here is a probe per article or per listing page, so it costs as many index
lookups as the site has pages, whatever the history; the writer's start, the readers
and `cwarchive articles` share them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    ScalarSelect,
    Select,
    Subquery,
    func,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import aliased

from storage.models import Article, ListingHead, ListingPage, Observation, Version


def _latest(article_id: ColumnElement[Any] | int, kind: str, *names: str) -> Select[Any]:
    """The columns `names` of the article's row of `kind` that starts last: one probe of
    observations(article_id, kind, run_id, id), in that index's order (migration 0009)."""
    row = aliased(Observation)
    return (
        select(*(getattr(row, name) for name in names))
        .where(row.article_id == article_id, row.kind == kind)
        .order_by(row.run_id.desc(), row.id.desc())
        .limit(1)
        .correlate_except(row)
    )


def last_observation_id(article_id: ColumnElement[Any] | int, kind: str) -> ScalarSelect[Any]:
    """The id of the article's row of `kind` that starts last: its last fetch, or its
    range of sightings that a run may continue."""
    return _latest(article_id, kind, "id").scalar_subquery()


def last_sighting_id(article_id: ColumnElement[Any] | int) -> ScalarSelect[Any]:
    """The id of the article's range of sightings that starts last (the one a run may
    continue)."""
    return last_observation_id(article_id, "seen")


def latest_of_each_article(dialect: str, kind: str, *names: str) -> Subquery:
    """Each article's row of `kind` that starts last (its last fetch, its range of
    sightings a run may continue): the columns `names`, one index probe an article.

    PostgreSQL probes laterally, article by article. Asked for `id IN (the probes)`, it
    planned a hash of the whole table instead, which grows with the runs (30 ms at week
    520 of benchmarks/growth.py, against 8); SQLite reads that form by rowid."""
    if dialect == "postgresql":
        latest = _latest(Article.id, kind, *names).lateral()
        return select(latest).select_from(Article).join(latest, true()).subquery()
    probes = select(last_observation_id(Article.id, kind)).select_from(Article)
    columns = (getattr(Observation, name) for name in names)
    return select(*columns).where(Observation.id.in_(probes)).subquery()


def current_raw_page_ids(dialect: str) -> CompoundSelect:
    """The raw pages a crawl may fetch again byte for byte: each article's last fetch
    and each listing page's head (as many as the site has pages, whatever the history)."""
    fetches = latest_of_each_article(dialect, "fetched", "raw_page_id")
    return union_all(select(fetches.c.raw_page_id), _of_heads(ListingPage.raw_page_id))


def current_links_ids() -> Select[Any]:
    """The link lists of each listing page's head: what a 304 or the same page again
    reads (as many as the site has listing pages, whatever the history)."""
    return _of_heads(ListingPage.links_id)


def _of_heads(column: Any) -> Select[Any]:
    """`column` of each listing page's latest row (`listing_heads`)."""
    return select(column).join(ListingHead, ListingHead.listing_page_id == ListingPage.id)


def highest_version_number(article_id: ColumnElement[Any]) -> ScalarSelect[Any]:
    """The article's highest version number, its version count (numbers are 1..n: `db
    check`), null without versions: one probe of versions(article_id, number), not a
    grouping of every version the archive holds (`current_articles` says the same in
    SQL, migration 0008)."""
    numbers = aliased(Version)
    return (
        select(func.max(numbers.number))
        .where(numbers.article_id == article_id)
        .correlate_except(numbers)
        .scalar_subquery()
    )


def article_last_run(article_id: ColumnElement[Any]) -> ScalarSelect[Any]:
    """The last run that fetched or saw the article: its last fetch (one run) or the end
    of its last range of sightings, whichever is later (the view `current_articles`
    says the same in SQL, migration 0008)."""
    fetch = aliased(Observation)
    sighting = aliased(Observation)
    fetched = (
        select(func.max(fetch.run_id).label("run"))
        .where(fetch.article_id == article_id, fetch.kind == "fetched")
        .correlate_except(fetch)
    )
    seen = select(
        select(sighting.last_run_id)
        .where(sighting.id == last_sighting_id(article_id))
        .correlate_except(sighting)
        .scalar_subquery()
        .label("run")
    )
    both = union_all(fetched, seen).subquery()
    return select(func.max(both.c.run)).scalar_subquery()


def listing_rows_of_run(run_id: int, *columns: Any) -> CompoundSelect:
    """`columns` of the listing pages' rows that hold for run `run_id`: those it read
    first, and the ranges it continued.

    A continued range is a page's row that starts last before the run and still holds
    for it: found from each page's head by listing_pages(url, run_id), not by reading
    every row the pages ever had. Every page read since migration 0005 has a head."""
    earlier = aliased(ListingPage)
    latest_start = (
        select(func.max(earlier.run_id))
        .where(earlier.url == ListingHead.url, earlier.run_id < run_id)
        .scalar_subquery()
    )
    new = select(*columns).where(ListingPage.run_id == run_id)
    continued = (
        select(*columns)
        .join(ListingHead, ListingHead.url == ListingPage.url)
        .where(ListingPage.run_id == latest_start, ListingPage.last_run_id >= run_id)
    )
    return union_all(new, continued)
