"""Whether a fetched sitemap may be read: well-formed XML without a DTD, a `urlset` or
a `sitemapindex`, gzip decompressed within DOWNLOAD_MAXSIZE.

A sitemap that is not is refused whole (the spider stores a `bad_sitemap` error): a
cut one could carry a cut `<lastmod>` (a wrong date that spares a fetch).
"""

from __future__ import annotations

from lxml import etree

from crawler.middlewares.decompression import CorruptBody, TooLarge, decompress

# A sitemap is read only when it is well-formed XML without a DTD: a cut one could
# carry a cut `<lastmod>` (a wrong date that spares a fetch), and no sitemap needs
# entities. Never from the network, never expanded.
_SITEMAP_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, recover=False, huge_tree=False
)
_SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})


def sitemap_problem(body: bytes, max_size: int = 0) -> str | None:
    """Why this body is not a sitemap to read, or None when it is one."""
    if body[:3] == b"\x1f\x8b\x08":  # a .xml.gz file, served as is
        try:
            body = decompress(body, "gzip", max_size)
        except (CorruptBody, TooLarge) as error:
            return f"bad sitemap: {error}"
    if not body.strip():
        return "bad sitemap: empty"
    try:
        root = etree.fromstring(body, _SITEMAP_PARSER)
    except etree.XMLSyntaxError as error:
        return f"malformed sitemap: {error}"
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None:
        return "bad sitemap: it declares a DTD (entities are not read)"
    name = etree.QName(root).localname if isinstance(root.tag, str) else ""
    if name not in _SITEMAP_ROOTS:
        return f"not a sitemap: the root element is <{name}>"
    return None
