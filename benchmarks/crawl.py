"""Crawl benchmark: the archive crawl beside a floor that does the same fetching, minus ours.

    .venv/bin/python benchmarks/crawl.py                    # 3,401 URLs of the real inventory
    .venv/bin/python benchmarks/crawl.py --articles 1000    # a synthetic inventory
    .venv/bin/python benchmarks/crawl.py --repeats 3 --json
    .venv/bin/python benchmarks/crawl.py --articles 1000 --profile /tmp/crawl.prof
    .venv/bin/python benchmarks/crawl.py --profile /tmp/crawl.txt --profiler py-spy
    .venv/bin/python benchmarks/crawl.py --profile-report /tmp/crawl.prof

Generates a site (`cwarchive fixtures generate`), serves it on loopback from a child
process (`cwarchive.testing.replay.spawn`, with a request log), and measures, each in a
child process of its own (wall time, and peak RSS from `os.wait4`):

  (a)    `cwarchive crawl --full` into a fresh SQLite file
  floor  a bare Scrapy spider that requests exactly what (a) requested, read from the
         replay server's log of (a) (same methods, same paths and queries, as often),
         from the same server, with the concurrency `cwarchive crawl` uses against a
         loopback site (`crawl_overrides`), extracting only the h1: no robots rules,
         redirects or retries of its own (what they fetched is in the list), no
         parsing, no database
  (b)    `cwarchive crawl` again, the site unchanged (incremental)
  (c)    `cwarchive crawl` after `cwarchive fixtures generate --mutate 5`

The site's files are read once before the first measure, so no run pays for a cold
disk cache, and our packages are byte-compiled (`benchmarks/bytecode.py`). With
`--repeats N`, (a), the floor and (b) run N times in turns (each (a) into a fresh
file) and medians are reported; (c) runs once, last.

Goals: (a) within 2.0x of the floor's time, (b) at most 5% of (a), peak memory of (a)
under 300 MB: of the crawl and its parser workers together (`cwarchive crawl` parses in
worker processes against a loopback site), sampled every 0.1 s from /proc; each run's
CPU seconds, its own (wait4) and its workers', are reported beside.
`--profile FILE` adds one more full crawl under a profiler (not timed:
cProfile, or py-spy with `--profiler py-spy`) and prints where its time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# The repository, not this folder, first on the path: benchmarks/storage.py would
# shadow the `storage` package.
sys.path[0] = str(REPO)

from benchmarks.bytecode import byte_compile  # noqa: E402
from tests.processes import descendants, process_table  # noqa: E402

INVENTORY = REPO.parent / "shared" / "reference" / "urls" / "cancerwise.txt"
GOALS = {"full_over_floor": 2.0, "incremental_share": 0.05, "peak_mb": 300.0}
# The settings of `crawl_overrides` for a loopback site that decide how fast pages come:
# the floor takes exactly these from it.
CONCURRENCY = (
    "AUTOTHROTTLE_ENABLED",
    "DOWNLOAD_DELAY",
    "DOWNLOAD_DELAY_JITTER",
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
)


@dataclass
class Measure:
    name: str
    pages: int  # requests the replay server answered during the run
    wall_seconds: float
    peak_mb: float
    exit_status: int
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.wall_seconds if self.wall_seconds else 0.0


def run_child(command: list[str]) -> tuple[int, float, float, str, dict[str, float]]:
    """Run `command`; its exit status, wall seconds, peak RSS in MB, stdout, and what its
    process tree used (`TreeSampler`: the parser workers are not waited for by it)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, cwd=REPO)
        sampler = TreeSampler(process.pid)
        sampler.start()
        # wait4 gives this child's own rusage; RUSAGE_CHILDREN would be the max so far.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        sampler.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    tree = {
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "others_cpu_seconds": round(sampler.others_cpu, 2),
        "tree_peak_mb": round(max(sampler.peak_mb, usage.ru_maxrss / 1024), 1),
    }
    return process.returncode, wall, usage.ru_maxrss / 1024, text, tree


