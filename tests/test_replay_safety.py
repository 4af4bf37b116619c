"""The replay server serves nothing outside its directory, and never its control files.

Requests go over a raw `http.client` connection: the target is sent as written,
without the normalisation a URL library would apply.
"""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cwarchive.testing.layout import file_for
from cwarchive.testing.replay import ReplayServer

SECRET = b"the secret outside the site\n"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A site, a secret file beside it, and links from inside the site to outside."""
    (tmp_path / "secret.txt").write_bytes(SECRET)
    root = tmp_path / "site"
    (root / "cancerwise").mkdir(parents=True)
    (root / "cancerwise.html").write_text("<html><body>landing</body></html>\n")
    (root / "cancerwise" / "story.h00-1.html").write_text("<html><body>story</body></html>\n")
    (root / "_rules.json").write_text(json.dumps({"gone": ["/cancerwise/removed.h00-2.html"]}))
    (root / "_lastmod.json").write_text("{}")
    (root / "leak.html").symlink_to(tmp_path / "secret.txt")  # a file link out
    (root / "passwd").symlink_to("/etc/passwd")  # the classic
    (root / "up").symlink_to(tmp_path)  # a directory link out
    (root / "cancerwise" / "alias.h00-3.html").symlink_to(root / "cancerwise" / "story.h00-1.html")
    (root / "dangling.html").symlink_to(tmp_path / "nowhere")
    loop = root / "loop.html"
    loop.symlink_to(loop)
    return root


@pytest.fixture
def server(site: Path) -> Iterator[ReplayServer]:
    with ReplayServer(site) as running:
        yield running


def raw_get(server: ReplayServer, target: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


OUTSIDE = [
    "/../secret.txt",
    "/cancerwise/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/cancerwise/%2e%2e/%2e%2e/secret.txt",
    "/..%2fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/.%2e/secret.txt",
    "//../secret.txt",
    "/./../secret.txt",
    "/leak.html",  # a link inside the site to a file outside it
    "/passwd",  # ... to /etc/passwd
    "/up/secret.txt",  # a linked directory
    "/dangling.html",
    "/loop.html",
    "/cancerwise.html%00.txt",
    "/etc/passwd",
    "//etc/passwd",
    "/" + str(Path("/etc/passwd")).lstrip("/").replace("/", "%2f"),
]


@pytest.mark.parametrize("target", OUTSIDE)
def test_nothing_outside_the_directory_is_served(server: ReplayServer, target: str) -> None:
    status, body = raw_get(server, target)
    assert status == 404, target
    assert SECRET not in body and b"root:" not in body


@pytest.mark.parametrize(
    "target",
    ["/_rules.json", "//_rules.json", "/%5Frules.json", "/_lastmod.json", "/%5flastmod.json"],
)
def test_control_files_are_never_served(server: ReplayServer, target: str) -> None:
    assert raw_get(server, target)[0] == 404


def test_an_absolute_form_target_is_read_as_its_path(server: ReplayServer) -> None:
    # HTTP/1.1 allows `GET http://host/path`: only the path counts, and `..` in it too.
    url = server.url
    assert raw_get(server, f"{url}/cancerwise.html")[0] == 200
    assert raw_get(server, f"{url}/../secret.txt")[0] == 404


def test_links_inside_the_site_still_work(server: ReplayServer) -> None:
    # Behaviour for normal paths is kept: a link that stays inside the site is served.
    assert raw_get(server, "/cancerwise/alias.h00-3.html") == (
        200,
        b"<html><body>story</body></html>\n",
    )
    assert raw_get(server, "/cancerwise.html")[0] == 200
    assert raw_get(server, "/cancerwise/removed.h00-2.html")[0] == 410  # rules still apply


def test_file_for_refuses_what_resolves_outside(site: Path) -> None:
    assert file_for(site, "/cancerwise/story.h00-1.html") == site / "cancerwise/story.h00-1.html"
    assert file_for(site, "/cancerwise/alias.h00-3.html") == site / "cancerwise/alias.h00-3.html"
    for path in ("/leak.html", "/passwd", "/up/secret.txt", "/%2e%2e/secret.txt", "/loop.html"):
        assert file_for(site, path) is None, path


def test_a_site_reached_through_a_link_serves_normally(site: Path, tmp_path: Path) -> None:
    # The root itself may be a link (a checkout under a linked directory).
    linked = tmp_path / "linked-site"
    os.symlink(site, linked)
    assert file_for(linked, "/cancerwise.html") == linked / "cancerwise.html"
    with ReplayServer(linked) as running:
        assert raw_get(running, "/cancerwise.html")[0] == 200
        assert raw_get(running, "/leak.html")[0] == 404
