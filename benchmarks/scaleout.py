"""Scale-out benchmark: one distributed run with 1, 2 and 4 processes taking requests.

    .venv/bin/python benchmarks/scaleout.py                        # 500 articles, 1 2 4
    .venv/bin/python benchmarks/scaleout.py --workers 1 2 4 8 --delay 0.05 --concurrency 8
    .venv/bin/python benchmarks/scaleout.py --json

Generates a site (`cwarchive fixtures generate`) and serves it from a child process
(`cwarchive.testing.replay.spawn`) whose every answer waits `--delay` seconds: the
network latency a real crawl is bound by. For each count N, a fresh PostgreSQL schema
and a fresh frontier (Redis) get one full distributed run: N - 1 `cwarchive worker`
processes started first (waiting for the run), then `cwarchive crawl --frontier`,
which does discovery and takes requests like any worker, so N processes fetch. The
global rate limit is off (`--max-rate 0`), and each process has `--concurrency`
requests in flight at most, so one process is bound by latency
(concurrency / delay pages a second), not by the machine.

Measured from the replay server's log (arrival times): pages (every request of the
run) over the span from the first request to the last, and the speed-up over N = 1.
Process start-up is outside that span. Goals while latency is the bound: 1.8x with 2
processes, 3.2x with 4.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The repository, not this folder, first on the path: benchmarks/storage.py would
# shadow the `storage` package.
sys.path[0] = str(REPO)

GOALS = {2: 1.8, 4: 3.2}


@dataclass
class Measure:
    processes: int
    pages: int
    articles: int
    seconds: float  # first request to last, from the server's log
    wall: float  # the coordinator's process, start to exit
    pages_per_second: float
    speedup: float = 1.0
    cpu_busy: float = 0.0  # share of the machine's CPUs used during the run
    # CPU time of the run's own processes (crawl, workers, replay server; not PostgreSQL
    # or Redis), start-up included, per page
    cpu_ms_per_page: float = 0.0


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cwarchive", *args]


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [float(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def schema_url(server: str) -> tuple[str, str]:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{server}?options=-csearch_path%3D{schema}", schema


def drop_schema(server: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def one_run(site: Path, processes: int, args: argparse.Namespace, work: Path) -> Measure:
    from crawler.frontier.state import Frontier
    from cwarchive.testing.replay import read_log_times, spawn

    db, schema = schema_url(args.pg)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    log = work / f"requests-{processes}-{name}.tsv"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    per_process = [
        "-s", f"CONCURRENT_REQUESTS={args.concurrency}",
        "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={args.concurrency}",
        "--log-level", "WARNING",
    ]  # fmt: skip
    common = ["--frontier", args.redis, "--frontier-name", name, "--db", db]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        with spawn(site, log, delay=args.delay, log_times=True) as server:
            workers = [
                subprocess.Popen(
                    cli("worker", *common, "--wait", "600", *per_process),
                    cwd=REPO,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=(work / f"worker-{processes}-{i}.log").open("w"),
                )  # fmt: skip
                for i in range(processes - 1)
            ]
            time.sleep(args.settle)  # the workers have imported what they crawl with
            busy0, total0 = cpu_times()
            started = time.monotonic()
            done = subprocess.run(
                cli("crawl", *common, "--site", server.url, "--full", "--max-rate", "0",
                    "--json", *per_process),
                cwd=REPO, env=env, capture_output=True, text=True,
            )  # fmt: skip
            wall = time.monotonic() - started
            busy1, total1 = cpu_times()
            for worker in workers:
                worker.wait(120)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        if done.returncode != 0:
            raise RuntimeError(f"the crawl exited {done.returncode}:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout)
        if result.get("status") != "completed":
            raise RuntimeError(f"run {result.get('run_id')} is {result.get('status')}")
        entries = read_log_times(log)
        times = sorted(at for at, *_ in entries)
        seconds = times[-1] - times[0]
        articles = sum(1 for _, _, target, _ in entries if ".h00-" in target)
        return Measure(
            processes=processes,
            pages=len(entries),
            articles=articles,
            seconds=round(seconds, 2),
            wall=round(wall, 2),
            pages_per_second=round(len(entries) / seconds, 1),
            cpu_busy=round((busy1 - busy0) / (total1 - total0), 2),
            cpu_ms_per_page=round(1000 * cpu / len(entries), 1),
        )
    finally:
        Frontier(args.redis, name).clear()
        drop_schema(args.pg, schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per answer")
    parser.add_argument("--concurrency", type=int, default=2, help="requests per process")
    parser.add_argument("--repeats", type=int, default=1, help="runs per count (median)")
    parser.add_argument("--settle", type=float, default=4.0, help="seconds for workers to start")
    parser.add_argument(
        "--pg",
        default=os.environ.get("CWARCHIVE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument(
        "--redis", default=os.environ.get("CWARCHIVE_TEST_REDIS", "redis://127.0.0.1:6379/15")
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cwarchive-scaleout-") as tmp:
        work = Path(tmp)
        site = work / "site"
        subprocess.run(
            cli("fixtures", "generate", "--articles", str(args.articles), str(site)),
            cwd=REPO, check=True, capture_output=True,
        )  # fmt: skip
        for file in site.rglob("*"):  # a warm disk cache for every run
            if file.is_file():
                file.read_bytes()
        measures: list[Measure] = []
        for processes in args.workers:
            runs = [one_run(site, processes, args, work) for _ in range(args.repeats)]
            measures.append(sorted(runs, key=lambda m: m.pages_per_second)[len(runs) // 2])
            if not args.json:
                print(f"{processes} processes: {measures[-1].pages_per_second} pages/s", flush=True)
    base = next((m.pages_per_second for m in measures if m.processes == 1), None)
    for measure in measures:
        if base:
            measure.speedup = round(measure.pages_per_second / base, 2)
    bound = (
        f"latency bound: {args.concurrency / args.delay:.0f} pages/s per process"
        if args.delay
        else "no latency: the machine is the bound"
    )
    if args.json:
        print(json.dumps({"measures": [asdict(m) for m in measures], "args": vars(args)}))
        return
    print(
        f"\n{args.articles} articles; {args.delay} s per answer; {args.concurrency} requests "
        f"in flight per process ({bound}); "
        f"{os.cpu_count()} CPUs\n"
    )
    print(f"{'processes':>9} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'speed-up':>9} "
          f"{'CPU busy':>9} {'CPU ms/page':>12} {'goal':>6}")  # fmt: skip
    for m in measures:
        goal = GOALS.get(m.processes)
        verdict = "" if goal is None else ("ok" if m.speedup >= goal else "MISSED") + f" {goal}x"
        print(
            f"{m.processes:>9} {m.pages:>6} {m.seconds:>8.1f} {m.pages_per_second:>8.1f} "
            f"{m.speedup:>8.2f}x {m.cpu_busy:>8.0%} {m.cpu_ms_per_page:>12.1f} {verdict:>6}"
        )
    spread = statistics.pstdev([m.pages / max(m.articles, 1) for m in measures])
    if spread > 0.05:
        print("warning: the runs did not fetch the same pages")


if __name__ == "__main__":
    main()