class TreeSampler(threading.Thread):
    """Every 0.1 s, the RSS of a process and all its descendants (the crawl's parser
    workers come from a fork server it starts), summed; and the CPU time of the
    descendants, which wait4 of the process does not count (nobody waits for them).
    Linux /proc only; elsewhere nothing is sampled."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_mb = 0.0
        self.others_cpu = 0.0
        self._cpu: dict[int, float] = {}
        self._done = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def run(self) -> None:
        while not self._done.wait(0.1):
            self.sample()

    def stop(self) -> None:
        self._done.set()
        self.join()

    def sample(self) -> None:
        stats = process_table()
        tree = {self.pid} | descendants(self.pid, stats)
        rss = sum(int(stats[pid][21]) for pid in tree if pid in stats) * self._page
        self.peak_mb = max(self.peak_mb, rss / 2**20)
        for pid in tree - {self.pid}:
            if pid in stats:  # utime + stime of the descendant, last seen
                self._cpu[pid] = (int(stats[pid][11]) + int(stats[pid][12])) / self._tick
        self.others_cpu = sum(self._cpu.values())


def cwarchive(*args: str) -> list[str]:
    return [sys.executable, "-m", "cwarchive", *args]


class Server:
    """The replay server in its child process, and its request log read in slices."""

    def __init__(self, site: Path, log: Path) -> None:
        from cwarchive.testing.replay import spawn

        self.log = log
        self.process = spawn(site, log=log)
        self.url = self.process.url
        self._read = 0

    def new_requests(self) -> list[tuple[str, str, int]]:
        """The requests logged since the last call: the ones of the run just ended.

        The server logs a request before answering it, so once a client has exited
        every request it made is in the log.
        """
        from cwarchive.testing.replay import read_log

        entries = read_log(self.log)
        fresh, self._read = entries[self._read :], len(entries)
        return fresh

    def stop(self) -> None:
        self.process.stop()


def crawl(
    name: str, server: Server, db: Path, *args: str, prefix: list[str] | None = None
) -> Measure:
    server.new_requests()
    command = cwarchive("crawl", "--site", server.url, "--db", str(db), "--json", *args)
    if prefix:
        command = [*prefix, *command[1:]]
    status, wall, peak, out, tree = run_child(command)
    # py-spy writes its own lines on stdout, before and after the crawl's JSON.
    document = "\n".join(line for line in out.splitlines() if not line.startswith("py-spy>"))
    numbers = json.loads(document) if document.strip() else {}
    requests = server.new_requests()
    numbers["requested"] = [(method, target) for method, target, _ in requests]
    numbers["tree"] = tree
    return Measure(name, len(requests), wall, peak, status, numbers)


def floor(server: Server, requested: list[tuple[str, str]], workdir: Path) -> Measure:
    targets = workdir / "floor-requests.tsv"
    targets.write_text("".join(f"{method}\t{target}\n" for method, target in requested), "utf-8")
    server.new_requests()
    command = [
        sys.executable,
        __file__,
        "--floor-spider",
        server.url,
        "--floor-requests",
        str(targets),
    ]
    status, wall, peak, out, tree = run_child(command)
    numbers = json.loads(out) if out.strip() else {}
    numbers["tree"] = tree
    fetched = [(method, target) for method, target, _ in server.new_requests()]
    # The point of this floor: the same requests as the crawl, no more, no fewer.
    numbers["same_requests_as_crawl"] = sorted(fetched) == sorted(requested)
    return Measure("floor (bare spider, same requests)", len(fetched), wall, peak, status, numbers)


def generate(out: Path, articles: int | None, mutate: int | None = None) -> None:
    command = cwarchive("fixtures", "generate")
    if articles:
        command += ["--articles", str(articles)]
    elif INVENTORY.exists():
        command += ["--urls", str(INVENTORY)]
    if mutate:
        command += ["--mutate", str(mutate)]
    subprocess.run([*command, str(out)], check=True, cwd=REPO, stdout=subprocess.DEVNULL)


def warm(site: Path) -> int:
    """Read every file of the site once: no measure pays for a cold page cache."""
    size = 0
    for file in site.rglob("*"):
        if file.is_file():
            size += len(file.read_bytes())
    return size


def benchmark(
    articles: int | None,
    workdir: Path,
    repeats: int,
    profile: Path | None,
    sampler: str = "cprofile",
) -> dict[str, list[Measure]]:
    site = workdir / "site"
    generate(site, articles)
    warm(site)
    runs: dict[str, list[Measure]] = {"full": [], "floor": [], "incremental": [], "mutated": []}
    server = Server(site, workdir / "requests.tsv")
    try:
        for number in range(repeats):
            db = workdir / f"bench-{number}.sqlite"
            for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                stale.unlink(missing_ok=True)
            full = crawl("(a) full crawl into SQLite", server, db, "--full")
            runs["full"].append(full)
            runs["floor"].append(floor(server, full.detail["requested"], workdir))
            runs["incremental"].append(crawl("(b) incremental, unchanged", server, db))
        if profile is not None:
            db = workdir / "profiled.sqlite"
            db.unlink(missing_ok=True)
            crawl("profiled full crawl", server, db, "--full", prefix=profiler(profile, sampler))
        generate(site, articles, mutate=5)
        db = workdir / f"bench-{repeats - 1}.sqlite"
        runs["mutated"].append(crawl("(c) incremental after --mutate 5", server, db))
    finally:
        server.stop()
    return runs


def profiler(out: Path, sampler: str) -> list[str]:
    """The command line that runs `python ...` under the profiler, writing `out`."""
    if sampler == "py-spy":
        # A sampling profiler: the crawl runs at its own speed; 100 samples a second.
        spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
        return [spy, "record", "--format", "raw", "--rate", "100", "--output", str(out),
                "--", sys.executable]  # fmt: skip
    return [sys.executable, "-m", "cProfile", "-o", str(out)]


def median_measure(measures: list[Measure]) -> Measure:
    """The run of median wall time (an odd count picks a real run)."""
    ordered = sorted(measures, key=lambda m: m.wall_seconds)
    return ordered[(len(ordered) - 1) // 2]


def report(runs: dict[str, list[Measure]], articles: int | None) -> dict[str, Any]:
    full, base = median_measure(runs["full"]), median_measure(runs["floor"])
    unchanged = median_measure(runs["incremental"])
    ratios: dict[str, Any] = {
        "full_over_floor_time": round(full.wall_seconds / base.wall_seconds, 2),
        # Each repeat's own ratio: the floor ran right after its full crawl.
        "full_over_floor_paired": [
            round(a.wall_seconds / f.wall_seconds, 2)
            for a, f in zip(runs["full"], runs["floor"], strict=True)
        ],
        "floor_over_full_rate": round(base.pages_per_second / full.pages_per_second, 2),
        "incremental_share_of_full": round(unchanged.wall_seconds / full.wall_seconds, 3),
        "full_peak_mb": round(max(m.peak_mb for m in runs["full"]), 1),
        # The crawl and its parser workers together (sampled every 0.1 s).
        "full_tree_peak_mb": round(max(m.detail["tree"]["tree_peak_mb"] for m in runs["full"]), 1),
        "floor_made_the_same_requests": all(
            m.detail.get("same_requests_as_crawl") for m in runs["floor"]
        ),
    }
    measures = [full, base, unchanged, *runs["mutated"]]
    return {
        "site": f"{articles} generated articles" if articles else "the real inventory",
        "repeats": len(runs["full"]),
        "machine": f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end",
        "measures": [
            {
                **{k: v for k, v in asdict(m).items() if k != "detail"},
                "wall_seconds": round(m.wall_seconds, 2),
                "peak_mb": round(m.peak_mb, 1),
                "pages_per_second": round(m.pages_per_second, 1),
                "walls": [round(r.wall_seconds, 2) for r in runs[kind]],
                **m.detail.get("tree", {}),
            }
            for m, kind in zip(measures, ("full", "floor", "incremental", "mutated"), strict=True)
        ],
        "ratios": ratios,
        "goals": {
            f"full_within_{GOALS['full_over_floor']}x_floor": ratios["full_over_floor_time"]
            <= GOALS["full_over_floor"],
            f"incremental_at_most_{GOALS['incremental_share']:.0%}_of_full": ratios[
                "incremental_share_of_full"
            ]
            <= GOALS["incremental_share"],
            f"full_peak_under_{GOALS['peak_mb']:.0f}_mb": ratios["full_tree_peak_mb"]
            < GOALS["peak_mb"],
        },
    }


def print_table(result: dict[str, Any]) -> None:
    print(f"{result['site']}; median of {result['repeats']}; {result['machine']}")
    print(
        f"{'run':38} {'pages':>7} {'wall s':>8} {'pages/s':>8} {'peak MB':>8} {'exit':>4}"
        f" {'CPU s':>7} {'workers CPU s':>13} {'all peak MB':>11}"
    )
    for m in result["measures"]:
        print(
            f"{m['name']:38} {m['pages']:>7} {m['wall_seconds']:>8.1f} "
            f"{m['pages_per_second']:>8.1f} {m['peak_mb']:>8.1f} {m['exit_status']:>4}"
            f" {m.get('cpu_seconds', 0):>7.1f} {m.get('others_cpu_seconds', 0):>13.1f}"
            f" {m.get('tree_peak_mb', 0):>11.1f}"
        )
    for name, value in {**result["ratios"], **result["goals"]}.items():
        print(f"{name}: {value}")


# --- Where a profiled crawl's time goes -------------------------------------------------

# First match wins: a function's file decides its part.
PARTS = (
    ("crawler/parsers/", "parsers (ours)"),
    ("crawler/spiders/", "spider (ours)"),
    ("crawler/middlewares/", "middlewares (ours)"),
    ("crawler/urls.py", "URL rules (ours)"),
    ("crawler/", "crawler, other (ours)"),
    ("pipelines/", "pipelines (ours)"),
    ("storage/", "storage (ours)"),
    ("cwarchive/", "cli (ours)"),
    ("/sqlalchemy/", "SQLAlchemy"),
    ("/scrapy/", "Scrapy"),
    ("/twisted/", "Twisted"),
    ("/parsel/", "parsel, w3lib, lxml"),
    ("/w3lib/", "parsel, w3lib, lxml"),
    ("/lxml/", "parsel, w3lib, lxml"),
    ("/dateparser/", "dateparser"),
    ("/zstandard/", "zstandard"),
)


STDLIB = sysconfig.get_paths()["stdlib"]
# Functions whose time, callees included, is worth a line of its own: name, file.
CUMULATIVE = {
    "parse_page": "crawler/parsers/page.py",
    "parse_listing": "crawler/parsers/listing.py",
    "parse_article": "crawler/parsers/article.py",
    "read_facets": "crawler/parsers/facets.py",
    "store_page": "storage/pages.py",
}


def _part_of_file(filename: str) -> str | None:
    """The part a file's code belongs to; None for the standard library and built-ins,
    which work for whoever called them.

    `filename` is absolute (cProfile), relative to its `sys.path` entry (py-spy),
    `~` (a built-in) or `<frozen ...>`.
    """
    if filename == "~" or filename.startswith("<"):
        return None
    path = filename if filename.startswith("/") else f"/{filename}"
    for marker, part in PARTS:
        if marker in path:
            return part
    if filename.startswith(STDLIB):
        return None
    if not filename.startswith("/"):
        top = filename.split("/", 1)[0].removesuffix(".py")
        if top in sys.stdlib_module_names:
            return None
    return "other libraries"


def _part(function: tuple[str, int, str]) -> str | None:
    return _part_of_file(function[0])


def where_time_goes(path: Path, top: int = 15) -> dict[str, Any]:
    """Where a profile's time went: py-spy's raw stacks, or else a cProfile file."""
    try:
        pstats.Stats(str(path))
    except (TypeError, ValueError, EOFError, OSError):
        return where_samples_go(path, top)
    return where_profiled_time_goes(path, top)


def where_samples_go(path: Path, top: int = 15) -> dict[str, Any]:
    """py-spy's raw output (one `frame;frame;... count` line per distinct stack).

    A sample counts for the innermost frame of a part: time in the standard library
    (`urljoin`) or in C below it (lxml) is the time of the code that called it.
    """
    frame_file = re.compile(r"^(?P<function>.*) \((?P<file>.+?)(?::\d+)?\)$")
    parts: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    under: Counter[str] = Counter()
    total = 0
    for line in path.read_text("utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        if not stack.strip():  # a sample caught outside any Python frame
            parts["no Python frame"] += samples
            continue
        frames = []
        for frame in stack.split(";"):
            match = frame_file.match(frame)
            frames.append((match["function"], match["file"]) if match else (frame, frame))
        part = next(
            (p for _, file in reversed(frames) if (p := _part_of_file(file)) is not None),
            "unattributed",
        )
        parts[part] += samples
        function, file = frames[-1]
        leaves[f"{function} ({file})"] += samples
        for name in {f for f, file in frames if CUMULATIVE.get(f, "?") in file}:
            under[name] += samples
    total = total or 1
    return {
        "profiler": "py-spy",
        "samples": total,
        "parts_percent": {part: round(100 * n / total, 1) for part, n in parts.most_common()},
        "cumulative_percent": {name: round(100 * n / total, 1) for name, n in under.most_common()},
        "top_self_time": [
            {"function": name, "percent": round(100 * n / total, 1)}
            for name, n in leaves.most_common(top)
        ],
    }


def where_profiled_time_goes(path: Path, top: int = 15) -> dict[str, Any]:
    """cProfile's self time by part, and the functions with the most self time.

    The standard library's and the built-ins' self time (`urlsplit`, `re.sub`, lxml's
    C methods) goes to the parts that called them, split in proportion to the time
    spent under each caller, up the call graph to the first function of a part.
    """
    stats = pstats.Stats(str(path))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values())
    shares: dict[Any, dict[str, float]] = {}
    in_progress: set[Any] = set()

    def share_of(function: Any) -> dict[str, float]:
        """How `function`'s time divides among the parts (fractions summing to 1)."""
        part = _part(function)
        if part is not None:
            return {part: 1.0}
        if function in shares:
            return shares[function]
        in_progress.add(function)
        callers = {
            caller: entry[3]
            for caller, entry in raw[function][4].items()
            if caller not in in_progress and caller in raw
        }
        weight = sum(callers.values())
        result: Counter[str] = Counter()
        if not weight:  # the top of the stack, or only recursive callers
            result["unattributed"] = 1.0
        for caller, time_under in callers.items():
            for name, fraction in share_of(caller).items():
                result[name] += fraction * time_under / weight
        in_progress.discard(function)
        shares[function] = dict(result)
        return shares[function]

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
    parts: Counter[str] = Counter()
    for function, entry in raw.items():
        for name, fraction in share_of(function).items():
            parts[name] += entry[2] * fraction
    functions = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:top]
    cumulative = {
        name: max((e[3] for f, e in raw.items() if f[2] == name and file in f[0]), default=0)
        for name, file in CUMULATIVE.items()
    }
    return {
        "profiler": "cProfile",
        "profiled_seconds": round(total, 1),
        "parts_percent": {part: round(100 * t / total, 1) for part, t in parts.most_common()},
        "cumulative_percent": {
            name: round(100 * t / total, 1) for name, t in cumulative.items() if t
        },
        "top_self_time": [
            {
                "function": f"{Path(f[0]).name}:{f[1]}({f[2]})" if f[0] != "~" else f[2],
                "self_s": round(e[2], 2),
                "percent": round(100 * e[2] / total, 1),
            }
            for f, e in functions
        ],
    }


