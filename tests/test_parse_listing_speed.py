"""parse_listing's shortcuts (links classified once for every page, the next link's
text read only when it can be one) give the records the plain reading gives."""

from __future__ import annotations

import pytest
from lxml import etree

from crawler.parsers.listing import _site_link, parse_listing

ROOT = "http://127.0.0.1:8765"
CARD = '<div class="card"><a href="{href}">A title {n}</a><span>March 4, 2021</span></div>'


def _listing(*hrefs: str, tail: str = "") -> etree._Element:
    cards = "".join(CARD.format(href=href, n=n) for n, href in enumerate(hrefs))
    return etree.fromstring(f"<html><body>{cards}{tail}</body></html>", etree.HTMLParser())


def _links(url: str, *hrefs: str) -> list[str]:
    return parse_listing(_listing(*hrefs), url, "archive")["article_links"]


@pytest.fixture(autouse=True)
def _cold_cache() -> None:
    _site_link.cache_clear()


def test_a_relative_href_resolves_against_each_page() -> None:
    assert _links(f"{ROOT}/cancerwise/2020.html", "x.h00-1.html") == [
        "https://www.mdanderson.org/cancerwise/x.h00-1.html"
    ]
    assert _links(f"{ROOT}/publications/cancer-frontline/2020.html", "x.h00-1.html") == [
        "https://www.mdanderson.org/publications/cancer-frontline/x.h00-1.html"
    ]
    # /cancerwise/2020/x.h00-1.html: no article URL
    assert _links(f"{ROOT}/cancerwise/2020/03.html", "x.h00-1.html") == []


def test_a_link_to_the_replay_host_is_the_site_only_on_that_host() -> None:
    href = f"{ROOT}/cancerwise/x.h00-1.html"
    assert _links(f"{ROOT}/cancerwise/2019.html", href) == [
        "https://www.mdanderson.org/cancerwise/x.h00-1.html"
    ]
    assert _links("http://127.0.0.1:9999/cancerwise/2019.html", href) == []
    assert _links(f"{ROOT}/cancerwise.dir.html?page=2", "/cancerwise/y") == [
        "https://www.mdanderson.org/cancerwise/y"
    ]
    assert _links("https://www.mdanderson.org/cancerwise.html", "/cancerwise/y") == [
        "https://www.mdanderson.org/cancerwise/y"
    ]


def test_a_cached_link_gives_the_record_a_first_reading_gives() -> None:
    hrefs = (
        "/cancerwise/x.h00-1.html",
        "https://www.mdanderson.org/cancerwise/y?page=2#top",
        "../z.h00-2.html",
        "//127.0.0.1:8765/cancerwise/2019/03.html",
        "http://[www.mdanderson.org/cancerwise/bad",
        "/cancerwise/x.h00-1.html",
    )
    pages = [f"{ROOT}/cancerwise/2019/03.html", f"{ROOT}/cancerwise.dir.html?page=2"]
    first = [parse_listing(_listing(*hrefs), url, "archive") for url in pages]
    assert _site_link.cache_info().hits > 0  # the repeated href, then the second page's
    assert [parse_listing(_listing(*hrefs), url, "archive") for url in pages] == first
    _site_link.cache_clear()
    assert [parse_listing(_listing(*hrefs), url, "archive") for url in reversed(pages)] == (
        first[::-1]
    )
    assert first[0]["article_links"] == [
        "https://www.mdanderson.org/cancerwise/x.h00-1.html",
        "https://www.mdanderson.org/cancerwise/y",
        "https://www.mdanderson.org/cancerwise/z.h00-2.html",
    ]
    assert first[0]["archive_links"] == ["https://www.mdanderson.org/cancerwise/2019/03.html"]


@pytest.mark.parametrize(
    ("tail", "next_page"),
    [
        ('<a href="?page=3">Next <span>›</span></a>', "/cancerwise.dir.html?page=3"),
        ('<a href="?page=3"> Older\n posts </a>', "/cancerwise.dir.html?page=3"),
        ('<a href="?page=3"><!-- pager -->Next</a>', "/cancerwise.dir.html?page=3"),
        ('<a rel="prev NEXT" href="?page=3">3</a>', "/cancerwise.dir.html?page=3"),
        ('<a href="?page=3">Next time</a>', None),
        ('<a href="https://example.com/next">Next</a>', None),  # off the site
        ('<link rel="next" href="?page=4"><a href="?page=3">3</a>', "/cancerwise.dir.html?page=4"),
    ],
)
def test_the_next_link(tail: str, next_page: str | None) -> None:
    root = _listing("/cancerwise/x.h00-1.html", tail=tail)
    record = parse_listing(root, f"{ROOT}/cancerwise.dir.html?page=2", "directory")
    expected = next_page and f"https://www.mdanderson.org{next_page}"
    assert record["next_page"] == expected
