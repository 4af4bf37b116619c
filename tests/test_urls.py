"""crawler/urls.py: the URL rules under both schemes, the AEM site's and the redesign's."""

from __future__ import annotations

import pytest

from crawler.urls import (
    SITE,
    article_key,
    is_archive_url,
    is_article_url,
    listing_kind,
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
