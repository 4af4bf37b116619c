"""crawler/middlewares/retry.py: how long a `Retry-After` asks to wait."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.middlewares.retry import retry_after_seconds


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (b"3", 3.0),
        ("Fri, 27 Nov 2026 00:01:00 GMT", 60.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_seconds(value: str | bytes | None, seconds: float | None) -> None:
    now = datetime(2026, 11, 27, tzinfo=UTC).timestamp()
    assert retry_after_seconds(value, now=now) == seconds
