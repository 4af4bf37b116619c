"""A failing, throttling, lying server: the crawl survives, nothing false gets in,
nothing archived is lost (docs/reliability.md).

Three parts:
- the fault-injecting replay server itself (`cwarchive.testing.faults`), byte level;
- one rule at a time: a unit test where the rule lives in a function, and one crawl
  of a small site where every page kind fails its own way (`focused`);
- the whole story (`test_a_faulty_history_converges`): a clean crawl, two crawls
  through a seeded mix of every fault while the site changes, then a clean one.

Crawls run `python -m cwarchive crawl` in a subprocess (a Scrapy crawl runs once per
process); the replay server runs in this process, so its log shows what was asked.
The archive is read with sqlite3, table by table.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import hashlib
import json
import os
import random
import socket
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from scrapy import Request
from scrapy.exceptions import (
    DownloadCancelledError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import Sitemap
from scrapy.utils.test import get_crawler
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure

from common.urls import SITE, article_key
from crawler.failures import failure_reason, is_robots_refusal
from crawler.items import PageItem, PageKind
from crawler.middlewares.decompression import CorruptBody, TooLarge, decompress
from crawler.middlewares.offsite import OffsiteGuardMiddleware
from crawler.middlewares.redirect_loop import RedirectLoopMiddleware
from crawler.middlewares.refused import Refused
from crawler.parsers import PageError, parse_page
from crawler.spiders.cancerwise import CancerwiseSpider
from cwarchive.testing.faults import (
    KINDS,
    LOOP_PARAMETER,
    Faults,
    FaultSpec,
    corrupt_gzip,
    gzip_bomb,
)
from cwarchive.testing.replay import ReplayServer, read_log, spawn
from cwarchive.testing.sitegen import Site
from cwarchive.testing.sitegen.generate import generate_site
from pipelines.persist import run_status
from pipelines.validate import ValidatePipeline, encoding_problem
from tests.crawling import project_settings, rows

# ======================================================================================
# The fault server
# ======================================================================================

PAGE = (
    "<html><head><meta charset='utf-8'><title>‘Quoted’ café</title></head>"
    "<body><p>Body with “curly quotes” and é.</p>" + "<p>filler</p>" * 200 + "</body></html>\n"
).encode()
SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://www.mdanderson.org/cancerwise/a.h00-1.html</loc><lastmod>2026-01-01</lastmod></url>
  <url><loc>https://www.mdanderson.org/cancerwise/b.h00-2.html</loc><lastmod>2026-01-02</lastmod></url>
</urlset>
"""


@pytest.fixture
def tiny_site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "cancerwise").mkdir(parents=True)
    (root / "cancerwise" / "a.h00-1.html").write_bytes(PAGE)
    (root / "cancerwise-sitemap.xml").write_bytes(SITEMAP)
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /gifts/\n")
    return root


def test_spec_is_checked_and_round_trips() -> None:
    spec = FaultSpec.from_json(
        {
            "rates": {"500": 0.1, "truncated_html": 0.2},
            "paths": {"/robots.txt": {"robots_timeout": 1}, "/cancerwise/*": {"503": 0.5}},
            "stall_seconds": 3,
            "foreign_hosts": ["http://other.example/"],
        }
    )
    assert spec.rates_for("/robots.txt") == {"robots_timeout": 1}
    assert spec.rates_for("/cancerwise/x.h00-1.html") == {"503": 0.5}
    assert spec.rates_for("/cancerwise.html") == {"500": 0.1, "truncated_html": 0.2}
    assert spec.foreign_hosts == ("http://other.example",)
    assert FaultSpec.from_json(spec.to_json()) == spec
    with pytest.raises(ValueError, match="unknown fault kinds: 404"):
        FaultSpec.from_json({"rates": {"404": 0.1}})
    with pytest.raises(ValueError, match="more than 1"):
        FaultSpec.from_json({"rates": {"500": 0.6, "502": 0.6}})
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        FaultSpec.from_json({"rates": {"500": -0.1}})
    with pytest.raises(ValueError, match="unknown fault spec keys: rate"):
        FaultSpec.from_json({"rate": {}})


def test_decisions_depend_on_the_seed_and_the_request_not_on_thread_order() -> None:
    spec = FaultSpec(rates={"500": 0.2, "reset_before": 0.2, "truncated_html": 0.2})
    targets = [f"/cancerwise/p{i}.h00-{i}.html" for i in range(200)] * 3

    def faults_of(order: list[str], seed: int) -> dict[tuple[str, int], str | None]:
        faults, seen, out = Faults(spec, seed), Counter[str](), {}
        for target in order:
            kind, _ = faults.decide("GET", target, 200, "text/html; charset=utf-8")
            out[(target, seen[target])] = kind
            seen[target] += 1
        return out

    shuffled = targets[:]
    random.Random(1).shuffle(shuffled)
    # The n-th request of a page gets its fault, whichever thread answers first.
    assert faults_of(targets, 7) == faults_of(shuffled, 7)
    assert faults_of(targets, 7) != faults_of(targets, 8)
    drawn = Counter(faults_of(targets, 7).values())
    for kind in ("500", "reset_before", "truncated_html"):
        assert 0.15 < drawn[kind] / len(targets) < 0.25, drawn


def test_each_kind_applies_only_where_it_makes_sense() -> None:
    everything = FaultSpec(rates={kind: 1 / len(KINDS) for kind in KINDS})
    faults = Faults(everything, 0)

    def kinds(target: str, status: int, content_type: str) -> set[str | None]:
        return {faults.decide("GET", target, status, content_type)[0] for _ in range(3000)}

    html = kinds("/cancerwise.html", 200, "text/html; charset=utf-8")
    assert "truncated_html" in html and "huge_page" in html
    assert not html & {"robots_500", "malformed_sitemap", "foreign_sitemap"}
    sitemap = kinds("/cancerwise-sitemap.xml", 200, "application/xml")
    assert "malformed_sitemap" in sitemap and "truncated_html" not in sitemap
    robots = kinds("/robots.txt", 200, "text/plain; charset=utf-8")
    assert {"robots_500", "robots_timeout"} <= robots and "garbage" not in robots
    # A 304 or a 404 has no page to garble: only the transport and status kinds.
    not_modified = kinds("/cancerwise.html", 304, "text/html; charset=utf-8")
    assert "503" in not_modified and "truncated_html" not in not_modified


