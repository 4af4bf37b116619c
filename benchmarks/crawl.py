"""Crawl benchmark: the archive crawl against the floor of Scrapy on this machine.

    python benchmarks/crawl.py                      # 3,401 URLs of the real inventory
    python benchmarks/crawl.py --articles 1000      # a synthetic inventory
    python benchmarks/crawl.py --json               # one JSON document

Generates a full-scale site (`cwarchive fixtures generate`), serves it on loopback
from a child process (`cwarchive.testing.replay.spawn`), and measures in one go:

  floor  a minimal Scrapy spider that follows every link of the site and extracts
         only the h1 (no robots.txt, no parsing, no database)
  (a)    `cwarchive crawl --full` into a fresh SQLite file
  (b)    `cwarchive crawl` again, the site unchanged (incremental)
  (c)    `cwarchive crawl` after `cwarchive fixtures generate --mutate 5`

Each crawl is a child process: wall time, pages per second and its peak RSS (from
`os.wait4`'s rusage of that child alone). Goals: (a) within 1.5x of the
floor's time, (b) under 10% of (a), peak memory under 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
INVENTORY = REPO.parent / "shared" / "reference" / "urls" / "cancerwise.txt"


@dataclass
class Measure:
    name: str
    pages: int
    wall_seconds: float
    peak_mb: float
    exit_status: int
    detail: dict[str, Any]

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.wall_seconds if self.wall_seconds else 0.0


def run_child(command: list[str]) -> tuple[int, float, float, str]:
    """Run `command`; its exit status, wall seconds, peak RSS in MB and stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, cwd=REPO)
        # wait4 gives this child's own rusage; RUSAGE_CHILDREN would be the max so far.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    return process.returncode, wall, usage.ru_maxrss / 1024, text


def cwarchive(*args: str) -> list[str]:
    return [sys.executable, "-m", "cwarchive.cli", *args]


def crawl(name: str, site_url: str, db: Path, *args: str) -> Measure:
    status, wall, peak, out = run_child(
        cwarchive("crawl", "--site", site_url, "--db", str(db), "--json", *args)
    )
    numbers = json.loads(out) if out.strip() else {}
    return Measure(name, numbers.get("requests", 0), wall, peak, status, numbers)


def floor(site_url: str, dedupe: bool = False) -> Measure:
    command = [sys.executable, __file__, "--floor-spider", site_url]
    if dedupe:
        command.append("--floor-dedupe")
    status, wall, peak, out = run_child(command)
    numbers = json.loads(out) if out.strip() else {}
    name = "floor, links deduped in spider" if dedupe else "floor (minimal spider, h1 only)"
    return Measure(name, numbers.get("pages", 0), wall, peak, status, numbers)


def generate(out: Path, articles: int | None, mutate: int | None = None) -> None:
    command = cwarchive("fixtures", "generate")
    if articles:
        command += ["--articles", str(articles)]
    elif INVENTORY.exists():
        command += ["--urls", str(INVENTORY)]
    if mutate:
        command += ["--mutate", str(mutate)]
    subprocess.run([*command, str(out)], check=True, cwd=REPO, stdout=subprocess.DEVNULL)


def benchmark(articles: int | None, workdir: Path) -> list[Measure]:
    from cwarchive.testing.replay import spawn

    site = workdir / "site"
    generate(site, articles)
    measures: list[Measure] = []
    server = spawn(site, log=workdir / "requests.tsv")
    try:
        measures.append(floor(server.url))
        measures.append(floor(server.url, dedupe=True))
        db = workdir / "bench.sqlite"
        measures.append(crawl("(a) full crawl into SQLite", server.url, db, "--full"))
        measures.append(crawl("(b) incremental, unchanged", server.url, db))
        generate(site, articles, mutate=5)
        measures.append(crawl("(c) incremental after --mutate 5", server.url, db))
    finally:
        server.stop()
    return measures


