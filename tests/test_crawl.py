"""End-to-end crawls: the real spider against the real replay server, into SQLite.

Each crawl runs `python -m cwarchive.cli crawl` in a subprocess (Twisted's reactor
cannot restart in one process); the replay server runs in this process, so its
request log shows exactly what the crawler asked for. Results are read back through
the CLI's `--json` commands, as a user would.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cwarchive.testing.replay import ReplayServer
from cwarchive.testing.sitegen import ArticleFacts, Person, Site
from cwarchive.testing.sitegen.facts import TOPIC_TAGS
from cwarchive.testing.sitegen.site import noon
from tests.crawling import rows

TAGS = ("diseases/breast-cancer", "diseases/lung-cancer", "cancer-topics/prevention")
AUTHORS = ("Roman Gokhman", "Ana Pérez")


def article(i: int, published: dt.date | None = None) -> ArticleFacts:
    day = published or dt.date(2025, 1, 1) + dt.timedelta(days=17 * i)
    return ArticleFacts(
        slug=f"story-number-{i}" if i % 5 else f"-quoted--story-{i}",
        # Articles share h00 numbers, as on the real site.
        h00=str(159850000 + i // 3),
        title=f"Story number {i}",
        published=day,
        authors=[AUTHORS[i % 2]],
        reviewed=day if i % 2 else None,
        reviewers=[Person("Pamela Schlembach, M.D.", "https://faculty.mdanderson.org/p.html")]
        if i % 2
        else [],
        body=[("p", f"Paragraph one of story {i}."), ("h2", "More"), ("p", f"Second of {i}.")],
        tags=[TAGS[i % 3], TAGS[(i + 1) % 3]],
        topic=TOPIC_TAGS[i % len(TOPIC_TAGS)],
    )


def now() -> dt.datetime:
    # Whole seconds: HTTP dates and file times compare at that resolution.
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def make_site(n: int) -> Site:
    """A site whose pages all changed in the past (explicit times: no wall clock)."""
    site = Site()
    for i in range(n):
        facts = article(i)
        site.add(facts, when=noon(facts.published))
    return site


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Site, Path, ReplayServer]]:
    site = make_site(30)
    root = tmp_path / "site"
    site.write(root)
    with ReplayServer(root) as server:
        yield site, root, server


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "cwarchive.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result


def crawl(server: ReplayServer, db: Path, *args: str, expect: int = 0) -> dict[str, Any]:
    result = cli("crawl", "--site", server.url, "--db", str(db), "--json", *args, check=False)
    assert result.returncode == expect, result.stderr[-3000:]
    return json.loads(result.stdout)


def query(db: Path, *args: str) -> Any:
    return json.loads(cli(*args, "--db", str(db), "--json").stdout)


def article_requests(server: ReplayServer) -> Counter[tuple[str, int]]:
    return Counter((path, status) for _, path, status in server.requests if ".h00-" in path)


BOTH_SECTIONS = ("--section", "cancerwise", "--section", "publications/cancer-frontline")


def test_crawl_change_the_site_and_crawl_again(
    bundled: tuple[Site, Path, ReplayServer], tmp_path: Path
) -> None:
    site, root, server = bundled
    db = tmp_path / "archive.sqlite"
    total = len(site.articles)

    first = crawl(server, db, *BOTH_SECTIONS)
    assert first["status"] == "completed"
    assert first["new"] == total
    assert first["errors"] == 0
    assert len(query(db, "articles")) == total

    # The site changes: a re-review under a new h00 URL (301 from the old one), a
    # removed article, a new one, changed tag counts.
    moved_key = "cancerwise/what-is-a-cytokine-storm"
    removed_key = "cancerwise/what-is-white-coat-syndrome"
    old_path, removed_path = site.article(moved_key).path, site.article(removed_key).path
    changed_at = now()  # after the first crawl's fetches: newer lastmods
    site.rereview(moved_key, dt.date(2026, 11, 1), new_h00="159999999", when=changed_at)
    site.remove(removed_key, when=changed_at)
    added = site.add(article(99, published=dt.date(2026, 11, 20)), when=changed_at)
    site.bump_tag_counts(
        {"diseases/breast-cancer": 2, "cancer-topics/prevention": -2}, when=changed_at
    )
    site.write(root)
    assert server.site.rules().redirects[old_path][1] == 301
    server.clear_requests()

    second = crawl(server, db, *BOTH_SECTIONS)
    assert (second["new"], second["changed"]) == (1, 1)
    assert second["gone"] == 1
    requested = article_requests(server)
    assert (site.article(moved_key).path, 200) in requested
    assert (removed_path, 404) in requested  # re-checked: no longer listed
    assert (added.path, 200) in requested
    # Unchanged articles are not fetched: their lastmod is not newer than the last fetch.
    assert sum(n for (path, status), n in requested.items() if status == 200) == 2
    assert (old_path, 301) not in requested  # the sitemap lists the new URL

    runs = query(db, "runs")
    assert [run["status"] for run in runs] == ["completed", "completed"]
    assert runs[1]["articles_new"] == 1 and runs[1]["articles_changed"] == 1
    assert runs[1]["articles_removed"] == 1
    statuses = {a["article_key"]: a["status"] for a in query(db, "articles")}
    assert statuses[removed_key] == "removed"
    assert statuses[added.key] == "active"
    assert len(statuses) == total + 1
    history = query(db, "history", moved_key)
    assert [v["reviewed"] for v in history][-1] == "2026-11-01"
    assert history[-1]["canonical_url"].endswith(".h00-159999999.html")
    reviewed = query(db, "diff", "--field", "reviewed")
    assert [change["article_key"] for change in reviewed] == [moved_key]
    watched = ("md-anderson:diseases/breast-cancer", "md-anderson:cancer-topics/prevention")
    counts = {
        (row["run"], row["tag_id"]): row["count"]
        for row in query(db, "tags")
        if row["tag_id"] in watched
    }
    breast, prevention = watched
    assert counts[(2, breast)] == counts[(1, breast)] + 2
    assert counts[(2, prevention)] == counts[(1, prevention)] - 2

    # A third crawl of the unchanged site stores nothing and fetches no article.
    server.clear_requests()
    third = crawl(server, db, *BOTH_SECTIONS)
    assert (third["new"], third["changed"]) == (0, 0)
    assert third["skipped"] == total
    assert not article_requests(server)
    runs = query(db, "runs")
    assert runs[2]["articles_new"] == runs[2]["articles_changed"] == 0
    assert sum(a["versions"] for a in query(db, "articles")) == total + 2


def test_section_and_since_narrow_the_crawl(
    bundled: tuple[Site, Path, ReplayServer], tmp_path: Path
) -> None:
    site, root, server = bundled
    frontline = crawl(server, tmp_path / "a.sqlite", "--section", "cancer-frontline")
    assert frontline["new"] == 1
    assert not any(
        path.startswith("/cancerwise/") and ".h00-" in path for _, path, _ in server.requests
    )
    since = dt.date(2026, 6, 1)
    recent = {
        a.path
        for a in site.articles.values()
        if a.section == "cancerwise" and a.lastmod.date() >= since
    }
    assert 0 < len(recent) < 28
    server.clear_requests()
    result = crawl(server, tmp_path / "b.sqlite", "--since", since.isoformat())
    assert result["new"] == len(recent)
    assert {path for path, status in article_requests(server)} == recent


def test_failed_fetches_are_errors_of_the_run(
    served: tuple[Site, Path, ReplayServer], tmp_path: Path
) -> None:
    site, root, server = served
    facet = "/cancerwise.dir.html/category/content/cq:tags/md-anderson/diseases/breast-cancer"
    site.status[facet] = {"status": 404}
    site.write(root)
    db = tmp_path / "archive.sqlite"
    # One failed page in ~130 is under the default 5%: completed, exit 0.
    result = crawl(server, db)
    assert result["errors"] == 1 and result["new"] == 30
    assert query(db, "runs")[0]["errors"] == 1
    # The same run with no tolerance: failed (it removes nothing), exit status 1.
    strict = crawl(server, db, "--max-error-rate", "0", expect=1)
    assert strict["status"] == "failed" and strict["errors"] == 1
    assert query(db, "runs")[1]["status"] == "failed"


def test_scrapy_crawl_in_the_repository_uses_the_same_settings(
    bundled: tuple[Site, Path, ReplayServer], tmp_path: Path
) -> None:
    site, root, server = bundled
    db = tmp_path / "archive.sqlite"
    settings = {
        "ARCHIVE_SITE_ROOT": server.url,
        "ARCHIVE_DB_URL": f"sqlite:///{db}",
        "AUTOTHROTTLE_ENABLED": "0",
        "DOWNLOAD_DELAY": "0",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "scrapy", "crawl", "cancerwise"]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    result = subprocess.run(
        command, cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    runs = query(db, "runs")
    assert [(run["status"], run["articles_new"]) for run in runs] == [("completed", 28)]


def test_crawl_into_sqlite_and_postgresql(
    bundled: tuple[Site, Path, ReplayServer], archive_url: str
) -> None:
    """The same crawl, twice, into either database (PostgreSQL with CWARCHIVE_TEST_PG)."""
    site, root, server = bundled
    for expected_new in (28, 0):
        result = cli("crawl", "--site", server.url, "--db", archive_url, "--json")
        assert json.loads(result.stdout)["new"] == expected_new
    runs = json.loads(cli("runs", "--db", archive_url, "--json").stdout)
    assert [(r["status"], r["articles_seen"]) for r in runs] == [
        ("completed", 0),
        ("completed", 28),
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["--site", "ftp://example.org"],
        ["--site", "http://127.0.0.1:1/cancerwise"],
        ["--limit", "-1"],
        ["--since", "last week"],
        ["--max-error-rate", "2"],
        ["-s", "NO_EQUALS_SIGN"],
    ],
)
def test_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    result = cli("crawl", "--db", str(tmp_path / "a.sqlite"), *args, check=False)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr


def test_robots_disallowed_pages_are_never_requested(
    served: tuple[Site, Path, ReplayServer], tmp_path: Path
) -> None:
    site, root, server = served
    secret = site.article("cancerwise/story-number-7")
    site.disallow.append(secret.path)
    site.write(root)
    result = crawl(server, tmp_path / "archive.sqlite")
    assert result["new"] == 29
    paths = {path for _, path, _ in server.requests}
    assert "/robots.txt" in paths
    assert secret.path not in paths
    # Other sections' sitemaps declared in robots.txt are not read.
    assert "/newsroom-sitemap.xml" not in paths


def test_warc_reads_back_with_one_response_per_fetched_page(
    served: tuple[Site, Path, ReplayServer], tmp_path: Path
) -> None:
    from warcio.archiveiterator import ArchiveIterator

    site, root, server = served
    result = crawl(server, tmp_path / "archive.sqlite", "--warc", str(tmp_path / "warc"))
    files = list((tmp_path / "warc").glob("*.warc.gz"))
    assert [str(f) for f in files] == [result["warc_file"]]
    responses: list[str] = []
    requests = 0
    with files[0].open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                uri = record.rec_headers.get_header("WARC-Target-URI")
                responses.append(uri.removeprefix(server.url))
                assert record.http_headers.get_statuscode()
                record.content_stream().read()
            elif record.rec_type == "request":
                requests += 1
    assert Counter(responses) == Counter(path for _, path, _ in server.requests)
    assert requests == len(responses)


def test_full_limit_and_conditional_requests(
    served: tuple[Site, Path, ReplayServer], tmp_path: Path
) -> None:
    site, root, server = served
    db = tmp_path / "archive.sqlite"
    crawl(server, db, "--limit", "5")
    assert len(query(db, "articles")) == 5
    server.clear_requests()
    full = crawl(server, db, "--full", "--limit", "8")
    # --full fetches unconditionally: 8 articles, 5 of them known and unchanged.
    assert sum(article_requests(server).values()) == 8
    assert (full["new"], full["unchanged"]) == (3, 5)
    # An article known but no longer newer in the sitemap after its file changed
    # back: the incremental crawl sends its validators and gets a 304.
    key = "cancerwise/story-number-1"
    page = root / site.article(key).path.lstrip("/")
    stamp = page.stat().st_mtime + 3600
    os.utime(page, (stamp, stamp))  # a newer Last-Modified, same bytes (same ETag)
    site.articles[key].modified = dt.datetime.fromtimestamp(stamp, dt.UTC)
    site.write(root)
    server.clear_requests()
    incremental = crawl(server, db, "--limit", "1")
    assert article_requests(server) == Counter({(site.article(key).path, 304): 1})
    assert incremental["not_modified"] == 1


def test_retry_after_is_honoured(served: tuple[Site, Path, ReplayServer], tmp_path: Path) -> None:
    site, root, server = served
    busy = site.article("cancerwise/story-number-2").path
    site.status[busy] = {"status": 503, "headers": {"Retry-After": "1"}, "times": 1}
    site.write(root)
    started = time.monotonic()
    result = crawl(server, tmp_path / "archive.sqlite")
    assert result["new"] == 30 and result["errors"] == 0
    assert [status for _, path, status in server.requests if path == busy] == [503, 200]
    assert time.monotonic() - started > 1.0


@pytest.mark.parametrize("tags", [False, True])
def test_tags_follow_facets_through_their_next_pages(
    bundled: tuple[Site, Path, ReplayServer], tmp_path: Path, tags: bool
) -> None:
    site, root, server = bundled
    crawl(server, tmp_path / "archive.sqlite", *(["--tags"] if tags else []))
    facet_pages = [p for _, p, _ in server.requests if "cq:tags" in p]
    # Every run reads each facet's first page; --tags (and --full) the next ones too.
    assert any("?" not in p for p in facet_pages)
    assert any("?page=" in p for p in facet_pages) is tags


def test_an_unchanged_listing_page_is_a_304_recorded_as_it_was(
    bundled: tuple[Site, Path, ReplayServer], tmp_path: Path
) -> None:
    _, _, server = bundled
    db = tmp_path / "archive.sqlite"
    crawl(server, db, "--tags")
    server.clear_requests()
    again = crawl(server, db, "--tags")
    listings = [(p, status) for _, p, status in server.requests if ".h00-" not in p]
    entry = {"/cancerwise.html", "/cancerwise.dir.html"}
    pages = [(p, status) for p, status in listings if not p.endswith((".txt", ".xml", ".gz"))]
    # The landing page and the directory are read whole; every other listing page the
    # first run read is asked for with its validators, and the server says 304.
    assert sorted(status for p, status in pages if p in entry) == [200, 200]
    not_modified = [p for p, status in pages if p not in entry and status == 304]
    assert len(not_modified) > 10
    assert [p for p, status in pages if p not in entry and status != 304] == []
    assert again["listings"] == len(pages)
    # ... and the run records those pages, their tags and the tag counts as the first did
    # (a row of listing_pages or article_tags holds for runs run_id through last_run_id).
    for sql in (
        "SELECT url, listing_kind, tag_pk, article_links, raw_page_id, sidebar_id, links_id"
        " FROM listing_pages WHERE ? BETWEEN run_id AND last_run_id",
        "SELECT tag_pk, article_key FROM article_tags WHERE ? BETWEEN run_id AND last_run_id",
        # (not `pages`: the first run read article pages too, each with its sidebar)
        "SELECT tag_pk, label, count, listed FROM run_tag_counts WHERE run_id = ?",
    ):
        assert sorted(rows(db, sql, 2)) == sorted(rows(db, sql, 1)), sql
        assert rows(db, sql, 2)
    # Read as the first run read them, the pages and tags added no row: their ranges grew.
    for table in ("listing_pages", "article_tags"):
        assert rows(db, f"SELECT count(*) FROM {table} WHERE run_id = 2") == [(0,)], table


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_crawl_resumes_with_job_dir(tmp_path: Path, stop: signal.Signals) -> None:
    site = make_site(300)
    root = tmp_path / "site"
    site.write(root)
    db, job = tmp_path / "archive.sqlite", tmp_path / "job"
    with ReplayServer(root) as server:
        args = ["crawl", "--site", server.url, "--db", str(db), "--job-dir", str(job), "--json"]
        process = subprocess.Popen(
            [sys.executable, "-m", "cwarchive.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while sum(article_requests(server).values()) < 20:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(stop)  # Ctrl-C or SIGTERM: Scrapy's graceful shutdown
        out, err = process.communicate(timeout=120)
        assert process.returncode == 3, err[-3000:]
        first = json.loads(out)
        assert first["status"] == "interrupted"
        assert 20 <= first["new"] < 300
        assert (job / "requests.seen").exists()

        second = crawl(server, db, "--job-dir", str(job))
        assert second["status"] == "completed"
        assert first["new"] + second["new"] == 300

    fetched = Counter(path for path, status in article_requests(server) if status == 200)
    assert len(fetched) == 300
    assert fetched.most_common(1)[0][1] == 1  # no page fetched twice
    articles = query(db, "articles")
    assert len(articles) == 300
    assert {a["versions"] for a in articles} == {1}
    assert [run["status"] for run in query(db, "runs")] == ["interrupted", "completed"]
    assert not (job / "requests.seen").exists()  # a completed job clears its state
