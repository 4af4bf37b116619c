"""Shared by the crawl tests: the project's settings, an article page as a `PageItem`, a
spider callback's output, the rows of a crawl's SQLite archive."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.http import TextResponse

from crawler.items import PageItem, PageKind

ARTICLE_URL = "https://www.mdanderson.org/cancerwise/a-story.h00-1.html"
ARTICLE = b"""<html><head><title>A story | UT MD Anderson</title>
<link rel="canonical" href="https://www.mdanderson.org/cancerwise/a-story.h00-1.html"></head>
<body><div class="headline"><h1>A story</h1></div>
<p class="blog-readtime-date"><span class="tab">3 minute read | Published
<span>June 08, 2026</span></span></p>
<div class="article-blog"><div class="blog-section-text"><p>Body one.</p><p>Body two.</p>
</div></div></body></html>"""


def project_settings(**overrides: Any) -> dict[str, Any]:
    """crawler/settings.py as a dict (get_crawler does not read the project module)."""
    from crawler import settings as defaults

    names = (name for name in dir(defaults) if name.isupper())
    return {**{name: getattr(defaults, name) for name in names}, **overrides}


def page(kind: PageKind = PageKind.ARTICLE, status: int | None = 200, **kw: Any) -> PageItem:
    """The article as fetched (200); keywords replace fields (url, body, ...)."""
    fields: dict[str, Any] = {
        "url": ARTICLE_URL,
        "kind": kind,
        "status": status,
        "body": ARTICLE,
        "fetched_at": datetime(2026, 11, 27, tzinfo=UTC),
    }
    fields.update(kw)
    return PageItem(**fields)


def respond(
    request: Request, body: bytes, cls: type[TextResponse] = TextResponse, status: int = 200
) -> list[Any]:
    """What the spider yields for `body` as the answer to its own `request` (a callback
    may be a generator or an async generator: the article and listing callbacks await
    the parser)."""
    assert request.callback is not None
    output = request.callback(cls(request.url, status=status, body=body, request=request))
    if hasattr(output, "__aiter__"):

        async def collect() -> list[Any]:
            return [value async for value in output]

        return asyncio.run(collect())
    return list(output)


def rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """The rows `sql` selects from the SQLite archive at `db`."""
    with closing(sqlite3.connect(db)) as connection:
        return connection.execute(sql, args).fetchall()
