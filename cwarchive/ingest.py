"""Saved pages into the archive as one `ingest` run (`cwarchive ingest`).

Each file is parsed as `cwarchive parse` reads it and stored through
`storage.pages.store_page`, the rule a crawl's pages follow: articles become versions
and observations, listings their tag counts and article tags, a file that does not
parse a parse error. The fetch time is the file's modification time.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage import Archive

# Outcomes summed under another name; the others (new, changed, ...) under their own.
SUMMARY_KEY = {"listing": "listings", "error": "errors"}


@dataclass(frozen=True)
class SavedFile:
    """A file as read: its name, its bytes and its modification time."""

    name: str
    raw: bytes
    mtime: float


@dataclass
class Ingested:
    run: int
    files: list[dict[str, Any]] = field(default_factory=list)
    totals: Counter[str] = field(default_factory=Counter)


def ingest(archive: Archive, files: list[SavedFile], url: str | None = None) -> Ingested:
    """Store `files` in one run of `archive`: completed, or failed if a save raises.

    `url` is the page's URL when a file does not carry it (one file only).
    """
    from crawler.parsers import PARSER_VERSION, PageError, parse_page
    from storage.pages import Page, store_page

    run = archive.start_run("ingest", site_root="file://", parser_version=PARSER_VERSION)
    done = Ingested(run)
    status = "failed"
    try:
        for saved in files:
            detail: dict[str, Any]
            try:
                record = parse_page(saved.raw, url)
            except PageError as error:
                # A file that is not a record: stored as a parse error, no HTTP status.
                page = Page(
                    url=url or saved.name, http_status=None, error=error.reason, raw=saved.raw
                )
                detail = {"reason": error.reason}
            else:
                listing = record["page_type"] != "article"
                page = Page(
                    url=record["url"],
                    http_status=200,
                    record=record,
                    raw=saved.raw,
                    fetched_at=dt.datetime.fromtimestamp(saved.mtime, dt.UTC),
                    listing=listing,
                )
                detail = (
                    {"url": record["url"]} if listing else {"article_key": record["article_key"]}
                )
            outcome = store_page(archive, run, page)
            done.files.append({"file": saved.name, "result": outcome, **detail})
            done.totals[SUMMARY_KEY.get(outcome, outcome)] += 1
        status = "completed"
    finally:
        archive.finish_run(run, status, pages_fetched=len(files))
    return done
