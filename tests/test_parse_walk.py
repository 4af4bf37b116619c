"""`iter_blocks(root, skip=...)`: a skipped subtree is the same as its blocks filtered out.

The article parser skips the sidebar's facet lists while it reads a page's blocks (a
third of an article page's blocks, read for nothing). Skipping must not move a block
boundary or change any other block: checked here on generated markup against the
plain walk with the skipped elements' blocks removed afterwards.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from crawler.parsers.article import _before
from crawler.parsers.blocks import Block, iter_blocks
from crawler.parsers.page import _HTML_PARSER

_TAGS = ["p", "div", "ul", "ol", "li", "a", "span", "em", "br", "h2", "nav", "script"]


def _markup() -> st.SearchStrategy[str]:
    words = st.sampled_from(["alpha", "beta (3)", " ", "\n  ", "gamma delta", "", "x"])
    opens = st.sampled_from(_TAGS).map(lambda tag: f"<{tag}>")
    closes = st.sampled_from(_TAGS).map(lambda tag: f"</{tag}>")
    parts = st.lists(st.one_of(words, opens, closes, st.just("<!-- c -->")), max_size=80)
    return parts.map(lambda p: "<html><body>" + "".join(p) + "</body></html>")


def _inside(element: etree._Element, skipped: set[etree._Element]) -> bool:
    return element in skipped or any(a in skipped for a in element.iterancestors())


def _summary(blocks: list[Block]) -> list[tuple[etree._Element, str, str, bool]]:
    return [(b.element, b.tag, b.text, b.in_chrome) for b in blocks]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_markup(), st.sampled_from(["ul", "ol", "div", "li"]), st.integers(0, 3))
def test_skipping_equals_filtering(html: str, tag: str, every: int) -> None:
    root = etree.fromstring(html.encode(), _HTML_PARSER)
    candidates = list(root.iter(tag))
    skipped = set(candidates[:: every + 1]) if candidates else set()
    plain = [b for b in iter_blocks(root) if not _inside(b.element, skipped)]
    assert _summary(list(iter_blocks(root, skip=skipped))) == _summary(plain)


def test_a_skipped_list_still_ends_the_run_before_it() -> None:
    html = b"<html><body><div>before<ul><li>Label (3)</li></ul>after</div></body></html>"
    root = etree.fromstring(html, _HTML_PARSER)
    skipped = set(root.iter("ul"))
    assert [b.text for b in iter_blocks(root, skip=skipped)] == ["before", "after"]
    assert [b.text for b in iter_blocks(root)] == ["before", "Label (3)", "after"]


def _from_first_h1(blocks: list[Block]) -> list[tuple[etree._Element, str, str, bool]]:
    first = next((i for i, b in enumerate(blocks) if b.tag == "h1"), len(blocks))
    return _summary(blocks[first:])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_markup(), st.integers(0, 40))
def test_skipping_what_precedes_the_first_h1_keeps_every_block_from_it_on(
    html: str, at: int
) -> None:
    """The article parser reads no block before the first h1 (`article._before`)."""
    parts = html.split("<", at)  # an h1 somewhere in the generated page
    html = "<".join(parts[:-1]) + "<h1>Title</h1><" + parts[-1] if len(parts) > 1 else html
    root = etree.fromstring(html.encode(), _HTML_PARSER)
    first_h1 = next(root.iter("h1"), None)
    skipped = _before(first_h1)
    assert _from_first_h1(list(iter_blocks(root, skip=skipped))) == _from_first_h1(
        list(iter_blocks(root))
    )
