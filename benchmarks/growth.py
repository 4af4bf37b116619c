"""Growth benchmark: years of weekly crawls, and what they cost the archive and its readers.

A generated site (`cwarchive.testing.sitegen`, 3,400 articles by default) changes every
week at a stated rate, and each week is one run of the archive. Reported at chosen
weeks (10, 100 and 520 by default), on SQLite and, with --pg, PostgreSQL:

- the archive's size (SQLite: pages in use; PostgreSQL: every relation of its schema)
  and what one unchanged run added to it;
- each research view's time (median of 15): all of `current_articles`, one article's
  `article_versions`, the last run's `reviewed_changes`, one tag's `tag_count_series`
  (whole: a row a run; and its last ten runs);
- the crawl's start: what the spider reads of known articles and listing pages, and the
  writer's state for the run (current versions, current raw pages, the ranges it may
  continue);
- what each run added, by table and index (the largest six);
- an unchanged crawl: wall time and peak memory of `cwarchive crawl` (incremental)
  against the replay server serving the site as it is that week;
- `cwarchive db check`, `cwarchive report` (the last four weeks) and
  `cwarchive export --what versions` times.

    .venv/bin/python benchmarks/growth.py                        # 3,400 x 520 weeks, SQLite
    .venv/bin/python benchmarks/growth.py --pg postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/growth.py --articles 500 --weeks 42 --report-at 2,42 \\
        --change 0 --no-crawl                                    # the issue's unchanged runs

How the weeks are run. 520 real crawls take too long, so most weeks drive the archive's
writer directly (`storage.Archive`, as benchmarks/storage.py does), saving what an
incremental crawl with `--tags` saves: an article whose lastmod moved is fetched
(`save_article`, with the record the generator expects and the replay server's ETag),
every other one seen (`mark_seen`, a sitemap skip), a removed one gone (404); a listing
page whose bytes changed is fetched (`save_listing`), the others answer 304
(`save_listing_unchanged`). At a reporting week the site is written out and the
unchanged crawl is a real one (the replay server and `cwarchive crawl`, a child
process), an extra run after the week's.

The change model (`--change P`, default 2): each week P% of the articles change (four
in ten re-reviewed with new reviewers, three retitled, three with a new paragraph);
every fourth week one article is added and one removed; every thirteenth week the
sidebar's tag counts move (every listing page changes then).

To compare two ages under the same load, keep the archives (`--keep --workdir DIR`) and
time them side by side with `benchmarks/growth_reads.py`.

Goals (issue 23): an unchanged run adds at most 25 KB per 500 articles; the views and
the crawl's start within 1.3x from run 2 to 42 and 1.5x from run 10 to 520; a crawl's
peak memory under 300 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # the repository, not this folder: storage.py would shadow storage

from sqlalchemy import text  # noqa: E402

from benchmarks.crawl import cwarchive  # noqa: E402
from common.urls import SITE, listing_kind  # noqa: E402
from crawler.parsers import PARSER_VERSION  # noqa: E402
from cwarchive.testing.replay_site import http_date  # noqa: E402
from cwarchive.testing.sitegen.generate import REVIEWERS, article_facts, generate_site  # noqa: E402
from cwarchive.testing.sitegen.site import Page, Site  # noqa: E402
from storage import Archive  # noqa: E402

START = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
GOALS = {"unchanged_kb_per_500": 25.0, "views_2_to_42": 1.3, "views_10_to_520": 1.5, "peak_mb": 300}
VIEWS = {
    "current_articles": ("SELECT * FROM current_articles", {}),
    "article_versions (one article)": (
        "SELECT * FROM article_versions WHERE article_key = :key ORDER BY version",
        {"key": None},
    ),
    "reviewed_changes (last run)": ("SELECT * FROM reviewed_changes WHERE to_run = :run", {}),
    "tag_count_series (one tag)": (
        "SELECT * FROM tag_count_series WHERE tag_id = :tag ORDER BY run",
        {"tag": None},
    ),
    # The whole series has a row a run, so it grows with the runs by nature; a window of
    # the last ten runs is the same question with an answer of fixed size.
    "tag_count_series (one tag, last 10 runs)": (
        "SELECT * FROM tag_count_series WHERE tag_id = :tag AND run > :run - 10 ORDER BY run",
        {"tag": None},
    ),
}


def validators(page: Page) -> tuple[str, str]:
    """The replay server's ETag and Last-Modified of a page (`cwarchive.testing.replay_site`)."""
    return '"' + hashlib.sha1(page.body).hexdigest()[:20] + '"', http_date(page.lastmod.timestamp())


