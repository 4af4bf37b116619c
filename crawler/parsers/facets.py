"""The sidebar's facet lists: `Label (count)` items under a group heading.

Durable signal: a list whose items read `Label (N)` (linked to a `cq:tags` facet page
where the page has links). The group is the nearest heading-like text before the
list: the `Diseases` link of the AEM accordion, an `<h2>` in a redesign, a count-less
item of the same list in a flattened rendering, or the text of the item that holds the
list (EDS's `section-nav`: `<li>Diseases<ul>...</ul></li>`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

from common.record import TagCount
from common.urls import tag_id_from_url
from crawler.parsers.blocks import BLOCK_TAGS, collapse, text_of

_LABEL_COUNT = re.compile(r"^(?P<label>\S.{0,150}?)\s*\((?P<count>\d[\d,]*)\)$")
_LIST_TAGS = ("ul", "ol")
# An element's text content, as "".join(element.itertext()) gives it, in one C call.
_TEXT = etree.XPath("string()", smart_strings=False)
# Every article page repeats the same sidebar: each facet link's tag id is worked out once.
_tag_id = lru_cache(maxsize=4096)(tag_id_from_url)


@dataclass(slots=True)
class Facets:
    """The page's facet lists: their tag counts, and the elements that show them.

    The elements are what the article body leaves out: a facet list is page
    furniture in whatever markup carries it (an AEM accordion, an `<aside>`, a block
    or plain content of the redesign). The lists are skipped when the page's blocks
    are read (`iter_blocks(root, skip=facets.lists)`); their headings sit outside them.
    """

    counts: list[TagCount] = field(default_factory=list)
    lists: set[etree._Element] = field(default_factory=set)
    headings: set[etree._Element] = field(default_factory=set)
    # The block that holds an inline group heading (the AEM accordion's `Diseases`
    # link) -> that heading's text: the block is the heading when its text is that.
    inline_headings: dict[etree._Element, str] = field(default_factory=dict)
    # Every element inside a heading, gathered on the first `is_heading`: one lookup
    # per block rather than a walk up its ancestors.
    _in_headings: set[etree._Element] | None = None

    def is_heading(self, element: etree._Element, text: str) -> bool:
        """True when the text block of `element` is a facet list's group heading."""
        if self.inline_headings.get(element) == text:
            return True
        if self._in_headings is None:
            self._in_headings = {node for heading in self.headings for node in heading.iter()}
        return element in self._in_headings


def extract_tag_counts(root: etree._Element) -> list[TagCount]:
    """Every facet of the page, in page order."""
    return read_facets(root).counts


def read_facets(root: etree._Element) -> Facets:
    """The facet lists of the page, their counts in page order."""
    # Fast path for the site's markup; the general rule gives the same answer.
    items = [li for li in root.iter("li") if li.get("class") == "sorting"]
    # The site's items hold no lists; elsewhere an item may hold a group's list.
    nested = not items
    items = items or list(root.iter("li"))
    facets = Facets()
    group_of_list: dict[etree._Element, tuple[str, etree._Element] | None] = {}
    last_group_item: dict[etree._Element, str] = {}
    for item in items:
        parent = item.getparent()
        if parent is None or parent.tag not in _LIST_TAGS:
            continue
        text = collapse(_TEXT(item))
        match = _LABEL_COUNT.match(text)
        if nested and match and _holds_list(item):
            continue  # a group item: its text runs on into its list's counts
        if not match:
            if text and len(text) <= 60 and not item.xpath(".//li"):
                last_group_item[parent] = text  # a group heading inside a flat list
            continue
        tag_id = None
        for link in item.iter("a"):
            tag_id = _tag_id(link.get("href") or "")
            if tag_id:
                break
        if tag_id is None and not _all_items_counted(parent):
            continue  # a body list that happens to end in a number in brackets
        if parent in last_group_item:
            group: str | None = last_group_item[parent]
        else:
            if parent not in group_of_list:
                group_of_list[parent] = _heading_before(parent)
                _add_heading(facets, group_of_list[parent])
            heading = group_of_list[parent]
            group = heading[0] if heading else None
        facets.lists.add(parent)
        facets.counts.append(
            {
                "group": group,
                "label": match["label"],  # `text` is collapsed, and so is any part of it
                "count": int(match["count"].replace(",", "")),
                "tag_id": tag_id,
            }
        )
    return facets


def _add_heading(facets: Facets, heading: tuple[str, etree._Element] | None) -> None:
    if heading is None:
        return
    text, element = heading
    facets.headings.add(element)
    if element.tag not in BLOCK_TAGS:
        owner = next((a for a in element.iterancestors() if a.tag in BLOCK_TAGS), None)
        if owner is not None:
            facets.inline_headings[owner] = text


def _all_items_counted(list_element: etree._Element) -> bool:
    items = [child for child in list_element if child.tag == "li"]
    counted = sum(1 for child in items if _LABEL_COUNT.match(text_of(child)))
    return len(items) >= 3 and counted >= len(items) - 1


def _holds_list(item: etree._Element) -> bool:
    return next(item.iter(*_LIST_TAGS), None) is not None


def _heading_before(list_element: etree._Element) -> tuple[str, etree._Element] | None:
    """The nearest short text before the list (and its element), up at most three levels.

    A list inside a list item is that item's group: its heading is the item's own text.
    """
    parent = list_element.getparent()
    if parent is not None and parent.tag == "li" and parent.text and parent.text.strip():
        text = collapse(parent.text)
        if len(text) <= 60 and not _LABEL_COUNT.match(text):
            return text, parent
    node = list_element
    for _ in range(4):
        sibling = node.getprevious()
        while sibling is not None:
            if isinstance(sibling.tag, str):
                text = text_of(sibling)
                if text and len(text) <= 60 and not _LABEL_COUNT.match(text):
                    return text, sibling
                if text:
                    return None
            sibling = sibling.getprevious()
        node = node.getparent()
        if node is None:
            return None
    return None
