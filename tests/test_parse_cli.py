"""`cwarchive parse` as a user runs it: a real subprocess, stdout, stderr, exit status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reference import INSOMNIA_PAGE, LANDING_PAGE, reference_file


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cwarchive.cli", "parse", *args],
        input=stdin.decode("utf-8", "replace") if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_json_prints_exactly_one_object() -> None:
    result = run(str(reference_file(INSOMNIA_PAGE)), "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["title"] == "How to cope with insomnia during cancer treatment"


def test_many_files_give_json_lines_in_input_order(tmp_path: Path) -> None:
    bad = tmp_path / "empty.html"
    bad.write_text("")
    result = run(str(reference_file(LANDING_PAGE)), str(bad), str(INSOMNIA_PAGE), "--json")
    assert result.returncode == 2
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["page_type"] for r in records] == ["listing", "article"]
    assert result.stderr.strip() == f"error: {bad}: empty file"


def test_stdin_with_url() -> None:
    raw = reference_file(INSOMNIA_PAGE).read_bytes()
    result = run(
        "-",
        "--url",
        "http://127.0.0.1:8000/cancerwise/how-to-cope-with-insomnia"
        "-during-cancer-treatment.h00-1.html",
        "--json",
        stdin=raw,
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["url"].startswith("http://127.0.0.1:8000/")
    assert record["canonical_url"].startswith("https://www.mdanderson.org/cancerwise/")


def test_readable_summary() -> None:
    result = run(str(reference_file(INSOMNIA_PAGE)))
    assert result.returncode == 0
    assert "Pamela Schlembach, M.D." in result.stdout
    assert "8 minute read" in result.stdout


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
            "not an HTML page (binary data)",
        ),
        (
            b"<html><head><link rel='canonical' href='https://www.mdanderson.org/newsroom/x.h00-1.html'>"
            b"</head><body><h1>News</h1><p>Published June 08, 2026</p><p>Text</p></body></html>",
            "not a page of the archived sections: https://www.mdanderson.org/newsroom/x.h00-1.html",
        ),
    ],
)
def test_bad_input_is_one_error_line(tmp_path: Path, content: bytes, reason: str) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(content)
    result = run(str(page), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"error: {page}: {reason}\n"
    assert "Traceback" not in result.stderr


def test_missing_file_and_misused_url(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope.html"))
    assert (result.returncode, result.stderr) == (
        2,
        f"error: {tmp_path / 'nope.html'}: no such file\n",
    )
    result = run("a.html", "b.html", "--url", "https://www.mdanderson.org/cancerwise/x.h00-1.html")
    assert result.returncode == 2
    assert result.stderr.startswith("error: --url applies to one FILE")