# -- the site's weeks -------------------------------------------------------------------------


def change_week(site: Site, week: int, pct: float, rng: random.Random, when: dt.datetime) -> None:
    """One week of the change model (module docstring)."""
    keys = sorted(site.articles)
    for key in rng.sample(keys, min(len(keys), round(len(keys) * pct / 100))):
        facts = site.article(key)
        kind = rng.random()
        if kind < 0.4:
            site.rereview(key, when.date(), reviewers=[rng.choice(REVIEWERS)], when=when)
        elif kind < 0.7:
            site.retitle(key, f"{facts.title.split(' (')[0]} (update {week})", when=when)
        else:
            body = [*facts.body, ("p", f"An update of week {week}: {rng.random():.6f}.")]
            site.edit_body(key, body, when=when)
    if week % 4 == 0 and pct:
        site.remove(rng.choice(keys), status=404, when=when)
        title = f"Week {week} story"
        site.add(
            article_facts(rng, f"week-{week}-story", "159860000", when.date(), title), when=when
        )
    if week % 13 == 0 and pct:
        site.bump_tag_counts(seed=week, when=when)


def listing_pages(site: Site) -> list[Page]:
    facets = list(site.facets)
    stamp = site._now()
    pages: list[Page] = []
    for section in site.sections():
        pages.extend(site._listings(section, facets, stamp))
    return [page for page in pages if listing_kind(page.url) is not None]


@dataclass
class Known:
    """What the archives hold of the site (the same for every backend)."""

    modified: dict[str, dt.datetime] = field(default_factory=dict)  # article key -> lastmod
    urls: dict[str, str] = field(default_factory=dict)  # article key -> URL
    listings: dict[str, str] = field(default_factory=dict)  # listing URL -> ETag


def drive_week(
    archives: list[Archive], site: Site, known: Known, when: dt.datetime
) -> dict[str, int]:
    """Save the week into every archive as an incremental crawl would (docstring)."""
    facets = list(site.facets)
    related = site._related()
    changed: list[tuple[dict[str, Any], bytes, tuple[str, str]]] = []
    seen: list[tuple[str, str]] = []
    for key, facts in site.articles.items():
        if known.modified.get(key) == facts.lastmod:
            seen.append((key, known.urls[key]))
            continue
        page = site._article_page(facts, site.page_facets.get(facts.path, facets),
                                  related.get(key, []))  # fmt: skip
        record = page.record()
        assert record is not None
        changed.append((record, page.body, validators(page)))
        known.modified[key], known.urls[key] = facts.lastmod, record["url"]
    gone = [(key, known.urls.pop(key)) for key in list(known.urls) if key not in site.articles]
    for key, _ in gone:
        known.modified.pop(key, None)
    listings: list[tuple[Page, tuple[str, str], bool]] = []
    for page in listing_pages(site):
        sent = validators(page)
        listings.append((page, sent, known.listings.get(page.url) == sent[0]))
        known.listings[page.url] = sent[0]
    for archive in archives:
        run = archive.start_run("incremental", site_root=SITE, parser_version=PARSER_VERSION)
        for record, body, (tag, modified) in changed:
            archive.save_article(run, record, raw=body, url=record["url"], fetched_at=when,
                                 etag=tag, last_modified=modified)  # fmt: skip
        archive.mark_seen_many(run, seen)
        for key, url in gone:
            archive.mark_gone(run, key, url, 404)
        for page, (tag, modified), same in listings:
            if same and archive.save_listing_unchanged(
                run, page.url, fetched_at=when, etag=tag, last_modified=modified
            ):
                continue
            record = page.record()
            assert record is not None
            archive.save_listing(run, record, raw=page.body, url=page.url, fetched_at=when,
                                 etag=tag, last_modified=modified)  # fmt: skip
        archive.finish_run(run, "completed")
    return {
        "fetched": len(changed),
        "seen": len(seen),
        "gone": len(gone),
        "listings_changed": sum(1 for _, _, same in listings if not same),
        "listings": len(listings),
    }


# -- the backends -------------------------------------------------------------------------------


