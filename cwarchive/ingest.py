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
    from crawler.parsers import PARSER_VERSION
    from storage.pages import Page, store_page

    readings = [_read(saved, url) for saved in files]
    keys = _article_keys(archive, [r for r in readings if isinstance(r, dict)])
    run = archive.start_run("ingest", site_root="file://", parser_version=PARSER_VERSION)
    done = Ingested(run)
    status = "failed"
    try:
        for saved, reading in zip(files, readings, strict=True):
            detail: dict[str, Any]
            if isinstance(reading, str):
                # A file that is not a record: stored as a parse error, no HTTP status.
                page = Page(url=url or saved.name, http_status=None, error=reading, raw=saved.raw)
                detail = {"reason": reading}
            else:
                listing = reading["page_type"] != "article"
                key = "" if listing else keys[reading["canonical_url"]]
                page = Page(
                    url=reading["url"],
                    http_status=200,
                    record=reading,
                    raw=saved.raw,
                    fetched_at=dt.datetime.fromtimestamp(saved.mtime, dt.UTC),
                    listing=listing,
                    article_key=key,
                )
                detail = {"url": reading["url"]} if listing else {"article_key": key}
            outcome = store_page(archive, run, page)
            done.files.append({"file": saved.name, "result": outcome, **detail})
            done.totals[SUMMARY_KEY.get(outcome, outcome)] += 1
        status = "completed"
    finally:
        archive.finish_run(run, status, pages_fetched=len(files))
    return done


def _read(saved: SavedFile, url: str | None) -> dict[str, Any] | str:
    """The file's record, or the reason it is none."""
    from crawler.parsers import PageError, parse_page

    try:
        return parse_page(saved.raw, url)
    except PageError as error:
        return error.reason


def _article_keys(archive: Archive, records: list[dict[str, Any]]) -> dict[str, str]:
    """Each article page's key by the crawl's identity rule (`choose_article_key`): the
    files ingested together are what this run lists, so twins (one slug, two codes) are
    two articles here too."""
    from common.urls import article_key, choose_article_key

    listed: dict[str, set[str]] = {}
    for record in records:
        if record["page_type"] == "article":
            listed.setdefault(article_key(record["canonical_url"]), set()).add(
                record["canonical_url"]
            )
    holders = {key: known.last_url for key, known in archive.known_articles().items()}
    return {url: choose_article_key(url, urls, holders) for urls in listed.values() for url in urls}
