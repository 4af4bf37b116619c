"""A crawl killed with SIGKILL at a seeded moment, then resumed (docs/reliability.md,
"Crashes").

Each trial crawls a generated site of 80 articles from a replay server in a child
process (`spawn`), with `--job-dir`, and kills the crawl with SIGKILL once the
server's log holds a seeded number of requests. Then:

- the killed archive passes `cwarchive db check` (a `running_run` warning only);
- the same command again (the resume) completes, and the killed run is `interrupted`;
- the archive equals the one an uninterrupted crawl wrote: every article's current
  `content_hash`, one version each;
- no page is saved twice: each article has exactly one `fetched` observation over the
  killed and the resumed run together, the resumed run asks the server for each
  article at most once, and never for one whose save the killed run committed.

Saves are committed every 7 (`ARCHIVE_BATCH_SIZE`), so a kill lands between commits
with pages committed and pages pending; the default of 200 would commit nothing on a
site this small. The seed of each trial is printed (shown when it fails).
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from common.urls import article_key
from crawler.jobdir import JOB_RUNNING_MARK
from cwarchive.testing.replay import ReplayProcess, read_log, spawn
from cwarchive.testing.sitegen.generate import generate_site
from tests.crawling import rows
from tests.processes import descendants, still_running_after

ARTICLES = 80
SITE_SEED = 3
BATCH = ("-s", "ARCHIVE_BATCH_SIZE=7")
TRIAL_SEEDS = (101, 202, 303)
# Generous: a crawl of this site takes a few seconds; only a hung crawl meets it.
DEADLINE_SECONDS = 300


@dataclass(frozen=True)
class Served:
    root: Path
    truth: dict[str, str]  # article key -> content_hash the generator says
    baseline: dict[str, tuple[str, int]]  # key -> (current content_hash, versions)
    requests: int  # what the uninterrupted crawl asked the server


def cwarchive(*args: str, timeout: float = DEADLINE_SECONDS) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cwarchive", *args], capture_output=True, text=True, timeout=timeout
    )


def crawl_command(server: ReplayProcess, db: Path, job: Path) -> list[str]:
    return [
        sys.executable, "-m", "cwarchive", "crawl", "--site", server.url, "--db", str(db),
        "--job-dir", str(job), "--json", "--parse-jobs", "1", *BATCH,
    ]  # fmt: skip


def archive_state(db: Path) -> dict[str, tuple[str, int]]:
    """Article key -> (current version's content_hash, number of versions)."""
    found = rows(
        db,
        "SELECT a.article_key, cur.content_hash, count(v.id) FROM articles a "
        "JOIN versions cur ON cur.id = a.current_version_id "
        "JOIN versions v ON v.article_id = a.id GROUP BY a.id",
    )
    return {key: (content_hash, versions) for key, content_hash, versions in found}


def log_lines(log: Path) -> int:
    try:
        return log.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def articles_asked(log: Path, start: int = 0, end: int | None = None) -> Counter[str]:
    """Article key -> how often the server was asked for it, in log lines start:end."""
    return Counter(
        article_key(target) for _, target, _ in read_log(log)[start:end] if ".h00-" in target
    )


def no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr[stderr.index("Traceback") - 500 :]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    work = tmp_path_factory.mktemp("kill")
    site = generate_site(ARTICLES, seed=SITE_SEED)
    site.write(work / "site")
    truth = {
        record["article_key"]: record["content_hash"]
        for record in site.expected_records().values()
        if record["page_type"] == "article"
    }
    db, log = work / "uninterrupted.sqlite", work / "uninterrupted.tsv"
    with spawn(work / "site", log) as server:
        result = subprocess.run(
            crawl_command(server, db, work / "job"),
            capture_output=True,
            text=True,
            timeout=DEADLINE_SECONDS,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    baseline = archive_state(db)
    assert {key: content_hash for key, (content_hash, _) in baseline.items()} == truth
    return Served(work / "site", truth, baseline, log_lines(log))


@dataclass
class Killed:
    db: Path
    job: Path
    log: Path
    server: ReplayProcess
    kill_after: int  # the seeded number of logged requests
    logged: int  # how many the log held once the crawl was dead


@pytest.fixture
def killed(served: Served, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Killed]:
    """A crawl killed with SIGKILL after a seeded number of requests; its server still up."""
    seed = request.param
    rng = random.Random(seed)
    # Somewhere in the first 80% of the crawl's requests: late enough to land after
    # some commits, early enough that the crawl cannot finish before the kill.
    kill_after = rng.randint(1, served.requests * 4 // 5)
    print(f"kill trial: seed {seed}, SIGKILL after {kill_after} of ~{served.requests} requests")
    db, job, log = tmp_path / "archive.sqlite", tmp_path / "job", tmp_path / "requests.tsv"
    with spawn(served.root, log) as server, open(tmp_path / "killed.err", "w+") as err:
        # stderr to a file: a pipe nobody reads while polling could fill and stall the
        # crawl before the kill.
        process = subprocess.Popen(
            crawl_command(server, db, job), stdout=subprocess.DEVNULL, stderr=err
        )
        try:
            deadline = time.monotonic() + DEADLINE_SECONDS
            while log_lines(log) < kill_after and process.poll() is None:
                assert time.monotonic() < deadline, "the crawl never got that far"
                time.sleep(0.002)
            children = descendants(process.pid)
            process.send_signal(signal.SIGKILL)
            process.wait(60)
            # Nothing the crawl started outlives it: the parser pool's workers would
            # otherwise wait for pages forever (and keep their fork server alive).
            assert not still_running_after(children, 10), f"left running of {children}"
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        err.seek(0)
        stderr = err.read()
        assert process.returncode == -signal.SIGKILL, (
            f"seed {seed}: the crawl ended ({process.returncode}) before the kill",
            stderr[-3000:],
        )
        no_traceback(stderr)
        yield Killed(db, job, log, server, kill_after, log_lines(log))


@pytest.mark.parametrize("killed", TRIAL_SEEDS, indirect=True)
def test_a_killed_crawl_resumes_to_the_uninterrupted_archive(
    served: Served, killed: Killed
) -> None:
    # The killed archive is sound: whole articles, counters that match the rows; the
    # run it was writing is still `running` (the only warning allowed).
    check = cwarchive("db", "check", "--db", str(killed.db), "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    problems = json.loads(check.stdout)
    assert {(p["kind"], p["severity"]) for p in problems} <= {("running_run", "warning")}
    assert rows(killed.db, "SELECT id, status FROM runs") == [(1, "running")]
    saved_before = {key for (key,) in rows(killed.db, "SELECT article_key FROM articles")}
    assert (killed.job / JOB_RUNNING_MARK).exists()

    resumed = subprocess.run(
        crawl_command(killed.server, killed.db, killed.job),
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    no_traceback(resumed.stderr)
    # The killed job's seen requests named pages that never reached the archive: the
    # job starts over rather than skip them.
    assert "starting the job over" in resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["status"] == "completed" and summary["errors"] == 0
    assert summary["new"] == ARTICLES - len(saved_before)
    runs = json.loads(cwarchive("runs", "--db", str(killed.db), "--json").stdout)
    assert [(run["id"], run["status"]) for run in runs] == [(1, "interrupted"), (2, "completed")]
    after = cwarchive("db", "check", "--db", str(killed.db), "--json")
    assert after.returncode == 0 and json.loads(after.stdout) == [], after.stdout
    assert not any(killed.job.iterdir()), sorted(p.name for p in killed.job.iterdir())

    # The same archive as the uninterrupted crawl: each article's content, one version.
    assert archive_state(killed.db) == served.baseline
    # No page saved twice: one `fetched` observation per article over both runs ...
    fetched = Counter(
        key
        for key, run in rows(
            killed.db,
            "SELECT a.article_key, o.run_id FROM observations o "
            "JOIN articles a ON a.id = o.article_id WHERE o.kind = 'fetched'",
        )
    )
    assert fetched == Counter(dict.fromkeys(served.truth, 1))
    # ... the resumed run asked for each article at most once, and for none the
    # killed run had saved (those are `seen`: not newer than their fetch).
    asked = articles_asked(killed.log, killed.logged)
    assert not asked or max(asked.values()) == 1, asked.most_common(3)
    assert not set(asked) & saved_before
    seen = {key for (key,) in rows(
        killed.db,
        "SELECT a.article_key FROM observations o JOIN articles a ON a.id = o.article_id "
        "WHERE o.kind = 'seen' AND o.run_id = 2",
    )}  # fmt: skip
    assert seen == saved_before
    # Pages the killed run fetched but never committed are fetched again: the price of
    # the kill, not a second save.
    refetched = set(asked) & set(articles_asked(killed.log, 0, killed.logged))
    print(f"saved before the kill: {len(saved_before)}, fetched again: {len(refetched)}")
