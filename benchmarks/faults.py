"""The fault campaign: a long seeded history of faulty crawls, site changes and SIGKILLs,
then a clean run, with every promise of docs/reliability.md checked along the way.

    .venv/bin/python benchmarks/faults.py --seed 1 --articles 500
    .venv/bin/python benchmarks/faults.py --seed 1 --articles 100      # a quick look
    .venv/bin/python benchmarks/faults.py --seed 1 --json --keep /tmp/campaign

A generated site (`generate_site(articles, seed)`) is served by the replay server in a
child process (`spawn`) with every fault kind of `cwarchive.testing.faults` at once
(`MIX`), a fresh server and fault seed for each crawl (the n-th request of a page
would otherwise meet the same fault in every run). The history, in one SQLite archive:

1. four faulty crawls: full; 5% of the site mutated, incremental; full again; 5%
   mutated, incremental (`mutate(site, pct, seed=, when=)`);
2. kill trials until `--kills` SIGKILLs have landed: a crawl with `--job-dir`
   (full and incremental in turns; 2% of the site mutated before every other one;
   `ARCHIVE_BATCH_SIZE` drawn from 7, 50 and 200) through the faulty server, killed
   once the server's log holds a seeded number of requests; then the same command
   resumes it, and a quarter of the resumes are killed again and resumed once more;
3. a clean incremental crawl, no faults.

Checked after every crawl: the exit status (0, or -9 for a kill), no traceback in
stderr; every `versions`, `raw_pages` and `observations` row hashed before the crawl
is still there byte for byte; every version's `content_hash` is one the generator
produced for that article in some state of the site (`Site.expected_records()` of
each state); no article is removed that the site still has; no version repeats the
content of the one before it, and no run fetched an article twice; `cwarchive db
check` passes (a `running_run` warning only after a kill); after a resume every killed
run is `interrupted`. After the clean run every article's current version is the
site's and the statuses are the site's; the last check is `db check --deep`.

Prints a table of the figures (`--json`: one JSON document) and exits 1 when a
promise was broken (each one listed). Peak memory is the largest `ru_maxrss` of the
crawl children (`os.wait4`). Faulty crawls run with `--max-error-rate 1`,
`DOWNLOAD_TIMEOUT=2` and stalls of 3 s, as tests/test_faults.py does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parents[1]
# The repository, not this folder, first on the path: benchmarks/storage.py would
# shadow the `storage` package.
sys.path[0] = str(REPO)

if TYPE_CHECKING:
    from cwarchive.testing.faults import FaultSpec
    from cwarchive.testing.sitegen import Site

STALL_SECONDS = 3.0
# Short timeouts keep stalls cheap; a stall must outlast the download timeout.
FAST = ("-s", "DOWNLOAD_TIMEOUT=2", "-s", "ARCHIVE_RETRY_BACKOFF_BASE=1")
TABLES = ("versions", "raw_pages", "observations")
BATCH_SIZES = (7, 50, 200)
# Share of the requests a run of that mode made, somewhere in which a kill lands:
# early enough that the crawl has not finished, after at least one request.
KILL_SPAN = 0.8


def mix() -> FaultSpec:
    """Every kind at once, about one request in five: half the rates of
    tests/test_faults.py's faulty history, whose 40% makes each page of a long listing
    chain (the directory's 50 next pages, one after the other) wait out a retry."""
    from cwarchive.testing.faults import FaultSpec

    return FaultSpec(
        rates={
            "500": 0.015,
            "502": 0.01,
            "503": 0.02,
            "429": 0.015,
            "reset_before": 0.01,
            "reset_mid_body": 0.01,
            "stall": 0.005,
            "short_body": 0.01,
            "corrupt_gzip": 0.015,
            "gzip_bomb": 0.005,
            "redirect_loop": 0.005,
            "redirect_offsite": 0.005,
            "truncated_html": 0.025,
            "garbage": 0.01,
            "latin1_as_utf8": 0.02,
            "utf8_as_latin1": 0.015,
            "huge_page": 0.005,
        },  # fmt: skip
        paths=(
            ("/robots.txt", {"robots_500": 0.15, "robots_timeout": 0.05, "reset_before": 0.05}),
            (
                "*sitemap.xml",
                {
                    "malformed_sitemap": 0.15,
                    "huge_sitemap": 0.1,
                    "foreign_sitemap": 0.1,
                    "503": 0.05,
                },
            ),  # fmt: skip
        ),
        stall_seconds=STALL_SECONDS,
    )


@dataclass
class Crawl:
    """One crawl child and what the server saw of it."""

    number: int
    name: str
    mode: str
    faulty: bool
    exit_status: int
    killed: bool
    wall_seconds: float
    peak_mb: float
    requests: int
    faults: Counter[str]
    summary: dict[str, Any] | None
    traceback: bool

    def line(self) -> dict[str, Any]:
        summary = self.summary or {}
        return {
            "crawl": f"{self.number:02d} {self.name}",
            "mode": self.mode,
            "exit": self.exit_status,
            "s": round(self.wall_seconds, 1),
            "requests": self.requests,
            "faults": sum(self.faults.values()),
            "new": summary.get("new", "-"),
            "changed": summary.get("changed", "-"),
            "errors": summary.get("errors", "-"),
            "peak MB": round(self.peak_mb),
        }


class LogCount:
    """Lines of a request log, read on from where the last look stopped (polled)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.lines = 0

    def __call__(self) -> int:
        try:
            with open(self.path, "rb") as log:
                log.seek(self.offset)
                data = log.read()
        except FileNotFoundError:
            return 0
        self.offset += len(data)
        self.lines += data.count(b"\n")
        return self.lines


def rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


def row_digest(row: tuple[Any, ...]) -> str:
    """sha256 of a row's values as stored, blobs fed as they are (repr would quadruple
    the 25 KB of a compressed page)."""
    digest = hashlib.sha256()
    for value in row:
        if isinstance(value, bytes):
            digest.update(b"b%d:" % len(value) + value)
        else:
            text = repr(value).encode()
            digest.update(b"v%d:" % len(text) + text)
    return digest.hexdigest()


def table_hashes(db: Path) -> dict[str, dict[int, str]]:
    """Table -> id -> digest of every row (but for the end of its range of runs)."""
    if not db.exists():
        return {table: {} for table in TABLES}
    found = {}
    for table in TABLES:
        # A range's end (`last_run_id`) grows when a later run sees the same again: the
        # rest of the row never changes.
        columns = ", ".join(
            name for _, name, *_ in rows(db, f"PRAGMA table_info({table})") if name != "last_run_id"
        )
        found[table] = {
            row[0]: row_digest(row)
            for row in rows(db, f"SELECT {columns} FROM {table} ORDER BY id")  # noqa: S608
        }
    return found


@dataclass
class Campaign:
    work: Path
    seed: int
    articles: int
    kills: int
    verbose: bool = True
    site: Site = field(init=False)
    rng: random.Random = field(init=False)
    root: Path = field(init=False)  # the site's files, as the replay server reads them
    db: Path = field(init=False)
    converged: int = 0  # articles whose current version is the site's, at the end
    crawls: list[Crawl] = field(default_factory=list)
    # Article key -> every content_hash the generator produced for it, over all states.
    produced: dict[str, set[str]] = field(default_factory=dict)
    broken: list[str] = field(default_factory=list)  # every promise broken, in words
    rows_checked: int = 0
    lost: int = 0
    false_versions: set[int] = field(default_factory=set)
    false_removals: set[str] = field(default_factory=set)
    saved_twice: set[str] = field(default_factory=set)
    checks: Counter[str] = field(default_factory=Counter)  # db check verdicts
    killed_runs: set[int] = field(default_factory=set)
    mutations: int = 0

    def __post_init__(self) -> None:
        from cwarchive.testing.sitegen.generate import generate_site

        self.rng = random.Random(self.seed)
        self.site = generate_site(self.articles, seed=self.seed)
        self.root = self.work / "site"
        self.db = self.work / "archive.sqlite"
        (self.work / "logs").mkdir(parents=True, exist_ok=True)
        self._publish()

    # ------------------------------------------------------------ the site

    def _publish(self) -> None:
        """Write the site's current state and remember what it says each article holds."""
        self.site.write(self.root)
        for record in self.site.expected_records().values():
            if record["page_type"] == "article":
                self.produced.setdefault(record["article_key"], set()).add(record["content_hash"])

    def mutate(self, pct: float) -> None:
        from cwarchive.testing.sitegen.generate import mutate

        self.mutations += 1
        # A second on: the change must be later than any fetch of the last crawl, or
        # an incremental run would rightly call the page fresh.
        when = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
        report = mutate(self.site, pct, seed=self.seed * 100 + self.mutations, when=when)
        self.say(
            f"   site: {report.changed} changed, {len(report.added)} new, "
            f"{len(report.removed)} removed"
        )
        self._publish()

    # ------------------------------------------------------------ crawls

    def say(self, text: str) -> None:
        if self.verbose:
            print(text, file=sys.stderr, flush=True)

    def crawl(
        self,
        name: str,
        *,
        full: bool,
        faulty: bool = True,
        job: Path | None = None,
        kill_after: int | None = None,
        batch: int | None = None,
    ) -> Crawl:
        from cwarchive.testing.replay import read_log, spawn

        number = len(self.crawls) + 1
        log = self.work / "logs" / f"{number:02d}-{name}.tsv"
        command = [sys.executable, "-m", "cwarchive", "crawl", "--db", str(self.db), "--json"]
        command += [*FAST, *(["--full"] if full else [])]
        if faulty:
            command += ["--max-error-rate", "1"]
        if job is not None:
            command += ["--job-dir", str(job)]
        if batch is not None:
            command += ["-s", f"ARCHIVE_BATCH_SIZE={batch}"]
        before = table_hashes(self.db)
        runs_before = self._run_ids()
        spec = mix() if faulty else None
        with spawn(self.root, log, faults=spec, seed=self.seed * 1000 + number) as server:
            crawl = self._run(command + ["--site", server.url], log, kill_after)
            entries = read_log(log, with_faults=True)
        crawl.number, crawl.name, crawl.mode = number, name, "full" if full else "incremental"
        crawl.faulty, crawl.requests = faulty, len(entries)
        crawl.faults = Counter(e.fault.split(":")[0] for e in entries if e.fault)
        self.crawls.append(crawl)
        if crawl.killed:
            self.killed_runs |= self._run_ids() - runs_before
        self.say(
            f"{number:3d} {name:<22} exit {crawl.exit_status:3d}  {crawl.wall_seconds:6.1f} s  "
            f"{crawl.requests:5d} requests  {sum(crawl.faults.values()):4d} faults"
        )
        self._after(crawl, before)
        return crawl

    def _run_ids(self) -> set[int]:
        if not self.db.exists():
            return set()
        return {run for (run,) in rows(self.db, "SELECT id FROM runs")}

    def _run(self, command: list[str], log: Path, kill_after: int | None) -> Crawl:
        started = time.perf_counter()
        out_file = log.with_suffix(".out")
        err_file = log.with_suffix(".err")
        with open(out_file, "w+") as out, open(err_file, "w+") as err:
            process = subprocess.Popen(command, stdout=out, stderr=err, cwd=REPO)
            killed = False
            try:
                if kill_after is None:
                    _, status, usage = os.wait4(process.pid, 0)
                else:
                    count = LogCount(log)
                    while True:
                        # wait4 without hanging: poll() would reap the child and lose
                        # its rusage.
                        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                        if pid:
                            break  # it finished before the kill
                        if count() >= kill_after:
                            os.kill(process.pid, signal.SIGKILL)
                            _, status, usage = os.wait4(process.pid, 0)
                            killed = True
                            break
                        time.sleep(0.003)
                process.returncode = os.waitstatus_to_exitcode(status)
            finally:
                if process.returncode is None:  # interrupted here: the child goes too
                    process.kill()
                    process.wait()
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
        summary = None
        if not killed:
            try:
                summary = json.loads(stdout)
            except json.JSONDecodeError:
                summary = None
        return Crawl(
            number=0, name="", mode="", faulty=False,
            exit_status=process.returncode, killed=killed,
            wall_seconds=time.perf_counter() - started, peak_mb=usage.ru_maxrss / 1024,
            requests=0, faults=Counter(), summary=summary, traceback="Traceback" in stderr,
        )  # fmt: skip

    # ------------------------------------------------------------ the promises

    def fail(self, crawl: Crawl, what: str) -> None:
        self.broken.append(f"crawl {crawl.number} ({crawl.name}): {what}")
        self.say(f"    BROKEN: {what}")

    def _after(self, crawl: Crawl, before: dict[str, dict[int, str]]) -> None:
        if crawl.traceback:
            self.fail(crawl, "a traceback in stderr")
        expected = -signal.SIGKILL if crawl.killed else 0
        if crawl.exit_status != expected:
            self.fail(crawl, f"exit status {crawl.exit_status}")
        if not crawl.killed and (crawl.summary or {}).get("status") != "completed":
            self.fail(crawl, f"run status {(crawl.summary or {}).get('status')}")
        if not self.db.exists():
            return  # killed before the archive was created: nothing to check
        self._nothing_lost(crawl, before)
        self._nothing_false(crawl)
        self._db_check(crawl, allow_running=crawl.killed)
        if not crawl.killed:
            statuses = dict(rows(self.db, "SELECT id, status FROM runs"))
            still = sorted(r for r in self.killed_runs if statuses.get(r) != "interrupted")
            if still:
                self.fail(crawl, f"killed runs {still} are not interrupted")

    def _nothing_lost(self, crawl: Crawl, before: dict[str, dict[int, str]]) -> None:
        after = table_hashes(self.db)
        for table, hashes in before.items():
            self.rows_checked += len(hashes)
            gone = [row for row, digest in hashes.items() if after[table].get(row) != digest]
            if gone:
                self.lost += len(gone)
                self.fail(crawl, f"{table}: rows {gone[:10]} changed or vanished")

    def _nothing_false(self, crawl: Crawl) -> None:
        versions = rows(
            self.db,
            "SELECT v.id, a.article_key, v.content_hash, v.number, a.id FROM versions v "
            "JOIN articles a ON a.id = v.article_id ORDER BY a.id, v.number",
        )
        previous: dict[int, str] = {}
        for version_id, key, content_hash, _, article_id in versions:
            if content_hash not in self.produced.get(key, ()):
                if version_id not in self.false_versions:
                    self.fail(crawl, f"version {version_id} of {key}: content the site never had")
                self.false_versions.add(version_id)
            if previous.get(article_id) == content_hash and key not in self.saved_twice:
                self.saved_twice.add(key)
                self.fail(crawl, f"{key}: a version with the content of the one before")
            previous[article_id] = content_hash
        twice = rows(
            self.db,
            "SELECT a.article_key, o.run_id FROM observations o JOIN articles a "
            "ON a.id = o.article_id WHERE o.kind = 'fetched' "
            "GROUP BY o.run_id, o.article_id HAVING count(*) > 1",
        )
        for key, run in twice:
            if f"{key}@{run}" not in self.saved_twice:
                self.saved_twice.add(f"{key}@{run}")
                self.fail(crawl, f"{key}: fetched twice in run {run}")
        removed = {key for (key,) in rows(
            self.db, "SELECT article_key FROM articles WHERE status = 'removed'"
        )}  # fmt: skip
        for key in sorted((removed & set(self.site.articles)) - self.false_removals):
            self.false_removals.add(key)
            self.fail(crawl, f"{key} marked removed while the site has it")

    def _db_check(self, crawl: Crawl, allow_running: bool) -> None:
        """`cwarchive db check`, as the function the command calls (no process start)."""
        from storage.check import verify_archive

        try:
            problems = [p.as_dict() for p in verify_archive(f"sqlite:///{self.db}")]
        except Exception as error:  # no archive, a schema behind: the command's exit 2
            self.checks["failed"] += 1
            self.fail(crawl, f"db check could not run: {type(error).__name__}: {error}")
            return
        self._verdict(crawl, problems, {"running_run"} if allow_running else set())

    def _deep_check(self, crawl: Crawl) -> None:
        """The last word: the command itself, with --deep (every page parsed again)."""
        command = [sys.executable, "-m", "cwarchive", "db", "check", "--deep", "--json"]
        result = subprocess.run(
            [*command, "--db", str(self.db)], capture_output=True, text=True, cwd=REPO
        )
        try:
            problems = json.loads(result.stdout)
        except json.JSONDecodeError:
            problems = None
        if result.returncode != 0 or problems is None:
            self.checks["failed"] += 1
            self.fail(crawl, f"db check --deep: exit {result.returncode}: {result.stdout[:500]}")
            return
        self._verdict(crawl, problems, set(), deep=True)

    def _verdict(
        self, crawl: Crawl, problems: list[dict[str, Any]], allowed: set[str], deep: bool = False
    ) -> None:
        unexpected = [p for p in problems if p["kind"] not in allowed]
        if unexpected:
            self.checks["failed"] += 1
            self.fail(crawl, f"db check: {unexpected[:5]}")
        else:
            self.checks["--deep passed" if deep else "passed"] += 1

    # ------------------------------------------------------------ the history

    def run(self) -> None:
        self.say(f"fault campaign: seed {self.seed}, {self.articles} articles, {self.work}")
        self.crawl("faulty-full", full=True)
        self.mutate(5)
        self.crawl("faulty-incremental", full=False)
        self.crawl("faulty-full", full=True)
        self.mutate(5)
        self.crawl("faulty-incremental", full=False)
        self._kill_trials()
        clean = self.crawl("clean", full=False, faulty=False)
        self._converged(clean)
        self._deep_check(clean)

    def _requests_of(self, full: bool) -> int:
        """The fewest requests a whole run of that mode made: a kill drawn below it lands.

        Incremental runs vary fourfold: a sitemap lost to a fault makes the run re-check
        every known article at its last URL.
        """
        mode = "full" if full else "incremental"
        done = [c.requests for c in self.crawls if c.mode == mode and not c.killed]
        return min(done) if done else 100

    def _kill_trials(self) -> None:
        landed = trial = 0
        # Some kills land after the crawl ended (a small run, a fast machine): tried
        # again, within a bound.
        while landed < self.kills and trial < 3 * self.kills:
            trial += 1
            # One in three full (a killed full job starts over: the longest resumes);
            # the site changes before each incremental one.
            full = trial % 3 == 1
            if not full:
                self.mutate(2)
            job = self.work / f"job-{trial:02d}"
            batch = self.rng.choice(BATCH_SIZES)
            kill_after = self.rng.randint(1, max(1, int(self._requests_of(full) * KILL_SPAN)))
            name = f"kill-{trial}@{kill_after}"
            first = self.crawl(name, full=full, job=job, kill_after=kill_after, batch=batch)
            landed += first.killed
            if landed < self.kills and first.killed and self.rng.random() < 0.25:
                # The resume killed too: the job's mark must survive a second death.
                again = self.rng.randint(1, max(1, int(first.requests * KILL_SPAN)))
                second = self.crawl(
                    f"resume-{trial}-kill@{again}", full=full, job=job, kill_after=again,
                    batch=batch,
                )  # fmt: skip
                landed += second.killed
            self.crawl(f"resume-{trial}", full=full, job=job, batch=batch)
            leftovers = sorted(p.name for p in job.iterdir()) if job.exists() else []
            if leftovers:
                self.fail(self.crawls[-1], f"the completed job left {leftovers} in {job}")

    def _converged(self, clean: Crawl) -> None:
        if (clean.summary or {}).get("errors"):
            self.fail(clean, f"{clean.summary['errors']} errors in the clean run")
        truth = {
            r["article_key"]: r["content_hash"]
            for r in self.site.expected_records().values()
            if r["page_type"] == "article"
        }
        current = dict(
            rows(
                self.db,
                "SELECT a.article_key, v.content_hash FROM articles a "
                "JOIN versions v ON v.id = a.current_version_id WHERE a.status = 'active'",
            )
        )
        self.converged = sum(current.get(key) == digest for key, digest in truth.items())
        if current != truth:
            wrong = sorted(
                k for k in truth.keys() | current.keys() if truth.get(k) != current.get(k)
            )
            self.fail(clean, f"not converged: {len(wrong)} articles differ, e.g. {wrong[:5]}")

    # ------------------------------------------------------------ the figures

    def figures(self, wall: float) -> dict[str, Any]:
        faults: Counter[str] = Counter()
        for crawl in self.crawls:
            faults += crawl.faults
        kills = [c for c in self.crawls if c.killed]
        archived = rows(
            self.db,
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM versions), "
            "(SELECT count(*) FROM raw_pages), (SELECT count(*) FROM parse_errors)",
        )[0]
        statuses = Counter(status for (status,) in rows(self.db, "SELECT status FROM runs"))
        return {
            "seed": self.seed,
            "articles": self.articles,
            "site_articles_now": len(self.site.articles),
            "crawls": len(self.crawls),
            "faulty_crawls": sum(c.faulty for c in self.crawls),
            "mutations": self.mutations,
            "requests": sum(c.requests for c in self.crawls),
            "faults": sum(faults.values()),
            "fault_kinds": len(faults),
            "faults_by_kind": dict(sorted(faults.items(), key=lambda kv: (-kv[1], kv[0]))),
            "articles_archived": archived[0],
            "versions": archived[1],
            "raw_pages": archived[2],
            "error_rows": archived[3],
            "runs": dict(statuses),
            "crashes": sum(c.traceback for c in self.crawls),
            "unexpected_exits": sum(
                c.exit_status != (-signal.SIGKILL if c.killed else 0) for c in self.crawls
            ),
            "sigkills": len(kills),
            "killed_runs_interrupted": sum(
                status == "interrupted"
                for run, status in rows(self.db, "SELECT id, status FROM runs")
                if run in self.killed_runs
            ),
            "killed_runs": len(self.killed_runs),
            "rows_checked": self.rows_checked,
            "versions_lost_or_altered": self.lost,
            "false_versions": len(self.false_versions),
            "false_removals": len(self.false_removals),
            "saved_twice": len(self.saved_twice),
            "db_checks": dict(self.checks),
            "converged": f"{self.converged}/{len(self.site.articles)}",
            "peak_mb": round(max(c.peak_mb for c in self.crawls), 1),
            "wall_seconds": round(wall, 1),
            "broken": self.broken,
            "per_crawl": [c.line() for c in self.crawls],
        }


