"""A listing page (landing, directory, facet, author, archive) to a listing record."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

from lxml import etree

from common.record import Card
from common.urls import (
    canonicalize,
    is_archive_url,
    is_article_url,
    is_same_site,
    join_base,
    origin_of,
    resolve,
    site_url,
    tag_id_from_url,
)
from crawler.parsers.blocks import BLOCK_TAGS, collapse, text_of
from crawler.parsers.dates import DATE_ONLY, parse_date
from crawler.parsers.facets import extract_tag_counts

# Link texts that are not a card's title.
_GENERIC_LINK_TEXT = re.compile(
    r"^(?:keep reading|read more|continue reading|learn more|more)\W*$", re.IGNORECASE
)
_NEXT_TEXTS = frozenset({"next", "next page", "older", "older posts", "›", "»", "next ›", "next »"})
# How far up from a card's link its date may sit (the card's own container).
_CARD_DEPTH = 4


def parse_listing(root: etree._Element, url: str, kind: str) -> dict[str, Any]:
    # Each link is resolved once; cards look up their neighbours' targets here.
    article_of: dict[etree._Element, str] = {}
    archive_links: dict[str, None] = {}  # ordered set
    next_page: str | None = None
    origin = origin_of(url)
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        link = _site_link(href, join_base(href, url, origin))
        if link is None:
            continue
        if next_page is None and _is_next_link(anchor):
            next_page = site_url(link.absolute)
        if link.is_article:
            article_of[anchor] = link.target
        elif link.is_archive:
            archive_links.setdefault(link.target)
    article_links = list(dict.fromkeys(article_of.values()))
    titles: dict[str, str] = {}
    dates: dict[str, str] = {}
    for anchor, target in article_of.items():
        title = text_of(anchor)
        if (
            title
            and target not in titles
            and not _GENERIC_LINK_TEXT.match(title)
            and not _in_prose(anchor, title)
        ):
            titles[target] = title
        if target not in dates and (date := _card_date(anchor, target, article_of)):
            dates[target] = date
    if next_page is None:
        for link in root.xpath('//link[@href][contains(concat(" ", @rel, " "), " next ")]'):
            if (target := resolve(link.get("href"), url)) is not None:
                next_page = site_url(target)
            break
    cards: list[Card] = [
        {"title": titles[link], "url": link, "date": dates.get(link)}
        for link in article_links
        if link in titles
    ]
    return {
        "page_type": "listing",
        "url": url,
        "listing_kind": kind,
        "listing_tag_id": tag_id_from_url(url) if kind == "facet" else None,
        "article_links": article_links,
        "archive_links": list(archive_links),
        "next_page": next_page,
        "cards": cards,
        "tag_counts": extract_tag_counts(root),
    }


class _Link(NamedTuple):
    absolute: str
    target: str  # canonicalized
    is_article: bool
    is_archive: bool


# Listing pages repeat their links (menus, sidebars, the same cards on several pages):
# the generated site's 2,256 listing pages hold 5,831 distinct hrefs in 934,723 links.
# Keyed by `join_base`, absolute and root-relative hrefs share entries across a host's
# pages.
@lru_cache(maxsize=16384)
def _site_link(href: str, base: str) -> _Link | None:
    """The link `href` on a page at `base`, or None when it leads off the site."""
    absolute = resolve(href, base)
    if absolute is None or not is_same_site(absolute, base):
        return None
    target = canonicalize(absolute)
    return _Link(absolute, target, is_article_url(target), is_archive_url(target))


def _in_prose(anchor: etree._Element, anchor_text: str) -> bool:
    """A link inside a sentence (a summary's inline link) is not a card title."""
    for ancestor in anchor.iterancestors():
        if ancestor.tag in BLOCK_TAGS:
            return ancestor.tag == "p" and len(text_of(ancestor)) > len(anchor_text)
    return False


def _is_next_link(anchor: etree._Element) -> bool:
    rel = anchor.get("rel")
    if rel is not None and "next" in rel.lower().split():
        return True
    # Most links hold only text: `.text` is a third of the cost of joining itertext().
    text = "".join(anchor.itertext()) if len(anchor) else anchor.text
    return collapse(text).lower() in _NEXT_TEXTS


def _card_date(
    anchor: etree._Element, target: str, article_of: dict[etree._Element, str]
) -> str | None:
    """The date shown in the card around `anchor`, if the card is about `target` alone."""
    node = anchor
    for _ in range(_CARD_DEPTH):
        node = node.getparent()
        if node is None:
            return None
        if any(article_of.get(other, target) != target for other in node.iter("a")):
            return None  # the container holds other cards: left the card
        for text in node.itertext():
            text = collapse(text)
            if text and len(text) <= 30 and DATE_ONLY.match(text):
                return parse_date(text)
    return None
