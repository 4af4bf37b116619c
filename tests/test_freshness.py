"""The freshness policy (crawler/freshness.py): fetch a listed article again or not, and how."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from crawler.freshness import conditional_headers, is_fresh, parse_lastmod
from storage import KnownArticle

URL = "https://www.mdanderson.org/cancerwise/a-story.h00-1.html"
FETCHED = datetime(2026, 6, 1, tzinfo=UTC)
LAST_MODIFIED = "Thu, 01 Jan 2026 12:00:00 GMT"


def known(**changes: Any) -> KnownArticle:
    """The archive's view of a-story: fetched on June 1st, served as of January 1st."""
    article = KnownArticle(
        article_key="cancerwise/a-story",
        last_url=URL,
        last_fetched_at=FETCHED,
        etag='"abc"',
        last_modified=LAST_MODIFIED,
        status="active",
    )
    return dataclasses.replace(article, **changes)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-08-19", datetime(2026, 8, 20, tzinfo=UTC)),  # a date is its day's end
        (" 2026-08-19\n", datetime(2026, 8, 20, tzinfo=UTC)),
        ("2026-08-19T10:00:00+02:00", datetime(2026, 8, 19, 8, tzinfo=UTC)),
        ("2026-08-19T10:00:00Z", datetime(2026, 8, 19, 10, tzinfo=UTC)),
        ("2026-08-19T10:00:00", datetime(2026, 8, 19, 10, tzinfo=UTC)),  # naive: UTC
        ("2026-13-01", None),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_lastmod(text: str | None, expected: datetime | None) -> None:
    assert parse_lastmod(text) == expected


# (lastmod, changes to the known article, URL listed, mode) -> not fetched?
FRESHNESS = {
    # The sitemap's lastmod against the last fetch.
    "older than the last fetch": ("2025-12-01T00:00:00Z", {}, URL, "incremental", True),
    "equal to the last fetch": (
        "2026-06-01T00:00:00Z",
        {"last_modified": None},
        URL,
        "incremental",
        True,
    ),
    "newer than the last fetch": ("2026-06-01T00:00:01Z", {}, URL, "incremental", False),
    "never fetched (seen only)": (
        "2025-12-01T00:00:00Z",
        {"last_fetched_at": None},
        URL,
        "incremental",
        False,
    ),
    # The lastmod against the stored Last-Modified (the server's clock with itself).
    "equal to Last-Modified": ("2026-01-01T12:00:00Z", {}, URL, "incremental", True),
    "newer than Last-Modified, older than the fetch": (
        "2026-03-01T00:00:00Z",
        {},
        URL,
        "incremental",
        False,
    ),
    "older than a newer Last-Modified": (
        "2026-03-01T00:00:00Z",
        {"last_modified": "Mon, 01 Jun 2026 00:00:00 GMT"},
        URL,
        "incremental",
        True,
    ),
    "Last-Modified unparseable": (
        "2026-03-01T00:00:00Z",
        {"last_modified": "soon"},
        URL,
        "incremental",
        True,
    ),
    "Last-Modified missing": (
        "2026-03-01T00:00:00Z",
        {"last_modified": None},
        URL,
        "incremental",
        True,
    ),
    "Last-Modified empty": (
        "2026-03-01T00:00:00Z",
        {"last_modified": ""},
        URL,
        "incremental",
        True,
    ),
    "Last-Modified without a zone is UTC": (
        "2026-01-01T12:00:00Z",
        {"last_modified": "Thu, 01 Jan 2026 12:00:00"},
        URL,
        "incremental",
        True,
    ),
    # Date-only lastmod: its day's end, and Last-Modified compared to the day.
    "date-only, its day ends at the fetch": (
        "2026-05-31",
        {"last_modified": None},
        URL,
        "incremental",
        True,
    ),
    "date-only, the fetch day itself": (
        "2026-06-01",
        {"last_modified": None},
        URL,
        "incremental",
        False,
    ),
    "date-only, the day of Last-Modified": ("2026-01-01", {}, URL, "incremental", True),
    "date-only, the day after Last-Modified": ("2026-01-02", {}, URL, "incremental", False),
    "datetime, later the same day as Last-Modified": (
        "2026-01-01T13:00:00Z",
        {},
        URL,
        "incremental",
        False,
    ),
    # Naive and aware times.
    "naive lastmod is UTC, before": (
        "2026-05-31T23:00:00",
        {"last_modified": None},
        URL,
        "incremental",
        True,
    ),
    "naive lastmod is UTC, after": (
        "2026-06-01T01:00:00",
        {"last_modified": None},
        URL,
        "incremental",
        False,
    ),
    "offset lastmod, before in UTC": (
        "2026-06-01T01:00:00+02:00",
        {"last_modified": None},
        URL,
        "incremental",
        True,
    ),
    "offset lastmod, after in UTC": (
        "2026-06-01T03:00:00+02:00",
        {"last_modified": None},
        URL,
        "incremental",
        False,
    ),
    "naive last fetch is UTC, before": (
        "2026-05-31T23:00:00Z",
        {"last_fetched_at": datetime(2026, 6, 1), "last_modified": None},
        URL,
        "incremental",
        True,
    ),
    "naive last fetch is UTC, after": (
        "2026-06-01T01:00:00Z",
        {"last_fetched_at": datetime(2026, 6, 1), "last_modified": None},
        URL,
        "incremental",
        False,
    ),
    # Which page, which mode.
    "the same page from another host": (
        "2025-12-01T00:00:00Z",
        {},
        "http://127.0.0.1:8000/cancerwise/a-story.h00-1.html",
        "incremental",
        True,
    ),
    "a new h00 URL is another page": (
        "2025-12-01T00:00:00Z",
        {},
        URL.replace("h00-1", "h00-9"),
        "incremental",
        False,
    ),
    "full mode fetches everything": ("2025-12-01T00:00:00Z", {}, URL, "full", False),
    "no lastmod": (None, {}, URL, "incremental", False),
    "an unreadable lastmod": ("yesterday", {}, URL, "incremental", False),
}


