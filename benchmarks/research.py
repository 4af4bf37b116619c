"""Research-surface benchmark: interactive queries and a streaming export.

Builds (once, cached by its parameters) an archive of N generated articles over R runs,
each run after the site generator's `mutate` (re-reviews, retitles, edits, removals,
new articles, tag count changes), saved through the `Archive` API with the generator's
expected records (the parser is not what is measured here). Then, in the same run:

- medians of `reviewed_changes` for a run range, one article's history
  (`article_versions`), a full-text search and `current_articles` for one status,
  each beside the same query on a copy of the archive without the supporting indexes
  the research migration added (the ratio shows what the indexes buy);
- a full CSV export of `versions` (`cwarchive export`, a child process): versions/s and
  peak RSS, on the archive and on one 3x its size, to show memory stays flat.

    .venv/bin/python benchmarks/research.py                          # 3,400 x 10 runs
    .venv/bin/python benchmarks/research.py --articles 500 --runs 4   # quick look

Goals: interactive queries under 50 ms; the export streams at least 5,000 versions/s
with flat memory.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

from common.urls import article_key, is_article_url, listing_kind  # noqa: E402
from cwarchive.testing.sitegen.generate import generate_site, mutate  # noqa: E402
from storage import Archive  # noqa: E402

START = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
# The indexes the research views rely on (from the migrations): dropped in the
# "without" copy. Only those that exist are dropped.
SUPPORTING_INDEXES_PREFIXES = ("ix_observations_version", "ix_versions_article")


def build_archive(path: Path, articles: int, runs: int, seed: int = 0) -> dict[str, Any]:
    """`runs` runs of a generated site into a SQLite archive at `path`; figures."""
    site = generate_site(articles, seed=seed)
    archive = Archive.open(f"sqlite:///{path}", batch_size=500)
    started = time.perf_counter()
    saved = 0
    try:
        for number in range(runs):
            when = START + dt.timedelta(days=7 * number)
            before = {key: facts.path for key, facts in site.articles.items()}
            if number:
                mutate(site, 5, seed=seed + number, when=when)
            run = archive.start_run("ingest", site_root="benchmark", parser_version="bench")
            pages = 0
            for page in site.pages():
                record = page.record()
                if record is None:
                    continue
                pages += 1
                if record.get("page_type") == "article" and is_article_url(page.url):
                    archive.save_article(
                        run, record, raw=page.body, url=record["url"], fetched_at=when
                    )
                    saved += 1
                elif listing_kind(page.url) is not None:
                    archive.save_listing(run, record, raw=page.body, url=page.url, fetched_at=when)
            for key in before.keys() - site.articles.keys():
                url = f"https://www.mdanderson.org{before[key]}"
                archive.mark_gone(run, article_key(url), url=url, http_status=404)
            archive.finish_run(run, "completed", pages_fetched=pages)
    finally:
        archive.close()
    return {"saves": saved, "seconds": round(time.perf_counter() - started, 1)}


def median_ms(run: Callable[[], Any], repeats: int) -> float:
    run()  # warm the page cache and the statement cache
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def without_indexes(source: Path, target: Path) -> list[str]:
    for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)  # a stale -wal would replay over the new copy
    shutil.copy(source, target)
    with sqlite3.connect(target) as conn:
        names = [
            name
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
            if name.startswith(SUPPORTING_INDEXES_PREFIXES)
        ]
        for name in names:
            conn.execute(f'DROP INDEX "{name}"')
    return names


def queries(db: Path) -> dict[str, Callable[[], Any]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    last_run = conn.execute("SELECT max(id) FROM runs").fetchone()[0]
    key = conn.execute(
        "SELECT article_key FROM article_versions GROUP BY article_key"
        " ORDER BY count(*) DESC, article_key LIMIT 1"
    ).fetchone()[0]

    def fetch(sql: str, *params: Any) -> Callable[[], Any]:
        return lambda: conn.execute(sql, params).fetchall()

    found: dict[str, Callable[[], Any]] = {
        "reviewed_changes, 3 runs": fetch(
            "SELECT * FROM reviewed_changes WHERE to_run > ? AND to_run <= ?",
            last_run - 3,
            last_run,
        ),
        "one article's history": fetch(
            "SELECT * FROM article_versions WHERE article_key = ? ORDER BY version", key
        ),
        "current_articles, removed": fetch(
            "SELECT * FROM current_articles WHERE status = 'removed'"
        ),
    }
    search = _search_query(conn)
    if search is not None:
        found["search 'screening'"] = search
    return found


def _search_query(conn: sqlite3.Connection) -> Callable[[], Any] | None:
    """The CLI's own search, when the archive has the search index."""
    try:
        from sqlalchemy import create_engine

        from storage.search import search
    except ImportError:
        return None
    engine = create_engine(f"sqlite:///{conn.execute('PRAGMA database_list').fetchone()[2]}")

    def run() -> Any:
        with engine.connect() as sa_conn:
            return search(sa_conn, "screening", field="all", limit=20)

    return run


def export_figures(db: Path, out: Path) -> dict[str, Any]:
    """`cwarchive export --what versions --format csv` in a child: rows/s and peak RSS."""
    command = [
        sys.executable, "-m", "cwarchive", "export", "--what", "versions",
        "--format", "csv", "--out", str(out), "--db", str(db),
    ]  # fmt: skip
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if status:
        raise RuntimeError(f"export failed: {child.stderr.read().decode() if child.stderr else ''}")
    csv.field_size_limit(sys.maxsize)  # a body text is one field
    with out.open(encoding="utf-8", newline="") as handle:
        rows = sum(1 for _ in csv.reader(handle)) - 1
    return {
        "versions": rows,
        "seconds": round(seconds, 2),
        "versions_per_s": round(rows / seconds),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=3400)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cw-research")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    sizes = {"1x": args.articles, "3x": args.articles * 3}
    archives: dict[str, Path] = {}
    for label, articles in sizes.items():
        db = args.workdir / f"archive-{articles}x{args.runs}.sqlite"
        if not db.exists():
            partial = db.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            figures = build_archive(partial, articles, args.runs)
            partial.rename(db)
            print(f"built {db.name}: {figures}", file=sys.stderr)
        archives[label] = db

    db = archives["1x"]
    bare = args.workdir / "without-indexes.sqlite"
    dropped = without_indexes(db, bare)
    versions = sqlite3.connect(db).execute("SELECT count(*) FROM versions").fetchone()[0]
    print(
        f"archive: {args.articles} articles x {args.runs} runs, {versions} versions, "
        f"{db.stat().st_size / 1e6:.0f} MB; indexes dropped for the ratio: {dropped}"
    )
    print(f"\n{'query':<28} {'median ms':>10} {'no index ms':>12} {'ratio':>7}")
    with_index, no_index = queries(db), queries(bare)
    for name, run in with_index.items():
        fast = median_ms(run, args.repeats)
        slow = median_ms(no_index[name], args.repeats)
        print(f"{name:<28} {fast:>10.2f} {slow:>12.2f} {slow / fast:>6.1f}x")

    print(
        f"\n{'export versions (csv)':<28} {'versions':>9} {'s':>7} {'versions/s':>11} "
        f"{'peak RSS':>9}"
    )
    for label, path in archives.items():
        result = export_figures(path, args.workdir / f"export-{label}.csv")
        print(
            f"{label:<28} {result['versions']:>9} {result['seconds']:>7} "
            f"{result['versions_per_s']:>11} {result['peak_rss_mb']:>6} MB"
        )


if __name__ == "__main__":
    main()
