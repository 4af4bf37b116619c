"""Scrapyd: the project deployed with `scrapyd-deploy` and a crawl scheduled through it.

A real Scrapyd (the `scrapyd` package, test extra) on a free loopback port with its
eggs, logs and job database in a temporary directory. The project is deployed from a
copy of the repository's files (scrapyd-deploy builds its egg in place, with `build/`
and `*.egg-info` beside the sources), with scrapy.cfg's `[deploy]` target as it is but
for the URL. `cancerwise` is scheduled through `schedule.json` with `ARCHIVE_DB_URL`
and `ARCHIVE_SITE_ROOT` against a replay of the bundled site, `listjobs.json` is polled
until the job is finished, and the run must be completed in the archive. Scrapyd runs
the project from the zipped egg: the migrations come out of it (`storage.db`).
"""

from __future__ import annotations

import configparser
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cwarchive.testing.replay import ReplayServer

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEPLOYED = ("common", "crawler", "pipelines", "storage", "cwarchive", "scrapy.cfg",
            "pyproject.toml", "README.md", "setup.py")  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(url: str, data: dict[str, Any] | list[tuple[str, str]] | None = None) -> Any:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(url, data=body, timeout=30) as answer:
        return json.loads(answer.read())


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[str]:
    if not (BIN / "scrapyd").exists() or not (BIN / "scrapyd-deploy").exists():
        pytest.skip("scrapyd and scrapyd-client are not installed (the test extra has them)")
    port = free_port()
    home = tmp_path / "scrapyd"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        f"eggs_dir = {home / 'eggs'}\n"
        f"logs_dir = {home / 'logs'}\n"
        f"dbs_dir = {home / 'dbs'}\n"
        "items_dir =\n"
        "max_proc = 1\n"
        "poll_interval = 0.5\n"
    )
    log = (home / "scrapyd.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "scrapyd")], cwd=home, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if call(f"{url}/daemonstatus.json")["status"] == "ok":
                    break
            except OSError:
                pass
            assert process.poll() is None, (home / "scrapyd.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "scrapyd did not start"
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def deploy(url: str, work: Path) -> dict[str, Any]:
    """scrapyd-deploy from a copy of the project, to scrapy.cfg's default target."""
    project = work / "project"
    project.mkdir()
    for name in DEPLOYED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, project / name)
    config = configparser.ConfigParser()
    config.read(project / "scrapy.cfg")
    assert config["settings"]["default"] == "crawler.settings"
    assert config["deploy"]["project"] == "cwarchive"
    config["deploy"]["url"] = f"{url}/"  # the target as the repository names it, here
    with (project / "scrapy.cfg").open("w") as file:
        config.write(file)
    done = subprocess.run(
        [str(BIN / "scrapyd-deploy")], cwd=project, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    answer = json.loads(done.stdout[done.stdout.index("{") :])
    assert answer["status"] == "ok", answer
    return answer


def test_deploy_schedule_and_find_the_run_completed(scrapyd: str, tmp_path: Path) -> None:
    answer = deploy(scrapyd, tmp_path)
    assert answer["project"] == "cwarchive" and answer["spiders"] == 1
    assert call(f"{scrapyd}/listspiders.json?project=cwarchive")["spiders"] == ["cancerwise"]

    site = tmp_path / "site"
    shutil.copytree(ROOT / "fixtures" / "site", site)
    db = tmp_path / "archive.sqlite"
    with ReplayServer(site) as server:
        job = call(
            f"{scrapyd}/schedule.json",
            [
                ("project", "cwarchive"),
                ("spider", "cancerwise"),
                ("setting", f"ARCHIVE_DB_URL=sqlite:///{db}"),
                ("setting", f"ARCHIVE_SITE_ROOT={server.url}"),
                # `cwarchive crawl` turns the throttle off for a loopback site; a plain
                # scheduled crawl keeps the project's polite defaults unless told.
                ("setting", "AUTOTHROTTLE_ENABLED=False"),
                ("setting", "DOWNLOAD_DELAY=0"),
            ],
        )
        assert job["status"] == "ok", job
        deadline = time.monotonic() + 240
        while True:
            jobs = call(f"{scrapyd}/listjobs.json?project=cwarchive")
            if any(j["id"] == job["jobid"] for j in jobs["finished"]):
                break
            assert time.monotonic() < deadline, jobs
            time.sleep(0.5)
        fetched = [path for _, path, status in server.requests if status == 200]
    log = next((tmp_path / "scrapyd" / "logs").rglob(f"{job['jobid']}.log"))
    assert "Spider closed (finished)" in log.read_text(), log.read_text()[-3000:]
    runs = json.loads(
        subprocess.run(
            [sys.executable, "-m", "cwarchive", "runs", "--db", str(db), "--json"],
            capture_output=True, text=True, check=True, cwd=ROOT,
        ).stdout
    )  # fmt: skip
    (run,) = runs
    assert (run["status"], run["site_root"], run["errors"]) == ("completed", server.url, 0)
    assert run["articles_new"] > 0 and run["articles_new"] == sum(".h00-" in p for p in fetched)
