"""A JOBDIR whose last crawl died is started over, whatever runs the crawl.

`crawler.jobdir.JobDirGuard` (a Scrapy extension in crawler/settings.py) protects
`scrapy crawl cancerwise -s JOBDIR=...`, Scrapyd with a JOBDIR and `cwarchive crawl
--job-dir` alike. The job here is what a SIGKILLed crawl leaves: the running mark, and a
`requests.seen` naming every page of the site (none of which reached the archive) cut
in the middle of its last record.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.utils.request import fingerprint

from common.urls import SITE, on_root
from crawler.jobdir import JOB_RUNNING_MARK, end_job, start_job
from cwarchive.testing.replay import spawn
from cwarchive.testing.sitegen.generate import generate_site

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = 12


def killed_job(job: Path, urls: list[str]) -> None:
    job.mkdir()
    (job / JOB_RUNNING_MARK).write_text("a crawl runs with this job directory, or died in it\n")
    # Scrapy's format: each fingerprint after its length (two bytes, big-endian).
    records = [len(fp).to_bytes(2, "big") + fp for fp in map(fingerprint, map(Request, urls))]
    (job / "requests.seen").write_bytes(b"".join(records) + records[0][:9])  # half written


def scrapy_crawl(server_url: str, db: Path, job: Path, *extra: str) -> subprocess.CompletedProcess:
    settings = {
        "ARCHIVE_SITE_ROOT": server_url,
        "ARCHIVE_DB_URL": f"sqlite:///{db}",
        "JOBDIR": str(job),
        "PARSE_JOBS": "0",
        "AUTOTHROTTLE_ENABLED": "0",
        "DOWNLOAD_DELAY": "0",
        "LOG_LEVEL": "INFO",
    }
    command = [sys.executable, "-m", "scrapy", "crawl", "cancerwise"]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    command += extra
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def articles(db: Path) -> set[str]:
    if not db.exists():
        return set()
    with closing(sqlite3.connect(db)) as conn:
        return {key for (key,) in conn.execute("SELECT article_key FROM articles")}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], set[str]]:
    work = tmp_path_factory.mktemp("jobdir")
    generated = generate_site(ARTICLES, seed=7)
    generated.write(work / "site")
    records = generated.expected_records()
    urls = [f"{SITE}/robots.txt", f"{SITE}/sitemap.xml", *records]
    keys = {r["article_key"] for r in records.values() if r["page_type"] == "article"}
    return work / "site", urls, keys


@pytest.mark.parametrize("guarded", [True, False], ids=["guarded", "unguarded"])
def test_scrapy_crawl_starts_a_killed_job_over(
    site: tuple[Path, list[str], set[str]], tmp_path: Path, guarded: bool
) -> None:
    root, urls, keys = site
    db, job = tmp_path / "archive.sqlite", tmp_path / "job"
    # Unguarded (the extension switched off) shows what the guard prevents.
    off = () if guarded else ("-s", 'EXTENSIONS={"crawler.jobdir.JobDirGuard": null}')
    with spawn(root, tmp_path / "requests.tsv") as server:
        # The requests as scheduled: on the replay root (`crawler.middlewares.site_root`).
        killed_job(job, [on_root(url, server.url) for url in urls])
        result = scrapy_crawl(server.url, db, job, *off)
    assert result.returncode == 0, result.stderr[-3000:]
    if not guarded:
        # Every page counts as requested already: the killed crawl's pages are lost.
        assert articles(db) < keys, result.stderr[-6000:]
        return
    assert "starting the job over" in result.stderr
    assert articles(db) == keys
    assert not any(job.iterdir()), sorted(p.name for p in job.iterdir())


def test_a_closed_job_is_kept_and_a_finished_one_cleared(tmp_path: Path) -> None:
    job = tmp_path / "job"
    assert not start_job(job)
    (job / "requests.seen").write_text("ab\n")
    end_job(job, "shutdown")  # interrupted gracefully: resumable
    assert sorted(p.name for p in job.iterdir()) == ["requests.seen"]
    assert not start_job(job)
    end_job(job, "finished")
    assert list(job.iterdir()) == []
    assert not start_job(job) and (job / JOB_RUNNING_MARK).exists()
    end_job(job, None)  # never closed: still marked
    assert start_job(job) and not (job / "requests.seen").exists()
