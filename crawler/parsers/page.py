"""Page-type detection and dispatch: the single entry point `parse_page`."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, read_bom

from common.urls import canonicalize, is_article_url, listing_kind, resolve, section_of
from crawler.parsers.article import ARTICLE_CODE_URL, parse_article
from crawler.parsers.blocks import collapse
from crawler.parsers.errors import PageError
from crawler.parsers.listing import parse_listing
from crawler.parsers.metadata import PageMetadata

_NOT_FOUND = re.compile(
    r"page not found|page (?:could|can)(?:not|n.t) be found"
    r"|^(?:error )?404(?:\s*[-:|]|$)|^not found\b",
    re.IGNORECASE,
)
_DOCUMENT_END = re.compile(rb"</(?:html|body)\s*>", re.IGNORECASE)
# No table of id attributes: nothing looks elements up by id, and building it is a
# tenth of the parse.
_HTML_PARSER = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True, collect_ids=False)
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def parse_page(html: bytes | str, url: str | None = None) -> dict[str, Any]:
    """The record of one page, or `PageError` saying why it is not one.

    `url` is where the page was fetched; without it, the page's canonical link or
    og:url is used.
    """
    raw = html.encode("utf-8", "surrogatepass") if isinstance(html, str) else html
    utf8 = _as_utf8(raw)
    try:
        # Plain lxml elements (parsel's engine, without its HtmlElement class lookup on
        # every node access, which costs a tenth of the parse).
        root = etree.fromstring(utf8, _HTML_PARSER)
    except (ValueError, etree.LxmlError) as error:
        raise PageError(f"not an HTML page ({error})") from None
    if root is None or not isinstance(root.tag, str):
        raise PageError("not an HTML page")
    meta = PageMetadata.read(root)

    url = url or meta.canonical or meta.og_url
    if not url:
        raise PageError("the page carries no URL (no canonical link or og:url); pass --url")
    fetched = resolve(url, url)
    if fetched is None:
        raise PageError(f"not a URL: {url}")
    canonical_url = canonicalize(resolve(meta.canonical or meta.og_url or url, fetched) or url)
    if section_of(canonical_url) is None:
        # A canonical link elsewhere, or no URL at all: trust the fetch URL.
        canonical_url = canonicalize(fetched)

    if _is_not_found_page(root, meta):
        raise PageError("page not found (404 page)")
    if section_of(canonical_url) is None:
        raise PageError(f"not a page of the archived sections: {canonical_url}")
    if not _has_document_end(raw):
        # The recovering parser reads a cut page as a whole one: an article without its
        # end, a listing without its last cards and sidebar counts (false tag counts).
        raise PageError("truncated page (no </html>)")
    kind = listing_kind(canonical_url)
    if kind is not None:
        return parse_listing(root, url, kind)
    return _article_or_listing(root, meta, url, canonical_url)


def _article_or_listing(
    root: Any, meta: PageMetadata, url: str, canonical_url: str
) -> dict[str, Any]:
    """A page of an archived section at a path that names no listing, known by its content.

    A title, a published date and a body make an article, whatever the path looks like
    (`.h00-N.html`, `.html` or none: the site is moving to extension-less URLs). Else
    a page linking articles or showing facets is a listing. An `.hNN-N.html` URL is
    always an article's, and so is a page whose EDS template says `blog-article`: a page
    there without an article's parts says why, rather than pass for a listing.
    """
    try:
        return parse_article(root, meta, url, canonical_url)
    except PageError as not_an_article:
        if ARTICLE_CODE_URL.search(canonical_url) or meta.is_article_template:
            raise
        listing = parse_listing(root, url, None)
        if listing["article_links"] or listing["tag_counts"]:
            return listing
        if is_article_url(canonical_url):
            raise
        raise PageError(f"unknown page type: {canonical_url}") from not_an_article


def _has_document_end(raw: bytes) -> bool:
    """A closing </html> or </body> in the page's last 64 KiB (searched from the end)."""
    return any(_DOCUMENT_END.search(raw, max(0, len(raw) - size)) for size in (1024, 65536))


def _as_utf8(raw: bytes) -> bytes:
    """The page's text as UTF-8 for lxml: decoded by its BOM, declared or detected
    encoding (w3lib), errors replaced."""
    if not raw.strip():
        raise PageError("empty file")
    head = raw[:4096]
    if b"\x00" in head or len(_CONTROL_BYTES.findall(head)) > len(head) // 100:
        raise PageError("not an HTML page (binary data)")
    if read_bom(raw)[0] is None and html_body_declared_encoding(raw) in (None, "utf-8"):
        # What html_to_unicode would decode as UTF-8: when nothing needs replacing, the
        # bytes are the text's UTF-8 already (most pages: one strict decode, no copy).
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if b"<" not in raw:
                raise PageError("not an HTML page (no markup)")
            return raw
    text = html_to_unicode(None, raw)[1]
    if "<" not in text:
        raise PageError("not an HTML page (no markup)")
    return text.encode("utf-8")


def _is_not_found_page(root: Any, meta: PageMetadata) -> bool:
    h1 = next(root.iter("h1"), None)
    candidates = [meta.seo_title or ""]
    if h1 is not None:
        candidates.append(collapse("".join(h1.itertext())))
    return any(_NOT_FOUND.search(text) for text in candidates if len(text) < 120)