class Backend:
    name = ""
    url = ""

    def size(self) -> int:
        raise NotImplementedError

    def by_relation(self) -> dict[str, int]:
        """Bytes of each table and index (what grew, in the report)."""
        raise NotImplementedError

    def between_runs(self) -> None:
        """What the database does between two nightly runs."""

    def close(self) -> None:
        pass


class SqliteBackend(Backend):
    name = "sqlite"

    def __init__(self, workdir: Path) -> None:
        self.path = workdir / "growth.sqlite"
        self.url = f"sqlite:///{self.path}"

    def size(self) -> int:
        """Bytes of the pages in use (the file less its free pages), after a checkpoint."""
        import sqlite3

        with sqlite3.connect(self.path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pages, free, size = (
                conn.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("page_count", "freelist_count", "page_size")
            )
        return int((pages - free) * size)

    def by_relation(self) -> dict[str, int]:
        import sqlite3

        with sqlite3.connect(self.path) as conn:
            rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
        return {name: int(size) for name, size in rows}


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self, server: str) -> None:
        import psycopg

        self.server = server.replace("postgresql+psycopg://", "postgresql://", 1)
        self.schema = f"growth_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {self.schema}")
        separator = "&" if "?" in server else "?"
        self.url = f"{server}{separator}options=-csearch_path%3D{self.schema}"

    def size(self) -> int:
        import psycopg

        with psycopg.connect(self.server, autocommit=True) as conn:
            row = conn.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
                (self.schema,),
            ).fetchone()
        return int(row[0]) if row else 0

    def by_relation(self) -> dict[str, int]:
        """Tables with their TOAST, and each index."""
        import psycopg

        with psycopg.connect(self.server, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT c.relname, CASE WHEN c.relkind = 'i' THEN pg_relation_size(c.oid) "
                "ELSE pg_table_size(c.oid) END FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'm', 'i')",
                (self.schema,),
            ).fetchall()
        return {name: int(size) for name, size in rows}

    def between_runs(self) -> None:
        """VACUUM, as autovacuum does between nightly runs: a range that grows rewrites its
        row (MVCC), and the old row's space is reused once vacuumed."""
        import psycopg

        with psycopg.connect(self.server, autocommit=True) as conn:
            for (table,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (self.schema,)
            ).fetchall():
                conn.execute(f'VACUUM "{self.schema}"."{table}"')

    def close(self) -> None:
        import psycopg

        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {self.schema} CASCADE")


# -- measuring ----------------------------------------------------------------------------------


def median_ms(work: Callable[[], Any], repeats: int = 15) -> float:
    work()  # warm: the first read pays for the cache
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def view_times(archive: Archive, key: str, tag: str) -> dict[str, float]:
    with archive.engine.connect() as conn:
        last = conn.scalar(text("SELECT max(id) FROM runs"))
        found = {}
        for name, (sql, _) in VIEWS.items():
            params = {"key": key, "tag": tag, "run": last}

            def query(sql: str = sql, params: dict[str, Any] = params) -> Any:
                return conn.execute(text(sql), params).all()

            found[name] = median_ms(query)
        return found


def stored_marks(archive: Archive) -> tuple[int, int]:
    archive.flush()
    with archive.engine.connect() as conn:
        return (
            conn.scalar(text("SELECT coalesce(max(id), 0) FROM raw_pages")) or 0,
            conn.scalar(text("SELECT coalesce(max(id), 0) FROM versions")) or 0,
        )


def added_since(archive: Archive, mark: tuple[int, int]) -> dict[str, Any]:
    """What the week stored that is content: its new raw pages (compressed) and versions."""
    archive.flush()
    with archive.engine.connect() as conn:
        raw = conn.execute(
            text("SELECT count(*), coalesce(sum(length(data)), 0) FROM raw_pages WHERE id > :m"),
            {"m": mark[0]},
        ).one()
        versions = conn.execute(
            text(
                "SELECT count(*), coalesce(sum(length(body_text)), 0) FROM versions WHERE id > :m"
            ),
            {"m": mark[1]},
        ).one()
    return {
        "week_raw_pages": raw[0],
        "week_raw_pages_kb": round(raw[1] / 1e3, 1),
        "week_versions": versions[0],
        "week_versions_body_kb": round(versions[1] / 1e3, 1),
    }


