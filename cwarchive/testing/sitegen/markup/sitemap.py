"""A sitemap as the site serves one: a `urlset` of `<loc>` and `<lastmod>` entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from cwarchive.testing.sitegen.markup.common import attr


def sitemap_xml(rows: Iterable[tuple[str, dt.datetime]]) -> str:
    entries = "\n".join(
        f"  <url>\n    <loc>{attr(url)}</loc>\n"
        f"    <lastmod>{lastmod.isoformat(timespec='seconds')}</lastmod>\n  </url>"
        for url, lastmod in rows
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}\n</urlset>\n"
    )
