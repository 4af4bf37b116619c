"""The parser never raises anything but PageError, whatever it is given."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.parsers import PageError, parse_page
from tests.reference import INSOMNIA_PAGE, reference_file

ARTICLE_URL = "https://www.mdanderson.org/cancerwise/some-article.h00-159856134.html"
LISTING_URL = (
    "https://www.mdanderson.org/cancerwise.dir.html/category/content/cq:tags/md-anderson/diseases/x"
)
_TAGS = ["p", "div", "h1", "h2", "h3", "ul", "li", "a", "span", "aside", "nav", "table", "td", "br"]


def _fragment() -> st.SearchStrategy[str]:
    text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
    snippets = st.sampled_from(
        [
            "BY ",
            "8 minute read | Published June 08, 2026",
            "Last reviewed by ",
            " on June 08, 2026",
            "Key takeaways:",
            "More stories from Cancerwise",
            "Breast Cancer (708)",
            "<a href='/cancerwise.dir.html/category/content/cq:tags/md-anderson/diseases/x'>",
            "</html>",
            "<h1>",
            "Published ",
            "M.D.,",
            " and ",
            # Edge Delivery Services: blocks, unlabelled rows, metadata
            "<main><div>",
            '<div class="article-header"><div><div>',
            '<div class="byline"><div><div>',
            '<div class="section-nav topics">',
            '<div class="metadata"><div><div>Publishdate</div><div>',
            '<div class="quote rail">',
            "<meta name='template' content='blog-article'>",
            "<meta name='reviewdate' content='2026-06-10'>",
            "8 minute read",
            "June 08, 2026",
            "<li>Diseases<ul>",
        ]
    )
    tags = st.sampled_from(_TAGS).map(lambda t: f"<{t}>")
    closers = st.sampled_from(_TAGS).map(lambda t: f"</{t}>")
    return st.lists(st.one_of(text, snippets, tags, closers), max_size=60).map("".join)


def _parse_or_page_error(html: bytes | str, url: str | None) -> None:
    try:
        record = parse_page(html, url)
    except PageError as error:
        assert error.reason and "\n" not in error.reason
    else:
        assert record["page_type"] in ("article", "listing")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000), st.sampled_from([None, ARTICLE_URL, LISTING_URL]))
def test_arbitrary_bytes(data: bytes, url: str | None) -> None:
    _parse_or_page_error(data, url)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_fragment(), st.sampled_from([ARTICLE_URL, LISTING_URL, "http://127.0.0.1:1/x.html"]))
def test_arbitrary_markup(html: str, url: str) -> None:
    _parse_or_page_error(html, url)


# Read at import so hypothesis can size its strategies; an absent page skips the test.
_REAL = INSOMNIA_PAGE.read_bytes() if INSOMNIA_PAGE.exists() else b""


@pytest.fixture
def real_page() -> bytes:
    reference_file(INSOMNIA_PAGE)  # skips, printing why, where the reference is absent
    return _REAL


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.integers(0, max(len(_REAL) - 1, 0)),
    st.integers(0, max(len(_REAL) - 1, 0)),
    st.binary(max_size=50),
)
def test_mangled_real_page(real_page: bytes, start: int, end: int, junk: bytes) -> None:
    """Cut, spliced or corrupted copies of a real page: a record or a clean error."""
    start, end = sorted((start, end))
    _parse_or_page_error(real_page[:start] + junk + real_page[end:], ARTICLE_URL)


_EDS = (
    Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "insomnia-named-reviewer-eds.html"
).read_bytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(_EDS) - 1), st.integers(0, len(_EDS) - 1), st.binary(max_size=50))
def test_mangled_eds_page(start: int, end: int, junk: bytes) -> None:
    """The same for a page in EDS blocks (unlabelled rows, meta tags)."""
    start, end = sorted((start, end))
    _parse_or_page_error(
        _EDS[:start] + junk + _EDS[end:], "https://www.mdanderson.org/cancerwise/x"
    )
