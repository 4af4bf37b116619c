"""Every fixture page parses to the expected record beside it.

Adding a case is adding two files: `fixtures/pages/<case>.html` and `<case>.json`
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

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
CASES = sorted(p.stem for p in PAGES.glob("*.html") if p.with_suffix(".json").exists())


def _fixture_url(case: str, expected: dict[str, Any]) -> str | None:
    url_file = PAGES / f"{case}.url"
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
    assert len(CASES) >= 20, f"only {len(CASES)} fixture pages under {PAGES}"


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: str) -> None:
    expected = json.loads((PAGES / f"{case}.json").read_text("utf-8"))
    html = (PAGES / f"{case}.html").read_bytes()
    url = _fixture_url(case, expected)
    if "error" in expected:
        with pytest.raises(PageError) as raised:
            parse_page(html, url)
        assert raised.value.reason == expected["error"]
        return
    actual = parse_page(html, url)
    assert actual == expected, f"{case} differs:\n{_readable_diff(expected, actual)}"
