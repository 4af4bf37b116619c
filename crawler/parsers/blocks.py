"""The page as a flat list of visible text blocks, in document order.

Every extractor works on these blocks and their text patterns rather than on class
names, so the same content parses identically in the site's AEM markup and in a
redesign that drops every class (the site is studying a migration).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

_WHITESPACE = re.compile(r"\s+", re.UNICODE)

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
# metadata, navigation, sharing, sign-up forms, sidebars, promotions, calls to action.
_CHROME_BLOCK = re.compile(
    r"^(?:metadata|section-metadata|breadcrumbs?|header|footer|nav|[\w-]+-nav|share|"
    r"social-share|newsletter[\w-]*|subscribe[\w-]*|sidebar[\w-]*|promo[\w-]*|related[\w-]*|"
    r"(?:[\w-]+-)?cta)$"
)


def collapse(text: str | None) -> str:
    """Whitespace (including no-break and narrow spaces) collapsed to one space, stripped."""
    if not text:
        return ""
    return _WHITESPACE.sub(" ", text).strip()


@dataclass(slots=True)
class Block:
    """One visible run of text and the element that owns it."""

    element: etree._Element
    tag: str
    text: str
    in_chrome: bool


def text_of(element: etree._Element) -> str:
    """All visible text under `element`, nested blocks included, collapsed."""
    parts: list[str] = []
    _collect(element, parts, None, in_chrome=False, in_content=False)
    return collapse("".join(parts))


def page_blocks(root: etree._Element) -> list[Block]:
    """The text blocks of the document in order (a block's index is its position)."""
    blocks: list[Block] = []
    _walk(root, blocks, in_chrome=False, in_content=False)
    return blocks


def _walk(
    element: etree._Element, blocks: list[Block], *, in_chrome: bool, in_content: bool
) -> None:
    tag = element.tag
    in_content = in_content or tag in CONTENT_TAGS
    in_chrome = (
        in_chrome
        or tag in CHROME_TAGS
        or (tag == "header" and not in_content)
        or (tag == "div" and _is_chrome_block(element))
    )
    parts: list[str] = []
    _collect(element, parts, blocks, in_chrome=in_chrome, in_content=in_content)
    _emit(element, parts, in_chrome, blocks)


def _is_chrome_block(element: etree._Element) -> bool:
    """An EDS block whose name says page furniture (`_CHROME_BLOCK`).

    Only a block in a section of `<main>` counts (`main > div > div.<name>`, or inside
    the `<name>-wrapper` the site's script adds): the AEM template's class names, which
    may look alike, are never read this way.
    """
    names = (element.get("class") or "").split()
    if not names or not _CHROME_BLOCK.match(names[0]):
        return False
    section = element.getparent()
    if section is not None and (section.get("class") or "").endswith("-wrapper"):
        section = section.getparent()
    if section is None or section.tag != "div":
        return False
    main = section.getparent()
    return main is not None and main.tag == "main"


def _collect(
    element: etree._Element,
    parts: list[str],
    blocks: list[Block] | None,
    *,
    in_chrome: bool,
    in_content: bool,
) -> None:
    """Inline text of `element` into `parts`; with `blocks`, block children become blocks.

    The text before a block child is emitted first, so blocks keep document order;
    the text after it (its tail) still belongs to this element.
    """
    if element.text:
        parts.append(element.text)
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "br":
            parts.append(" ")
        elif blocks is not None and tag in BLOCK_TAGS:
            _emit(element, parts, in_chrome, blocks)
            parts.clear()
            _walk(child, blocks, in_chrome=in_chrome, in_content=in_content)
        elif tag and tag not in SKIP_TAGS:
            if tag in BLOCK_TAGS:
                parts.append(" ")
            _collect(child, parts, blocks, in_chrome=in_chrome, in_content=in_content)
            if tag in BLOCK_TAGS:
                parts.append(" ")
        if child.tail:
            parts.append(child.tail)


def _emit(element: etree._Element, parts: list[str], in_chrome: bool, blocks: list[Block]) -> None:
    if not parts:
        return
    joined = "".join(parts)
    if joined.isspace():
        return  # most emits are the indentation between block children
    text = collapse(joined)
    if text:
        blocks.append(Block(element, element.tag, text, in_chrome))
