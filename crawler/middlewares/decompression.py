"""Decompress gzip and deflate bodies strictly, within `DOWNLOAD_MAXSIZE`.

Scrapy's HttpCompressionMiddleware returns "as much data as possible": a gzip stream
cut short, or with a wrong CRC (flipped bytes), becomes a shorter or garbled page
without a word, and a page that still ends in `</html>` would be archived as it
came. Here a body must decompress whole, its checksum must match, and it may not
expand past `DOWNLOAD_MAXSIZE` (a gzip bomb stops there, memory stays bounded). A
corrupt body is retried like a 5xx (a proxy's glitch passes); a too large one is not.

Placed before HttpCompressionMiddleware (590) in response order, it leaves Scrapy's
nothing to do for the encodings it asks for: `Accept-Encoding: gzip, deflate` only
(brotli and zstd would be read by Scrapy's lenient decoders).
"""

from __future__ import annotations

import logging
import zlib
from typing import Any, Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response, TextResponse
from scrapy.responsetypes import responsetypes

from crawler.middlewares.refused import Refused

logger = logging.getLogger(__name__)

ACCEPT_ENCODING = b"gzip, deflate"
_CHUNK = 64 * 1024


class CorruptBody(ValueError):
    pass


class TooLarge(ValueError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"expands past {size} B, over DOWNLOAD_MAXSIZE ({limit} B)")


def decompress(body: bytes, encoding: str, max_size: int) -> bytes:
    """`body` decoded from `encoding` (gzip, x-gzip, deflate), whole and checked.

    Raises `CorruptBody` (the stream is cut short, garbled or fails its checksum) or
    `TooLarge` (it expands past `max_size`; 0 means no limit).
    """
    if encoding != "deflate":
        wbits = zlib.MAX_WBITS | 16  # the gzip wrapper: its CRC-32 and length are checked
    elif len(body) >= 2 and body[0] & 0x0F == 8 and int.from_bytes(body[:2], "big") % 31 == 0:
        wbits = zlib.MAX_WBITS  # the zlib wrapper (RFC 1950): its Adler-32 is checked
    else:
        wbits = -zlib.MAX_WBITS  # raw deflate, as some servers send: only its end is checked
    decompressor = zlib.decompressobj(wbits)
    pieces: list[bytes] = []
    size = 0
    data = body
    try:
        while True:
            chunk = decompressor.decompress(data, _CHUNK)
            size += len(chunk)
            if max_size and size > max_size:
                raise TooLarge(size, max_size)
            pieces.append(chunk)
            data = decompressor.unconsumed_tail
            if decompressor.eof or (not data and len(chunk) < _CHUNK):
                break
    except zlib.error as error:
        raise CorruptBody(f"corrupt {encoding} body: {error}") from None
    if not decompressor.eof:
        raise CorruptBody(f"corrupt {encoding} body: the stream ends early (cut short)")
    if decompressor.unused_data.strip(b"\0"):
        raise CorruptBody(f"corrupt {encoding} body: bytes after the end of the stream")
    return b"".join(pieces)


class StrictDecompressionMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_size = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        self.max_retry_times = crawler.settings.getint("RETRY_TIMES")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        # After HttpCompressionMiddleware's setdefault (590): only what is read here.
        request.headers[b"Accept-Encoding"] = ACCEPT_ENCODING

    def process_response(self, request: Request, response: Response) -> Request | Response:
        encoding = (response.headers.get("Content-Encoding") or b"").strip().lower()
        if request.method == "HEAD" or encoding not in (b"gzip", b"x-gzip", b"deflate"):
            return response  # none, or several, or one Scrapy's middleware reads
        max_size = request.meta.get("download_maxsize", self.max_size)
        stats = self.crawler.stats
        try:
            body = decompress(response.body, encoding.decode(), max_size)
        except TooLarge as error:
            stats.inc_value("archive/refused/too_large")
            raise Refused("too_large", f"too large: the {encoding.decode()} body {error}") from None
        except CorruptBody as error:
            stats.inc_value("archive/refused/corrupt_body")
            retry = get_retry_request(
                request,
                spider=self.crawler.spider,
                reason="corrupt body",
                max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            )
            if retry is not None:
                return retry
            raise Refused("corrupt_body", str(error)) from None
        cls = responsetypes.from_args(headers=response.headers, url=response.url, body=body)
        kwargs: dict[str, Any] = {"body": body}
        if issubclass(cls, TextResponse):
            kwargs["encoding"] = None  # read the charset again, as Scrapy's middleware does
        response = response.replace(cls=cls, **kwargs)
        del response.headers["Content-Encoding"]
        return response
