"""What the replay server answers for a request: a site directory laid out like the
site (`cwarchive.testing.layout`), its `_rules.json` (statuses, redirects, temporary
failures) and `_lastmod.json`, with `Last-Modified`/`ETag` and 304s like a real origin.
No sockets here: `cwarchive.testing.replay` serves these answers over HTTP.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import posixpath
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cwarchive.testing.layout import CONTROL_FILES, LASTMOD_FILE, RULES_FILE, file_for, page_name

_CONTENT_TYPES = {
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".gz": "application/gzip",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".css": "text/css",
    ".js": "text/javascript",
}
# Site pages often have no extension (facet pages end in the tag name): HTML.
DEFAULT_TYPE = "text/html; charset=utf-8"


def content_type_for(file: Path) -> str:
    return _CONTENT_TYPES.get(posixpath.splitext(page_name(file))[1].lower(), DEFAULT_TYPE)


@dataclass
class Rules:
    """Per-site answers that are not files, from `_rules.json` (docs/replay.md)."""

    redirects: dict[str, tuple[str, int]] = field(default_factory=dict)
    gone: frozenset[str] = frozenset()
    # path -> {"status": 503, "headers": {...}, "times": N (then served normally)}
    status: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rules:
        redirects = {}
        for source, target in data.get("redirects", {}).items():
            if isinstance(target, str):
                redirects[source] = (target, 301)
            else:
                redirects[source] = (str(target[0]), int(target[1]))
        return cls(
            redirects=redirects,
            gone=frozenset(data.get("gone", [])),
            status={path: dict(rule) for path, rule in data.get("status", {}).items()},
        )


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes = b""


def http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


class ReplaySite:
    """What to answer for a request: files, rules and conditional requests.

    Kept apart from the HTTP plumbing so it is easy to read and to test.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"replay site directory not found: {self.root}")
        self._rules = Rules()
        self._rules_stamp: tuple[int, int] | None = None
        self._lastmods: dict[str, float] = {}
        self._lastmods_stamp: tuple[int, int] | None = None
        self._status_hits: dict[str, int] = {}
        self._etags: dict[Path, tuple[tuple[int, int], str]] = {}
        self._lock = threading.Lock()

    def rules(self) -> Rules:
        """The rules file, re-read when it changes: tests rewrite the site while it runs."""
        stamp = _file_stamp(self.root / RULES_FILE)
        with self._lock:
            if stamp != self._rules_stamp:
                self._rules_stamp = stamp
                self._rules = Rules.from_json(_read_json(self.root / RULES_FILE, stamp))
                self._status_hits.clear()
            return self._rules

    def lastmods(self) -> dict[str, float]:
        """The `_lastmod.json` table, re-read when it changes (empty without one)."""
        stamp = _file_stamp(self.root / LASTMOD_FILE)
        with self._lock:
            if stamp != self._lastmods_stamp:
                self._lastmods_stamp = stamp
                self._lastmods = _read_json(self.root / LASTMOD_FILE, stamp)
            return self._lastmods

    def answer(self, method: str, target: str, headers: Any, host: str) -> Answer:
        """The answer to `method target` (`headers` has `.get`, `host` is `host:port`)."""
        parts = urlsplit(target)
        path, query = parts.path or "/", parts.query
        rules = self.rules()
        rule = rules.status.get(path)
        if rule is not None and self._use_status_rule(path, rule):
            return Answer(int(rule["status"]), dict(rule.get("headers", {})))
        if path in rules.redirects:
            location, status = rules.redirects[path]
            if location.startswith("/"):
                location = f"http://{host}{location}"
            return Answer(status, {"Location": location})
        if path in rules.gone:
            return Answer(410, {})
        file = file_for(self.root, path, query)
        # Checked on the file, not the URL: `//_rules.json` and `/%5Frules.json` name it too.
        if file is None or file.relative_to(self.root).as_posix() in CONTROL_FILES:
            return Answer(404, {})
        stat = file.stat()
        body = file.read_bytes()
        etag = self._etag(file, stat, body)
        relative = file.relative_to(self.root).as_posix()
        mtime = self.lastmods().get(relative, stat.st_mtime)
        last_modified = http_date(mtime)
        answer_headers = {
            "Content-Type": content_type_for(file),
            "Last-Modified": last_modified,
            "ETag": etag,
        }
        if _not_modified(headers, etag, mtime):
            return Answer(304, answer_headers)
        return Answer(200, answer_headers, body)

    def _use_status_rule(self, path: str, rule: dict[str, Any]) -> bool:
        times = rule.get("times")
        if times is None:
            return True
        with self._lock:
            hits = self._status_hits.get(path, 0)
            self._status_hits[path] = hits + 1
        return hits < int(times)

    def _etag(self, file: Path, stat: os.stat_result, body: bytes) -> str:
        # From the content, not the mtime: a page regenerated with the same bytes keeps it.
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._etags.get(file)
        if cached and cached[0] == stamp:
            return cached[1]
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        self._etags[file] = (stamp, etag)
        return etag


def _not_modified(headers: Any, etag: str, mtime: float) -> bool:
    # RFC 9110 13.2.2: If-None-Match wins over If-Modified-Since when both are sent.
    if_none_match = headers.get("If-None-Match")
    if if_none_match:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since:
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False
        return int(mtime) <= since
    return False


def _file_stamp(path: Path) -> tuple[int, int] | None:
    """What tells a changed file apart (mtime, size), None when there is no file."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def _read_json(path: Path, stamp: tuple[int, int] | None) -> Any:
    return json.loads(path.read_text("utf-8")) if stamp else {}
