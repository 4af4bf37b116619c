"""`cwarchive browse`: the SQLite archive in Datasette, immutable, described.

What Datasette shows beside the data is written here once, as data: a title and a
description for every table and view and for each of their columns (the same words
as docs/storage.md and docs/research.md; `tests/test_browse.py` checks them against
the archive's schema and both documents), and the canned queries that answer the
usual questions with a form.

The file is opened in Datasette's immutable mode (`immutable=1`): SQLite reads it
without locks and never writes, and Datasette offers no write of any kind on it.
Immutable mode also ignores a write-ahead log, so an archive with a non-empty `-wal`
file (a writer at work, or one that was killed) is refused rather than shown as it
was before that writer's last commits. Every request other than a read is answered
405 before Datasette sees it.

Datasette is an optional extra (`pip install 'cwarchive[browse]'`): it is imported
only inside the function that starts it, so every other command works without it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from cwarchive.errors import CliError
from storage import db, readonly, search
from storage.db import ArchiveError
from storage.descriptions import TABLES, VIEWS, Described

INSTALL = "pip install 'cwarchive[browse]'"


# -- what Datasette shows: titles, descriptions, columns -----------------------------------


def described(item: Described) -> dict[str, Any]:
    """A table or view as Datasette's metadata gives it."""
    data: dict[str, Any] = {
        "title": item.title,
        "description": item.description,
        "columns": dict(item.columns),
    }
    if item.sort:
        data["sort"] = item.sort
    if item.hidden:
        data["hidden"] = True
    if item.fts_pk:
        data["fts_table"] = search.TABLE
        data["fts_pk"] = item.fts_pk
    return data


# -- canned queries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Canned:
    """A canned query: a named, parameterized SELECT with a form in Datasette."""

    title: str
    description: str
    sql: str
    params: tuple[str, ...] = field(default=())

    def metadata(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "sql": self.sql,
            "params": list(self.params),
        }


_FTS = search.TABLE
_MARKS = f"'{search.MARK_START}', '{search.MARK_END}', '{search.ELLIPSIS}'"
# Each space-separated word becomes an FTS5 string ("..." with " doubled), as
# storage.search builds it, so nothing typed is query syntax; an empty string (two
# spaces, or a blank form) matches nothing on its own and is ignored beside others. A
# title match outweighs body matches, as storage.search ranks a search of both.
_SEARCH_CURRENT = f"""SELECT a.article_key, v.title, a.last_url AS url,
       snippet({_FTS}, -1, {_MARKS}, 16) AS snippet,
       -bm25({_FTS}, 10.0, 1.0) AS rank
FROM {_FTS}
JOIN articles AS a ON a.current_version_id = {_FTS}.rowid
JOIN versions AS v ON v.id = {_FTS}.rowid
WHERE {_FTS} MATCH '"' || replace(replace(trim(:q), '"', '""'), ' ', '" "') || '"'
ORDER BY bm25({_FTS}, 10.0, 1.0), a.article_key"""

