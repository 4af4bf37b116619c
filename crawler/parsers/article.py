"""An article page of the blog template, to an article record (docs/record.md).

Everything is read from the visible text patterns the site has kept for a decade
(`BY ...`, `N minute read | Published DATE`, `Last reviewed by ... on DATE`,
`Key takeaways`), with og/JSON-LD metadata and the redesign's (Edge Delivery Services)
metadata as fallbacks, so a redesign that drops the class names or builds the page of
blocks parses to the same record.

Some pages show the header lines unlabelled: EDS's `article-header` (author link,
`8 minute read`, `June 08, 2026`) and `byline` (reviewer links, then the date), and the
2013 pages (the date alone where `N minute read | Published` stands). Those rows are
known by their order right under the h1; a date shown bare gives way to the EDS
metadata (`publishdate`, `reviewdate`) where the page has it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from lxml import etree

from common.record import Reviewer, content_hash
from common.urls import article_key, resolve
from crawler.parsers.blocks import SKIP_TAGS, Block, iter_blocks
from crawler.parsers.dates import DATE_IN_TEXT, DATE_ONLY, parse_date
from crawler.parsers.errors import PageError
from crawler.parsers.facets import Facets, read_facets
from crawler.parsers.metadata import PageMetadata
from crawler.parsers.people import add_people, clean_name, is_degree

# How far after the h1 the byline, read time and review line may sit.
_HEADER_WINDOW = 40
_READ_TIME = re.compile(r"(\d+)\s*-?\s*min(?:ute)?s?\.?\s+read", re.IGNORECASE)
_PUBLISHED = re.compile(rf"\bPublished:?\s*(?:on\s+)?(?P<date>{DATE_IN_TEXT})", re.IGNORECASE)
_REVIEWED = re.compile(
    rf"Last\s+reviewed\s+by\s+(?P<who>.+?)\s+on\s+(?P<date>{DATE_IN_TEXT})",
    re.IGNORECASE | re.DOTALL,
)
_BYLINE = re.compile(r"^\s*by\s+(?P<who>\S.*)$", re.IGNORECASE | re.DOTALL)
_MAX_BYLINE = 200
# Unlabelled rows: the read time (`8 minute read`, maybe with the date after it), and the
# people of a byline or reviewer row (a `By`, `Reviewed by` or `Medically Reviewed |`
# label dropped if present).
_READ_TIME_ROW = re.compile(
    rf"^(?P<minutes>\d+)\s*-?\s*min(?:ute)?s?\.?\s+read"
    rf"(?:\s*[|·•,–—-]?\s*(?P<date>{DATE_IN_TEXT}))?$",
    re.IGNORECASE,
)
_PEOPLE_ROW = re.compile(
    r"^\s*(?:(?:by|(?:medically\s+|last\s+)?reviewed\s+by|medically\s+reviewed)\s*[:|]?\s+)?"
    r"(?P<who>\S.*?)(?:\s+on)?[\s,]*$",
    re.IGNORECASE | re.DOTALL,
)
# Blocks that end the header rows: the body has begun.
_BODY_TAGS = frozenset({"h2", "h3", "h4", "h5", "h6", "li", "blockquote", "table"})
_KEY_TAKEAWAYS = re.compile(r"^key\s+takeaways?\s*:?$", re.IGNORECASE)
# Where the article body ends: the related-stories list and the site's promo bands.
_BODY_END = re.compile(
    r"^(?:more\s+stories\s+from\b|(?:related|recommended|more)\s+(?:stories|articles|reading)\b"
    r"|help\s+#endcancer)",
    re.IGNORECASE,
)
_CALL_TO_ACTION = re.compile(r"^request\s+an\s+appointment\b", re.IGNORECASE)
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_FILED = re.compile(r"/(?P<year>\d{4})/(?P<month>\d{2})/[^/]+/jcr:content")
# The site's article URLs: `.h00-<month code>.html`, publications `.h12-`...`.h37-`.
ARTICLE_CODE_URL = re.compile(r"\.h\d\d-\d+\.html$", re.IGNORECASE)
_IMAGE_SOURCES = etree.XPath("//img/@src", smart_strings=False)


def parse_article(
    root: etree._Element, meta: PageMetadata, url: str, canonical_url: str
) -> dict[str, Any]:
    facets = read_facets(root)
    # Blocks no field reads are skipped: the facet lists (never title, header or body),
    # and what comes before the first h1 (page header, navigation, a sidebar), which
    # only held the search for it. Every block from the h1 on is read as in a walk
    # of the whole page, so positions after it (all the header and body use) agree.
    first_h1 = next(root.iter("h1"), None)
    blocks = _PageBlocks(root, skip=facets.lists | _before(first_h1))
    h1_index = next((i for i, b in blocks.from_index(0) if b.tag == "h1"), None)
    title = blocks.read[h1_index].text if h1_index is not None else meta.title_fallback()
    if not title:
        raise PageError("no title")

    header = _HeaderLines.find(blocks, h1_index)
    # A labelled line first; the EDS metadata where the page shows the date bare or not
    # at all; then the bare date; then the older metadata (JSON-LD, article:*).
    # A bare date under a title is also how a listing shows its first card: it counts
    # only where the page is an article's by its template, its URL or a read time.
    bare_published = header.bare_published
    if bare_published and not (
        header.read_minutes is not None
        or meta.is_article_template
        or ARTICLE_CODE_URL.search(canonical_url)
    ):
        bare_published = None
    published = (
        header.published or meta.eds_published() or bare_published or meta.published_fallback()
    )
    if not published:
        raise PageError("no published date")
    reviewed = header.reviewed or meta.eds_reviewed() or header.bare_reviewed
    reviewers = header.reviewers(url) if reviewed else []
    if reviewed and not reviewers:
        reviewers = [{"name": name, "url": None} for name in meta.eds_reviewers()]

    body_start = max(header.last_index, h1_index if h1_index is not None else -1) + 1
    key_takeaways, body_blocks = _body((b for _, b in blocks.from_index(body_start)), facets)
    body_text = "\n\n".join(block.text for block in body_blocks)
    if not body_text:
        raise PageError("empty article body")

    record: dict[str, Any] = {
        "page_type": "article",
        "url": url,
        "canonical_url": canonical_url,
        "article_key": article_key(canonical_url),
        "title": title,
        "seo_title": meta.seo_title,
        "description": meta.description,
        "authors": [r["name"] for r in header.authors(url)]
        if header.byline is not None
        else meta.authors_fallback(),
        "read_minutes": header.read_minutes or meta.eds_read_minutes(),
        "published": published,
        "reviewed": reviewed,
        "reviewers": reviewers,
        "filed_month": _filed_month(root, meta),
        "key_takeaways": key_takeaways,
        "headings": [b.text for b in body_blocks if b.tag in ("h2", "h3")],
        "body_text": body_text,
        "word_count": len(body_text.split()),
        "tag_counts": facets.counts,
    }
    record["content_hash"] = content_hash(record)
    return record


class _PageBlocks:
    """The page's text blocks, read from the tree only as far as the article asks.

    The walk stops where the body ends, so what follows it (related stories, promotion
    bands, the footer: a quarter of an article page) is never read.
    """

    def __init__(self, root: etree._Element, skip: Collection[etree._Element] = ()) -> None:
        self._unread = iter_blocks(root, skip)
        self.read: list[Block] = []  # the blocks read so far, a block's index its position

    def from_index(self, start: int) -> Iterator[tuple[int, Block]]:
        """(index, block) from `start` on, to the last block of the page."""
        read, index = self.read, start
        while True:
            while index >= len(read):
                block = next(self._unread, None)
                if block is None:
                    return
                read.append(block)
            yield index, read[index]
            index += 1


def _before(element: etree._Element | None) -> set[etree._Element]:
    """The elements that end before `element` starts: the preceding siblings of it and
    of each of its ancestors (their subtrees hold the rest)."""
    found: set[etree._Element] = set()
    node = element
    while node is not None:
        found.update(s for s in node.itersiblings(preceding=True) if isinstance(s.tag, str))
        node = node.getparent()
    return found


class _HeaderLines:
    """The byline, the read-time/published line and the review line after the h1.

    Labelled lines are found anywhere in the first `_HEADER_WINDOW` blocks. Unlabelled
    rows count only in the header zone, the short blocks from the h1 to the first that
    looks like body (a heading, a list, a quote, a long paragraph), and only in their
    order: the first bare date is the published date; the row just before the first
    read time or date, among the first three under the h1, is the byline; a row after
    the published date followed by a bare date is the reviewer(s) and the reviewed date.
    """

    def __init__(self) -> None:
        self.byline: Block | None = None
        self.byline_pattern = _BYLINE
        self.read_minutes: int | None = None
        self.published: str | None = None
        self.bare_published: str | None = None
        self.review: Block | None = None
        self.review_pattern = _REVIEWED
        self.reviewed: str | None = None
        self.bare_reviewed: str | None = None
        self.last_index = -1

    @classmethod
    def find(cls, blocks: _PageBlocks, h1_index: int | None) -> _HeaderLines:
        lines = cls()
        start = h1_index + 1 if h1_index is not None else 0
        byline_candidate: tuple[int, Block] | None = None
        published_index: int | None = None
        # The header zone's unlabelled rows.
        rows: list[_Row] = []
        in_zone = h1_index is not None
        for index, block in islice(blocks.from_index(start), _HEADER_WINDOW):
            text = block.text
            if lines.published is None and (match := _PUBLISHED.search(text)):
                lines.published = parse_date(match["date"])
                minutes = _READ_TIME.search(text)
                lines.read_minutes = int(minutes.group(1)) if minutes else None
                lines.last_index = max(lines.last_index, index)
                published_index = index
            elif lines.review is None and (match := _REVIEWED.search(text)):
                lines.review = block
                lines.reviewed = parse_date(match["date"])
                lines.last_index = max(lines.last_index, index)
            elif (
                byline_candidate is None
                and lines.published is None
                and len(text) <= _MAX_BYLINE
                and _BYLINE.match(text)
            ):
                byline_candidate = (index, block)
            elif in_zone and not block.in_chrome:
                in_zone = _is_header_row(block)
                if in_zone:
                    rows.append(_Row.of(index, block))
            if lines.published and lines.review:
                break
        if rows:
            published_index = lines._read_rows(rows, start, published_index)
        if byline_candidate and (
            (published_index is not None and byline_candidate[0] < published_index)
            or byline_candidate[0] <= start + 3  # no date line: only right under the h1
        ):
            lines.byline = byline_candidate[1]
            lines.byline_pattern = _BYLINE
        if lines.byline is not None:
            # The first equal block (as list.index finds it) is among those read.
            lines.last_index = max(lines.last_index, blocks.read.index(lines.byline))
        return lines

    def _read_rows(self, rows: list[_Row], start: int, published_index: int | None) -> int | None:
        """Read the unlabelled rows; returns the published line's index."""
        dated = [n for n, row in enumerate(rows) if row.minutes is not None or row.date]
        if dated and dated[0] > 0:
            # The byline: the row just before the first read time or date, under the h1.
            before, first = rows[dated[0] - 1], rows[dated[0]]
            if before.is_text and before.index == first.index - 1 and before.index <= start + 2:
                self.byline, self.byline_pattern = before.block, _PEOPLE_ROW
                self.last_index = max(self.last_index, before.index)
        previous: _Row | None = None
        for row in rows:
            if row.minutes is not None and self.read_minutes is None:
                self.read_minutes = row.minutes
                self.last_index = max(self.last_index, row.index)
            if row.date and published_index is None:
                self.bare_published, published_index = row.date, row.index
                self.last_index = max(self.last_index, row.index)
            elif (
                row.date
                and self.review is None
                and previous is not None
                and previous.is_text
                and published_index < previous.index == row.index - 1
            ):
                # The row before a later date names the reviewer(s).
                self.review, self.review_pattern = previous.block, _PEOPLE_ROW
                self.bare_reviewed = row.date
                self.last_index = max(self.last_index, row.index)
            previous = row
        return published_index

    def authors(self, base_url: str) -> list[Reviewer]:
        if self.byline is None:
            return []
        return _people_in(self.byline.element, self.byline_pattern, base_url)

    def reviewers(self, base_url: str) -> list[Reviewer]:
        if self.review is None:
            return []
        return _people_in(self.review.element, self.review_pattern, base_url)


