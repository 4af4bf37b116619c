"""The package works installed from its wheel, run from a directory with no checkout.

Builds the wheel, installs it (not editable) into a fresh virtual environment and runs
the documented commands from an empty temporary directory: nothing may read the
source tree. Dependencies come from the package index (or pip's cache).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_PAGE = ROOT / "fixtures" / "pages" / "cytokine-storm.html"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The `bin/` directory of a fresh venv holding only the built wheel and its deps."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    # A copy of the tracked files: building must not litter the checkout (build/, egg-info).
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, (t.decode() for t in tracked)):
        if name.startswith("fixtures/site/") or not (ROOT / name).is_file():
            continue
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    dist = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
        check=True,
        timeout=600,
    )
    (wheel,) = dist.glob("cwarchive-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        check=True,
        timeout=900,
    )
    yield venv / "bin"


def run(bin_dir: Path, cwd: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess:
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run(
        [str(bin_dir / "cwarchive"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,  # type: ignore[arg-type]
    )


def test_the_installed_package_is_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(installed / "python"), "-c", "import cwarchive, storage; print(cwarchive.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(done.stdout.strip()).is_relative_to(installed.parent)


def test_demo_and_db_upgrade_from_an_empty_directory(installed: Path, tmp_path: Path) -> None:
    demo = run(installed, tmp_path, "demo", "--db", "x.sqlite", "--json")
    assert demo.returncode == 0, demo.stderr
    crawls = json.loads(demo.stdout)["crawls"]
    assert [numbers["status"] for numbers in crawls] == ["completed", "completed"]
    assert [numbers["errors"] for numbers in crawls] == [0, 0]
    # The same crawls as from the checkout: the generated sites are the bundled one and
    # the same site weeks later.
    checkout = subprocess.run(
        [sys.executable, "-m", "cwarchive", "demo", "--db", "y.sqlite", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    expected = json.loads(checkout.stdout)["crawls"]
    for numbers, same in zip(crawls, expected, strict=True):
        for name in ("new", "changed", "listings", "gone", "pages_fetched", "requests"):
            assert numbers[name] == same[name], name
    assert crawls[0]["new"] >= 25
    upgrade = run(installed, tmp_path, "db", "upgrade", "--db", "x.sqlite", "--json")
    assert upgrade.returncode == 0, upgrade.stderr
    assert json.loads(upgrade.stdout)["from"] == json.loads(upgrade.stdout)["to"]
    runs = run(installed, tmp_path, "runs", "--db", "x.sqlite", "--json")
    assert [r["status"] for r in json.loads(runs.stdout)] == ["completed", "completed"]


def test_parse_a_saved_page(installed: Path, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    shutil.copy(FIXTURE_PAGE, page)
    done = run(installed, tmp_path, "parse", "page.html", "--json")
    assert done.returncode == 0, done.stderr
    expected = json.loads(FIXTURE_PAGE.with_suffix(".json").read_text("utf-8"))
    assert json.loads(done.stdout) == expected


def test_generate_a_site_and_serve_it(installed: Path, tmp_path: Path) -> None:
    done = run(installed, tmp_path, "fixtures", "generate", "--articles", "50", "site", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["articles"] == 50
    env = {"PATH": f"{installed}:/usr/bin:/bin", "HOME": str(tmp_path)}
    server = subprocess.Popen(
        [str(installed / "cwarchive"), "replay-server", "site"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split(" on ")[-1].strip()
        with urllib.request.urlopen(f"{url}/robots.txt", timeout=10) as response:
            assert response.status == 200
            assert b"Sitemap:" in response.read()
    finally:
        server.terminate()
        assert server.wait(10) == 0  # SIGTERM is a clean stop, not a crash
        if server.stdout is not None:
            server.stdout.close()
    assert not os.path.exists(tmp_path / "fixtures")
