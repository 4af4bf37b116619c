"""Alerts after a crawl (cwarchive/notify.py, `cwarchive crawl --notify`).

Messages go through Apprise's `json://` service to an HTTP server this test runs on
loopback, which records every POST: what a webhook would receive.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cwarchive import crawling as crawl_command
from cwarchive.crawling import Alerts, crawl_and_report
from cwarchive.notify import Delivery, after_crawl, notify_run, send, shown_url, split_urls
from cwarchive.testing.replay import ReplayServer
from cwarchive.testing.sitegen import Site
from storage import Archive
from tests.storage_records import article, raw_page

WATCHED = ("reviewed", "title", "removed")


class Hook:
    """An HTTP endpoint on loopback that records the JSON body of every POST."""

    def __init__(self) -> None:
        posts: list[dict[str, Any]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the name http.server calls
                size = int(self.headers.get("Content-Length", 0))
                posts.append({"path": self.path, **json.loads(self.rfile.read(size))})
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the test reads `posts`, not a log

        self.posts = posts
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def hook() -> Iterator[Hook]:
    endpoint = Hook()
    yield endpoint
    endpoint.close()


def closed_port_url() -> str:
    """A json:// URL nothing listens on (a port just bound and released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"json://127.0.0.1:{port}/hook"


# -- the parts --------------------------------------------------------------------------


def test_split_urls() -> None:
    assert split_urls(
        ["json://a/x, mailto://me:pw@example.org?to=a@example.org,b@example.org", "slack://t/a"]
    ) == ["json://a/x", "mailto://me:pw@example.org?to=a@example.org,b@example.org", "slack://t/a"]
    assert split_urls(["json://a/x  json://b/y\n", "json://a/x"]) == ["json://a/x", "json://b/y"]
    assert split_urls(["", " , "]) == []


def test_logged_urls_hide_passwords() -> None:
    shown = shown_url("mailto://me:secret-pass@example.org?to=a@example.org")
    assert "secret-pass" not in shown and shown.startswith("mailto")


def test_send_counts_each_url(hook: Hook, caplog: pytest.LogCaptureFixture) -> None:
    closed = closed_port_url()
    with caplog.at_level(logging.WARNING, logger="cwarchive.notify"):
        delivery = send([hook.url, closed], "A title", "# Digest\n\n- one change")
    assert delivery == Delivery(sent=1, failed=1)
    (post,) = hook.posts
    assert (post["path"], post["title"]) == ("/hook", "A title")
    assert "one change" in post["message"]
    (warning,) = [r for r in caplog.records if r.name == "cwarchive.notify"]
    assert warning.levelno == logging.WARNING
    assert "notification to json://127.0.0.1" in warning.getMessage()


@pytest.fixture
def rereviewed(tmp_path: Path) -> str:
    """story-one re-reviewed in run 2, story-two retitled in run 3; run 4 re-reviews
    story-two but is interrupted; run 5 completes and finds nothing new."""
    url = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    archive = Archive.open(url)
    when = dt.datetime(2026, 8, 19, tzinfo=dt.UTC)
    runs = [
        [article("cancerwise/story-one"), article("cancerwise/story-two")],
        [article("cancerwise/story-one", reviewed="2026-08-01")],
        [article("cancerwise/story-two", title="Story two, renamed")],
        [article("cancerwise/story-two", title="Story two, renamed", reviewed="2026-09-01")],
        [article("cancerwise/story-two", title="Story two, renamed", reviewed="2026-09-01")],
    ]
    for number, records in enumerate(runs, 1):
        run = archive.start_run("incremental", site_root="", parser_version="1")
        for record in records:
            archive.save_article(run, record, raw=raw_page(record), url=record["url"],
                                 fetched_at=when)  # fmt: skip
        archive.finish_run(run, "interrupted" if number == 4 else "completed")
    archive.close()
    return url


def test_one_message_per_run_with_watched_changes(rereviewed: str, hook: Hook) -> None:
    assert notify_run(rereviewed, 1, [hook.url], WATCHED) is None  # new articles only
    assert notify_run(rereviewed, 2, [hook.url], WATCHED) == Delivery(sent=1)
    assert notify_run(rereviewed, 3, [hook.url], ("reviewed", "removed")) is None
    (post,) = hook.posts
    assert post["title"] == "Cancerwise: 1 change in run 2"
    assert "Re-reviewed" in post["message"] and "Story one" in post["message"]
    assert "2026-08-01" in post["message"]


