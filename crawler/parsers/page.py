"""Page-type detection and dispatch (being written)."""

from __future__ import annotations

from typing import Any

from crawler.parsers.errors import PageError


def parse_page(html: bytes | str, url: str | None = None) -> dict[str, Any]:
    raise PageError("parser not written yet")
