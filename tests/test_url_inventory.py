"""The URL rules against the real sitemap inventory (`../shared/reference/urls/*.txt`).

Every URL the site's sitemaps list gets its kind and key checked against facts that
nobody here wrote (SITE.md, "What the real URL inventory says"): the expected values
are derived in this file from the URL's text by the facts, not by `common.urls`.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict

import pytest

from common.urls import (
    article_code,
    article_key,
    choose_article_key,
    filed_order,
    section_of,
    url_kind,
)
from tests.reference import REFERENCE, reference_file

SITE_PREFIX = "https://www.mdanderson.org/"
CODED = re.compile(r"^(?P<key>.+)\.(?P<code>h(?P<nn>\d\d)-(?P<n>\d+))\.html$")
ARCHIVE = re.compile(r"^cancerwise/\d{4}(?:/\d{2})?\.html$")
PUBLICATION_LANDING = re.compile(r"^publications/[^/]+\.html$")


def inventory(name: str) -> list[str]:
    return reference_file(REFERENCE / "urls" / f"{name}.txt").read_text().split()


def expected_kind(url: str) -> str:
    """The kind of a listed URL by SITE.md's facts about the inventory."""
    path = url.removeprefix(SITE_PREFIX)
    if not (path.startswith("cancerwise") or path.startswith("publications/")):
        return "other"  # the newsroom and /publications.html: not an archived section
    if CODED.match(path):
        return "article"
    if ARCHIVE.match(path):
        return "archive"
    if PUBLICATION_LANDING.match(path):
        return "landing"
    return "other"  # a publication's issue pages and what they hold: no article URL


@pytest.mark.parametrize("name", ["cancerwise", "publications", "newsroom"])
def test_every_listed_url_has_its_kind_and_key(name: str) -> None:
    urls = inventory(name)
    kinds = Counter()
    for url in urls:
        kind = url_kind(url)
        assert kind == expected_kind(url), url
        kinds[kind] += 1
        if kind == "article":
            match = CODED.match(url.removeprefix(SITE_PREFIX))
            assert match is not None
            assert article_key(url) == match.group("key"), url
            assert article_code(url) == match.group("code")
            # The code is 789 x the month (Cancerwise) or the year (publications) filed.
            number, rest = divmod(int(match.group("n")), 789)
            assert rest == 0, url
            if name == "cancerwise":
                assert match.group("nn") == "00"
                assert 200903 <= number <= 202612 and 1 <= number % 100 <= 12, url
            else:
                assert match.group("nn") != "00"
                assert 1990 <= number <= 2026, url
            # Sections keep the site's spelling (`publications/AdvanceTeam`).
            assert section_of(url) == "/".join(match.group("key").split("/")[:-1])
    counts = {
        "cancerwise": {"article": 3173, "archive": 228},
        "publications": {"article": 740, "landing": 11, "other": 166},
        "newsroom": {"other": len(urls)},
    }
    assert dict(kinds) == counts[name]


def test_mixed_case_sections_are_read_as_spelled() -> None:
    advance = [u for u in inventory("publications") if "/AdvanceTeam/" in u and ".h" in u]
    assert advance, "the inventory lists AdvanceTeam articles"
    for url in advance:
        if url_kind(url) == "article":
            assert section_of(url) == "publications/AdvanceTeam"
            assert article_key(url).startswith("publications/AdvanceTeam/")


def twins_of(urls: list[str]) -> dict[str, list[str]]:
    by_slug: dict[str, list[str]] = defaultdict(list)
    for url in urls:
        if url_kind(url) == "article":
            by_slug[article_key(url)].append(url)
    return {slug: found for slug, found in by_slug.items() if len(found) > 1}


def keys_of(urls: list[str], holders: dict[str, str]) -> dict[str, str]:
    """Each article URL's key, as a crawl that lists `urls` decides it."""
    by_slug: dict[str, list[str]] = defaultdict(list)
    for url in urls:
        by_slug[article_key(url)].append(url)
    return {url: choose_article_key(url, by_slug[article_key(url)], holders) for url in urls}


@pytest.mark.parametrize("name", ["cancerwise", "publications"])
def test_twins_are_two_articles_with_keys_that_stay(name: str) -> None:
    """16 Cancerwise slugs are live under two codes, different articles filed years apart:
    every listed article URL gets a key of its own, whatever order discovery meets them
    in, and the same key in the next run."""
    articles = [u for u in inventory(name) if url_kind(u) == "article"]
    twins = twins_of(articles)
    if name == "cancerwise":
        assert len(twins) == 16
        insomnia = twins["cancerwise/how-to-cope-with-insomnia-during-cancer-treatment"]
        assert sorted(article_code(u) for u in insomnia) == ["h00-158985867", "h00-159856134"]
    first = keys_of(articles, holders={})
    assert len(set(first.values())) == len(articles)  # no article is dropped
    for slug, urls in twins.items():
        # The twin filed first keeps the slug's key; the later one keeps its code.
        earliest = min(urls, key=lambda u: filed_order(article_code(u) or ""))
        assert first[earliest] == slug
        for url in urls:
            if url != earliest:
                assert first[url] == f"{slug}.{article_code(url)}"
    # Any order of discovery, the same keys.
    shuffled = articles[:]
    random.Random(7).shuffle(shuffled)
    assert keys_of(shuffled, holders={}) == first
    # The next run, with the archive holding what the first wrote: the same keys.
    holders = {key: url for url, key in first.items()}
    assert keys_of(articles, holders) == first
    # Older twins that disappear do not hand their keys to the younger ones.
    earliest = {
        min(urls, key=lambda u: filed_order(article_code(u) or "")) for urls in twins.values()
    }
    remaining = [u for u in articles if u not in earliest]
    again = keys_of(remaining, holders)
    assert all(again[u] == first[u] for u in remaining)


def test_a_moved_article_stays_one_article() -> None:
    """A slug listed under one code only is the archive's article of that slug, even at a
    new code (the old URL answers 301): a move, not a twin."""
    old = SITE_PREFIX + "cancerwise/x.h00-159856134.html"
    new = SITE_PREFIX + "cancerwise/x.h00-159857712.html"
    holders = {"cancerwise/x": old}
    assert choose_article_key(new, [new], holders) == "cancerwise/x"
    # Listed together, both answering: twins; the archive's article keeps its URL's key.
    assert choose_article_key(new, [old, new], holders) == "cancerwise/x.h00-159857712"
    assert choose_article_key(old, [old, new], holders) == "cancerwise/x"
    # Held by the younger twin (an archive that merged them): it keeps the slug's key.
    holders = {"cancerwise/x": new}
    assert choose_article_key(old, [old, new], holders) == "cancerwise/x.h00-159856134"
    # The extension-less URL of EDS carries no code: one page per slug.
    assert choose_article_key(SITE_PREFIX + "cancerwise/x", [old, new], holders) == "cancerwise/x"


def test_reference_is_where_the_tests_look() -> None:
    assert REFERENCE.name == "reference"