@pytest.mark.parametrize(
    ("lastmod", "changes", "url", "mode", "fresh"), FRESHNESS.values(), ids=FRESHNESS.keys()
)
def test_is_fresh(
    lastmod: str | None, changes: dict[str, Any], url: str, mode: str, fresh: bool
) -> None:
    assert is_fresh(lastmod, known(**changes), url, mode=mode) is fresh


def test_an_unknown_article_is_never_fresh() -> None:
    assert is_fresh("2000-01-01", None, URL, mode="incremental") is False


BOTH = {"If-None-Match": '"abc"', "If-Modified-Since": LAST_MODIFIED}

# (changes to the known article, URL requested, mode) -> headers
CONDITIONAL = {
    "both validators": ({}, URL, "incremental", BOTH),
    "the same page from another host": (
        {},
        "http://127.0.0.1:8000/cancerwise/a-story.h00-1.html",
        "incremental",
        BOTH,
    ),
    "etag only": ({"last_modified": None}, URL, "incremental", {"If-None-Match": '"abc"'}),
    "last-modified only": (
        {"etag": None},
        URL,
        "incremental",
        {"If-Modified-Since": LAST_MODIFIED},
    ),
    "empty validators": ({"etag": "", "last_modified": ""}, URL, "incremental", {}),
    "no validators": ({"etag": None, "last_modified": None}, URL, "incremental", {}),
    "a new h00 URL": ({}, URL.replace("h00-1", "h00-9"), "incremental", {}),
    "full mode": ({}, URL, "full", {}),
}


@pytest.mark.parametrize(
    ("changes", "url", "mode", "headers"), CONDITIONAL.values(), ids=CONDITIONAL.keys()
)
def test_conditional_headers(
    changes: dict[str, Any], url: str, mode: str, headers: dict[str, str]
) -> None:
    assert conditional_headers(known(**changes), url, mode=mode) == headers


def test_no_conditional_headers_for_an_unknown_article() -> None:
    assert conditional_headers(None, URL, mode="incremental") == {}
