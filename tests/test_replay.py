"""The replay server, through real HTTP requests on loopback."""

from __future__ import annotations

import email.utils
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from cwarchive.testing.layout import file_for, query_file_name, url_path_for_file
from cwarchive.testing.replay import ReplayServer, read_log, spawn

FACET = "/cancerwise.dir.html/category/content/cq:tags/md-anderson/diseases/breast-cancer"
MTIME = 1_780_000_000  # 2026-05-28, a fixed lastmod


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with _opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    os.utime(path, (MTIME, MTIME))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    _write(root, "robots.txt", "User-agent: *\nDisallow: /gifts/\n")
    _write(root, "cancerwise-sitemap.xml", "<urlset/>")
    _write(root, "cancerwise.html", "<html>landing</html>")
    _write(root, "cancerwise.dir.html/index.html", "<html>directory</html>")
    _write(root, FACET.lstrip("/"), "<html>facet 1</html>")
    _write(root, query_file_name(FACET.lstrip("/"), "page=2"), "<html>facet 2</html>")
    _write(root, "cancerwise.dir.html/author/Roman Gokhman", "<html>author</html>")
    _write(root, "cancerwise/new.h00-2.html", "<html>new</html>")
    _write(
        root,
        "_rules.json",
        json.dumps(
            {
                "redirects": {"/cancerwise/old.h00-1.html": ["/cancerwise/new.h00-2.html", 301]},
                "gone": ["/cancerwise/removed.h00-3.html"],
                "status": {
                    "/cancerwise/busy.html": {
                        "status": 503,
                        "headers": {"Retry-After": "1"},
                        "times": 1,
                    }
                },
            }
        ),
    )
    _write(root, "cancerwise/busy.html", "<html>busy, then fine</html>")
    return root


@pytest.fixture
def server(site: Path, tmp_path: Path) -> Iterator[ReplayServer]:
    with ReplayServer(site, log=tmp_path / "requests.tsv") as running:
        yield running


@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("/cancerwise.html", b"<html>landing</html>", "text/html; charset=utf-8"),
        ("/cancerwise.dir.html", b"<html>directory</html>", "text/html; charset=utf-8"),
        ("/cancerwise.dir.html/", b"<html>directory</html>", "text/html; charset=utf-8"),
        (FACET, b"<html>facet 1</html>", "text/html; charset=utf-8"),
        (FACET + "?page=2", b"<html>facet 2</html>", "text/html; charset=utf-8"),
        # A query without its own file is ignored, like a static origin does.
        (FACET + "?utm=x", b"<html>facet 1</html>", "text/html; charset=utf-8"),
        ("/cancerwise.dir.html/author/Roman%20Gokhman", b"<html>author</html>", None),
        ("/robots.txt", None, "text/plain; charset=utf-8"),
        ("/cancerwise-sitemap.xml", b"<urlset/>", "application/xml"),
    ],
)
def test_serves_the_layout(
    server: ReplayServer, path: str, body: bytes | None, content_type: str | None
) -> None:
    status, headers, content = fetch(server.url + path)
    assert status == 200
    if body is not None:
        assert content == body
    if content_type is not None:
        assert headers["Content-Type"] == content_type
    assert headers["Last-Modified"] == email.utils.formatdate(MTIME, usegmt=True)
    assert headers["ETag"].startswith('"')


@pytest.mark.parametrize(
    "path", ["/missing.html", "/cancerwise/../robots.txt.x", "/_rules.json", "/cancerwise/x"]
)
def test_missing_is_404(server: ReplayServer, path: str) -> None:
    assert fetch(server.url + path)[0] == 404


def test_conditional_requests(server: ReplayServer) -> None:
    url = server.url + "/cancerwise.html"
    _, headers, _ = fetch(url)
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert fetch(url, **{"If-None-Match": etag})[:1] == (304,)
    assert fetch(url, **{"If-None-Match": '"other"'})[0] == 200
    assert fetch(url, **{"If-Modified-Since": last_modified})[0] == 304
    earlier = email.utils.formatdate(MTIME - 60, usegmt=True)
    assert fetch(url, **{"If-Modified-Since": earlier})[0] == 200
    # If-None-Match decides when both are sent (RFC 9110).
    assert fetch(url, **{"If-None-Match": '"other"', "If-Modified-Since": last_modified})[0] == 200
    status, _, body = fetch(url, **{"If-None-Match": etag})
    assert status == 304 and body == b""


def test_etag_follows_content_not_mtime(server: ReplayServer, site: Path) -> None:
    url = server.url + "/cancerwise.html"
    before = fetch(url)[1]["ETag"]
    os.utime(site / "cancerwise.html", (MTIME + 5, MTIME + 5))
    assert fetch(url)[1]["ETag"] == before
    _write(site, "cancerwise.html", "<html>changed</html>")
    assert fetch(url)[1]["ETag"] != before


