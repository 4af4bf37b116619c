"""Every fetched page becomes its record, or an error saying why it is not one.

The spider hands pages over read already (`crawler.parsing`, in worker processes on a
fast crawl): a record, or the parser's reason it is none. A page it left unread (a
parser bug in a worker) is parsed again here, in this process, which records the bug.

A `PageError` never stops the crawl: the item goes on with `error` set, so the persist
pipeline stores a parse-error row (URL, reason, raw bytes) and the run's
error rate counts it. Parsing is done with the page's canonical site URL, so records
carry https://www.mdanderson.org URLs whatever root the page came from.

Besides the parser's own refusals (a truncated page, binary data, ...), a page whose
bytes are not valid in the encoding it is read with is refused here: the parser
reads such bytes as U+FFFD and would hand over a record with damaged text (a
Windows-1252 page served as UTF-8), which the archive would keep as a new version.
"""

from __future__ import annotations

import logging
from typing import Self

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

from crawler.items import PageItem, PageKind, SeenArticles
from crawler.parsers import PageError, parse_page

logger = logging.getLogger(__name__)


def encoding_problem(body: bytes, content_type: str | None = None) -> str | None:
    """Why `body` does not decode in the encoding the parser reads it with, or None.

    The parser's rule (w3lib's, without a header): a byte order mark, else the
    charset the page declares, else UTF-8. The Content-Type header only makes the
    reason clearer.
    """
    bom_encoding, bom = read_bom(body)
    if bom_encoding is not None and bom is not None:
        encoding, data = bom_encoding, body[len(bom) :]
    else:
        encoding, data = html_body_declared_encoding(body) or "utf-8", body
        if encoding in ("utf-16", "utf-32"):
            encoding += "-be"
    try:
        data.decode(encoding)
    except UnicodeDecodeError as error:
        declared = http_content_type_encoding(content_type) if content_type else None
        said = f"; Content-Type says {declared}" if declared else ""
        return (
            f"mis-encoded page: byte 0x{data[error.start]:02x} at {error.start} "
            f"is not valid {encoding}{said}"
        )
    except LookupError:
        return f"mis-encoded page: unknown encoding {encoding}"
    return None


class ValidatePipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.stats)

    def process_item(self, item: PageItem | SeenArticles) -> PageItem | SeenArticles:
        if isinstance(item, SeenArticles) or item.kind is PageKind.FAILED or item.status != 200:
            return item  # nothing to parse: not fetched, failed, 304, 404, 410
        if item.record is None and item.error is None:  # the spider could not read it
            try:
                item.record = parse_page(item.body, item.url)
            except PageError as error:
                item.error = error.reason
            except Exception as error:  # a parser bug: this page's error, not the crawl's
                item.error = f"parser failed: {type(error).__name__}: {error}"
                logger.error(
                    "parser failed on %(url)s: %(error)r", {"url": item.url, "error": error}
                )
        if item.error is None:
            # Checked on the bytes also when the spider parsed the page already.
            item.error = encoding_problem(item.body, item.headers.get("Content-Type"))
        if item.error is None and item.record is not None:
            page_type = item.record.get("page_type")
            expected = "article" if item.kind is PageKind.ARTICLE else "listing"
            if page_type != expected:
                item.error = f"expected an {expected} page, got {page_type}: {item.url}"
        if item.error is not None:
            item.record = None  # what is not a record is never saved as one
            self.stats.inc_value("archive/parse_errors")
            logger.info(
                "not a record: %(url)s: %(reason)s", {"url": item.url, "reason": item.error}
            )
        return item
