"""How a page becomes rows: the writer's decisions, written once for every way of saving.

`storage.archive.Archive` applies them through a store (`storage.batch.BatchStore` in
one process, `storage.shared.SharedStore` for several): the store says where an
article's state comes from and how rows reach the database, never what they are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from common.record import FORMER_CONTENT_FIELDS, content_hash
from storage.models import RUN_COUNTERS, VERSION_FIELDS, version_record
from storage.unit_of_work import ArticleState, Ref

RUN_MODES = ("full", "incremental", "reparse", "ingest")
FINISH_STATUSES = ("completed", "interrupted", "failed")
# What shows an article is there: a gone (404) met in the same run is only evidence,
# which either cancels (`storage.runs.apply_removals`).
SIGHTINGS = frozenset({"fetched", "seen"})


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def new_run_row(mode: str, site_root: str, parser_version: str) -> dict[str, Any]:
    if mode not in RUN_MODES:
        raise ValueError(f"unknown run mode {mode!r}: one of {', '.join(RUN_MODES)}")
    return {
        "started_at": now(),
        "site_root": site_root,
        "mode": mode,
        "status": "running",
        "parser_version": parser_version,
        **{name: 0 for name in (*RUN_COUNTERS, "pages_fetched", "articles_removed")},
    }


def check_finish_status(status: str) -> None:
    if status not in FINISH_STATUSES:
        raise ValueError(f"unknown status {status!r}: one of {', '.join(FINISH_STATUSES)}")


def fetched_mark(url: str, raw_sha256: str) -> tuple[str, str, str]:
    return ("fetched", url, raw_sha256)


SEEN = ("seen",)


def gone_mark(url: str) -> tuple[str, str]:
    return ("gone", url)


def fetch_outcome(
    state: ArticleState, new: bool, run_id: int, record: dict[str, Any], capture: tuple[str, ...]
) -> str:
    """ "new", "changed", "unchanged", or "duplicate": the same capture (URL and bytes) of
    the article was saved already in this run (a request fetched again after the worker
    that saved it was killed). Another capture is kept, whatever the run met before:
    pages of several dates ingested in one run are each a version or an observation."""
    if new:
        return "new"
    if capture in state.met_in(run_id):
        return "duplicate"
    return "unchanged" if state.content_hash == record["content_hash"] else "changed"


def seen_again(state: ArticleState, run_id: int) -> bool:
    """A sighting adds nothing where the run fetched or saw the article already."""
    sighting = state.sighting
    if sighting is not None and covers(sighting.first_run_id, sighting.last_run_id, run_id):
        return True
    return any(mark[0] in SIGHTINGS for mark in state.met_in(run_id))


# -- runs as ranges -------------------------------------------------------------------------
# A row of `observations` (a sighting), `listing_pages` or `article_tags` holds for runs
# `run_id` through `last_run_id`, consecutive runs of the archive: what a run sees as the
# run before it saw it extends the row instead of adding one (an unchanged run adds
# almost nothing). "Consecutive" is by the archive's runs, whatever their mode or status:
# the run before `run_id` is the greatest run id below it (`previous_run`), so a range
# never claims a run that did not see it.


def covers(first_run: int, last_run: int, run_id: int) -> bool:
    return first_run <= run_id <= last_run


def continues(last_run: int | None, previous_run: int | None) -> bool:
    """A range that ended in the run before this one continues into it."""
    return last_run is not None and previous_run is not None and last_run == previous_run


def sighting_continues(
    state: ArticleState, previous_run: int | None, url: str, http_status: int | None
) -> bool:
    """A sighting extends the article's last range of sightings when that range ended in
    the run before and saw its current version at this URL with this status."""
    sighting = state.sighting
    return (
        sighting is not None
        and continues(sighting.last_run_id, previous_run)
        and state.version is not None
        and state.version.id is not None
        and sighting.version_id == state.version.id
        and (sighting.url, sighting.http_status) == (url, http_status)
    )


# What a listing page's row says of its content, beside the runs, the fetch time and the
# validators.
LISTING_CONTENT = ("listing_kind", "tag_pk", "article_links", "raw_page_id", "sidebar_id")


def same_listing(
    last: Any, row: dict[str, Any], links: dict[str, Any], parser_version: str
) -> bool:
    """A listing page read whole (200) as its `last` row (a `KnownListing`) has it, with
    these `links`, by the same parser (the links another parser found are not followed
    again: `storage.known.known_listings`)."""

    def value(v: Any) -> Any:
        return v.id if isinstance(v, Ref) else v

    return (
        last.parser_version == parser_version
        and all(value(row[name]) == getattr(last, name) for name in LISTING_CONTENT)
        and links == last.links
    )


def listing_continues(last: Any, previous_run: int | None, sent_etag: str | None) -> bool:
    """A listing page not modified (304) extends its `last` row (a `KnownListing`) when
    that row ended in the run before and the 304 named no other ETag (the content's
    identity; a new Last-Modified of the same bytes is carried onto the row,
    `newer_validators`). A crawl asks with the validators of its own parser's rows only."""
    return continues(last.last_run_id, previous_run) and (
        sent_etag is None or sent_etag == last.etag
    )


