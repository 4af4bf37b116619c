"""What the page says about itself: `<head>` (title, meta, og:*, canonical, JSON-LD) and
the metadata of Edge Delivery Services (the `div.metadata` block of an authored page and
the meta tags EDS serves it as: `template`, `author`, `publishdate`, `readtime`,
`reviewer`, `reviewdate`, ...).

These fill what the visible page does not show, or shows unlabelled (a bare date); they
never override a labelled line (`Published DATE`, `Last reviewed by ... on DATE`).
Only what a record field can take is read: `article:modified_time` is when the page was
edited, not a review (`reviewed` comes from the review line alone), and the record
carries no article tags (`article:tag`, `keywords`): the facet pages are their source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from crawler.parsers.blocks import collapse, text_of
from crawler.parsers.dates import parse_date
from crawler.parsers.people import split_people

# Keys of the metadata block (lower-cased) that name the same thing.
_PUBLISHED_KEYS = ("published", "publication date", "published date", "date")
_AUTHOR_KEYS = ("author", "authors")
# The EDS article metadata (block rows, lower-cased; the meta tags use the first name).
_PUBLISHDATE_KEYS = ("publishdate", "publish date")
_READTIME_KEYS = ("readtime", "read time")
_REVIEWDATE_KEYS = ("reviewdate", "review date")
_REVIEWER_KEYS = ("reviewer", "reviewers")
# `blog-article` on the site; any `*-article` template is an article page.
_ARTICLE_TEMPLATE = re.compile(r"^(?:[\w-]+-)?article$", re.IGNORECASE)
_LEADING_NUMBER = re.compile(r"^\s*(\d{1,3})\b")
# What XPath's normalize-space() counts as whitespace, between class names.
_CLASS_SEPARATOR = re.compile(r"[ \t\n\r]+")
_HEAD_TAGS = ("title", "meta", "link", "script")


@dataclass(slots=True)
class PageMetadata:
    seo_title: str | None = None
    description: str | None = None
    og_title: str | None = None
    og_url: str | None = None
    og_image: str | None = None
    canonical: str | None = None
    json_ld_article: dict[str, Any] = field(default_factory=dict)
    # Edge Delivery Services: the meta tags its metadata block becomes, and the block.
    published_time: str | None = None  # article:published_time
    # meta name=... (the EDS metadata block's rows as served)
    author: str | None = None
    template: str | None = None
    publishdate: str | None = None
    readtime: str | None = None
    reviewer: str | None = None
    reviewdate: str | None = None
    # div.metadata (key -> value), read on first use: only fallbacks need it, and
    # finding it means looking at every div of the page.
    _block: dict[str, str] | None = field(default=None, repr=False, compare=False)
    _root: etree._Element | None = field(default=None, repr=False, compare=False)

    @classmethod
    def read(cls, root: etree._Element) -> PageMetadata:
        meta = cls(_root=root)
        # One pass over these elements wherever they are (a recovering parser can move
        # them into the body), in document order, rather than one XPath search for each.
        found: dict[str, list[etree._Element]] = {tag: [] for tag in _HEAD_TAGS}
        for element in root.iter(*_HEAD_TAGS):
            found[element.tag].append(element)
        if found["title"]:
            meta.seo_title = collapse("".join(found["title"][0].itertext())) or None
        first: dict[str, str] = {}
        for element in found["meta"]:
            if element.get("content") is None:
                continue
            key = (element.get("property") or element.get("name") or "").strip().lower()
            value = collapse(element.get("content"))
            if value and key not in first:
                first[key] = value
        meta.description = (
            first.get("description") or first.get("og:description") or meta.block.get("description")
        )
        meta.og_title = first.get("og:title")
        meta.og_url = first.get("og:url")
        meta.og_image = first.get("og:image")
        meta.published_time = first.get("article:published_time")
        meta.author = first.get("author")
        meta.template = first.get("template")
        meta.publishdate = first.get("publishdate")
        meta.readtime = first.get("readtime")
        meta.reviewer = first.get("reviewer")
        meta.reviewdate = first.get("reviewdate")
        if meta.seo_title is None:
            # An authored EDS page has no <title> yet: its metadata block's Title row.
            meta.seo_title = meta.block.get("title")
        for link in found["link"]:
            href = link.get("href")
            if href is not None and "canonical" in (link.get("rel") or "").lower().split():
                meta.canonical = href.strip()
                break
        meta.json_ld_article = _json_ld_article(found["script"])
        return meta

    @property
    def block(self) -> dict[str, str]:
        """The Edge Delivery Services `div.metadata` block: key (lower-cased) -> value."""
        if self._block is None:
            self._block = _metadata_block(self._root) if self._root is not None else {}
        return self._block

    def title_fallback(self) -> str | None:
        headline = self.json_ld_article.get("headline")
        return self.og_title or (collapse(headline) if isinstance(headline, str) else None)

    def published_fallback(self) -> str | None:
        """The publication date the metadata gives: JSON-LD, the meta tag, the block."""
        for candidate in (
            self.json_ld_article.get("datePublished"),
            self.published_time,
            _first(self.block, _PUBLISHED_KEYS),
        ):
            if isinstance(candidate, str) and (published := parse_date(candidate)):
                return published
        return None

    def authors_fallback(self) -> list[str]:
        """Author names the metadata gives (meta author, the block's Author row)."""
        return split_people(self.author or _first(self.block, _AUTHOR_KEYS) or "")

    @property
    def is_article_template(self) -> bool:
        """EDS says the page is an article: template `blog-article` (meta tag or block row)."""
        template = self.template or self.block.get("template")
        return bool(template and _ARTICLE_TEMPLATE.match(template))

    def eds_published(self) -> str | None:
        """EDS `publishdate` (meta tag, else the block row), ISO."""
        return parse_date(self.publishdate or _first(self.block, _PUBLISHDATE_KEYS))

    def eds_reviewed(self) -> str | None:
        """EDS `reviewdate` (meta tag, else the block row), ISO."""
        return parse_date(self.reviewdate or _first(self.block, _REVIEWDATE_KEYS))

    def eds_read_minutes(self) -> int | None:
        """EDS `readtime` (`8` or `8 minute read`), else None."""
        value = self.readtime or _first(self.block, _READTIME_KEYS)
        match = _LEADING_NUMBER.match(value) if value else None
        return int(match.group(1)) if match else None

    def eds_reviewers(self) -> list[str]:
        """EDS `reviewer` names (no links: the visible byline carries those)."""
        return split_people(self.reviewer or _first(self.block, _REVIEWER_KEYS) or "")


def _first(values: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((values[key] for key in keys if values.get(key)), None)


def _metadata_block(root: etree._Element) -> dict[str, str]:
    """The `div.metadata` block's rows of two cells (key, value); keys lower-cased."""
    values: dict[str, str] = {}
    for block in _metadata_divs(root):
        for row in block:
            cells = [cell for cell in row if isinstance(cell.tag, str)]
            if len(cells) != 2:
                continue
            key, value = text_of(cells[0]).lower().rstrip(":"), text_of(cells[1])
            if key and value:
                values.setdefault(key, value)
    return values


def _metadata_divs(root: etree._Element) -> Iterator[etree._Element]:
    """The `metadata` blocks: divs of class `metadata` in a section (`main > div`, or a
    top-level div of a page without `<main>`, as EDS's `.plain.html` has it), maybe in
    the `-wrapper` div EDS's script adds. Only sections are looked at: every page without
    a description or a review line asks, and walking all its divs cost a twentieth of
    the parse."""
    container = next(root.iter("main"), None)
    if container is None:
        container = next(root.iter("body"), root)
    for section in container:
        if section.tag != "div":
            continue
        for div in section:
            if div.tag == "div" and (div.get("class") or "").endswith("-wrapper"):
                div = next(iter(div), div)
            names = div.get("class")
            if names and "metadata" in names and "metadata" in _CLASS_SEPARATOR.split(names):
                yield div


def _json_ld_article(scripts: Iterable[etree._Element]) -> dict[str, Any]:
    for script in scripts:
        if script.get("type") != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict):
                continue
            kind = item.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if any(k in ("Article", "BlogPosting", "NewsArticle") for k in kinds):
                return item
    return {}