QUERIES: dict[str, Canned] = {
    # Datasette's table search cannot rank or show a passage, and a view (current_articles)
    # has no version id to search by: this query can, over current versions only.
    "search_current": Canned(
        "Search the current articles",
        "The articles whose current version's title or body contains every word of `q` "
        "(stemmed: `screening` finds `screen`), best match first, with the passage that "
        f"matched between {search.MARK_START} and {search.MARK_END}. Words are searched "
        "as words: quotes and operators are not query syntax.",
        _SEARCH_CURRENT,
        ("q",),
    ),
    # Datasette passes every parameter as text, and an empty one when the form leaves it
    # blank: a run id is cast before comparing (in SQLite an integer never equals or
    # exceeds a text value), and a blank bound is an open one, as with `cwarchive diff`.
    "reviewed_changes_between": Canned(
        "Review date changes between two runs",
        "The rows of reviewed_changes whose new version first appeared after run "
        "`from_run` and at most in run `to_run` (the range of `cwarchive diff --from A "
        '--to B`: from_run 3, to_run 4 is "in run 4"); a blank bound is open.',
        """SELECT article_key, title, old_reviewed, new_reviewed, old_reviewers, new_reviewers,
       from_run, to_run, from_version, to_version, days_between
FROM reviewed_changes
WHERE (:from_run = '' OR to_run > CAST(:from_run AS INTEGER))
  AND (:to_run = '' OR to_run <= CAST(:to_run AS INTEGER))
ORDER BY article_key, to_version""",
        ("from_run", "to_run"),
    ),
    "article_history": Canned(
        "An article's history",
        "The versions of one article (`cancerwise/<slug>`), oldest first: the rows of "
        "article_versions, as `cwarchive history` lists them.",
        """SELECT article_key, version, title, published, reviewed, reviewers, content_hash,
       first_run, last_run, parser_version
FROM article_versions
WHERE article_key = :article_key
ORDER BY version""",
        ("article_key",),
    ),
    "tag_series": Canned(
        "A tag's counts by run",
        "The rows of tag_count_series of one tag, given by its id "
        "(`md-anderson:diseases/breast-cancer`) or by any label it has carried "
        "(case-insensitive), as `cwarchive tags --tag` finds it; oldest run first.",
        """SELECT s.run, s.run_started, s.tag_id, s.label, s."group", s.count
FROM tag_count_series AS s
WHERE s.tag_id = :tag
   OR s.tag_id IN (
        SELECT t.tag_id FROM tags AS t
        WHERE lower(t.label) = lower(:tag)
           OR t.id IN (SELECT l.tag_pk FROM tag_labels AS l WHERE lower(l.label) = lower(:tag)))
   OR (s.tag_id IS NULL AND lower(s.label) = lower(:tag))
ORDER BY s.run, s.tag_id, s.label""",
        ("tag",),
    ),
}


def metadata(database: str) -> dict[str, Any]:
    """Datasette's metadata for the archive served under the name `database`."""
    tables = {name: described(item) for name, item in {**VIEWS, **TABLES}.items()}
    return {
        "title": "Cancerwise archive",
        "description": "Every version of MD Anderson's Cancerwise articles, run by run, "
        "read-only. Start with the views current_articles, article_versions, "
        "reviewed_changes, field_changes and tag_count_series, or a canned query.",
        "databases": {
            database: {
                "description": "The versioned archive (docs/storage.md; the views: "
                "docs/research.md), opened immutable: nothing here can change it.",
                "tables": tables,
                "queries": {name: query.metadata() for name, query in QUERIES.items()},
            }
        },
    }


# -- the archive: SQLite only, at the current schema, at rest ----------------------------------


def sqlite_path(db_url: str) -> str:
    """The SQLite file behind `db_url`; one clean error for anything else."""
    url = make_url(db.normalize_url(db_url))
    if url.get_backend_name() != "sqlite":
        raise CliError(
            "browse serves a SQLite archive only (Datasette reads SQLite files); from "
            f"{url.get_backend_name()}, export the views with `cwarchive export --what "
            "articles|versions|changes|tags|runs --out FILE` or ask them with "
            "`cwarchive query SQL`"
        )
    path = db.sqlite_file(db_url)
    if path is None:
        raise CliError(f"{db_url}: an in-memory database holds no archive")
    path = os.path.abspath(path)
    # Datasette pastes the path into a `file:` URI unescaped: SQLite would read `?` and
    # `#` as the URI's query and fragment and `%` as an escape, and open (or create) a
    # different file.
    if any(char in path for char in "?#%"):
        raise CliError(f"{path}: Datasette cannot open a path holding ?, # or %: rename it")
    return path


