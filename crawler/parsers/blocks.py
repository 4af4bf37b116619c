"""The page as a flat list of visible text blocks, in document order.

Every extractor works on these blocks and their text patterns rather than on class
names, so the same content parses identically in the site's AEM markup and in a
redesign that drops every class (the site is studying a migration).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from lxml import etree

# Elements that start their own text block.
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "dd", "details", "dialog",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1",
        "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol",
        "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead",
        "tr", "ul",
    }
)  # fmt: skip
# Elements whose text is never visible content.
SKIP_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "title", "meta", "link", "svg",
     "iframe", "object", "select", "option", "button", "input", "textarea"}
)  # fmt: skip
# Page furniture: text inside these is never article body.
CHROME_TAGS = frozenset({"nav", "footer", "aside", "form", "dialog"})
# A <header> is page chrome, except the header of an <article> or <main>.
CONTENT_TAGS = frozenset({"article", "main"})
# Edge Delivery Services builds a page of blocks (`main > div > div.<name>`, rows and
# cells as nested divs). Blocks with these names are page furniture, never content:
# metadata, navigation, sharing, sign-up forms, sidebars, promotions, calls to action,
# related-article cards; and any block in the `rail` or `promo` variant (`quote rail`,
# `cards promo`): the site's side rail and promotion bands, whatever the block.
_CHROME_BLOCK = re.compile(
    r"^(?:metadata|section-metadata|breadcrumbs?|header|footer|nav|[\w-]+-nav|share|"
    r"social-share|newsletter[\w-]*|subscribe[\w-]*|sidebar[\w-]*|promo[\w-]*|related[\w-]*|"
    r"article-cards|(?:[\w-]+-)?cta)$"
)


def collapse(text: str | None) -> str:
    """Whitespace (including no-break and narrow spaces) collapsed to one space, stripped."""
    # str.split() splits on exactly what `\s` matches in a str pattern (both use
    # Python's Unicode whitespace), at a third of the cost of a regex substitution.
    return " ".join(text.split()) if text else ""


@dataclass(slots=True)
class Block:
    """One visible run of text and the element that owns it."""

    element: etree._Element
    tag: str
    text: str
    in_chrome: bool


# The tree is read as a flat stream of start/end events rather than by recursion:
# lxml produces the events in C, and a page of a thousand elements then costs one
# loop turn per event instead of a Python call per element and per text run.
_EVENTS = ("start", "end", "comment", "pi")


def text_of(element: etree._Element) -> str:
    """All visible text under `element`, nested blocks included, collapsed.

    A nested block is set off by a space on each side; `<br>` is a space; the
    text of SKIP_TAGS elements (and of comments) is left out, their tails kept.
    """
    parts: list[str] = []
    walker = etree.iterwalk(element, events=_EVENTS)
    for event, node in walker:
        if node is element:  # its own text is read first, its tail is not its text
            if event == "start" and node.text:
                parts.append(node.text)
            continue
        if event == "start":
            tag = node.tag
            if tag == "br":
                parts.append(" ")
                walker.skip_subtree()
            elif tag in SKIP_TAGS:
                walker.skip_subtree()
            else:
                if tag in BLOCK_TAGS:
                    parts.append(" ")
                if node.text:
                    parts.append(node.text)
            continue
        if event == "end" and node.tag in BLOCK_TAGS:
            parts.append(" ")
        if node.tail:
            parts.append(node.tail)
    return collapse("".join(parts))


def page_blocks(root: etree._Element) -> list[Block]:
    """The text blocks of the document in order (a block's index is its position)."""
    return list(iter_blocks(root))


def iter_blocks(root: etree._Element, skip: Collection[etree._Element] = ()) -> Iterator[Block]:
    """The text blocks of the document in order, read from the tree as they are asked for.

    Every BLOCK_TAGS element (and the root) owns the inline text up to its next
    nested block, and again from that block's end; each such run that is not blank
    is a block. The run before a nested block belongs to the element holding that
    block, which is the owner itself or an inline element inside it.

    A block element in `skip` still ends the run before it, but nothing inside it is
    read: the caller knows it holds no block it wants (the sidebar's facet lists are a
    third of an article page's blocks).
    """
    # A run's text so far. Whitespace that would open a run is never kept: collapse()
    # strips it, and a run of whitespace alone (the indentation between block elements,
    # most runs of a page) is then no run at all, so a run with parts is a block.
    parts: list[str] = []
    owner, in_chrome, in_content = root, False, False
    # The (owner, in_chrome, in_content) of the blocks enclosing the current one.
    enclosing: list[tuple[etree._Element, bool, bool]] = []
    walker = etree.iterwalk(root, events=_EVENTS)
    for event, node in walker:
        if event == "start":
            tag = node.tag
            if tag in BLOCK_TAGS or node is root:
                if parts:  # the run before this block: its parent's
                    yield _block(node.getparent(), parts, in_chrome)
                enclosing.append((owner, in_chrome, in_content))
                owner = node
                in_content = in_content or tag in CONTENT_TAGS
                in_chrome = (
                    in_chrome
                    or tag in CHROME_TAGS
                    or (tag == "header" and not in_content)
                    # an EDS block is chrome only inside <main>, which sets in_content
                    or (tag == "div" and in_content and _is_chrome_block(node))
                )
                if node in skip:
                    walker.skip_subtree()
                    parts = []
                    continue
                text = node.text
                parts = [text] if text and not text.isspace() else []
            elif tag == "br":
                if parts:
                    parts.append(" ")
                walker.skip_subtree()
            elif tag in SKIP_TAGS:
                walker.skip_subtree()
            elif (text := node.text) and (parts or not text.isspace()):
                parts.append(text)
            continue
        if node is owner:
            if parts:
                yield _block(node, parts, in_chrome)
            owner, in_chrome, in_content = enclosing.pop()
            parts = []
        if (tail := node.tail) and (parts or not tail.isspace()):
            parts.append(tail)


def _block(element: etree._Element, parts: list[str], in_chrome: bool) -> Block:
    return Block(element, element.tag, collapse("".join(parts)), in_chrome)


def _is_chrome_block(element: etree._Element) -> bool:
    """An EDS block whose name says page furniture (`_CHROME_BLOCK`).

    Only a block in a section of `<main>` counts (`main > div > div.<name>`, or inside
    the `<name>-wrapper` the site's script adds): the AEM template's class names, which
    may look alike, are never read this way.
    """
    names = (element.get("class") or "").split()
    if not names:
        return False
    if not _CHROME_BLOCK.match(names[0]) and (
        len(names) == 1 or ("rail" not in names and "promo" not in names)
    ):
        return False
    section = element.getparent()
    if section is not None and (section.get("class") or "").endswith("-wrapper"):
        section = section.getparent()
    if section is None or section.tag != "div":
        return False
    main = section.getparent()
    return main is not None and main.tag == "main"