@dataclass
class Raw:
    status: int | None
    headers: dict[str, str]
    body: bytes
    ending: str  # "eof", "reset" or "timeout": how the connection ended


def raw_get(port: int, target: str, timeout: float = 5.0) -> Raw:
    """One GET on a fresh socket, read to the end of the connection, byte for byte."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    data, ending = b"", "eof"
    head: bytes | None = None
    length: int | None = None
    try:
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            data += chunk
            if head is None and b"\r\n\r\n" in data:
                head, data = data.split(b"\r\n\r\n", 1)
                for line in head.split(b"\r\n")[1:]:
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
            if length is not None and len(data) >= length:
                break  # a whole answer on a kept-alive connection
    except ConnectionResetError:
        ending = "reset"
    except TimeoutError:
        ending = "timeout"
    finally:
        sock.close()
    if head is None:
        return Raw(None, {}, data, ending)
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return Raw(int(lines[0].split()[1]), headers, data, ending)


ARTICLE = "/cancerwise/a.h00-1.html"


def served_with(root: Path, kind: str, **options: Any) -> ReplayServer:
    spec = FaultSpec(rates={kind: 1.0}, stall_seconds=2, **options)
    return ReplayServer(root, faults=spec, seed=3)


@pytest.mark.parametrize("kind", ["500", "502", "503", "429"])
def test_status_faults(tiny_site: Path, kind: str) -> None:
    with served_with(tiny_site, kind) as server:
        answers = [raw_get(server.port, ARTICLE) for _ in range(12)]
    assert {a.status for a in answers} == {int(kind)}
    with_retry_after = [a for a in answers if "Retry-After" in a.headers]
    if kind in ("503", "429"):  # with and without Retry-After
        assert 0 < len(with_retry_after) < len(answers)
        assert {a.headers["Retry-After"] for a in with_retry_after} == {"1"}
    else:
        assert not with_retry_after


def test_transport_faults(tiny_site: Path) -> None:
    with served_with(tiny_site, "reset_before") as server:
        answer = raw_get(server.port, ARTICLE)
        assert (answer.status, answer.body, answer.ending) == (None, b"", "reset")
    with served_with(tiny_site, "short_body") as server:
        answer = raw_get(server.port, ARTICLE)
    assert answer.status == 200 and answer.ending == "eof"
    assert int(answer.headers["Content-Length"]) == len(PAGE)
    assert len(answer.body) < len(PAGE) and PAGE.startswith(answer.body)
    with served_with(tiny_site, "reset_mid_body") as server:
        answer = raw_get(server.port, ARTICLE)
    # What arrived before the reset may be lost with it: only the reset is certain.
    assert answer.ending == "reset" and len(answer.body) < len(PAGE)
    entry = server.entries[-1]
    sent, total = entry.fault.split("=", 1)[1].split("/")
    assert entry.status == 200 and int(sent) < int(total) == len(PAGE)
    with served_with(tiny_site, "stall") as server:
        started = time.monotonic()
        answer = raw_get(server.port, ARTICLE, timeout=0.5)
        assert answer.status == 200 and answer.body == b"" and answer.ending == "timeout"
        assert time.monotonic() - started < 2
        # Stopping the server does not wait for the stall (2 s) to end.
        started = time.monotonic()
    assert time.monotonic() - started < 1.5


def test_content_faults(tiny_site: Path) -> None:
    with served_with(tiny_site, "truncated_html") as server:
        answer = raw_get(server.port, ARTICLE)
    assert int(answer.headers["Content-Length"]) == len(answer.body) < len(PAGE)
    assert PAGE.startswith(answer.body) and b"</html>" not in answer.body
    with served_with(tiny_site, "garbage") as server:
        answer = raw_get(server.port, ARTICLE)
    assert answer.headers["Content-Type"].startswith("text/html") and answer.body != PAGE
    with served_with(tiny_site, "latin1_as_utf8") as server:
        answer = raw_get(server.port, ARTICLE)
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.body.decode("cp1252") == PAGE.decode("utf-8")  # Windows-1252 bytes
    with pytest.raises(UnicodeDecodeError):
        answer.body.decode("utf-8")
    with served_with(tiny_site, "utf8_as_latin1") as server:
        answer = raw_get(server.port, ARTICLE)
    assert answer.headers["Content-Type"] == "text/html; charset=iso-8859-1"
    assert answer.body == PAGE
    with served_with(tiny_site, "huge_page") as server:
        answers = [raw_get(server.port, ARTICLE, timeout=20) for _ in range(6)]
    assert all(len(a.body) >= 20 * 1024 * 1024 for a in answers)
    declared = {"Content-Length" in a.headers for a in answers}
    assert declared == {True, False}  # with a Content-Length, and ended by the close


def test_encoding_faults(tiny_site: Path) -> None:
    with served_with(tiny_site, "corrupt_gzip") as server:
        answers = [raw_get(server.port, ARTICLE) for _ in range(16)]
    for answer in answers:
        assert answer.headers["Content-Encoding"] == "gzip"
        with pytest.raises((OSError, EOFError, zlib.error)):
            gzip.decompress(answer.body)
    # All four ways of breaking the stream show up.
    ways = {how for how in (corrupt_gzip(PAGE, random.Random(i))[1] for i in range(40))}
    assert ways == {"garbage", "cut", "flipped", "crc"}
    with served_with(tiny_site, "gzip_bomb", bomb_bytes=110 * 1024 * 1024) as server:
        answer = raw_get(server.port, ARTICLE)
    assert answer.headers["Content-Encoding"] == "gzip" and len(answer.body) < 1024 * 1024
    expanded, inflater, data = 0, zlib.decompressobj(31), answer.body
    while data or not inflater.eof:  # counted in 1 MB steps: never held whole
        expanded += len(inflater.decompress(data, 1 << 20))
        data = inflater.unconsumed_tail
        if not data and inflater.eof:
            break
    assert expanded > 100 * 1024 * 1024


def test_redirect_faults(tiny_site: Path) -> None:
    with served_with(tiny_site, "redirect_offsite") as server:
        answer = raw_get(server.port, ARTICLE)
    assert (answer.status, answer.headers["Location"]) == (302, "http://example.invalid" + ARTICLE)
    with served_with(tiny_site, "redirect_loop") as server:
        first = raw_get(server.port, ARTICLE).headers["Location"]
        second = raw_get(server.port, first.split(str(server.port), 1)[1]).headers["Location"]
        third = raw_get(server.port, second.split(str(server.port), 1)[1]).headers["Location"]
    assert first.endswith(f"{ARTICLE}?{LOOP_PARAMETER}=1")
    assert second.endswith(f"{ARTICLE}?{LOOP_PARAMETER}=2")
    assert third == first  # a cycle, not an endless chain of new URLs


def test_sitemap_and_robots_faults(tiny_site: Path) -> None:
    sitemap = "/cancerwise-sitemap.xml"
    with served_with(tiny_site, "malformed_sitemap") as server:
        answers = [raw_get(server.port, sitemap).body for _ in range(12)]
    for body in answers:
        try:
            root = etree.fromstring(body, etree.XMLParser(recover=False))
        except etree.XMLSyntaxError:
            continue
        assert etree.QName(root).localname == "html"
    with served_with(tiny_site, "huge_sitemap", sitemap_entries=50_000) as server:
        body = raw_get(server.port, sitemap, timeout=20).body
    assert body.count(b"<url>") == 50_000
    assert b"https://www.mdanderson.org/cancerwise/a.h00-1.html" in body  # its own first
    hosts = ("http://one.example", "https://www.mdanderson.org.example.com")
    with served_with(tiny_site, "foreign_sitemap", foreign_hosts=hosts) as server:
        body = raw_get(server.port, sitemap).body
    locs = etree.fromstring(body).findall(".//{*}loc")
    assert [loc.text for loc in locs] == [
        "http://one.example/cancerwise/a.h00-1.html",
        "https://www.mdanderson.org.example.com/cancerwise/b.h00-2.html",
    ]
    with served_with(tiny_site, "robots_500") as server:
        assert raw_get(server.port, "/robots.txt").status == 500
        assert raw_get(server.port, ARTICLE).status == 200  # robots faults: robots.txt only
    with served_with(tiny_site, "robots_timeout") as server:
        answer = raw_get(server.port, "/robots.txt", timeout=0.5)
    assert (answer.status, answer.ending) == (None, "timeout")


def test_the_log_records_the_fault_and_reads_old_logs(tiny_site: Path, tmp_path: Path) -> None:
    log = tmp_path / "requests.tsv"
    spec = FaultSpec(paths=(("/cancerwise/*", {"503": 1.0}),))
    with ReplayServer(tiny_site, log=log, faults=spec, seed=1) as server:
        raw_get(server.port, "/robots.txt")
        raw_get(server.port, ARTICLE)
        assert [e.fault.split(":")[0] for e in server.entries] == ["", "503"]
        assert server.requests == [("GET", "/robots.txt", 200), ("GET", ARTICLE, 503)]
    lines = log.read_text().splitlines()
    assert lines[0] == "GET\t/robots.txt\t200\t-"
    assert lines[1].startswith(f"GET\t{ARTICLE}\t503\t503")
    assert read_log(log) == [("GET", "/robots.txt", 200), ("GET", ARTICLE, 503)]
    # A log written before faults existed (3 columns) still reads, with no fault.
    old = tmp_path / "old.tsv"
    old.write_text("GET\t/robots.txt\t200\nHEAD\t/x\t404\n")
    assert read_log(old) == [("GET", "/robots.txt", 200), ("HEAD", "/x", 404)]
    assert [e.fault for e in read_log(old, with_faults=True)] == ["", ""]


def test_the_command_and_spawn_take_a_spec(tiny_site: Path, tmp_path: Path) -> None:
    spec = FaultSpec(paths=(("/robots.txt", {"500": 1.0}),))
    with spawn(tiny_site, tmp_path / "log.tsv", faults=spec, seed=5) as process:
        port = int(process.url.rsplit(":", 1)[1])
        assert raw_get(port, "/robots.txt").status == 500
        assert raw_get(port, ARTICLE).status == 200
        assert [e.fault for e in process.entries] == ["500", ""]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rates": {"teapot": 1}}))
    result = subprocess.run(
        [sys.executable, "-m", "cwarchive", "replay-server", str(tiny_site), "--faults", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown fault kinds: teapot" in result.stderr and "Traceback" not in result.stderr


# ======================================================================================
# One rule at a time, where it lives
# ======================================================================================


def test_a_truncated_listing_is_refused_like_a_truncated_article() -> None:
    site = generate_site(12, seed=1)
    pages = {page.path: page for page in site.pages()}
    for path in ("/cancerwise.dir.html", "/cancerwise.html", "/cancerwise/2020.html"):
        body = pages[path].body
        assert parse_page(body, SITE + path)["page_type"] == "listing"
        end = body.rfind(b"</body>")
        for cut in (len(body) // 3, end - 10, end):  # mid-page, just before the end
            with pytest.raises(PageError) as error:
                parse_page(body[:cut], SITE + path)
            assert error.value.reason == "truncated page (no </html>)"
    # A facet page cut before its last cards would have lied about the tag's articles.
    facet = next(p for p in pages if "cq:tags" in p and "?" not in p)
    body = pages[facet].body
    with pytest.raises(PageError, match="truncated"):
        parse_page(body[: body.rfind(b"<a ")], SITE + facet)
    # A minimal listing, by hand.
    listing = (
        b"<html><body><a href='/cancerwise/a.h00-1.html'>A story</a>"
        b"<a href='/cancerwise/b.h00-2.html'>B story</a></body></html>"
    )
    assert len(parse_page(listing, SITE + "/cancerwise.html")["article_links"]) == 2
    with pytest.raises(PageError, match=r"truncated page \(no </html>\)"):
        parse_page(listing[:60], SITE + "/cancerwise.html")


def test_the_validate_pipeline_refuses_a_truncated_listing_the_spider_read() -> None:
    crawler = get_crawler(CancerwiseSpider, project_settings())
    validate = ValidatePipeline.from_crawler(crawler)
    page = next(p for p in generate_site(3, seed=1).pages() if p.path == "/cancerwise.dir.html")
    body = page.body[: len(page.body) // 2]
    item = PageItem(url=SITE + page.path, kind=PageKind.LISTING, status=200, body=body)
    assert validate.process_item(item).error == "truncated page (no </html>)"
    assert item.record is None


def test_a_mis_encoded_page_is_refused() -> None:
    text = PAGE.decode("utf-8")
    cp1252 = text.encode("cp1252", errors="xmlcharrefreplace")
    assert encoding_problem(PAGE, "text/html; charset=iso-8859-1") is None  # bytes are fine
    problem = encoding_problem(cp1252, "text/html; charset=utf-8")
    assert problem is not None and problem.startswith("mis-encoded page: byte 0x91 at ")
    assert "utf-8" in problem
    # What the parser alone makes of such an article: replacement characters in the text.
    pages = generate_site(12, seed=11).pages()
    article = next(p for p in pages if ".h00-" in p.path and max(p.body) > 127)
    garbled = article.body.decode("utf-8").encode("cp1252", errors="xmlcharrefreplace")
    assert article.body != garbled
    assert "\ufffd" in json.dumps(parse_page(garbled, SITE + article.path), ensure_ascii=False)
    assert encoding_problem(garbled) is not None
    crawler = get_crawler(CancerwiseSpider, project_settings())
    validate = ValidatePipeline.from_crawler(crawler)
    item = PageItem(url=SITE + "/cancerwise.html", kind=PageKind.LISTING, status=200, body=cp1252)
    item.record = {"page_type": "listing"}  # parsed by the spider already: checked anyway
    validate.process_item(item)
    assert item.error is not None and item.error.startswith("mis-encoded page")
    assert item.record is None
    # A page that says it is Windows-1252 and is, is read as such.
    declared = text.replace("charset='utf-8'", "charset='windows-1252'").encode("cp1252")
    assert encoding_problem(declared) is None


def test_a_parser_failure_is_an_error_row_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipelines.validate

    def broken(html: bytes, url: str | None = None) -> dict[str, Any]:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(pipelines.validate, "parse_page", broken)
    validate = ValidatePipeline.from_crawler(get_crawler(CancerwiseSpider, project_settings()))
    item = PageItem(url=SITE + "/cancerwise/a.h00-1.html", kind=PageKind.ARTICLE, status=200)
    item.body = PAGE
    assert validate.process_item(item).error == (
        "parser failed: RecursionError: maximum recursion depth exceeded"
    )


def request(url: str = SITE + "/cancerwise/a.h00-1.html", **meta: Any) -> Request:
    return Request(url, meta=meta)


@pytest.mark.parametrize(
    ("error", "kind", "reason"),
    [
        (ResponseDataLossError(), "data_loss", "body cut short: the connection closed before"),
        (DownloadTimeoutError("Getting x took longer than 2.0 seconds."), "timeout", "timeout: "),
        (DownloadCancelledError(), "too_large", "too large: the body passed DOWNLOAD_MAXSIZE"),
        (CancelledError(), "too_large", "too large: the body passed DOWNLOAD_MAXSIZE"),
        (DownloadCancelledError("Expected to receive 20971520 bytes"), "too_large", "too large: "),
        (Refused("offsite", "off-site URL not fetched: x"), "offsite", "off-site URL not fetched"),
        (IgnoreRequest("max redirections reached"), "ignored", "not fetched: max redirections"),
        (
            DownloadFailedError(
                "[<twisted.python.failure.Failure twisted.internet.error.ConnectionLost: "
                "Connection to the other side was lost in a non-clean fashion.>]"
            ),
            "no_response",
            "no response: DownloadFailedError: ConnectionLost: Connection to the other side",
        ),
        (DownloadFailedError(), "no_response", "no response: DownloadFailedError"),
        (ConnectionRefusedError(), "no_response", "no response: ConnectionRefusedError"),
    ],
)
def test_every_failure_has_a_reason(error: Exception, kind: str, reason: str) -> None:
    found_kind, found_reason = failure_reason(Failure(error), max_size=16 * 1024 * 1024)
    assert found_kind == kind
    assert found_reason.startswith(reason) and found_reason.strip(": ")
    assert not is_robots_refusal(Failure(error))


def test_only_robots_refusals_are_not_errors() -> None:
    assert is_robots_refusal(Failure(IgnoreRequest("Forbidden by robots.txt")))
    response = Response(SITE, status=500, request=request())
    http_error = HttpError(response, "Ignoring non-200 response")
    assert not is_robots_refusal(Failure(http_error))
    assert failure_reason(Failure(http_error)) == ("http_500", "HTTP 500")


def test_off_site_requests_are_refused() -> None:
    crawler = get_crawler(CancerwiseSpider, {"ARCHIVE_SITE_ROOT": "http://127.0.0.1:8000"})
    crawler.stats.open_spider()
    guard = OffsiteGuardMiddleware.from_crawler(crawler)
    for url in (SITE + "/x", "http://mdanderson.org/x", "http://127.0.0.1:8000/x"):
        assert guard.process_request(request(url)) is None
    for url in (
        "http://example.invalid/cancerwise/a.h00-1.html",
        "https://www.mdanderson.org.example.com/cancerwise/a.h00-1.html",
        "http://127.0.0.1:8001/cancerwise/a.h00-1.html",  # the root's host, another port
    ):
        with pytest.raises(Refused, match="off-site URL not fetched"):
            guard.process_request(request(url))
    redirected = request("http://example.invalid/x", redirect_urls=["http://127.0.0.1:8000/x"])
    with pytest.raises(Refused, match="redirected off the site: http://127.0.0.1:8000/x -> "):
        guard.process_request(redirected)


def test_a_redirect_back_into_its_chain_fails_the_page() -> None:
    def guard(root: str = SITE) -> RedirectLoopMiddleware:
        crawler = get_crawler(CancerwiseSpider, {"ARCHIVE_SITE_ROOT": root})
        crawler.stats.open_spider()
        return RedirectLoopMiddleware.from_crawler(crawler)

    def redirect(url: str, location: str, chain: tuple[str, ...] = (), **meta: Any) -> Any:
        response = Response(url, status=302, headers={"Location": location})
        return request(url, redirect_urls=list(chain), **meta), response

    live = guard()
    a, b = SITE + "/cancerwise/a.h00-1.html", SITE + "/cancerwise/b.h00-2.html"
    with pytest.raises(Refused, match=f"redirect loop: {a} -> {b} -> {a}"):
        live.process_response(*redirect(b, a, chain=(a,)))
    with pytest.raises(Refused, match="redirect loop"):
        live.process_response(*redirect(a, a + "#top"))  # to itself
    # Not loops: somewhere new, a scheme or host canonicalisation of the same path.
    for url, location in (
        (a, b),
        ("http://mdanderson.org/x", SITE + "/x"),
        ("http://x/y", "https://x/y"),
    ):
        request_, response = redirect(url, location)
        assert live.process_response(request_, response) is response
    # A status the request handles itself is not followed, so not checked.
    request_, response = redirect(a, a, handle_httpstatus_list=[302])
    assert live.process_response(request_, response) is response
    # Under --site, a Location on www.mdanderson.org is fetched on the root: same place.
    replay = guard("http://127.0.0.1:8000")
    with pytest.raises(Refused, match="redirect loop"):
        replay.process_response(*redirect("http://127.0.0.1:8000/x", SITE + "/x"))


def test_bodies_decompress_whole_or_not_at_all() -> None:
    assert decompress(gzip.compress(PAGE), "gzip", 0) == PAGE
    assert decompress(zlib.compress(PAGE), "deflate", 0) == PAGE
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    assert decompress(raw.compress(PAGE) + raw.flush(), "deflate", 0) == PAGE
    for seed in range(40):
        broken, how = corrupt_gzip(PAGE, random.Random(seed))
        with pytest.raises(CorruptBody, match="corrupt gzip body"):
            decompress(broken, "gzip", 16 * 1024 * 1024)
        if how == "crc":  # the data is whole: only the checksum tells
            assert zlib.decompressobj(-15).decompress(broken[10:-8]) == PAGE
    started = time.monotonic()
    with pytest.raises(TooLarge, match="over DOWNLOAD_MAXSIZE"):
        decompress(gzip_bomb(128 * 1024 * 1024), "gzip", 16 * 1024 * 1024)
    assert time.monotonic() - started < 5


def test_a_run_over_the_error_rate_is_failed() -> None:
    assert run_status("finished", 0.05, 0.05) == "completed"
    assert run_status("finished", 0.0501, 0.05) == "failed"
    assert run_status("shutdown", 0.9, 0.05) == "interrupted"  # an interruption stays one


# Billion laughs and an external entity reading a local file, in a sitemap and a page.
LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


def xxe(secret: Path) -> str:
    return f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>'


def sitemap_with(doctype: str, text: str) -> bytes:
    return (
        f'<?xml version="1.0"?>{doctype}<urlset xmlns="http://www.sitemaps.org/schemas/'
        f'sitemap/0.9"><url><loc>https://www.mdanderson.org/cancerwise/{text}.h00-1.html</loc>'
        "</url></urlset>"
    ).encode()


def sitemap_reader() -> tuple[Any, Any]:
    """The spider's stats, and a function: what its sitemap request yields for a body.

    Through its own requests: start() asks for robots.txt, robots.txt names the
    sitemap, the sitemap request's callback reads the answer.
    """
    crawler = get_crawler(CancerwiseSpider, project_settings(ARCHIVE_DB_URL=""))
    crawler.stats.open_spider()
    spider = CancerwiseSpider.from_crawler(crawler)

    async def first_requests() -> list[Request]:
        return [request async for request in spider.start()]

    (robots,) = [r for r in asyncio.run(first_requests()) if r.url.endswith("/robots.txt")]
    robots_txt = f"User-agent: *\nSitemap: {SITE}/cancerwise-sitemap.xml\n".encode()
    (sitemap,) = robots.callback(TextResponse(robots.url, body=robots_txt, request=robots))

    def read(body: bytes, cls: type[Response] = XmlResponse) -> list[Any]:
        return list(sitemap.callback(cls(sitemap.url, body=body, request=sitemap)))

    return crawler.stats, read


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-CONTENT")
    return path


def test_sitemaps_refuse_entities(secret: Path) -> None:
    laughs = sitemap_with(LAUGHS, "&lol9;")
    external = sitemap_with(xxe(secret), "&xxe;")
    # Scrapy's own reader (lxml, resolve_entities=False) expands neither ...
    for body in (laughs, external):
        entries = list(Sitemap(body))
        assert len(json.dumps(entries)) < 1000
        assert "TOP-SECRET" not in json.dumps(entries) and "lollol" not in json.dumps(entries)
    # ... and the spider does not read such a sitemap at all: an error row of the run.
    _, read = sitemap_reader()
    for body in (laughs, external):
        (item,) = read(body)
        assert isinstance(item, PageItem) and item.kind is PageKind.FAILED
        # libxml2 refuses the laughs outright (amplification); the file is never read.
        assert item.error.startswith(
            ("malformed sitemap: Maximum entity amplification", "bad sitemap: it declares a DTD")
        ), item.error
        assert item.url == SITE + "/cancerwise-sitemap.xml"


def test_malformed_and_foreign_sitemaps() -> None:
    stats, read = sitemap_reader()
    good = sitemap_with("", "fine")
    (article,) = read(good)
    assert isinstance(article, Request) and article.url.endswith("/cancerwise/fine.h00-1.html")
    cut = read(good[: len(good) - 30])
    assert [i.error.split(":")[0] for i in cut] == ["malformed sitemap"]
    html = read(b"<html><body>Service unavailable</body></html>", HtmlResponse)
    assert [i.error for i in html] == ["not a sitemap: the root element is <html>"]
    gz = read(gzip.compress(good)[:-12], Response)  # a .xml.gz cut short
    assert [i.error.split(":")[0] for i in gz] == ["bad sitemap"]
    foreign = good.replace(b"https://www.mdanderson.org", b"https://www.mdanderson.org.example.com")
    assert read(foreign) == []
    assert stats.get_value("archive/discovery/offsite_entries") == 1
    assert stats.get_value("archive/fetch_errors") == 3


def test_the_html_parser_expands_no_entity_and_reads_no_file(secret: Path) -> None:
    for doctype, text in ((LAUGHS, "&lol9;"), (xxe(secret), "&xxe;")):
        page = (
            f"{doctype}<html><head><title>T</title></head><body><p>{text}</p></body></html>"
        ).encode()
        record = parse_page(page, SITE + "/cancerwise.html")
        dumped = json.dumps(record)
        assert "TOP-SECRET" not in dumped and "lollol" not in dumped
        root = etree.fromstring(page, etree.HTMLParser(recover=True, huge_tree=True))
        assert len(etree.tostring(root)) < 2 * len(page)
        assert b"TOP-SECRET" not in etree.tostring(root)


# ======================================================================================
# Crawls
# ======================================================================================


@dataclass
class Crawl:
    returncode: int
    stdout: str
    stderr: str
    max_rss_mb: float

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads(self.stdout)


# Short timeouts keep stalls cheap; a stall must outlast the download timeout.
FAST = ("-s", "DOWNLOAD_TIMEOUT=2", "-s", "ARCHIVE_RETRY_BACKOFF_BASE=1")
STALL_SECONDS = 3.0


def run_crawl(server: ReplayServer, db: Path, *args: str) -> Crawl:
    """`cwarchive crawl --json` in a child process; its exit status, output and peak RSS."""
    command = [sys.executable, "-m", "cwarchive", "crawl", "--site", server.url]
    command += ["--db", str(db), "--json", *FAST, *args]
    with (
        open(db.with_suffix(".out"), "w+") as out,
        open(db.with_suffix(".err"), "w+") as err,
    ):
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            process.returncode = 0  # reaped by wait4: Popen must not wait again
        out.seek(0)
        err.seek(0)
        return Crawl(os.waitstatus_to_exitcode(status), out.read(), err.read(),
                     usage.ru_maxrss / 1024)  # fmt: skip


def assert_clean_exit(crawl: Crawl, allowed: tuple[int, ...] = (0, 1)) -> None:
    assert crawl.returncode in allowed, crawl.stderr[-3000:]
    assert "Traceback" not in crawl.stderr, crawl.stderr[crawl.stderr.index("Traceback") - 500 :]


def error_rows(db: Path, run: int) -> dict[str, str]:
    found = rows(db, "SELECT url, reason FROM parse_errors WHERE run_id = ?", run)
    for url, reason in found:
        assert url and reason and reason.strip(), (url, reason)
    return dict(found)


@dataclass
class Focused:
    """One crawl where each of a few pages fails its own way (and nothing else fails)."""

    site: Site
    db: Path
    crawl: Crawl
    paths: dict[str, str]  # fault kind -> the path that gets it
    errors: dict[str, str]  # URL -> reason
    foreign: ReplayServer
    baseline: Crawl  # the same crawl without faults


@pytest.fixture(scope="module")
def focused(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Focused]:
    work = tmp_path_factory.mktemp("focused")
    site = generate_site(12, seed=11)
    site.write(work / "site")
    # Windows-1252 bytes differ from UTF-8 only where a page has non-ASCII text.
    bodies = {page.path: page.body for page in site.pages()}
    articles = sorted(a.path for a in site.articles.values())
    articles.sort(key=lambda path: max(bodies[path]) > 127, reverse=True)
    kinds = ("latin1_as_utf8", "short_body", "gzip_bomb", "huge_page", "redirect_loop",
             "redirect_offsite", "reset_before", "stall", "garbage")  # fmt: skip
    paths = dict(zip(kinds, articles, strict=False))
    facet = "/cancerwise.dir.html/category/content/cq:tags/md-anderson/diseases/breast-cancer"
    paths["truncated_html"] = facet
    (work / "elsewhere").mkdir()
    with ReplayServer(work / "elsewhere") as foreign:
        spec = FaultSpec(
            paths=(
                *((path, {kind: 1.0}) for kind, path in paths.items()),
                ("/cancerwise-sitemap.xml", {"foreign_sitemap": 1.0}),
            ),
            stall_seconds=STALL_SECONDS,
            foreign_hosts=(foreign.url, "https://www.mdanderson.org.example.com"),
        )
        options = ("--full", "--max-error-rate", "1", "-s", "RETRY_TIMES=1")
        with ReplayServer(work / "site") as server:
            baseline = run_crawl(server, work / "baseline.sqlite", *options)
        with ReplayServer(work / "site", faults=spec, seed=2) as server:
            db = work / "archive.sqlite"
            crawl = run_crawl(server, db, *options)
        yield Focused(site, db, crawl, paths, error_rows(db, 1), foreign, baseline)


def reason_for(focused: Focused, kind: str) -> str:
    return focused.errors[SITE + focused.paths[kind]]


def versions_of(db: Path, path: str) -> int:
    key = article_key(path)
    return rows(
        db,
        "SELECT count(*) FROM versions v JOIN articles a ON a.id = v.article_id "
        "WHERE a.article_key = ?",
        key,
    )[0][0]


def test_focused_crawl_ends_cleanly_and_saves_every_sound_article(focused: Focused) -> None:
    assert_clean_exit(focused.crawl, allowed=(0,))
    summary = focused.crawl.summary
    assert summary["status"] == "completed"
    # Every article whose page was sound is saved; the faulty ones are errors instead.
    faulty_articles = {p for k, p in focused.paths.items() if k != "truncated_html"}
    assert summary["new"] == len(focused.site.articles) - len(faulty_articles)
    for path in faulty_articles:
        assert versions_of(focused.db, path) == 0, path
    assert set(focused.errors) == {SITE + p for p in focused.paths.values()}


def test_a_body_cut_short_has_a_reason(focused: Focused) -> None:
    assert reason_for(focused, "short_body") == (
        "body cut short: the connection closed before Content-Length bytes"
    )
    assert reason_for(focused, "reset_before").startswith("no response: DownloadFailedError: ")
    assert reason_for(focused, "stall").startswith("timeout: Getting http://127.0.0.1:")


def test_oversized_pages_are_error_rows_and_memory_stays_bounded(focused: Focused) -> None:
    assert reason_for(focused, "gzip_bomb").startswith("too large: the gzip body expands past ")
    assert reason_for(focused, "huge_page").startswith("too large: ")
    # A 128 MB bomb and a 20 MB page: the crawl never held them whole. Without
    # DOWNLOAD_MAXSIZE the same crawl peaks 300-500 MB above the fault-free one.
    assert_clean_exit(focused.baseline, allowed=(0,))
    assert focused.crawl.max_rss_mb < focused.baseline.max_rss_mb + 100, (
        focused.crawl.max_rss_mb,
        focused.baseline.max_rss_mb,
    )


def test_redirects_that_loop_or_leave_the_site_are_error_rows(focused: Focused) -> None:
    loop = reason_for(focused, "redirect_loop")
    assert loop.startswith("redirect loop: ") and loop.count(LOOP_PARAMETER) == 3
    offsite = reason_for(focused, "redirect_offsite")
    assert offsite.startswith("redirected off the site: ")
    assert offsite.endswith(" -> http://example.invalid" + focused.paths["redirect_offsite"])


def test_false_pages_are_refused(focused: Focused) -> None:
    assert reason_for(focused, "latin1_as_utf8").startswith("mis-encoded page: byte 0x")
    assert reason_for(focused, "garbage").startswith("not an HTML page")
    # The truncated facet page is an error row, and no listing (nor its tags) was saved.
    url = SITE + focused.paths["truncated_html"]
    assert reason_for(focused, "truncated_html") == "truncated page (no </html>)"
    assert rows(focused.db, "SELECT count(*) FROM listing_pages WHERE url = ?", url) == [(0,)]
    tags = rows(
        focused.db,
        "SELECT count(*) FROM article_tags t JOIN tags g ON g.id = t.tag_pk WHERE g.tag_id = ?",
        "md-anderson:diseases/breast-cancer",
    )
    assert tags == [(0,)]


def test_foreign_sitemap_entries_are_never_fetched(focused: Focused) -> None:
    assert focused.foreign.requests == []  # the other host was never asked anything
    assert "example.com" not in " ".join(focused.errors.values())


def test_a_run_over_the_error_rate_is_failed_and_removes_nothing(tmp_path: Path) -> None:
    site = generate_site(10, seed=4)
    root = tmp_path / "site"
    site.write(root)
    db = tmp_path / "archive.sqlite"
    with ReplayServer(root) as server:
        first = run_crawl(server, db)
    assert_clean_exit(first, allowed=(0,))
    removed = sorted(site.articles)[0]
    site.remove(removed, when=dt.datetime.now(dt.UTC).replace(microsecond=0))
    site.write(root)
    # Every facet page fails: far over the default 5% error rate.
    spec = FaultSpec(paths=(("/cancerwise.dir.html/category/*", {"500": 1.0}),))
    with ReplayServer(root, faults=spec, seed=1) as server:
        failing = run_crawl(server, db, "-s", "RETRY_TIMES=0")
    assert_clean_exit(failing, allowed=(1,))
    assert failing.summary["status"] == "failed" and failing.summary["gone"] == 1
    assert rows(db, "SELECT id, status, articles_removed FROM runs") == [
        (1, "completed", 0),
        (2, "failed", 0),
    ]
    # The 404 is kept as evidence, but a failed run applies no removal.
    statuses = dict(rows(db, "SELECT article_key, status FROM articles"))
    assert statuses[removed] == "active"
    with ReplayServer(root) as server:
        clean = run_crawl(server, db)
    assert_clean_exit(clean, allowed=(0,))
    assert dict(rows(db, "SELECT article_key, status FROM articles"))[removed] == "removed"


# --------------------------------------------------------------------------------------
# The whole story
# --------------------------------------------------------------------------------------

MIXED = FaultSpec(
    rates={
        "500": 0.03,
        "502": 0.02,
        "503": 0.04,
        "429": 0.03,
        "reset_before": 0.02,
        "reset_mid_body": 0.02,
        "stall": 0.01,
        "short_body": 0.02,
        "corrupt_gzip": 0.03,
        "gzip_bomb": 0.01,
        "redirect_loop": 0.01,
        "redirect_offsite": 0.01,
        "truncated_html": 0.05,
        "garbage": 0.02,
        "latin1_as_utf8": 0.04,
        "utf8_as_latin1": 0.03,
        "huge_page": 0.01,
    },  # fmt: skip
    paths=(
        ("/robots.txt", {"robots_500": 0.25, "robots_timeout": 0.15, "reset_before": 0.1}),
        (
            "*sitemap.xml",
            {"malformed_sitemap": 0.3, "huge_sitemap": 0.2, "foreign_sitemap": 0.2, "503": 0.1},
        ),
    ),
    stall_seconds=STALL_SECONDS,
)
TABLES = ("versions", "raw_pages", "observations")


def table_hashes(db: Path, table: str) -> dict[int, str]:
    """id -> sha256 of the row's values as stored, but for the end of a range of runs
    (`last_run_id`, which grows when a later run sees the same again: `end_of_ranges`)."""
    columns = ", ".join(
        name for _, name, *_ in rows(db, f"PRAGMA table_info({table})") if name != "last_run_id"
    )
    return {
        row[0]: hashlib.sha256(repr(row).encode()).hexdigest()
        for row in rows(db, f"SELECT {columns} FROM {table} ORDER BY id")  # noqa: S608
    }


def end_of_ranges(db: Path) -> dict[int, int]:
    """Observation id -> the last run its range holds for."""
    return dict(rows(db, "SELECT id, last_run_id FROM observations"))


def expected_state(site: Site) -> dict[str, dict[str, Any]]:
    """URL -> the record the generator says the page has, right now."""
    return site.expected_records()


def check_nothing_false(db: Path, run: int, expected: dict[str, dict[str, Any]]) -> None:
    """What run `run` saved is what the site showed: versions, listings, tags."""
    by_key = {r["article_key"]: r for r in expected.values() if r["page_type"] == "article"}
    versions = rows(
        db,
        "SELECT a.article_key, v.body_text, v.content_hash, v.title FROM versions v "
        "JOIN articles a ON a.id = v.article_id WHERE v.first_run_id = ?",
        run,
    )
    for key, body_text, content_hash, title in versions:
        assert body_text == by_key[key]["body_text"], key
        assert (content_hash, title) == (by_key[key]["content_hash"], by_key[key]["title"]), key
    listings = rows(
        db,
        "SELECT id, url, article_links, sidebar_id FROM listing_pages WHERE run_id = ?",
        run,
    )
    assert listings, "the run saved no listing at all"
    for _, url, links, sidebar in listings:
        record = expected[url]
        assert links == len(record["article_links"]), url
        counts = rows(
            db,
            "SELECT label, count FROM sidebar_counts WHERE sidebar_id = ? ORDER BY position",
            sidebar,
        )
        assert counts == [(t["label"], t["count"]) for t in record["tag_counts"]], url
    true_tags = {
        (record["listing_tag_id"], article_key(link))
        for record in expected.values()
        if record["page_type"] == "listing" and record.get("listing_tag_id")
        for link in record["article_links"]
    }
    tags = rows(
        db,
        "SELECT g.tag_id, t.article_key FROM article_tags t JOIN tags g ON g.id = t.tag_pk "
        "WHERE t.run_id = ?",
        run,
    )
    assert set(tags) <= true_tags


def check_nothing_lost(
    db: Path, before: dict[str, dict[int, str]], ends: dict[int, int] | None = None
) -> None:
    for table, hashes in before.items():
        after = table_hashes(db, table)
        changed = [row_id for row_id, digest in hashes.items() if after.get(row_id) != digest]
        assert not changed, f"{table}: rows {changed[:10]} changed or vanished"
    # A range of sightings only ever grows.
    now = end_of_ranges(db)
    shrunk = [row_id for row_id, end in (ends or {}).items() if now.get(row_id, 0) < end]
    assert not shrunk, f"observations: ranges {shrunk[:10]} shrank"
    assert rows(db, "SELECT DISTINCT status FROM articles") == [("active",)]
    assert rows(db, "SELECT sum(articles_removed) FROM runs") == [(0,)]


def change_the_site(site: Site, rng: random.Random, moment: dt.datetime, h00: str) -> None:
    keys = sorted(site.articles)
    for key in rng.sample(keys, 4):
        site.retitle(key, site.articles[key].title + " (updated)", when=moment)
    for key in rng.sample(keys, 3):
        site.edit_body(key, [("p", f"Rewritten at {moment:%H:%M:%S}: {key}.")], when=moment)
    key = rng.choice(keys)
    site.rereview(key, moment.date(), new_h00=h00, when=moment)  # a move, with a 301


def test_a_faulty_history_converges(tmp_path: Path) -> None:
    site = generate_site(50, seed=5)
    root = tmp_path / "site"
    site.write(root)
    db = tmp_path / "archive.sqlite"
    rng = random.Random(5)

    with ReplayServer(root) as server:
        first = run_crawl(server, db)
    assert_clean_exit(first, allowed=(0,))
    assert first.summary["new"] == 50

    applied: Counter[str] = Counter()
    # A full faulty run (every page exposed), then an incremental one (304s, lastmods).
    for run, mode in ((2, ("--full",)), (3, ())):
        # The site changes after the last crawl (a later lastmod than its fetches).
        moment = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
        change_the_site(site, rng, moment, h00=f"15999999{run}")
        site.write(root)
        expected = expected_state(site)
        before = {table: table_hashes(db, table) for table in TABLES}
        ends = end_of_ranges(db)
        with ReplayServer(root, faults=MIXED, seed=run) as server:
            faulty = run_crawl(server, db, "--max-error-rate", "1", *mode)
            applied.update(entry.fault.split(":")[0] for entry in server.entries if entry.fault)
        assert_clean_exit(faulty)
        assert faulty.summary["status"] == "completed"
        assert faulty.summary["errors"] > 0 and faulty.summary["gone"] == 0
        error_rows(db, run)  # each with its URL and a reason
        check_nothing_lost(db, before, ends)
        check_nothing_false(db, run, expected)
    # The mix really happened: nearly every kind, many times.
    assert len(applied) >= 18, applied
    assert sum(applied.values()) > 100, applied

    with ReplayServer(root) as server:
        clean = run_crawl(server, db)
    assert_clean_exit(clean, allowed=(0,))
    assert clean.summary["errors"] == 0
    check_nothing_false(db, 4, expected)
    current = dict(
        rows(
            db,
            "SELECT a.article_key, v.content_hash FROM articles a "
            "JOIN versions v ON v.id = a.current_version_id",
        )
    )
    truth = {r["article_key"]: r["content_hash"] for r in expected.values() if "article_key" in r}
    assert current == truth