# --- The floor: a bare spider, run as its own child process ------------------------------


def floor_spider(site_url: str, requests_file: Path) -> None:
    """Request each (method, path) of `requests_file` once, in order; count the h1s.

    Nothing is filtered, redirected or retried by the spider: the list is what the
    crawl requested, redirects and retries included.
    """
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import TextResponse

    from cwarchive.crawling import crawl_overrides

    root = site_url.rstrip("/")
    requested = [
        line.split("\t", 1) for line in requests_file.read_text("utf-8").splitlines() if line
    ]

    class FloorSpider(scrapy.Spider):
        name = "floor"
        h1s = 0

        async def start(self) -> Any:
            for method, target in requested:
                yield scrapy.Request(
                    root + target,
                    method=method,
                    callback=self.parse,
                    dont_filter=True,
                    meta={"handle_httpstatus_all": True},
                )

        def parse(self, response: Any) -> None:
            if isinstance(response, TextResponse) and response.css("h1::text").get() is not None:
                FloorSpider.h1s += 1

    overrides = crawl_overrides(site=site_url, db_url=None)
    settings = {name: overrides[name] for name in CONCURRENCY}
    process = CrawlerProcess(
        {
            **settings,
            "LOG_LEVEL": "ERROR",
            "TELNETCONSOLE_ENABLED": False,
            "ROBOTSTXT_OBEY": False,  # robots.txt is in the list when the crawl read it
            "REDIRECT_ENABLED": False,  # a redirect's target is in the list too
            "RETRY_ENABLED": False,  # so is every retry
            "COOKIES_ENABLED": False,
        }
    )
    crawler = process.create_crawler(FloorSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    print(
        json.dumps(
            {
                "responses": stats.get("response_received_count", 0),
                "h1": FloorSpider.h1s,
                "settings": settings,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, help="synthetic inventory size")
    parser.add_argument("--repeats", type=int, default=1, help="full crawl, floor, incremental")
    parser.add_argument("--workdir", type=Path, help="keep the site and databases here")
    parser.add_argument("--profile", type=Path, help="also profile a full crawl into FILE")
    parser.add_argument(
        "--profiler",
        choices=("cprofile", "py-spy"),
        default="cprofile",
        help="cProfile (call counts, but slows Python calls down) or py-spy (sampling, "
        "no slowdown; `pip install py-spy`)",
    )
    parser.add_argument("--profile-report", type=Path, help="only report on a saved profile")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--floor-spider", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--floor-requests", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.floor_spider:
        floor_spider(options.floor_spider, options.floor_requests)
        return
    if options.profile_report:
        print(json.dumps(where_time_goes(options.profile_report), indent=2))
        return
    profile = options.profile.resolve() if options.profile else None
    byte_compile()
    if options.workdir:
        options.workdir.mkdir(parents=True, exist_ok=True)
        runs = benchmark(
            options.articles, options.workdir.resolve(), options.repeats, profile, options.profiler
        )
    else:
        with tempfile.TemporaryDirectory(prefix="cwarchive-bench-") as workdir:
            runs = benchmark(
                options.articles, Path(workdir), options.repeats, profile, options.profiler
            )
    result = report(runs, options.articles)
    if profile is not None:
        result["profile"] = where_time_goes(profile)
    if options.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
        if profile is not None:
            print(json.dumps(result["profile"], indent=2))


if __name__ == "__main__":
    main()
