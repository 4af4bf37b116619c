"""Every request and response of the run into one gzipped WARC file (`ARCHIVE_WARC_DIR`).

A downloader middleware placed next to the downloader (950): it sees responses
before HttpCompression decodes them and before redirects are followed, so the WARC
holds the bytes as sent, 301s and 304s included, and opens in standard replay tools.
One `response` record per response, with its `request` record (WARC-Concurrent-To).
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import IO, Self
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

logger = logging.getLogger(__name__)

# Transport details the client already undid: the record's body is de-chunked.
_HOP_BY_HOP = {b"transfer-encoding", b"connection", b"keep-alive", b"content-length"}


def _header_list(headers: Headers, drop: set[bytes] = frozenset()) -> list[tuple[str, str]]:
    pairs = []
    for name, values in headers.items():
        if name.lower() in drop:
            continue
        for value in values:
            pairs.append((name.decode("latin-1"), value.decode("latin-1")))
    return pairs


def _warc_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class WarcMiddleware:
    def __init__(self, crawler: Crawler, directory: Path) -> None:
        self.crawler = crawler
        self.directory = directory
        self.path: Path | None = None
        self._file: IO[bytes] | None = None
        self._writer: WARCWriter | None = None
        crawler.signals.connect(self._on_spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self._on_spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        directory = crawler.settings.get("ARCHIVE_WARC_DIR")
        if not directory:
            raise NotConfigured  # off by default: no message, no warning in every log
        return cls(crawler, Path(directory))

    def _on_spider_opened(self, spider: Spider) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self.path = self.directory / f"cwarchive-{stamp}-{os.getpid()}.warc.gz"
        self._file = open(self.path, "wb")  # noqa: SIM115 - open for the whole run
        self._writer = WARCWriter(self._file, gzip=True)
        info = self._writer.create_warcinfo_record(
            self.path.name,
            {
                "software": "cwarchive (Scrapy)",
                "format": "WARC File Format 1.1",
                "http-header-user-agent": self.crawler.settings.get("USER_AGENT"),
                "robots": "obey" if self.crawler.settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            },
        )
        self._writer.write_record(info)
        self.crawler.stats.set_value("archive/warc_file", str(self.path))
        logger.info("writing WARC to %(path)s", {"path": self.path})

    def _on_spider_closed(self, spider: Spider) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None

    def process_response(self, request: Request, response: Response) -> Response:
        if self._writer is not None:
            self._write(request, response)
        return response

    def _write(self, request: Request, response: Response) -> None:
        assert self._writer is not None
        now = _warc_date(datetime.now(UTC))
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        protocol = response.protocol or "HTTP/1.1"
        http_headers = StatusAndHeaders(
            f"{response.status} {reason}".strip(),
            _header_list(response.headers, _HOP_BY_HOP)
            + [("Content-Length", str(len(response.body)))],
            protocol=protocol,
        )
        record = self._writer.create_warc_record(
            response.url,
            "response",
            payload=BytesIO(response.body),
            http_headers=http_headers,
            warc_headers_dict={"WARC-Date": now},
        )
        parts = urlsplit(request.url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        request_headers = [("Host", parts.netloc), *_header_list(request.headers)]
        request_record = self._writer.create_warc_record(
            request.url,
            "request",
            payload=BytesIO(request.body),
            http_headers=StatusAndHeaders(
                f"{request.method} {target or '/'} {protocol}",
                request_headers,
                is_http_request=True,
            ),
            warc_headers_dict={
                "WARC-Date": now,
                "WARC-Concurrent-To": record.rec_headers.get_header("WARC-Record-ID"),
            },
        )
        self._writer.write_record(record)
        self._writer.write_record(request_record)
        self.crawler.stats.inc_value("archive/warc_records", 2)
