"""Writing a site's pages into the replay layout (docs/replay.md).

Kept apart from `site` (the model and its pages): this is file handling only,
placing each page at its file, keeping unchanged files and their mtimes, and
removing what the site no longer has.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cwarchive.testing.layout import INDEX_FILE, LASTMOD_FILE, RULES_FILE, file_name

if TYPE_CHECKING:
    from cwarchive.testing.sitegen.site import Page


@dataclass
class WriteReport:
    files: int = 0
    bytes: int = 0
    written: int = 0
    removed: int = 0


def write_pages(
    out_dir: str | os.PathLike[str],
    pages: Iterable[Page],
    rules: dict[str, Any],
    stamp: dt.datetime,
) -> WriteReport:
    """Write `pages` and `_rules.json` into `out_dir` (`Site.write`).

    Unchanged files are not rewritten; every file's mtime is its page's lastmod,
    also listed in `_lastmod.json` (git keeps no mtimes; the replay server reads
    it), so regenerating an unchanged site changes no Last-Modified or ETag. Files of
    pages not in `pages` are deleted. A non-empty `out_dir` must be a site written
    before (it holds `_rules.json`), so a wrong path is never wiped. `stamp` is the
    mtime of `_rules.json` and `_lastmod.json`.
    """
    root = Path(out_dir)
    if root.exists() and any(root.iterdir()) and not (root / RULES_FILE).exists():
        raise FileExistsError(
            f"{root} is not empty and holds no {RULES_FILE}: not a generated site"
        )
    root.mkdir(parents=True, exist_ok=True)
    report = WriteReport()
    lastmods: dict[str, int] = {}  # file (relative) -> lastmod, of this write
    # One page at a time: a full-scale site is half a gigabyte of HTML.
    for page in pages:
        relative = _place(root, file_name(page.path), lastmods)
        file = root / relative
        report.files += 1
        report.bytes += len(page.body)
        if _write_if_changed(file, page.body):
            report.written += 1
        mtime = int(page.lastmod.timestamp())
        os.utime(file, (mtime, mtime))
        lastmods[relative] = mtime
    wanted = {root / relative for relative in lastmods}
    mtime = int(stamp.timestamp())
    for name, data in ((RULES_FILE, rules), (LASTMOD_FILE, lastmods)):
        file = root / name
        wanted.add(file)
        _write_if_changed(file, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())
        os.utime(file, (mtime, mtime))
    for file in sorted(root.rglob("*"), reverse=True):
        if file.is_file() and file not in wanted:
            file.unlink()
            report.removed += 1
        elif file.is_dir() and not any(file.iterdir()):
            file.rmdir()
    return report


def _place(root: Path, relative: str, lastmods: dict[str, int]) -> str:
    """Where a page goes when pages are written one by one (the `layout.layout` rule).

    A page first written as a file turns out to be a directory page when a page under
    it comes: it moves to `<path>/index.html`. A stale file in the way is removed.
    """
    parts = relative.split("/")
    for end in range(1, len(parts)):
        ancestor = "/".join(parts[:end])
        path = root / ancestor
        if not path.is_file():
            continue
        body = path.read_bytes()
        path.unlink()
        if ancestor in lastmods:
            moved = f"{ancestor}/{INDEX_FILE}"
            (root / moved).parent.mkdir(parents=True, exist_ok=True)
            (root / moved).write_bytes(body)
            stamp = lastmods.pop(ancestor)
            os.utime(root / moved, (stamp, stamp))
            lastmods[moved] = stamp
    if (root / relative).is_dir():
        return f"{relative}/{INDEX_FILE}"
    return relative


def _write_if_changed(file: Path, body: bytes) -> bool:
    try:
        if file.stat().st_size == len(body) and file.read_bytes() == body:
            return False
    except FileNotFoundError:
        file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(body)
    return True
