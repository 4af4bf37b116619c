"""Every fixture page parses to the expected record beside it.

Adding a case is adding two files: `fixtures/recorded/<case>.html` and `<case>.json`
(`cwarchive fixtures record FILE NAME` writes both; `fixtures/pages/` is generated)
(the expected record, or `{"error": "<reason>"}` for a page that must be refused).
The URL the page is parsed with is the expected record's `url` (or `<case>.url`).
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import pytest

from crawler.parsers import PageError, parse_page

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Generated cases (`cwarchive fixtures pages`) and recorded real pages (`fixtures record`).
CASE_DIRS = (FIXTURES / "pages", FIXTURES / "recorded")
CASE_FILES = {
    p.with_suffix(""): p
    for directory in CASE_DIRS
    for p in sorted(directory.glob("*.html"))
    if p.with_suffix(".json").exists()
}
CASES = sorted(str(stem.relative_to(FIXTURES)) for stem in CASE_FILES)


def fixture_url(case: str, expected: dict[str, Any]) -> str | None:
    url_file = FIXTURES / f"{case}.url"
    if url_file.exists():
        return url_file.read_text("utf-8").strip()
    return expected.get("url")


def _readable_diff(expected: dict[str, Any], actual: dict[str, Any]) -> str:
    lines = []
    for field in sorted(set(expected) | set(actual)):
        if expected.get(field, "<missing>") == actual.get(field, "<missing>"):
            continue
        before = json.dumps(expected.get(field, "<missing>"), indent=1, ensure_ascii=False)
        after = json.dumps(actual.get(field, "<missing>"), indent=1, ensure_ascii=False)
        diff = difflib.unified_diff(
            before.splitlines(), after.splitlines(), "expected", "parsed", lineterm="", n=1
        )
        lines.append(f"--- field {field!r}:")
        lines.extend(diff)
    return "\n".join(lines)


def test_there_are_enough_fixtures() -> None:
    assert len(CASES) >= 20, f"only {len(CASES)} fixture pages under {CASE_DIRS}"


def fixture_case(case: str) -> tuple[bytes, str | None, dict[str, Any]]:
    """A case's page, the URL it is parsed with, and its expected record (or error)."""
    expected = json.loads((FIXTURES / f"{case}.json").read_text("utf-8"))
    return (FIXTURES / f"{case}.html").read_bytes(), fixture_url(case, expected), expected


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: str) -> None:
    html, url, expected = fixture_case(case)
    if "error" in expected:
        with pytest.raises(PageError) as raised:
            parse_page(html, url)
        assert raised.value.reason == expected["error"]
        return
    actual = parse_page(html, url)
    assert actual == expected, f"{case} differs:\n{_readable_diff(expected, actual)}"


def test_record_command_writes_a_case_that_passes(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cwarchive.cli import main

    source = FIXTURES / "pages" / "insomnia-redesign.html"
    url = (FIXTURES / "pages" / "insomnia-redesign.url").read_text().strip()
    result = CliRunner().invoke(
        main, ["fixtures", "record", str(source), "new-case", "--url", url, "--dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    recorded = json.loads((tmp_path / "new-case.json").read_text("utf-8"))
    expected = json.loads((FIXTURES / "pages" / "insomnia-redesign.json").read_text("utf-8"))
    assert recorded == expected
    assert (tmp_path / "new-case.html").read_bytes() == source.read_bytes()
    assert (tmp_path / "new-case.url").read_text().strip() == url

    bad = tmp_path / "empty.html"
    bad.write_bytes(b"")
    result = CliRunner().invoke(
        main, ["fixtures", "record", str(bad), "empty", "--dir", str(tmp_path)]
    )
    assert result.exit_code == 0
    assert json.loads((tmp_path / "empty.json").read_text()) == {"error": "empty file"}
