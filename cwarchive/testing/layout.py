"""The replay layout: how a copy of the site is kept on disk (docs/replay.md).

One module for the URL <-> file rule, which the replay server reads by and the site
generator writes by. Pure path functions: no HTTP, no page content.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, unquote

RULES_FILE = "_rules.json"
# Optional: file path (relative, `/`-separated) -> lastmod (epoch seconds). Git does
# not keep mtimes, so a committed site carries its Last-Modified dates in this file.
LASTMOD_FILE = "_lastmod.json"
INDEX_FILE = "index.html"
# A query is kept in the file name after this mark: `breast-cancer@page=2`.
QUERY_MARK = "@"
# Files of the layout that are not pages of the site: never served.
CONTROL_FILES = (RULES_FILE, LASTMOD_FILE)


def query_file_name(name: str, query: str) -> str:
    """The file name that stores `name?query` (the `/` of a query cannot be in a name)."""
    return f"{name}{QUERY_MARK}{quote(query, safe='=&;,:+%')}"


def file_for(root: Path, path: str, query: str = "") -> Path | None:
    """The file serving `path?query` under `root`, or None when there is none.

    URL path segments are percent-decoded into names; a URL that is both a page and a
    directory prefix stores its page as `<path>/index.html`; a query is stored in the
    name (`query_file_name`); a query without its own file is ignored, as a static
    origin would.

    Only files inside `root` are ever answered: `.`/`..` segments (also
    percent-encoded) are refused, and a file reached through a symbolic link must
    resolve inside `root` too (a link inside the site to `/etc/passwd` is not served).
    """
    names = [unquote(part) for part in path.split("/") if part]
    if any(name in (".", "..") or "/" in name or "\0" in name for name in names):
        return None
    candidates = []
    if query and names:
        candidates.append(root.joinpath(*names[:-1], query_file_name(names[-1], query)))
    candidates.append(root.joinpath(*names))
    for candidate in candidates:
        if candidate.is_dir():
            candidate = candidate / INDEX_FILE
        if candidate.is_file():
            # The path as asked (callers relate it to `root`), once its real place
            # is known to be inside the site.
            return candidate if is_inside(candidate, root) else None
    return None


def is_inside(file: Path, root: Path) -> bool:
    """True when `file`, symbolic links resolved, is `root` or below it."""
    try:
        return file.resolve(strict=True).is_relative_to(root.resolve(strict=True))
    except (OSError, RuntimeError):  # a dangling link or a loop of links
        return False


def url_path_for_file(root: Path, file: Path) -> str:
    """The inverse of `file_for`: the path and query `file` serves."""
    parts = list(file.relative_to(root).parts)
    if parts and parts[-1] == INDEX_FILE:
        parts.pop()
    query = ""
    if parts and QUERY_MARK in parts[-1]:
        parts[-1], _, query = parts[-1].partition(QUERY_MARK)
        query = unquote(query)
    path = "/" + "/".join(quote(part, safe=":@!$&'()*+,;=-._~") for part in parts)
    return path + (f"?{query}" if query else "")


def page_name(file: Path) -> str:
    """The file's name without a stored query (what its content type follows)."""
    return file.name.split(QUERY_MARK, 1)[0]


def layout(paths: Iterable[str]) -> dict[str, str]:
    """URL path (with query) -> file path relative to the site root (docs/replay.md)."""
    paths = list(paths)
    prefixes = set()
    for path in paths:
        parts = path.split("?", 1)[0].split("/")
        for end in range(2, len(parts)):
            prefixes.add("/".join(parts[:end]))
    files = {}
    for path in paths:
        name = file_name(path)
        files[path] = f"{name}/{INDEX_FILE}" if path in prefixes else name
    return files


def file_name(path: str) -> str:
    """The file of a URL path before the directory-page rule: names decoded, query kept."""
    base, _, query = path.partition("?")
    names = [unquote(part) for part in base.split("/") if part]
    if query:
        names[-1] = query_file_name(names[-1], query)
    return "/".join(names)
