"""The one error a parser raises: the page is not a record, and why."""

from __future__ import annotations


class PageError(ValueError):
    """A page that does not parse into a record; `reason` is one short line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