def report(measures: list[Measure]) -> dict[str, Any]:
    by_name = {m.name[:3]: m for m in measures}
    floor_m, full, unchanged = measures[0], by_name.get("(a)"), by_name.get("(b)")
    ratios = {}
    if full and floor_m.wall_seconds:
        ratios["a_time_over_floor_time"] = round(full.wall_seconds / floor_m.wall_seconds, 2)
        ratios["a_rate_over_floor_rate"] = round(
            full.pages_per_second / floor_m.pages_per_second, 2
        ) if floor_m.pages_per_second else None  # fmt: skip
    if full and unchanged and full.wall_seconds:
        ratios["b_time_over_a_time"] = round(unchanged.wall_seconds / full.wall_seconds, 3)
    strict = next((m for m in measures if m.name.startswith("floor, links")), None)
    if full and strict and strict.wall_seconds:
        ratios["a_time_over_deduped_floor_time"] = round(full.wall_seconds / strict.wall_seconds, 2)
    ratios["peak_mb_max"] = round(max(m.peak_mb for m in measures), 1)
    return {
        "measures": [
            {**asdict(m), "pages_per_second": round(m.pages_per_second, 1)} for m in measures
        ],
        "ratios": ratios,
        "goals": {
            "a_within_1.5x_floor": ratios.get("a_time_over_floor_time", 99) <= 1.5,
            "b_under_10pct_of_a": ratios.get("b_time_over_a_time", 99) < 0.10,
            "memory_under_500mb": ratios["peak_mb_max"] < 500,
        },
    }


def print_table(result: dict[str, Any]) -> None:
    print(f"{'run':38} {'pages':>7} {'wall s':>8} {'pages/s':>8} {'peak MB':>8} {'exit':>4}")
    for m in result["measures"]:
        print(
            f"{m['name']:38} {m['pages']:>7} {m['wall_seconds']:>8.1f} "
            f"{m['pages_per_second']:>8.1f} {m['peak_mb']:>8.1f} {m['exit_status']:>4}"
        )
    for name, value in {**result["ratios"], **result["goals"]}.items():
        print(f"{name}: {value}")


# --- The floor: a minimal spider, run as its own child process ---------------------------


def floor_spider(site_url: str, dedupe: bool = False) -> None:
    """Follow every link of the site from its landing page; extract the h1; nothing else.

    Plain Scrapy leaves duplicate links to the scheduler's dupefilter; with `dedupe`
    the spider drops them with a set first, as the archive's spider does.
    """
    from urllib.parse import urlsplit

    import scrapy
    from scrapy.crawler import CrawlerProcess

    root = site_url.rstrip("/")
    host = urlsplit(root).netloc
    site_hosts = ("www.mdanderson.org", "mdanderson.org")
    seen: set[str] = set()

    class FloorSpider(scrapy.Spider):
        name = "floor"
        start_urls = [f"{root}/cancerwise.html", f"{root}/cancerwise.dir.html"]
        h1s = 0

        def parse(self, response: Any) -> Any:
            if response.css("h1::text").get() is not None:
                FloorSpider.h1s += 1
            for href in response.css("a::attr(href)").getall():
                url = response.urljoin(href)
                parts = urlsplit(url)
                if parts.hostname in site_hosts:  # the pages link the real site
                    url = parts._replace(scheme="http", netloc=host).geturl()
                url = url.split("#")[0]
                if urlsplit(url).netloc == host and "/cancerwise" in url:
                    if dedupe:  # the stricter floor: no duplicate Request objects at all
                        if url in seen:
                            continue
                        seen.add(url)
                    yield scrapy.Request(url, callback=self.parse)

    process = CrawlerProcess(
        {
            "LOG_LEVEL": "ERROR",
            "CONCURRENT_REQUESTS": 16,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
            "TELNETCONSOLE_ENABLED": False,
        }
    )
    crawler = process.create_crawler(FloorSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    print(json.dumps({"pages": stats.get("response_received_count", 0), "h1": FloorSpider.h1s}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, help="synthetic inventory size")
    parser.add_argument("--workdir", type=Path, help="keep the site and database here")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--floor-spider", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--floor-dedupe", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.floor_spider:
        floor_spider(options.floor_spider, options.floor_dedupe)
        return
    if options.workdir:
        options.workdir.mkdir(parents=True, exist_ok=True)
        measures = benchmark(options.articles, options.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="cwarchive-bench-") as workdir:
            measures = benchmark(options.articles, Path(workdir))
    result = report(measures)
    if options.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