def test_rules(server: ReplayServer) -> None:
    status, headers, _ = fetch(server.url + "/cancerwise/old.h00-1.html")
    assert status == 301
    assert headers["Location"] == server.url + "/cancerwise/new.h00-2.html"
    assert fetch(server.url + "/cancerwise/removed.h00-3.html")[0] == 410
    status, headers, _ = fetch(server.url + "/cancerwise/busy.html")
    assert (status, headers["Retry-After"]) == (503, "1")
    # "times": 1 -> the second request is served normally.
    assert fetch(server.url + "/cancerwise/busy.html")[0] == 200


def test_rules_are_reread_when_the_file_changes(server: ReplayServer, site: Path) -> None:
    assert fetch(server.url + "/cancerwise.html")[0] == 200
    _write(site, "_rules.json", json.dumps({"gone": ["/cancerwise.html"]}))
    os.utime(site / "_rules.json", (MTIME + 10, MTIME + 10))
    assert fetch(server.url + "/cancerwise.html")[0] == 410


def test_request_log(server: ReplayServer, tmp_path: Path) -> None:
    fetch(server.url + "/robots.txt")
    fetch(server.url + FACET + "?page=2")
    fetch(server.url + "/missing.html")
    urllib.request.urlopen(urllib.request.Request(server.url + "/robots.txt", method="HEAD"))
    expected = [
        ("GET", "/robots.txt", 200),
        ("GET", FACET + "?page=2", 200),
        ("GET", "/missing.html", 404),
        ("HEAD", "/robots.txt", 200),
    ]
    assert server.requests == expected
    assert read_log(tmp_path / "requests.tsv") == expected


def test_layout_round_trip(site: Path) -> None:
    for path in ("/cancerwise.dir.html", FACET, FACET + "?page=2", "/robots.txt"):
        base, _, query = path.partition("?")
        file = file_for(site, base, query)
        assert file is not None
        assert url_path_for_file(site, file) == path


def test_spawned_process(site: Path, tmp_path: Path) -> None:
    log = tmp_path / "spawned.tsv"
    with spawn(site, log) as process:
        assert fetch(process.url + "/cancerwise.html")[0] == 200
        assert fetch(process.url + "/nope")[0] == 404
        assert process.requests == [("GET", "/cancerwise.html", 200), ("GET", "/nope", 404)]


def test_cli_rejects_a_missing_directory(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cwarchive.cli import main

    result = CliRunner().invoke(main, ["replay-server", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such directory" in result.output


def _replay_children(site: Path) -> list[int]:
    """Pids of replay-server processes serving `site` (from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"replay-server" in argv and str(site).encode() in argv:
            pids.append(int(entry.name))
    return pids


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        state = Path(f"/proc/{pid}/stat")
        if state.exists() and state.read_text().split(") ", 1)[-1].startswith("Z"):
            return True  # a zombie: exited, waiting for its parent to reap it
        time.sleep(0.05)
    return False


def test_spawned_server_is_one_process_and_ends_with_the_block(site: Path, tmp_path: Path) -> None:
    with spawn(site, tmp_path / "log.tsv") as process:
        assert _replay_children(site) == [process.pid]
    assert process.pid is not None and _gone(process.pid, within=5)
    assert _replay_children(site) == []


def test_sigterm_stops_the_server_cleanly(site: Path, tmp_path: Path) -> None:
    process = spawn(site, tmp_path / "log.tsv")
    try:
        assert fetch(process.url + "/cancerwise.html")[0] == 200
        started = time.monotonic()
        os.kill(process.pid, signal.SIGTERM)
        assert process._process is not None
        assert process._process.wait(5) == 0
        assert time.monotonic() - started < 2
    finally:
        process.stop()
    assert process.requests == [("GET", "/cancerwise.html", 200)]


def test_sigterm_as_soon_as_the_url_is_read_is_a_clean_stop(site: Path, tmp_path: Path) -> None:
    """The URL line comes once SIGTERM is handled: a parent may stop it right away."""
    for _ in range(3):
        process = spawn(site, tmp_path / "log.tsv")
        try:
            os.kill(process.pid, signal.SIGTERM)  # `spawn` returns once it read the URL
            assert process._process is not None
            assert process._process.wait(5) == 0
        finally:
            process.stop()


def test_the_server_ends_when_its_parent_dies(site: Path, tmp_path: Path) -> None:
    """A parent killed without a chance to stop it (a crashed test run) leaves nothing."""
    script = (
        "import sys, time\n"
        "from cwarchive.testing.replay import spawn\n"
        f"process = spawn({str(site)!r}, {str(tmp_path / 'log.tsv')!r})\n"
        "print(process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        parent.kill()
        parent.wait(5)
        assert _gone(child, within=5), "the replay server outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
        for pid in _replay_children(site):
            os.kill(pid, signal.SIGKILL)