def print_table(numbers: dict[str, Any]) -> None:
    lines = [
        f"fault campaign: seed {numbers['seed']}, {numbers['articles']} articles "
        f"({numbers['site_articles_now']} at the end), {numbers['wall_seconds']} s",
        "",
        "| measure | value |",
        "|---|---|",
        f"| crawls | {numbers['crawls']} ({numbers['faulty_crawls']} faulty, "
        f"{numbers['mutations']} site mutations between them) |",
        f"| requests made | {numbers['requests']:,} |",
        f"| faults injected | {numbers['faults']:,} of {numbers['fault_kinds']} kinds |",
        f"| pages archived | {numbers['raw_pages']:,} raw pages, {numbers['versions']:,} "
        f"versions of {numbers['articles_archived']:,} articles |",
        f"| error rows | {numbers['error_rows']:,} |",
        f"| crashes (tracebacks) | {numbers['crashes']} |",
        f"| unexpected exit statuses | {numbers['unexpected_exits']} |",
        f"| SIGKILLs | {numbers['sigkills']}; killed runs `interrupted` after the resume: "
        f"{numbers['killed_runs_interrupted']}/{numbers['killed_runs']} |",
        f"| versions lost or altered | {numbers['versions_lost_or_altered']} "
        f"({numbers['rows_checked']:,} row checks) |",
        f"| false versions | {numbers['false_versions']} |",
        f"| false removals | {numbers['false_removals']} |",
        f"| pages saved twice | {numbers['saved_twice']} |",
        f"| db check | {', '.join(f'{v} {k}' for k, v in numbers['db_checks'].items())} |",
        f"| converged after the clean run | {numbers['converged']} |",
        f"| peak memory of a crawl | {numbers['peak_mb']} MB |",
        "",
        "| fault | injected |",
        "|---|---|",
        *(f"| `{kind}` | {count} |" for kind, count in numbers["faults_by_kind"].items()),
        "",
        "| crawl | mode | exit | s | requests | faults | new | changed | errors | peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *("| " + " | ".join(str(v) for v in line.values()) + " |" for line in numbers["per_crawl"]),
    ]
    print("\n".join(lines))
    if numbers["broken"]:
        print("\nBROKEN PROMISES:")
        for what in numbers["broken"]:
            print(f"- {what}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs to land (default 10)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep}: not an empty directory")
        work = args.keep
    else:
        work = Path(tempfile.mkdtemp(prefix="cwarchive-faults-"))
    started = time.perf_counter()
    try:
        campaign = Campaign(work, args.seed, args.articles, args.kills, verbose=not args.quiet)
        campaign.run()
        numbers = campaign.figures(time.perf_counter() - started)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(numbers, indent=1))
    else:
        print_table(numbers)
    return 1 if numbers["broken"] else 0


if __name__ == "__main__":
    sys.exit(main())