def test_no_message_for_a_run_that_did_not_complete(rereviewed: str, hook: Hook) -> None:
    for status in ("interrupted", "failed", None):
        numbers = {"run_id": 4, "status": status}
        assert after_crawl(rereviewed, numbers, [hook.url], WATCHED) == Delivery()
    assert hook.posts == []
    # What the interrupted run stored is told with the next completed run: that run
    # found story-two unchanged, and would otherwise never mention the new review.
    completed = {"run_id": 5, "status": "completed"}
    assert after_crawl(rereviewed, completed, [hook.url], WATCHED) == Delivery(sent=1)
    (post,) = hook.posts
    assert post["title"] == "Cancerwise: 1 change in runs 4 to 5"
    assert "Re-reviewed" in post["message"] and "Story two, renamed" in post["message"]


def test_an_unreadable_archive_is_a_warning(
    tmp_path: Path, hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    missing = f"sqlite:///{tmp_path / 'missing.sqlite'}"
    with caplog.at_level(logging.WARNING, logger="cwarchive.notify"):
        delivery = after_crawl(missing, {"run_id": 1, "status": "completed"}, [hook.url], WATCHED)
    assert delivery == Delivery(failed=1)
    assert "could not be read" in caplog.text
    assert hook.posts == []


def test_a_failed_notification_never_fails_the_crawl(
    rereviewed: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The crawl command's path after the crawl, with the crawl itself replaced by the
    stats a completed run 2 leaves (Twisted's reactor runs once per process)."""
    stats = {"archive/run_id": 2, "archive/run_status": "completed", "finish_reason": "finished"}
    monkeypatch.setattr(crawl_command, "run_crawl", lambda overrides, live=False: stats)
    alerts = Alerts((closed_port_url(),), WATCHED)
    with caplog.at_level(logging.WARNING, logger="cwarchive.notify"):
        status = crawl_and_report(
            {"ARCHIVE_DB_URL": rereviewed},
            as_json=True,
            max_error_rate=0.05,
            title="crawl",
            alerts=alerts,
        )
    assert status == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["notifications"] == {"sent": 0, "failed": 1}
    assert summary["run_id"] == 2 and summary["status"] == "completed"
    assert "notification to json://127.0.0.1" in caplog.text


# -- a real crawl -----------------------------------------------------------------------


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cwarchive.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )


def test_crawl_notifies_once_per_run_with_changes(
    bundled: tuple[Site, Path, ReplayServer], tmp_path: Path, hook: Hook
) -> None:
    site, root, server = bundled
    db = str(tmp_path / "archive.sqlite")
    closed = closed_port_url()

    def crawl(*args: str, env: dict[str, str] | None = None) -> tuple[dict[str, Any], str]:
        result = cli("crawl", "--site", server.url, "--db", db, "--json", *args, env=env)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout), result.stderr

    # The first crawl finds every article new: no watched field changed, no message.
    first, _ = crawl("--notify", hook.url)
    assert first["status"] == "completed" and first["new"] > 0
    assert first["notifications"] == {"sent": 0, "failed": 0}
    assert hook.posts == []

    key = "cancerwise/what-is-a-cytokine-storm"
    title = site.article(key).title
    site.rereview(key, dt.date(2026, 11, 1), when=dt.datetime.now(dt.UTC).replace(microsecond=0))
    site.write(root)

    # One message for the run, to the hook; the unreachable URL is a warning and a count.
    second, stderr = crawl("--notify", hook.url, "--notify", closed)
    assert second["changed"] == 1
    assert second["notifications"] == {"sent": 1, "failed": 1}
    assert "notification to json://127.0.0.1" in stderr and "failed" in stderr
    (post,) = hook.posts
    assert post["title"] == f"Cancerwise: 1 change in run {second['run_id']}"
    assert "Re-reviewed" in post["message"] and title in post["message"]
    assert "2026-11-01" in post["message"]

    # Unchanged: no message. The URLs can come from the environment.
    third, _ = crawl(env={"CWARCHIVE_NOTIFY": f"{hook.url}, {closed}"})
    assert third["changed"] == 0 and third["notifications"] == {"sent": 0, "failed": 0}
    assert len(hook.posts) == 1


def test_notify_options_are_checked_before_the_crawl(tmp_path: Path) -> None:
    db = str(tmp_path / "archive.sqlite")
    bad_url = cli("crawl", "--db", db, "--notify", "not a url")
    assert bad_url.returncode == 2
    assert bad_url.stderr.startswith("error: --notify 'not'")
    bad_field = cli("crawl", "--db", db, "--notify", "json://127.0.0.1:9/x", "--notify-fields", "x")
    assert bad_field.returncode == 2 and "--notify-fields 'x'" in bad_field.stderr
    assert not Path(db).exists()  # refused before the archive was created
