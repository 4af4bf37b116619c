"""A command imports only what it uses: the rule behind a fast start (no timing here).

Each command runs in a fresh interpreter under `python -X importtime`, whose report on
stderr names every module imported, in the order imported; the test reads the names.
`benchmarks/startup.py` measures the time this buys.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "fixtures" / "pages" / "cytokine-storm.html"
DATABASE = ("sqlalchemy", "alembic", "psycopg")
CRAWLER = ("scrapy", "twisted")


def imported(*args: str, cwd: Path, stop_after_first_line: bool = False) -> set[str]:
    """Top-level names of every module `cwarchive ARGS` imports."""
    command = [sys.executable, "-X", "importtime", "-m", "cwarchive", *args]
    if stop_after_first_line:  # a server: it has imported what it serves with by then
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None and process.stdout.readline()
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    else:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        stderr = done.stderr
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "cwarchive" in names, "no import report: was -X importtime honoured?"
    return names


def _commands() -> list[list[str]]:
    from cwarchive.cli import main
    from cwarchive.clidoc import command_paths

    return command_paths(main, [])


@pytest.mark.parametrize("command", [[], *_commands()], ids=lambda c: " ".join(c) or "main")
def test_help_imports_no_database_and_no_crawler(command: list[str], tmp_path: Path) -> None:
    names = imported(*command, "--help", cwd=tmp_path)
    assert not names & {*DATABASE, *CRAWLER}, sorted(names & {*DATABASE, *CRAWLER})


def test_parse_imports_no_database_and_no_crawler(tmp_path: Path) -> None:
    names = imported("parse", str(PAGE), "--json", cwd=tmp_path)
    assert "lxml" in names  # it did parse
    assert not names & {*DATABASE, *CRAWLER}, sorted(names & {*DATABASE, *CRAWLER})


def test_replay_server_imports_no_database_and_no_crawler(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "robots.txt").write_text("User-agent: *\n")
    names = imported("replay-server", str(site), cwd=tmp_path, stop_after_first_line=True)
    assert not names & {*DATABASE, *CRAWLER}, sorted(names & {*DATABASE, *CRAWLER})


def test_archive_commands_import_no_crawler(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    done = subprocess.run(
        [sys.executable, "-m", "cwarchive", "ingest", str(PAGE), "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["new"] == 1
    for command in (["runs"], ["articles"], ["diff", "--field", "reviewed"], ["tags"]):
        names = imported(*command, "--db", str(db), "--json", cwd=tmp_path)
        assert "sqlalchemy" in names  # it did read the archive
        assert not names & set(CRAWLER), (command, sorted(names & set(CRAWLER)))


# Scrapy components that are off in crawler/settings.py, and what loading them imports.
OFF_COMPONENTS = ("aiohttp", "tldextract", "requests")


def test_a_crawl_loads_no_component_that_is_off(bundled: tuple, tmp_path: Path) -> None:
    _, _, server = bundled
    names = imported(
        "crawl", "--site", server.url, "--db", str(tmp_path / "a.sqlite"), "--json", cwd=tmp_path
    )
    assert {"scrapy", "sqlalchemy"} <= names  # it did crawl into the archive
    assert not names & set(OFF_COMPONENTS), sorted(names & set(OFF_COMPONENTS))


# Runs the `cwarchive` script's entry (`cli.run`) with ARGS, and writes to $EVENTS
# the collector's runs (their generation) and "done" where the start-up ended.
GC_PROBE = """
import gc, json, os, sys
from cwarchive import cli
events = []
gc.callbacks.append(lambda phase, info: phase == "start" and events.append(info["generation"]))
start_up_done = cli.start_up_done
def recorded():
    events.append("done")
    start_up_done()
cli.start_up_done = recorded
sys.argv = ["cwarchive", *sys.argv[1:]]
try:
    cli.run()
finally:
    with open(os.environ["EVENTS"], "w") as out:
        json.dump(events, out)
"""


def collections_around_start_up(*args: str, cwd: Path) -> tuple[list[int], list[int]]:
    """The collector's runs during the script's start-up, and after it."""
    events_file = cwd / "events.json"
    done = subprocess.run(
        [sys.executable, "-c", GC_PROBE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "EVENTS": str(events_file)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    events = json.loads(events_file.read_text())
    assert events.count("done") == 1, events
    split = events.index("done")
    return events[:split], events[split + 1 :]


def test_a_crawl_collects_no_garbage_until_its_reactor_starts(
    bundled: tuple, tmp_path: Path
) -> None:
    _, _, server = bundled
    db = tmp_path / "a.sqlite"
    during, after = collections_around_start_up(
        "crawl", "--site", server.url, "--db", str(db), "--json", cwd=tmp_path
    )
    assert during == []  # Scrapy, SQLAlchemy and the archive's state loaded uncollected
    assert after  # the crawl itself is collected as usual


def test_another_command_collects_again_once_it_is_imported(tmp_path: Path) -> None:
    # The start-up ended once (the helper checks) before the command ran, uncollected.
    during, _ = collections_around_start_up("parse", str(PAGE), "--json", cwd=tmp_path)
    assert during == []