def check_browsable(path: str) -> None:
    """Refuse a missing file, an archive being written, or a schema not at head."""
    if not os.path.isfile(path):
        raise CliError(f"no archive at {path}: run a crawl, `cwarchive demo` or `cwarchive ingest`")
    wal = Path(path + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise CliError(
            f"{path} has a write-ahead log ({wal.name}): a writer has it open, or one was "
            "killed. Browse once it is done (any cwarchive command that opens the archive, "
            "e.g. `cwarchive runs`, folds a killed writer's log into the file)"
        )
    # The schema is read the way Datasette will read the file: immutable, so checking
    # writes nothing either (no -wal or -shm file, no journal mode change).
    engine = readonly.read_only_engine(path, immutable=True)
    try:
        db.check_schema(engine, create=False)
    except ArchiveError as error:
        raise CliError(str(error)) from None
    except SQLAlchemyError as error:  # not a SQLite file, unreadable
        reason = str(getattr(error, "orig", error)).splitlines()[0]
        raise CliError(f"cannot open the archive {path}: {reason}") from None
    finally:
        engine.dispose()


# -- serving ----------------------------------------------------------------------------------


def _datasette_cli() -> Any:
    """`datasette.cli`, with the read-only guard registered; one clean error without it."""
    try:
        from datasette import cli, hookimpl, plugins
    except ImportError:
        raise CliError(f"browse needs Datasette, an optional extra: {INSTALL}") from None
    _register_read_only(plugins, hookimpl)
    return cli


def database_name(path: str) -> str:
    """The name Datasette serves a file under: its stem."""
    return Path(path).stem


def url_for(host: str, port: int, database: str) -> str:
    from datasette.utils import tilde_encode

    shown = f"[{host}]" if ":" in host else host  # an IPv6 address
    return f"http://{shown}:{port}/{tilde_encode(database)}"


def check_port(host: str, port: int) -> None:
    """Fail early and in one line when the address cannot be listened on."""
    # Bound as uvicorn binds it: IPv6 for an address with a colon, else IPv4, with
    # SO_REUSEADDR (so a port in TIME_WAIT is not "in use").
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror as error:
            raise CliError(f"--host {host}: {error.strerror}") from None
        except OSError as error:
            raise CliError(
                f"cannot listen on {host}:{port}: {error.strerror}: pick another --port"
            ) from None


# The methods that only read; any other request is refused before Datasette sees it.
READ_METHODS = ("GET", "HEAD", "OPTIONS")
_PLUGIN = "cwarchive_read_only"


async def _refuse(send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
    body = b"405: this archive is served read-only\n"
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"allow", ", ".join(READ_METHODS).encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 405, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _read_only(app: Any) -> Any:
    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] not in READ_METHODS:
            await _refuse(send)
            return
        await app(scope, receive, send)

    return guarded


def _register_read_only(datasette_plugins: Any, hookimpl: Any) -> None:
    """Every request that could write is answered 405.

    Immutable mode already keeps the file from changing; this makes the refusal plain
    at the HTTP level too: Datasette 0.65 answers a POST to a read-only page (a canned
    query, a table's insert URL) with a 500 and a traceback on the console. Datasette
    lists its plugins by `__name__`, hence a module object rather than a class.
    """
    if datasette_plugins.pm.has_plugin(_PLUGIN):
        return
    plugin = ModuleType(_PLUGIN)
    plugin.asgi_wrapper = hookimpl(lambda datasette: _read_only)  # type: ignore[attr-defined]
    datasette_plugins.pm.register(plugin, _PLUGIN)


class _Stopped(BaseException):
    """Ctrl-C or SIGTERM. A BaseException, like KeyboardInterrupt: nothing on the way
    out (uvicorn, asyncio, click) catches it as an error."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stopped


@contextmanager
def _stoppable() -> Iterator[None]:
    """SIGINT and SIGTERM end the server cleanly.

    uvicorn takes both signals while it serves, shuts down gracefully, then raises the
    signal again for the handler it found: this one, which unwinds to here, so
    temporary files go and the exit status is 0 (instead of SIGTERM's default death,
    or click's "Aborted!" for a KeyboardInterrupt).
    """
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve(db_url: str, host: str, port: int, echo: Callable[[str], None]) -> None:
    """Check the archive, then serve it in Datasette in the foreground until stopped."""
    path = sqlite_path(db_url)
    datasette_cli = _datasette_cli()
    check_browsable(path)
    check_port(host, port)
    name = database_name(path)
    with tempfile.TemporaryDirectory(prefix="cwarchive-browse-") as tmp:
        metadata_file = Path(tmp, "metadata.json")
        metadata_file.write_text(json.dumps(metadata(name), indent=2), "utf-8")
        echo(url_for(host, port, name))
        args = ["-i", path, "--host", host, "--port", str(port)]
        args += ["--metadata", str(metadata_file)]
        with _stoppable():
            # `datasette serve` itself (not uvicorn directly): the server it runs, its
            # startup checks, and uvicorn stays Datasette's dependency, not ours.
            try:
                datasette_cli.serve.main(args, prog_name="datasette", standalone_mode=False)
            except click.ClickException as error:
                raise CliError(error.format_message()) from None