def _is_header_row(block: Block) -> bool:
    """A short block that is no body (heading, list item, quote, key takeaways)."""
    text = block.text
    return (
        block.tag not in _BODY_TAGS and len(text) <= _MAX_BYLINE and not _KEY_TAKEAWAYS.match(text)
    )


@dataclass(slots=True)
class _Row:
    """An unlabelled header row: a read time, a date (ISO), both, or neither (text)."""

    index: int
    block: Block
    minutes: int | None = None
    date: str | None = None

    @property
    def is_text(self) -> bool:
        return self.minutes is None and self.date is None

    @classmethod
    def of(cls, index: int, block: Block) -> _Row:
        text = block.text
        if match := _READ_TIME_ROW.match(text):
            return cls(index, block, int(match["minutes"]), parse_date(match["date"]))
        if len(text) <= 40 and DATE_ONLY.match(text):
            return cls(index, block, date=parse_date(text))
        return cls(index, block)


def _pieces(element: etree._Element) -> list[tuple[str, str | None]]:
    """The element's inline text as (text, link href or None) pieces, in order."""
    pieces: list[tuple[str, str | None]] = []

    def walk(node: etree._Element, href: str | None) -> None:
        if node.text:
            pieces.append((node.text, href))
        for child in node:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag == "br":
                pieces.append((" ", href))
            elif tag and tag not in SKIP_TAGS:
                walk(child, child.get("href") if tag == "a" and child.get("href") else href)
            if child.tail:
                pieces.append((child.tail, href))

    walk(element, None)
    return pieces


