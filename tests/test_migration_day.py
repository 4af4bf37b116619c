"""Migration day: the site moves to Edge Delivery Services between two crawls.

The bundled site is crawled; then every article moves (`Site.migrate`): block markup,
an extension-less URL, the old URL answering 301 to it, sitemaps and listings showing
the new URLs. The archive must see the same articles with the same content: every
history goes on under its key, nothing is new, removed or changed, and a third crawl
of the unchanged site fetches no article page. Crawls run `python -m cwarchive.cli
crawl` in a subprocess against the replay server in this process (as tests/test_crawl.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.http import TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from common.urls import SITE, article_key, is_article_url, path_of
from crawler.items import SeenArticles
from crawler.spiders.cancerwise import CancerwiseSpider
from cwarchive.testing.replay import ReplayServer
from cwarchive.testing.sitegen import Site
from storage import Archive
from tests.crawling import project_settings, respond
from tests.storage_records import article, raw_page

BOTH_SECTIONS = ("--section", "cancerwise", "--section", "publications/cancer-frontline")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cwarchive.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def crawl(server: ReplayServer, db: Path) -> dict[str, Any]:
    result = cli("crawl", "--site", server.url, "--db", str(db), "--json", *BOTH_SECTIONS)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def query(db: Path, *args: str) -> Any:
    result = cli(*args, "--db", str(db), "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def article_requests(server: ReplayServer) -> list[tuple[str, int]]:
    """(path, status) of every request for an article page, under either URL scheme."""
    return [(path, status) for _, path, status in server.requests if is_article_url(SITE + path)]


def now() -> dt.datetime:
    # Whole seconds: HTTP dates and file times compare at that resolution.
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def test_migration_day(bundled: tuple[Site, Path, ReplayServer], tmp_path: Path) -> None:
    site, root, server = bundled
    db = tmp_path / "archive.sqlite"
    total = len(site.articles)

    first = crawl(server, db)
    assert (first["status"], first["new"], first["errors"]) == ("completed", total, 0)
    before = {key: query(db, "history", key) for key in site.articles}
    assert all(len(versions) == 1 for versions in before.values())

    # The site moves: every article in block markup at its extension-less URL, the old
    # URL answering 301, the sitemaps and listings showing only the new URLs.
    moved = site.migrate(when=now())
    site.write(root)
    server.clear_requests()
    sitemap = (root / "cancerwise-sitemap.xml").read_text("utf-8")
    assert ".h00-" not in sitemap and moved[next(iter(moved))][1] in sitemap

    second = crawl(server, db)
    assert second["status"] == "completed"
    assert (second["new"], second["changed"], second["gone"], second["errors"]) == (0, 0, 0, 0)
    assert second["unchanged"] == total
    fetched = article_requests(server)
    assert sorted(fetched) == sorted((path_of(new), 200) for _, new in moved.values())
    runs = query(db, "runs")
    assert runs[1]["articles_new"] == runs[1]["articles_changed"] == 0
    assert runs[1]["articles_removed"] == 0
    articles = query(db, "articles")
    assert sorted(a["article_key"] for a in articles) == sorted(site.articles)
    assert {a["status"] for a in articles} == {"active"}
    assert all(a["versions"] == 1 for a in articles)
    for key, (old, new) in moved.items():
        (version,) = query(db, "history", key)
        # The same version, its fields as stored (the AEM filing month kept), now
        # observed at both URLs: the move is an observation, not a change.
        assert {k: v for k, v in version.items() if k not in ("urls", "last_seen_run")} == {
            k: v for k, v in before[key][0].items() if k not in ("urls", "last_seen_run")
        }
        assert version["urls"] == [old, new]
        assert version["last_seen_run"] == 2
    assert not query(db, "diff", "--field", "body_text")

    # A third crawl of the unchanged site fetches no article page, under either scheme.
    server.clear_requests()
    third = crawl(server, db)
    assert (third["new"], third["changed"], third["skipped"]) == (0, 0, total)
    assert article_requests(server) == []
    assert sum(a["versions"] for a in query(db, "articles")) == total


def test_old_urls_still_listed_are_followed_to_the_new_ones(
    bundled: tuple[Site, Path, ReplayServer], tmp_path: Path
) -> None:
    """Sitemaps that still list the old URLs (with the move's lastmod): each old URL is
    fetched, its 301 followed, and the page saved under its article at the new URL."""
    site, root, server = bundled
    db = tmp_path / "archive.sqlite"
    crawl(server, db)
    moved = site.migrate(when=now())
    site.write(root)
    stale = root / "cancerwise-sitemap.xml"
    text = stale.read_text("utf-8")
    for old, new in moved.values():
        text = text.replace(f"<loc>{new}</loc>", f"<loc>{old}</loc>")
    stale.write_text(text, "utf-8")
    server.clear_requests()

    second = crawl(server, db)
    assert (second["new"], second["changed"], second["errors"]) == (0, 0, 0)
    requested = article_requests(server)
    cancerwise = {k: v for k, v in moved.items() if k.startswith("cancerwise/")}
    for old, new in cancerwise.values():
        assert (path_of(old), 301) in requested
        assert (path_of(new), 200) in requested
    key, (old, new) = next(iter(cancerwise.items()))
    assert article_key(new) == key
    assert query(db, "history", key)[-1]["urls"] == [old, new]
    assert len(query(db, "articles")) == len(site.articles)


# ---------------------------------------------------------------- the spider's decisions

ROBOTS = b"User-agent: *\nSitemap: https://www.mdanderson.org/cancerwise-sitemap.xml\n"
# The sitemap after the move: extension-less articles and archives, with lastmods.
SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://www.mdanderson.org/cancerwise/moved</loc>
     <lastmod>2026-01-01T12:00:00Z</lastmod></url>
<url><loc>https://www.mdanderson.org/cancerwise/settled</loc>
     <lastmod>2026-01-01T12:00:00Z</lastmod></url>
<url><loc>https://www.mdanderson.org/cancerwise/brand-new</loc>
     <lastmod>2026-11-20</lastmod></url>
<url><loc>https://www.mdanderson.org/cancerwise/{year}/04</loc></url>
<url><loc>https://www.mdanderson.org/cancerwise/a/deeper/page</loc></url>
<url><loc>https://www.mdanderson.org/newsroom/other-section</loc></url>
</urlset>"""
YEAR = dt.datetime.now(dt.UTC).year  # the spider reads the current year's archives
FETCHED = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def test_sitemaps_of_extension_less_urls_are_read(tmp_path: Path) -> None:
    """A known article listed at its new URL is fetched (validators stay with the old
    URL); one the archive last fetched at its new URL, not newer, is seen; a new one is
    fetched; an extension-less archive is a listing; nothing else is requested."""
    db_url = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    with Archive.open(db_url) as archive:
        run = archive.start_run("incremental")
        moved = article("cancerwise/moved", h00=3)
        settled = article("cancerwise/settled", url=f"{SITE}/cancerwise/settled")
        for record in (moved, settled):
            archive.save_article(
                run, record, raw=raw_page(record), url=record["url"], fetched_at=FETCHED,
                etag='"abc"',
            )  # fmt: skip
        archive.finish_run(run)
    crawler = get_crawler(
        CancerwiseSpider, project_settings(ARCHIVE_DB_URL=db_url, ARCHIVE_MODE="incremental")
    )
    crawler.stats.open_spider()
    spider = CancerwiseSpider.from_crawler(crawler)
    robots = Request(f"{SITE}/robots.txt", callback=spider._parse_sitemap)
    (sitemap,) = respond(robots, ROBOTS, TextResponse)
    output = respond(sitemap, SITEMAP.format(year=YEAR).encode(), XmlResponse)
    requests = {r.url: r for r in output if isinstance(r, Request)}
    assert set(requests) == {
        f"{SITE}/cancerwise/moved",
        f"{SITE}/cancerwise/brand-new",
        f"{SITE}/cancerwise/{YEAR}/04",
    }
    assert requests[f"{SITE}/cancerwise/moved"].callback == spider.parse_article
    assert b"If-None-Match" not in requests[f"{SITE}/cancerwise/moved"].headers
    assert requests[f"{SITE}/cancerwise/{YEAR}/04"].callback == spider.parse_listing
    (seen,) = [item for item in output if isinstance(item, SeenArticles)]
    assert seen.urls == [f"{SITE}/cancerwise/settled"]