def grown(before: dict[str, int], after: dict[str, int], top: int = 6) -> dict[str, float]:
    """The relations that grew most, in KB."""
    growth = {name: after[name] - before.get(name, 0) for name in after}
    largest = sorted((n for n in growth if growth[n] > 0), key=lambda n: -growth[n])[:top]
    return {name: round(growth[name] / 1e3, 1) for name in largest}


def start_times(archive: Archive) -> dict[str, float]:
    """What a crawl reads before it fetches: the spider's known articles and listing pages,
    and the writer's state for its run (each article's current version and the ranges
    the run may continue), here read for the last run."""
    with archive.engine.connect() as conn:
        last = conn.scalar(text("SELECT max(id) FROM runs"))
    store: Any = archive.store
    return {
        "known_articles": median_ms(archive.known_articles),
        "known_listings": median_ms(lambda: archive.known_listings(PARSER_VERSION)),
        "writer_state": median_ms(lambda: store._ensure(last, reload=True)),
    }


def run_child(command: list[str]) -> tuple[int, float, float, str]:
    """(exit status, wall seconds, peak MB of the process and its workers, stdout).

    The peak is sampled from /proc (`benchmarks.crawl.TreeSampler`), not wait4's
    ru_maxrss: a child forked from this process starts with its size (the site's model
    and pages, ~900 MB at 3,400 articles), which Linux keeps in ru_maxrss across exec.
    """
    from benchmarks.crawl import TreeSampler

    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT)
        sampler = TreeSampler(process.pid)
        sampler.start()
        status = process.wait()
        wall = time.perf_counter() - started
        sampler.stop()
        out.seek(0)
        return status, wall, sampler.peak_mb, out.read()


