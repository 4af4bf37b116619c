"""crawler/urls.py: the URL rules under both schemes, the AEM site's and the redesign's."""

from __future__ import annotations

import pytest

from common.urls import (
    SITE,
    article_key,
    is_archive_url,
    is_article_url,
    is_same_site,
    join_base,
    listing_kind,
    origin_of,
    resolve,
    section_of,
)


@pytest.mark.parametrize(
    "path",
    [
        "/cancerwise/how-to-cope-with-insomnia-during-cancer-treatment.h00-159856134.html",
        "/cancerwise/how-to-cope-with-insomnia-during-cancer-treatment.html",
        "/cancerwise/how-to-cope-with-insomnia-during-cancer-treatment",
    ],
)
def test_one_article_under_every_scheme(path: str) -> None:
    key = article_key(SITE + path)
    assert key == "cancerwise/how-to-cope-with-insomnia-during-cancer-treatment"
    assert section_of(SITE + path) == "cancerwise"


def test_existing_keys_are_unchanged() -> None:
    """Keys already stored stay what they were: slugs with dashes, cut slugs, publications."""
    cases = {
        "/cancerwise/-how-i-knew-i-had-colorectal-cancer---six-survivors-share-symptoms"
        ".h00-159701034.html": "cancerwise/-how-i-knew-i-had-colorectal-cancer---six-"
        "survivors-share-symptoms",
        "/cancerwise/-5-ways-our-social-work-counselors-can-help-during-cancer-treatm"
        ".h00-159226701.html": "cancerwise/-5-ways-our-social-work-counselors-can-help-"
        "during-cancer-treatm",
        "/publications/cancer-frontline/how-melanoma-resists-immunotherapy-drug"
        ".h00-159070290.html": "publications/cancer-frontline/how-melanoma-resists-"
        "immunotherapy-drug",
        "/cancerwise/2026/06.html": "cancerwise/2026/06",
    }
    for path, key in cases.items():
        assert article_key(SITE + path) == key
        assert article_key("http://127.0.0.1:8000" + path + "?page=2") == key


@pytest.mark.parametrize(
    ("path", "article"),
    [
        ("/cancerwise/x.h00-159856134.html", True),
        ("/cancerwise/x", True),  # the redesign's extension-less article URL
        ("/publications/cancer-frontline/x", True),
        ("/cancerwise/x.html", False),  # not claimed by its URL: known by its content
        ("/cancerwise/2026", False),  # a year archive, not a slug
        ("/cancerwise/2026/06", False),
        ("/cancerwise", False),
        ("/cancerwise/a/b", False),
        ("/newsroom/x", False),
        ("/newsroom/x.h00-159536589.html", False),
    ],
)
def test_article_urls(path: str, article: bool) -> None:
    assert is_article_url(SITE + path) is article


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/cancerwise.html", "landing"),
        ("/cancerwise", "landing"),
        ("/publications/cancer-frontline", "landing"),
        ("/cancerwise/2026.html", "archive"),
        ("/cancerwise/2026/06.html", "archive"),
        ("/cancerwise/2026", "archive"),
        ("/cancerwise/2026/06", "archive"),
        ("/cancerwise.dir.html", "directory"),
        ("/cancerwise.dir.html/category/content/cq:tags/md-anderson/diseases/x", "facet"),
        ("/cancerwise.dir.html/author/Roman%20Gokhman", "author"),
        ("/cancerwise/x", None),
        ("/cancerwise/x.h00-1.html", None),
    ],
)
def test_listing_kinds(path: str, kind: str | None) -> None:
    assert listing_kind(SITE + path) == kind
    assert is_archive_url(SITE + path) is (kind == "archive")


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("/cancerwise/a/b", "cancerwise"),  # under the section, whatever the path
        ("/cancerwise/x.html", "cancerwise"),
        ("/publications/cancer-frontline/x", "publications/cancer-frontline"),
        ("/cancerwise-sitemap.xml", None),
        ("/cancerwiseextra/x", None),
        ("/publications.html", None),
        ("/newsroom/x", None),
    ],
)
def test_sections(path: str, section: str | None) -> None:
    assert section_of(SITE + path) == section


_BASES = [
    "http://127.0.0.1:8765/cancerwise.dir.html/author/X%20Y?page=2#f",
    "https://www.mdanderson.org/cancerwise/2019/03.html",
    "HTTP://127.0.0.1:8765/a/b/",
    "ftp://www.mdanderson.org/cancerwise/x",
    "http:cancerwise/x",  # a scheme and no host
    "//127.0.0.1:8765/cancerwise/x",  # no scheme: no origin
    "http://[::1/cancerwise",  # no URL at all
    "",
]


@pytest.mark.parametrize(
    ("href", "by_origin"),
    [
        ("https://www.mdanderson.org/cancerwise/x.h00-1.html?page=2#top", True),
        ("HTTP://WWW.MDANDERSON.ORG/cancerwise", True),
        ("//127.0.0.1:8765/cancerwise/2019.html", True),
        ("/cancerwise/../cancerwise/x", True),
        ("/", True),
        (" https://www.mdanderson.org/cancerwise\u3000", True),  # resolve() strips it
        ("http://[www.mdanderson.org/x", True),  # no URL whatever the base
        # These read the base's path or query.
        ("cancerwise/x", False),
        ("?page=3", False),
        ("../x", False),
        ("http:x", False),  # the base's scheme: relative to its path
        ("http://", False),  # no host: the base's path and query
        ("// ", False),  # `//` once stripped
        ("///x", False),
        ("/\t/x", False),  # `//x` once urlsplit deletes the tab
        ("h\nttp://host/x", False),
    ],
)
def test_join_base_resolves_as_the_full_base(href: str, by_origin: bool) -> None:
    base = _BASES[0]
    assert (join_base(href, base, origin_of(base)) != base) is by_origin
    for base in _BASES:
        joined = join_base(href, base, origin_of(base))
        absolute = resolve(href, base)
        assert resolve(href, joined) == absolute
        if absolute is not None and base:
            assert is_same_site(absolute, joined) == is_same_site(absolute, base)


def test_origin_of() -> None:
    assert origin_of("HTTP://127.0.0.1:8765/a/b?c#d") == "http://127.0.0.1:8765/"
    assert origin_of("//127.0.0.1:8765/a") is None
    assert origin_of("http://[::1/a") is None