def newer_validators(last: Any, etag: str | None, last_modified: str | None) -> dict[str, Any]:
    """The validators a response sent that differ from those `last` kept: a range's row
    keeps the latest, which the next conditional request sends."""
    sent = {"etag": etag, "last_modified": last_modified}
    return {
        name: value
        for name, value in sent.items()
        if value is not None and value != getattr(last, name)
    }


def gone_again(state: ArticleState, run_id: int, url: str) -> bool:
    """Evidence of removal is kept once per URL a run."""
    return gone_mark(url) in state.met_in(run_id)


def comparable_hash(stored_hash: str | None, parser_version: str, row: Any, key: str) -> str | None:
    """The hash a fetched page is compared with: a version stored by a parser with another
    hash rule (parser 1 hashed `filed_month`) is rehashed by today's rule, else every
    unchanged article would become a new version after an upgrade. The stored hash stays
    as that parser wrote it."""
    if parser_version in FORMER_CONTENT_FIELDS and row is not None:
        return content_hash(version_record(row, key))
    return stored_hash


def version_row(
    record: dict[str, Any], article_id: Any, number: int, parser_version: str, run_id: int
) -> dict[str, Any]:
    """The `versions` row of a record."""
    row = {name: record.get(name) for name in VERSION_FIELDS}
    row["published"] = iso_date(row["published"])
    row["reviewed"] = iso_date(row["reviewed"])
    for name in ("authors", "reviewers", "key_takeaways", "headings"):
        row[name] = row[name] or []
    row.update(
        article_id=article_id, number=number, parser_version=parser_version, first_run_id=run_id
    )
    return row


def reviewer_rows(version_id: Any, row: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"version_id": version_id, "position": position, "name": r["name"], "url": r.get("url")}
        for position, r in enumerate(row["reviewers"])
    ]


def observation_row(
    run_id: int,
    state: ArticleState,
    kind: str,
    url: str,
    http_status: int | None,
    observed_at: dt.datetime | None = None,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    raw_page_id: Any = None,
    sidebar_id: Any = None,
) -> dict[str, Any]:
    """An observation of the article in a run: of its current version, or of none (gone)."""
    return {
        "run_id": run_id,
        "last_run_id": run_id,
        "article_id": state.ref,
        "kind": kind,
        "version_id": None if kind == "gone" else state.version,
        "url": url,
        "http_status": http_status,
        "observed_at": observed_at or now(),
        "etag": etag,
        "last_modified": last_modified,
        "raw_page_id": raw_page_id,
        "sidebar_id": sidebar_id,
    }
