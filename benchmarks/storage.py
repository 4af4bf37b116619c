"""Storage benchmark: the versioned archive beside a plain executemany baseline.

Three passes over 3,400 synthetic articles of realistic size (~100 KB of HTML each:
navigation, inline scripts, sidebar facets, body, footer): all new, the same again
unchanged, then 5% changed. For each pass it reports the archive's write time and
database size beside a baseline that writes the same rows (every record field plus
the raw HTML) with one executemany into one table, no versioning, in the same run.

    .venv/bin/python benchmarks/storage.py                 # SQLite, 3 repeats
    .venv/bin/python benchmarks/storage.py --repeats 1 --articles 500
    .venv/bin/python benchmarks/storage.py --pg postgresql://postgres@127.0.0.1:5432/test

Goals: versioned write within 2x of the baseline; an unchanged re-run grows
the database by under 1%; raw HTML stored at under 25% of its size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder comes first on sys.path, and this file is named
# like the package it measures: put the repository there instead.
sys.path[0] = str(ROOT)

from sqlalchemy import func, select, text  # noqa: E402

from common.record import content_hash  # noqa: E402
from storage import Archive  # noqa: E402
from storage.models import RawPage  # noqa: E402

SITE = "https://www.mdanderson.org"
FETCHED = dt.datetime(2026, 8, 19, 12, 0, tzinfo=dt.UTC)
Page = tuple[dict[str, Any], bytes]


# -- synthetic pages ------------------------------------------------------------------


class Site:
    """Deterministic pseudo-English pages shaped like the source's (boilerplate + body).

    Not `cwarchive.testing.sitegen`: its pages compress to 12% with zstd, the real recreated
    article to 22% and these to 24%. Growth per unchanged run is observations over the
    database size, so pages that compress too well would overstate it (+1.0% on SQLite,
    +1.6% on PostgreSQL with sitegen's pages, against +0.5% and +0.7% here).
    """

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        syllables = [a + b for a in "bcdfghlmnprstvw" for b in ("a", "e", "i", "o", "u", "ou")]
        self.words = list(
            {"".join(self.rng.choices(syllables, k=self.rng.randint(1, 4))) for _ in range(4000)}
        )
        self.tags = [
            (f"md-anderson:diseases/{self.phrase(2).replace(' ', '-')}", self.phrase(2).title())
            for _ in range(64)
        ]
        self.nav = "".join(
            f'<li class="nav__item nav__item--level-2 js-nav-item"><a class="nav__link '
            f'nav__link--secondary" href="/patients-family/{self.phrase(2).replace(" ", "-")}'
            f'.html" data-track="navigation" data-track-label="level-2">'
            f"{self.phrase(2).title()}</a></li>\n"
            for _ in range(240)
        )
        config = {self.phrase(1): [self.phrase(4) for _ in range(6)] for _ in range(120)}
        self.scripts = f"<script>window.__CONFIG__ = {json.dumps(config)};</script>"
        self.footer = "".join(
            f'<div class="footer__col"><h4>{self.phrase(2)}</h4><p>{self.phrase(18)}</p></div>\n'
            for _ in range(60)
        )

    def phrase(self, n: int) -> str:
        return " ".join(self.rng.choices(self.words, k=n))

    def sentence(self) -> str:
        return self.phrase(self.rng.randint(8, 22)).capitalize() + "."

    def article(self, i: int) -> Page:
        key = f"cancerwise/{self.phrase(5).replace(' ', '-')}-{i}"
        paragraphs = [
            " ".join(self.sentence() for _ in range(self.rng.randint(2, 5))) for _ in range(24)
        ]
        headings = [self.phrase(4).capitalize() for _ in range(5)]
        record: dict[str, Any] = {
            "page_type": "article",
            "url": f"{SITE}/{key}.h00-{159_000_000 + i}.html",
            "canonical_url": f"{SITE}/{key}.h00-{159_000_000 + i}.html",
            "article_key": key,
            "title": self.phrase(7).capitalize(),
            "seo_title": self.phrase(6).capitalize() + " | MD Anderson Cancer Center",
            "description": self.sentence(),
            "authors": [self.phrase(2).title()],
            "read_minutes": self.rng.randint(2, 12),
            "published": f"20{self.rng.randint(12, 26)}-0{self.rng.randint(1, 9)}-1{i % 10}",
            "reviewed": None,
            "reviewers": [
                {"name": self.phrase(2).title() + ", M.D.", "url": f"{SITE}/faculty/{i}.html"}
            ],
            "filed_month": "2024-03",
            "key_takeaways": [self.sentence() for _ in range(3)],
            "headings": headings,
            "body_text": "\n\n".join(paragraphs[:5] + headings + paragraphs[5:]),
            "word_count": 0,
            "tag_counts": [
                {"group": "Diseases", "label": label, "count": 2 * (n + 3), "tag_id": tag_id}
                for n, (tag_id, label) in enumerate(self.tags)
            ],
        }
        return self.finish(record)

    def finish(self, record: dict[str, Any]) -> Page:
        record["word_count"] = len(record["body_text"].split())
        record["content_hash"] = content_hash(record)
        return record, self.html(record)

    def changed(self, page: Page) -> Page:
        record = dict(page[0])
        record["reviewed"] = "2026-08-01"
        record["body_text"] = record["body_text"] + "\n\n" + self.sentence()
        return self.finish(record)

    def html(self, r: dict[str, Any]) -> bytes:
        body = "".join(f"<p>{block}</p>\n" for block in r["body_text"].split("\n\n"))
        facets = "".join(
            f'<li><a href="{SITE}/cancerwise.dir.html/category/content/cq:tags/'
            f'{t["tag_id"].replace(":", "/")}">{t["label"]} ({t["count"]})</a></li>\n'
            for t in r["tag_counts"]
        )
        related = "".join(
            f'<a class="card" href="{SITE}/cancerwise/{self.phrase(4).replace(" ", "-")}.html">'
            f"{self.phrase(6)}</a>\n"
            for _ in range(8)
        )
        return (
            f'<!DOCTYPE html><html lang="en"><head><title>{r["seo_title"]}</title>'
            f'<link rel="canonical" href="{r["canonical_url"]}">'
            f'<meta name="description" content="{r["description"]}">{self.scripts}</head>'
            f'<body><nav class="nav"><ul>{self.nav}</ul></nav><main><article>'
            f"<h1>{r['title']}</h1><p>BY {r['authors'][0]}</p>"
            f"<p>{r['read_minutes']} minute read</p><p>Published {r['published']}</p>"
            f"<div>{body}</div></article><aside><ul>{facets}</ul></aside>"
            f"<section>{related}</section></main><footer>{self.footer}</footer></body></html>"
        ).encode()


def make_passes(n: int) -> list[tuple[str, list[Page]]]:
    site = Site()
    first = [site.article(i) for i in range(n)]
    changed = [site.changed(p) if i % 20 == 0 else p for i, p in enumerate(first)]
    return [("new", first), ("unchanged", first), ("5% changed", changed)]


# -- the two writers ------------------------------------------------------------------


def write_archive(archive: Archive, pages: list[Page]) -> float:
    start = time.perf_counter()
    run = archive.start_run("full", site_root=SITE, parser_version="bench")
    for record, raw in pages:
        archive.save_article(
            run, record, raw=raw, url=record["url"], http_status=200, fetched_at=FETCHED
        )
    archive.finish_run(run, "completed", pages_fetched=len(pages))
    return time.perf_counter() - start


BASELINE_COLUMNS = (
    "url", "canonical_url", "article_key", "title", "seo_title", "description", "authors",
    "read_minutes", "published", "reviewed", "reviewers", "filed_month", "key_takeaways",
    "headings", "body_text", "word_count", "tag_counts", "content_hash", "fetched_at", "raw",
)  # fmt: skip


def baseline_rows(pages: list[Page]) -> Iterator[tuple[Any, ...]]:
    for record, raw in pages:
        values = {**record, "fetched_at": FETCHED.isoformat(), "raw": raw}
        yield tuple(
            json.dumps(v) if isinstance(v, list) else v
            for v in (values[c] for c in BASELINE_COLUMNS)
        )


def write_baseline_sqlite(path: Path, pages: list[Page]) -> float:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"CREATE TABLE IF NOT EXISTS pages ({', '.join(BASELINE_COLUMNS)})")
    start = time.perf_counter()
    with conn:
        placeholders = ", ".join("?" for _ in BASELINE_COLUMNS)
        conn.executemany(f"INSERT INTO pages VALUES ({placeholders})", baseline_rows(pages))
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def write_baseline_pg(url: str, schema: str, pages: list[Page]) -> float:
    import psycopg

    with psycopg.connect(url, options=f"-csearch_path={schema}") as conn:
        columns = ", ".join(f"{c} {'bytea' if c == 'raw' else 'text'}" for c in BASELINE_COLUMNS)
        conn.execute(f"CREATE TABLE IF NOT EXISTS pages ({columns})")
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cursor:
            placeholders = ", ".join("%s" for _ in BASELINE_COLUMNS)
            rows = [
                tuple(str(v) if isinstance(v, int) else v for v in row)
                for row in baseline_rows(pages)
            ]
            cursor.executemany(f"INSERT INTO pages VALUES ({placeholders})", rows)
        conn.commit()
        return time.perf_counter() - start


# -- backends -------------------------------------------------------------------------


class Backend:
    """Where one repeat writes: the archive's database and the baseline's."""

    archive_url: str
    write_baseline: Callable[[list[Page]], float]

    def archive_size(self) -> int:
        raise NotImplementedError

    def baseline_size(self) -> int:
        raise NotImplementedError


class SqliteBackend(Backend):
    def __init__(self, folder: Path) -> None:
        self.archive_path = folder / "archive.sqlite"
        self.baseline_path = folder / "baseline.sqlite"
        self.archive_url = f"sqlite:///{self.archive_path}"
        self.write_baseline = lambda pages: write_baseline_sqlite(self.baseline_path, pages)

    @staticmethod
    def _size(path: Path) -> int:
        # The WAL is checkpointed when the last connection closes; count it anyway.
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))

    def archive_size(self) -> int:
        return self._size(self.archive_path)

    def baseline_size(self) -> int:
        return self._size(self.baseline_path)


class PgBackend(Backend):
    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url.replace("postgresql+psycopg://", "postgresql://")
        tag = uuid.uuid4().hex[:8]
        self.archive_schema, self.baseline_schema = f"bench_a_{tag}", f"bench_b_{tag}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {self.archive_schema}")
            conn.execute(f"CREATE SCHEMA {self.baseline_schema}")
        self.archive_url = f"{self.url}?options=-csearch_path%3D{self.archive_schema}"
        self.write_baseline = lambda pages: write_baseline_pg(self.url, self.baseline_schema, pages)

    def _size(self, schema: str) -> int:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
                (schema,),
            ).fetchone()
        return int(row[0]) if row else 0

    def archive_size(self) -> int:
        return self._size(self.archive_schema)

    def baseline_size(self) -> int:
        return self._size(self.baseline_schema)

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {self.archive_schema} CASCADE")
            conn.execute(f"DROP SCHEMA {self.baseline_schema} CASCADE")


@contextmanager
def backend(pg_url: str | None) -> Iterator[Backend]:
    if pg_url:
        pg = PgBackend(pg_url)
        try:
            yield pg
        finally:
            pg.drop()
        return
    with tempfile.TemporaryDirectory(prefix="cwarchive-bench-") as folder:
        yield SqliteBackend(Path(folder))


# -- the benchmark ----------------------------------------------------------------------


def one_repeat(passes: list[tuple[str, list[Page]]], pg_url: str | None, batch: int) -> dict:
    results: dict[str, Any] = {"passes": []}
    with backend(pg_url) as where:
        for name, pages in passes:
            archive = Archive.open(where.archive_url, batch_size=batch)
            archive_s = write_archive(archive, pages)
            if name == "new":
                with archive.engine.connect() as conn:
                    stored, size = conn.execute(
                        select(func.sum(func.length(RawPage.data)), func.sum(RawPage.size))
                    ).one()
                results["raw_ratio"] = stored / size
            archive.close()
            if pg_url:
                with Archive.open(where.archive_url).engine.connect() as conn:
                    conn.execute(text("ANALYZE"))
            baseline_s = where.write_baseline(pages)
            results["passes"].append(
                {
                    "pass": name,
                    "archive_s": archive_s,
                    "baseline_s": baseline_s,
                    "archive_bytes": where.archive_size(),
                    "baseline_bytes": where.baseline_size(),
                }
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=3400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--pg", metavar="URL", help="run on this PostgreSQL server instead")
    args = parser.parse_args()

    passes = make_passes(args.articles)
    raw_total = sum(len(raw) for _, raw in passes[0][1])
    print(
        f"{args.articles} articles, {raw_total / args.articles / 1024:.0f} KB of HTML each on "
        f"average ({raw_total / 1e6:.0f} MB); backend {'postgresql' if args.pg else 'sqlite'}; "
        f"batch size {args.batch_size}; median of {args.repeats} repeats"
    )
    repeats = [one_repeat(passes, args.pg, args.batch_size) for _ in range(args.repeats)]

    def median(i: int, key: str) -> float:
        return statistics.median(r["passes"][i][key] for r in repeats)

    print()
    print(
        f"{'pass':<12}{'archive s':>10}{'baseline s':>11}{'ratio':>7}"
        f"{'archive MB':>12}{'growth':>9}{'baseline MB':>13}"
    )
    previous = 0.0
    for i, (name, _) in enumerate(passes):
        archive_s, baseline_s = median(i, "archive_s"), median(i, "baseline_s")
        size, baseline_size = median(i, "archive_bytes"), median(i, "baseline_bytes")
        growth = f"{(size - previous) / previous:+.2%}" if previous else "-"
        print(
            f"{name:<12}{archive_s:>10.2f}{baseline_s:>11.2f}{archive_s / baseline_s:>6.2f}x"
            f"{size / 1e6:>12.1f}{growth:>9}{baseline_size / 1e6:>13.1f}"
        )
        previous = size
    raw_ratio = statistics.median(r["raw_ratio"] for r in repeats)
    print()
    print(f"raw HTML stored at {raw_ratio:.1%} of its size (zstd)")


if __name__ == "__main__":
    main()
