"""Read-only verification of an archive, like `git fsck` (`cwarchive db check`).

`check_archive` reads the whole archive in one read-only transaction (SQLite: a
`mode=ro` connection with `query_only`; PostgreSQL: `REPEATABLE READ READ ONLY`), so a
crawl writing at the same time is seen as one consistent snapshot, and returns what
it found wrong as `Problem`s. Every rule is something the writer (`storage.archive`,
`storage.unit_of_work`, `storage.reparse`) guarantees; docs/storage.md ("Verifying an
archive") lists them and the rules the check cannot make.

Raw pages and versions are read in chunks by id, so memory stays flat however big
the archive. With `parse` (the CLI passes `crawler.parsers.parse_page`: storage may
not import the parsers) every stored article page is also re-parsed.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import zstandard
from sqlalchemy import Connection, Engine, and_, create_engine, event, exists, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from crawler.record import FORMER_CONTENT_FIELDS, NON_CONTENT_FIELDS, content_hash
from storage import db
from storage.models import (
    Article,
    Base,
    ListingPage,
    Observation,
    ParseError,
    RawPage,
    Run,
    Version,
    VersionReviewer,
)
from storage.models import version_record as stored_record

ERROR = "error"
WARNING = "warning"

# Every kind of problem, with what it means; the names are stable (scripts match them).
KINDS = {
    "integrity": "SQLite's own integrity_check found damage in the database file",
    "foreign_keys": "SQLite's foreign_key_check found a broken key the explicit checks missed",
    "dangling_reference": "a row refers to a row that does not exist",
    "wrong_article": "an observation's version belongs to another article",
    "raw_page_data": "a raw page does not decompress, or its compression is unknown",
    "raw_page_hash": "a raw page's bytes do not hash to its sha256",
    "raw_page_size": "a raw page's bytes are not its recorded size",
    "version_hash": "a version's fields do not hash to its content_hash",
    "version_reviewers": "a version's version_reviewers rows differ from its reviewers",
    "version_numbers": "an article's version numbers are not 1..n in run order",
    "version_observation": "a version has no fetched or reparsed observation in its first run",
    "current_version": "an article's current version is not the one its last fetch set",
    "article_status": "an article's status disagrees with its removals and returns",
    "run_counters": "a run's counter disagrees with the rows the run wrote",
    "running_run": "a run is still `running`: in progress, or killed (warning)",
    "parser_drift": "a stored page now parses to content no version holds (warning)",
}

# Raw pages read per query: ~25 KB compressed and ~100 KB of HTML each.
RAW_CHUNK = 100
# Versions read per query (body text included).
VERSION_CHUNK = 500
# Read a raw page's decompressed bytes this much at a time (flat memory on any page).
READ_SIZE = 1 << 16

Parse = Callable[[bytes, str], dict[str, Any]]


@dataclass(frozen=True)
class Problem:
    """One thing wrong: a stable `kind` (see `KINDS`), its rows and a one-line message."""

    kind: str
    severity: str  # "error" | "warning"
    message: str
    # ("table.column", value) pairs naming the rows: enough to SELECT them.
    ids: tuple[tuple[str, int | str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "ids": dict(self.ids),
        }

    def line(self) -> str:
        """The problem as one line: `[warning: ]kind table.column=value ...: message`."""
        where = " ".join(f"{name}={value}" for name, value in self.ids)
        prefix = "warning: " if self.severity == WARNING else ""
        return f"{prefix}{self.kind}{' ' + where if where else ''}: {self.message}"


# -- opening read-only ----------------------------------------------------------------


def read_only_engine(db_url: str) -> Engine:
    """An engine that cannot write the archive at `db_url`.

    SQLite: the file opened as a `mode=ro` URI with `query_only` (db.make_engine would
    set WAL mode, a write); a missing file raises `NoArchive` instead of creating one.
    PostgreSQL: the usual engine; `check_archive` makes each transaction READ ONLY.
    """
    url = make_url(db.normalize_url(db_url))
    if url.get_backend_name() != "sqlite":
        return db.make_engine(db_url)
    path = db.sqlite_file(db_url)
    if path is None:
        raise db.NoArchive("an in-memory database holds no archive to check")
    if not os.path.exists(path):
        raise db.NoArchive(f"no archive at {path}: run a crawl or `cwarchive ingest` first")
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"

    def connect() -> sqlite3.Connection:
        # isolation_level=None: BEGIN is ours (below), so the whole check reads one
        # snapshot instead of one per statement.
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={db.SQLITE_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA query_only=ON")
        return conn

    engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    return engine


@contextmanager
def read_only_transaction(engine: Engine) -> Iterator[Connection]:
    """One read-only transaction over the whole check; rolled back, never committed."""
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA query_only=ON")
        else:
            # Must be the transaction's first statement; REPEATABLE READ gives one
            # snapshot, so counters and rows written by a live crawl stay consistent.
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield conn
        finally:
            conn.rollback()
            if sqlite:
                # A caller's pooled connection goes back as it came.
                conn.exec_driver_sql("PRAGMA query_only=OFF")
                conn.rollback()


def check_archive(
    archive: Engine | str,
    *,
    parse: Parse | None = None,
    page_errors: tuple[type[Exception], ...] = (ValueError,),
) -> list[Problem]:
    """Every problem found in the archive (an engine, or a URL opened read-only).

    Raises `storage.ArchiveError` (`NoArchive`, `SchemaOutOfDate`) for a database that
    is not an archive at the current schema. With `parse`, each stored article page
    is re-parsed; `page_errors` are the exceptions meaning "not a record".
    """
    own = isinstance(archive, str)
    engine = read_only_engine(archive) if isinstance(archive, str) else archive
    try:
        db.check_schema(engine, create=False)
        with read_only_transaction(engine) as conn:
            return _Checker(conn, parse, page_errors).run()
    finally:
        if own:
            engine.dispose()


# -- the checks -------------------------------------------------------------------------


def _chunks(conn: Connection, query: Any, id_column: Any, size: int) -> Iterator[list[Any]]:
    """The rows of `query` in chunks of `size`, by ascending id (keyset pagination)."""
    last: int | None = None
    while True:
        page = query if last is None else query.where(id_column > last)
        rows = conn.execute(page.order_by(id_column).limit(size)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def version_record(row: Any, article_key: str) -> dict[str, Any]:
    """The record a version was stored from, by the hash rule of the parser that made it."""
    return stored_record(row, article_key, getattr(row, "parser_version", None))


class _Checker:
    """The checks, in order, each adding to `problems`."""

    def __init__(
        self, conn: Connection, parse: Parse | None, page_errors: tuple[type[Exception], ...]
    ) -> None:
        self.conn = conn
        self.parse = parse
        self.page_errors = page_errors
        self.problems: list[Problem] = []

    def add(
        self, kind: str, message: str, *ids: tuple[str, int | str], warning: bool = False
    ) -> None:
        assert kind in KINDS, kind
        self.problems.append(Problem(kind, WARNING if warning else ERROR, message, ids))

    def run(self) -> list[Problem]:
        dangling = self.references()
        if self.conn.dialect.name == "sqlite":
            self.sqlite_pragmas(dangling)
        self.raw_pages()
        self.versions()
        self.version_numbers()
        self.current_versions()
        self.run_counters()
        self.running_runs()
        return self.problems

    # -- relational ------------------------------------------------------------------

    def references(self) -> set[tuple[str, str]]:
        """Every reference the models declare, checked in SQL (on every backend).

        Derived from the models rather than the database's own constraints, so a
        constraint dropped or never enforced (SQLite with foreign_keys off) is still
        checked. `article_tags.article_key` is deliberately no reference (a facet page
        may list an article the archive does not hold). Returns the (table, target)
        pairs found broken.
        """
        broken: set[tuple[str, str]] = set()
        for table in Base.metadata.sorted_tables:
            for fk in sorted(table.foreign_keys, key=lambda fk: fk.parent.name):
                column, target = fk.parent, fk.column
                missing = ~exists().where(target == column)
                query = select(*table.primary_key.columns, column).where(
                    column.is_not(None), missing
                )
                for row in self.conn.execute(query):
                    *keys, value = row
                    broken.add((table.name, target.table.name))
                    ids = [
                        (f"{table.name}.{c.name}", k)
                        for c, k in zip(table.primary_key.columns, keys, strict=True)
                    ]
                    self.add(
                        "dangling_reference",
                        f"{table.name}.{column.name} points at {target.table.name} row "
                        f"{value}, which does not exist",
                        *ids,
                        (f"{table.name}.{column.name}", value),
                    )
        # Not a declared key: an observation's version must be one of its article's.
        query = (
            select(Observation.id, Observation.article_id, Version.id, Version.article_id)
            .join(Version, Version.id == Observation.version_id)
            .where(Version.article_id != Observation.article_id)
        )
        for obs_id, article_id, version_id, owner in self.conn.execute(query):
            self.add(
                "wrong_article",
                f"observation {obs_id} of article {article_id} points at versions row "
                f"{version_id}, a version of article {owner}",
                ("observations.id", obs_id),
                ("versions.id", version_id),
            )
        return broken

    def sqlite_pragmas(self, dangling: set[tuple[str, str]]) -> None:
        for (line,) in self.conn.exec_driver_sql("PRAGMA integrity_check"):
            if line != "ok":
                self.add("integrity", line)
        # A safety net under `references`: what it already reported is not repeated.
        for table, rowid, parent, _ in self.conn.exec_driver_sql("PRAGMA foreign_key_check"):
            if (table, parent) not in dangling:
                self.add(
                    "foreign_keys",
                    f"{table} row {rowid} refers to a missing {parent} row",
                    (f"{table}.rowid", rowid),
                )

    # -- raw pages -------------------------------------------------------------------

    def raw_pages(self) -> None:
        """Each raw page decompresses to `size` bytes hashing to `sha256`; `--deep` re-parses."""
        decompressor = zstandard.ZstdDecompressor()
        query = select(RawPage.id, RawPage.sha256, RawPage.size, RawPage.compression, RawPage.data)
        for rows in _chunks(self.conn, query, RawPage.id, RAW_CHUNK):
            pages: dict[int, bytes] = {}
            for row in rows:
                raw = self._raw_page(decompressor, row)
                if raw is not None:
                    pages[row.id] = raw
            if self.parse is not None and pages:
                self.reparse_pages(pages)

    def _raw_page(self, decompressor: zstandard.ZstdDecompressor, row: Any) -> bytes | None:
        """The page's bytes when they are sound (kept for `--deep`), else None."""
        ids = ("raw_pages.id", row.id)
        if row.compression != "zstd":
            self.add("raw_page_data", f"unknown compression {row.compression!r}", ids)
            return None
        # Streamed with a cap: a damaged frame header may claim any size.
        digest, size, parts = hashlib.sha256(), 0, []
        try:
            with decompressor.stream_reader(row.data) as reader:
                while size <= row.size and (part := reader.read(READ_SIZE)):
                    digest.update(part)
                    size += len(part)
                    if self.parse is not None:  # kept for the re-parse only
                        parts.append(part)
        except zstandard.ZstdError as error:
            self.add("raw_page_data", f"does not decompress: {error}", ids)
            return None
        if size != row.size:
            shown = f"more than {row.size}" if size > row.size else str(size)
            self.add("raw_page_size", f"decompresses to {shown} bytes, not {row.size}", ids)
            return None
        if digest.hexdigest() != row.sha256:
            self.add(
                "raw_page_hash",
                f"bytes hash to {digest.hexdigest()[:16]}…, not {row.sha256[:16]}…",
                ids,
            )
            return None
        return b"".join(parts)

    def reparse_pages(self, pages: dict[int, bytes]) -> None:
        """`--deep`: each article page of the chunk parses to one of its article's versions."""
        assert self.parse is not None
        # The (raw page, article) pairs a fetch stored, with the URL of the first fetch
        # (what `reparse` parses with) and the versions the page was read as.
        first_url: dict[tuple[int, int], str] = {}
        read_as: dict[tuple[int, int], list[int]] = defaultdict(list)
        query = (
            select(
                Observation.raw_page_id,
                Observation.article_id,
                Observation.url,
                Observation.kind,
                Observation.version_id,
            )
            .where(
                Observation.raw_page_id.in_(list(pages)),
                Observation.kind.in_(("fetched", "reparsed")),
            )
            .order_by(Observation.id)
        )
        for raw_id, article_id, url, kind, version_id in self.conn.execute(query):
            if kind == "fetched":
                first_url.setdefault((raw_id, article_id), url)
            if version_id is not None:
                read_as[(raw_id, article_id)].append(version_id)
        if not first_url:
            return
        article_ids = {article_id for _, article_id in first_url}
        hashes: dict[int, set[str]] = defaultdict(set)
        numbers: dict[int, int] = {}
        for version_id, article_id, number, version_hash in self.conn.execute(
            select(Version.id, Version.article_id, Version.number, Version.content_hash).where(
                Version.article_id.in_(article_ids)
            )
        ):
            hashes[article_id].add(version_hash)
            numbers[version_id] = number
        keys = dict(
            self.conn.execute(
                select(Article.id, Article.article_key).where(Article.id.in_(article_ids))
            ).all()
        )
        for (raw_id, article_id), url in sorted(first_url.items()):
            key = keys.get(article_id, f"article {article_id}")
            ids = (("articles.id", article_id), ("raw_pages.id", raw_id))
            try:
                record = self.parse(pages[raw_id], url)
            except self.page_errors as error:
                reason = getattr(error, "reason", None) or str(error)
                self.add(
                    "parser_drift",
                    f"{key}: raw page {raw_id} no longer parses: {reason}",
                    *ids,
                    warning=True,
                )
                continue
            if record.get("page_type") != "article":
                self.add(
                    "parser_drift",
                    f"{key}: raw page {raw_id} now parses as a {record.get('page_type')} page",
                    *ids,
                    warning=True,
                )
                continue
            # The hash of what the parser returned, not the hash it claims.
            if content_hash(record) in hashes[article_id]:
                continue
            linked = [v for v in read_as.get((raw_id, article_id), []) if v in numbers]
            if not linked:
                self.add(
                    "parser_drift",
                    f"{key}: raw page {raw_id} parses to content no version holds",
                    *ids,
                    warning=True,
                )
                continue
            version_id = max(linked, key=numbers.__getitem__)
            fields = self._differing_fields(record, version_id, key)
            self.add(
                "parser_drift",
                f"{key}: raw page {raw_id} now parses differently from version "
                f"{numbers[version_id]} (versions.id {version_id}): {', '.join(fields)}",
                *ids,
                ("versions.id", version_id),
                warning=True,
            )

    def _differing_fields(self, record: dict[str, Any], version_id: int, key: str) -> list[str]:
        row = self.conn.execute(select(Version).where(Version.id == version_id)).one()
        stored = version_record(row, key)
        names = sorted(set(stored) | {k for k in record if k not in NON_CONTENT_FIELDS})
        return [name for name in names if stored.get(name) != record.get(name)] or [
            "(no field: the hash differs)"
        ]

    # -- versions --------------------------------------------------------------------

    def versions(self) -> None:
        """Each version's fields hash to its content_hash; its reviewer rows match."""
        query = select(Version, Article.article_key).outerjoin(
            Article, Article.id == Version.article_id
        )
        for rows in _chunks(self.conn, query, Version.id, VERSION_CHUNK):
            reviewer_rows: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for version_id, position, name, url in self.conn.execute(
                select(
                    VersionReviewer.version_id,
                    VersionReviewer.position,
                    VersionReviewer.name,
                    VersionReviewer.url,
                )
                .where(VersionReviewer.version_id.in_([row.id for row in rows]))
                .order_by(VersionReviewer.version_id, VersionReviewer.position)
            ):
                reviewer_rows[version_id].append({"position": position, "name": name, "url": url})
            for row in rows:
                self._version(row, reviewer_rows.get(row.id, []))

    def _version(self, row: Any, reviewer_rows: list[dict[str, Any]]) -> None:
        ids = ("versions.id", row.id)
        if row.article_key is None:
            return  # reported as a dangling reference: no key to hash with
        recomputed = content_hash(stored_record(row, row.article_key))
        if recomputed != row.content_hash and row.parser_version in FORMER_CONTENT_FIELDS:
            # Stored by a parser with another hash rule: its hash follows that rule.
            recomputed = content_hash(version_record(row, row.article_key), row.parser_version)
        if recomputed != row.content_hash:
            self.add(
                "version_hash",
                f"version {row.number} of {row.article_key}: fields hash to "
                f"{recomputed[:16]}…, not {row.content_hash[:16]}…",
                ids,
            )
        expected = [
            {"position": position, "name": r.get("name"), "url": r.get("url")}
            for position, r in enumerate(row.reviewers or [])
        ]
        if reviewer_rows != expected:
            self.add(
                "version_reviewers",
                f"version {row.number} of {row.article_key}: {len(reviewer_rows)} "
                f"version_reviewers rows do not match its {len(expected)} reviewers",
                ids,
            )

    def version_numbers(self) -> None:
        """An article's versions are numbered 1..n, in the order of their first runs."""
        stats = select(
            Version.article_id,
            func.min(Version.number),
            func.max(Version.number),
            func.count(),
            func.count(Version.number.distinct()),
        ).group_by(Version.article_id)
        for article_id, low, high, count, distinct in self.conn.execute(stats):
            if (low, high, distinct) != (1, count, count):
                self.add(
                    "version_numbers",
                    f"article {article_id} has {count} version(s) numbered {low}..{high}"
                    f"{'' if distinct == count else ' with repeats'}, not 1..{count}",
                    ("articles.id", article_id),
                )
        # A later number never comes from an earlier run: numbers are given in order.
        later = Version.__table__.alias("later")
        query = (
            select(Version.article_id, later.c.id, Version.number, later.c.number)
            .join(
                later,
                and_(
                    later.c.article_id == Version.article_id,
                    later.c.number == Version.number + 1,
                ),
            )
            .where(later.c.first_run_id < Version.first_run_id)
        )
        for article_id, later_id, number, later_number in self.conn.execute(query):
            self.add(
                "version_numbers",
                f"article {article_id}: version {later_number} was first seen in an earlier "
                f"run than version {number}",
                ("articles.id", article_id),
                ("versions.id", later_id),
            )
        # Every version came from a page: a fetch or a reparse in the run that added it.
        query = select(Version.id, Version.number, Version.article_id, Version.first_run_id).where(
            ~exists().where(
                Observation.version_id == Version.id,
                Observation.run_id == Version.first_run_id,
                Observation.kind.in_(("fetched", "reparsed")),
            )
        )
        for version_id, number, article_id, run_id in self.conn.execute(query):
            self.add(
                "version_observation",
                f"version {number} of article {article_id} has no fetched or reparsed "
                f"observation in run {run_id}, its first run",
                ("versions.id", version_id),
            )

    # -- current versions ------------------------------------------------------------

    def current_versions(self) -> None:
        """The current version is the one the writer's last word on the article set.

        `save_article` makes the fetched page's version current (a new one, or the
        current one when unchanged); `mark_seen`, `mark_gone` and removals never move
        it. So without a later reparse, current = the version of the latest `fetched`
        observation. A reparse re-reads that latest page and may point at any of the
        article's versions (an existing one when the page now reads as it, which
        leaves no row behind), so after one only ownership is checked.
        """
        latest = (
            select(Observation.article_id, func.max(Observation.id).label("id"))
            .where(Observation.kind == "fetched")
            .group_by(Observation.article_id)
            .subquery()
        )
        last_reparse = select(func.max(Run.id)).where(Run.mode == "reparse").scalar_subquery()
        fetched = Version.__table__.alias("fetched")
        query = (
            select(
                Article.id,
                Article.article_key,
                Article.current_version_id,
                Version.article_id.label("owner"),
                Version.number,
                Observation.id.label("observation"),
                Observation.run_id,
                Observation.version_id,
                fetched.c.number.label("fetched_number"),
                last_reparse.label("last_reparse"),
            )
            .outerjoin(Version, Version.id == Article.current_version_id)
            .outerjoin(latest, latest.c.article_id == Article.id)
            .outerjoin(Observation, Observation.id == latest.c.id)
            .outerjoin(fetched, fetched.c.id == Observation.version_id)
            .order_by(Article.id)
        )
        for row in self.conn.execute(query):
            ids = ("articles.id", row.id)
            current = row.current_version_id
            if current is None:
                self.add("current_version", f"{row.article_key} has no current version", ids)
            elif row.owner is None:
                continue  # reported as a dangling reference
            elif row.owner != row.id:
                self.add(
                    "current_version",
                    f"{row.article_key}: its current version (versions row {current}) "
                    f"belongs to article {row.owner}",
                    ids,
                    ("versions.id", current),
                )
            elif row.observation is None:
                self.add("current_version", f"{row.article_key} has no fetched observation", ids)
            elif current != row.version_id and (
                row.last_reparse is None or row.last_reparse < row.run_id
            ):
                self.add(
                    "current_version",
                    f"{row.article_key}: current version is version {row.number}, but its "
                    f"latest fetch (observation {row.observation}, run {row.run_id}) read "
                    f"version {row.fetched_number} and no reparse came after",
                    ids,
                    ("versions.id", current),
                    ("observations.id", row.observation),
                )

    # -- runs ------------------------------------------------------------------------

    def run_counters(self) -> None:
        """Each run's counters, recounted from the rows its saves wrote.

        Counters and rows are written in the same batch transaction, so they agree even
        for a killed run. `pages_fetched` is the caller's figure (the crawl's requests,
        the files of an ingest) with no row behind it: not checked.
        """
        runs = {row.id: row for row in self.conn.execute(select(Run).order_by(Run.id))}
        observed: Counter[tuple[int, str]] = Counter()
        for run_id, kind, n in self.conn.execute(
            select(Observation.run_id, Observation.kind, func.count()).group_by(
                Observation.run_id, Observation.kind
            )
        ):
            observed[(run_id, kind)] = n
        versions = self._count_by(Version.first_run_id)
        articles = self._count_by(Article.first_run_id)
        listings = self._count_by(ListingPage.run_id)
        errors = self._count_by(ParseError.run_id)
        removed, returned = self.replay_statuses(runs)
        for run_id, run in runs.items():
            fetched, reparsed = observed[(run_id, "fetched")], observed[(run_id, "reparsed")]
            # save_article: "new" adds an article and a version, "changed" a version,
            # "unchanged" neither; each adds one fetched observation. A reparse adds a
            # version and a reparsed observation per changed reading.
            expected = {
                "articles_new": (articles[run_id], "articles first seen in the run"),
                "articles_changed": (
                    versions[run_id] - articles[run_id],
                    "versions first seen in the run, less its new articles",
                ),
                "articles_unchanged": (
                    fetched - (versions[run_id] - reparsed),
                    "fetched observations that added no version",
                ),
                "articles_seen": (observed[(run_id, "seen")], "seen observations"),
                "listings": (listings[run_id], "listing_pages rows"),
                "errors": (errors[run_id], "parse_errors rows"),
                "articles_removed": (removed[run_id], "removals its gone observations applied"),
                "articles_returned": (returned[run_id], "removed articles fetched or seen again"),
            }
            for name, (count, what) in expected.items():
                stored = getattr(run, name)
                if stored != count:
                    self.add(
                        "run_counters",
                        f"run {run_id} counts {name} = {stored}, the rows say {count} ({what})",
                        ("runs.id", run_id),
                    )

    def _count_by(self, column: Any) -> Counter[int]:
        rows = self.conn.execute(select(column, func.count()).group_by(column))
        return Counter({key: n for key, n in rows if key is not None})

    def replay_statuses(self, runs: dict[int, Any]) -> tuple[Counter[int], Counter[int]]:
        """Removals and returns per run, replayed from the observations; statuses checked.

        An article starts active. A `fetched` or `seen` observation brings a removed
        article back (`articles_returned` of that run); a run that finished `completed`
        removes an active article it has `gone` evidence for and did not fetch or see
        (`articles_removed`). Runs follow one another (a new run marks a running one
        interrupted), so replaying them in id order is what the writer did.
        """
        removed: Counter[int] = Counter()
        returned: Counter[int] = Counter()
        # Only what differs from "active, never removed" is kept: flat memory.
        final: dict[int, tuple[str, int | None]] = {}
        query = (
            select(Observation.article_id, Observation.run_id, Observation.kind)
            .where(Observation.kind.in_(("fetched", "seen", "gone")))
            .group_by(Observation.article_id, Observation.run_id, Observation.kind)
            .order_by(Observation.article_id, Observation.run_id)
        )
        rows = self.conn.execution_options(yield_per=1000).execute(query)
        current: tuple[int, int] | None = None
        kinds: set[str] = set()
        state: dict[int, tuple[str, int | None]] = {}

        def settle() -> None:
            if current is None:
                return
            article_id, run_id = current
            status, removed_in = state.get(article_id, ("active", None))
            if status == "removed" and kinds & {"fetched", "seen"}:
                returned[run_id] += 1
                status, removed_in = "active", None
            run = runs.get(run_id)
            completed = run is not None and run.status == "completed"
            if completed and status == "active" and kinds == {"gone"}:
                removed[run_id] += 1
                status, removed_in = "removed", run_id
            state[article_id] = (status, removed_in)

        for article_id, run_id, kind in rows:
            if (article_id, run_id) != current:
                settle()
                if current is not None and current[0] != article_id:
                    last = state.pop(current[0])
                    if last != ("active", None):
                        final[current[0]] = last
                current, kinds = (article_id, run_id), set()
            kinds.add(kind)
        settle()
        if current is not None:
            last = state.pop(current[0])
            if last != ("active", None):
                final[current[0]] = last
        for article_id, key, status, removed_in in self.conn.execute(
            select(Article.id, Article.article_key, Article.status, Article.removed_run_id)
        ):
            expected = final.get(article_id, ("active", None))
            if (status, removed_in) != expected:
                self.add(
                    "article_status",
                    f"{key} is {status} (removed in run {removed_in}), its observations say "
                    f"{expected[0]} (removed in run {expected[1]})",
                    ("articles.id", article_id),
                )
        return removed, returned

    def running_runs(self) -> None:
        for run_id, started in self.conn.execute(
            select(Run.id, Run.started_at).where(Run.status == "running").order_by(Run.id)
        ):
            self.add(
                "running_run",
                f"run {run_id} (started {started:%Y-%m-%d %H:%M}) is still running: a crawl "
                "in progress, or a killed one (the next run marks it interrupted)",
                ("runs.id", run_id),
                warning=True,
            )