def _people_in(element: etree._Element, pattern: re.Pattern[str], base_url: str) -> list[Reviewer]:
    """People named in the `who` group of `pattern`: linked names keep their link."""
    pieces = _pieces(element)
    raw = "".join(text for text, _ in pieces)
    match = pattern.search(raw)
    if not match:
        return []
    start, end = match.span("who")
    people: list[Reviewer] = []
    offset = 0
    for text, href in pieces:
        piece_start, offset = offset, offset + len(text)
        if offset <= start or piece_start >= end:
            continue
        clipped = text[max(start, piece_start) - piece_start : min(end, offset) - piece_start]
        if not clipped.strip():
            continue
        if href is None:
            add_people(people, clipped)
            continue
        name = clean_name(clipped)
        if name and people and is_degree(name):
            people[-1]["name"] += ", " + name
        elif name:
            people.append({"name": name, "url": resolve(href, base_url)})
    return people


def _body(blocks: Iterable[Block], facets: Facets) -> tuple[list[str], list[Block]]:
    """Key takeaways and the body blocks, up to the related-stories list.

    Page furniture is left out whichever markup carries it: chrome elements and
    blocks (`Block.in_chrome`), and the facet lists' group headings (the lists
    themselves are never read: `_PageBlocks` skips them).
    """
    key_takeaways: list[str] = []
    body: list[Block] = []
    in_takeaways = False
    for block in blocks:
        if block.in_chrome or facets.is_heading(block.element, block.text):
            continue
        if block.tag in _HEADING_TAGS and _BODY_END.match(block.text):
            break
        if _KEY_TAKEAWAYS.match(block.text):
            in_takeaways = True
            continue
        if in_takeaways:
            if block.tag == "li":
                key_takeaways.append(block.text)
                continue
            in_takeaways = False
        if block.tag == "p" and _CALL_TO_ACTION.match(block.text):
            continue
        body.append(block)
    return key_takeaways, body


def _filed_month(root: etree._Element, meta: PageMetadata) -> str | None:
    if meta.og_image and (match := _FILED.search(meta.og_image)):
        return f"{match['year']}-{match['month']}"
    for src in _IMAGE_SOURCES(root):
        if match := _FILED.search(src):
            return f"{match['year']}-{match['month']}"
    return None