def measure_commands(backend: Backend, workdir: Path, week: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    status, wall, _, _ = run_child(cwarchive("db", "check", "--db", backend.url))
    found["db_check_s"], found["db_check_status"] = round(wall, 2), status
    out = workdir / f"report-{backend.name}"
    since = max(0, week - 4)
    status, wall, _, _ = run_child(
        cwarchive("report", "--db", backend.url, "--out", str(out), "--from", str(since))
    )
    found["report_s"], found["report_status"] = round(wall, 2), status
    status, wall, peak, _ = run_child(
        cwarchive(
            "export",
            "--db",
            backend.url,
            "--what",
            "versions",
            "--format",
            "csv",
            "--out",
            str(workdir / "versions.csv"),
        )  # fmt: skip
    )
    found["export_versions_s"], found["export_status"] = round(wall, 2), status
    found["export_peak_mb"] = round(peak, 1)
    return found


def real_crawl(backend: Backend, site_dir: Path, workdir: Path) -> dict[str, Any]:
    """An unchanged incremental `cwarchive crawl` against the replay server."""
    from cwarchive.testing.replay import spawn

    server = spawn(site_dir, log=workdir / "requests.tsv")
    try:
        status, wall, peak, out = run_child(
            cwarchive("crawl", "--site", server.url, "--db", backend.url, "--json")
        )
    finally:
        server.stop()
    numbers = json.loads(out) if out.strip() else {}
    return {
        "crawl_s": round(wall, 2),
        "crawl_peak_mb": round(peak, 1),
        "crawl_status": status,
        "crawl_counts": {k: v for k, v in numbers.items() if isinstance(v, int)},
    }


# -- the benchmark --------------------------------------------------------------------------------


def benchmark(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    backends: list[Backend] = []
    if not args.no_sqlite:
        backends.append(SqliteBackend(workdir))
    if args.pg:
        backends.append(PostgresBackend(args.pg))
    report_at = sorted({int(w) for w in args.report_at.split(",")})
    site = generate_site(args.articles, seed=args.seed)
    rng = random.Random(f"growth:{args.seed}")
    archives = [Archive.open(b.url, batch_size=500) for b in backends]
    known = Known()
    key = sorted(site.articles)[len(site.articles) // 2]
    tag = site.facets[0].tag
    tag_id = f"md-anderson:{tag}" if not tag.startswith("md-anderson:") else tag
    points: list[dict[str, Any]] = []
    weeks: list[dict[str, Any]] = []
    started = time.perf_counter()
    try:
        for week in range(1, args.weeks + 1):
            when = START + dt.timedelta(days=7 * (week - 1))
            if week > 1:
                change_week(site, week, args.change, rng, when)
            sizes = [b.size() for b in backends] if week in report_at else []
            relations = [b.by_relation() for b in backends] if week in report_at else []
            marks = [stored_marks(a) for a in archives] if week in report_at else []
            counts = drive_week(archives, site, known, when)
            for backend in backends:
                backend.between_runs()
            weeks.append(counts)
            if week % 10 == 0:
                print(f"week {week}: {counts} ({time.perf_counter() - started:.0f} s)",
                      file=sys.stderr, flush=True)  # fmt: skip
            if week not in report_at:
                continue
            site_dir = workdir / "site"
            if not args.no_crawl:
                site.write(site_dir)
            for backend, archive, before, mark, parts in zip(backends, archives, sizes, marks,
                                                             relations, strict=True):  # fmt: skip
                archive.flush()
                point: dict[str, Any] = {"week": week, "backend": backend.name, **counts}
                point["size_mb"] = round(backend.size() / 1e6, 2)
                point["week_added_kb"] = round((backend.size() - before) / 1e3, 1)
                point["week_added_by"] = grown(parts, backend.by_relation())
                point.update(added_since(archive, mark))
                point["views_ms"] = view_times(archive, key, tag_id)
                point["start_ms"] = start_times(archive)
                # An unchanged run: driven (as the other weeks), then, unless --no-crawl,
                # a real crawl; what each added to the archive.
                size, parts = backend.size(), backend.by_relation()
                drive_week([archive], site, known, when)  # nothing changed since the week's
                archive.flush()
                point["unchanged_run_kb"] = round((backend.size() - size) / 1e3, 1)
                point["unchanged_run_by"] = grown(parts, backend.by_relation())
                backend.between_runs()
                if not args.no_crawl:
                    # The first real crawl also rewrites what the driven runs saved unlike
                    # it (the parser's listing records, the server's dates): the second is
                    # the unchanged crawl measured.
                    archive.flush()
                    real_crawl(backend, site_dir, workdir)
                    backend.between_runs()
                    size = backend.size()
                    point.update(real_crawl(backend, site_dir, workdir))
                    point["unchanged_crawl_kb"] = round((backend.size() - size) / 1e3, 1)
                    backend.between_runs()
                if not args.no_commands:
                    point.update(measure_commands(backend, workdir, week))
                points.append(point)
                print(json.dumps(point), file=sys.stderr, flush=True)
    finally:
        for archive in archives:
            archive.close()
        for backend in backends:
            if args.keep:
                print(f"kept: {backend.url}", file=sys.stderr)
            else:
                backend.close()
    return {
        "ratios": ratios(points),
        "articles": args.articles,
        "weeks": args.weeks,
        "change_pct": args.change,
        "mean_week": {
            name: round(statistics.mean(w[name] for w in weeks[1:]), 1) if len(weeks) > 1 else 0
            for name in ("fetched", "seen", "gone", "listings_changed", "listings")
        },
        "points": points,
        "seconds": round(time.perf_counter() - started),
        "goals": GOALS,
    }


def ratios(points: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each backend's read times at its last reporting week over its first (the goals'
    1.3x and 1.5x)."""
    found: dict[str, dict[str, float]] = {}
    for backend in sorted({p["backend"] for p in points}):
        mine = [p for p in points if p["backend"] == backend]
        if len(mine) < 2:
            continue
        first, last = mine[0], mine[-1]
        found[f"{backend} {first['week']}->{last['week']}"] = {
            name: round(last[group][name] / first[group][name], 2)
            for group in ("views_ms", "start_ms")
            for name in first[group]
            if first[group][name]
        }
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=3400)
    parser.add_argument("--weeks", type=int, default=520)
    parser.add_argument("--report-at", default="10,100,520")
    parser.add_argument("--change", type=float, default=2.0, help="%% of articles a week")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pg", help="also on this PostgreSQL server (a schema of its own)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-crawl", action="store_true", help="no real crawl at reporting weeks")
    parser.add_argument("--no-commands", action="store_true", help="no db check/report/export")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the archives (to inspect)")
    args = parser.parse_args()
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        print(json.dumps(benchmark(args, args.workdir), indent=2))
        return
    with tempfile.TemporaryDirectory(prefix="cwarchive-growth-") as workdir:
        print(json.dumps(benchmark(args, Path(workdir)), indent=2))


if __name__ == "__main__":
    main()
