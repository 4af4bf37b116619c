"""One way into storage: `storage.open(url, mode=...)`.

- `write`: the writer of one process (`storage.Archive`): creates a missing or empty
  database at the current schema, refuses one behind it (`SchemaOutOfDate`).
- `shared`: the writer several processes share (`storage.shared.SharedArchive`, a
  distributed run).
- `readonly`: a `Reader`: never creates, migrates or writes a database; each
  `connect()` is one read transaction.
- `snapshot`: a `Reader` whose every `connect()` reads one consistent snapshot on
  PostgreSQL too (REPEATABLE READ): a report or a check while a crawl writes.

A reader refuses a missing database (`NoArchive`, without creating a file) and one not
at the code's schema (`SchemaOutOfDate`: "run `cwarchive db upgrade`"). How a
connection is made read-only is `storage.readonly`, written once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from storage import readonly
from storage.db import ArchiveError, NoArchive

if TYPE_CHECKING:
    from storage.known import KnownArticle
    from storage.listings import KnownListing

MODES = ("write", "shared", "readonly", "snapshot")
READ_MODES = ("readonly", "snapshot")


def open(db_url: str, mode: str = "readonly", **options: Any) -> Any:
    """The archive at `db_url` opened for `mode` (one of `MODES`).

    `options` go to the writer's `open` (`create`, `batch_size`, ...); a reader takes
    none.
    """
    if mode == "write":
        from storage.archive import Archive

        return Archive.open(db_url, **options)
    if mode == "shared":
        from storage.shared import SharedArchive

        return SharedArchive.open(db_url, **options)
    if mode in READ_MODES:
        if options:
            raise TypeError(f"a {mode} reader takes no options: {sorted(options)}")
        return Reader.open(db_url, snapshot=mode == "snapshot")
    raise ValueError(f"no storage mode {mode!r}: one of {', '.join(MODES)}")


class Reader:
    """The archive opened to read. A context manager; `connect()` per question."""

    def __init__(self, engine: Engine, shown: str) -> None:
        self.engine = engine
        self.shown = shown

    @classmethod
    def open(cls, db_url: str, *, snapshot: bool = False) -> Reader:
        engine = readonly.read_only_engine(db_url, snapshot=snapshot)
        shown = readonly.shown(db_url)
        try:
            readonly.check_schema(engine, shown)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, shown)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """One read transaction, rolled back at the end (nothing to commit)."""
        try:
            conn = self.engine.connect()
        except SQLAlchemyError as error:
            raise ArchiveError(
                f"cannot open the archive {self.shown}: {readonly.first_line(error)}"
            ) from None
        with conn:
            yield conn

    def known_articles(self) -> dict[str, KnownArticle]:
        """Every archived article, by key (`storage.known`)."""
        from storage import known

        with self.connect() as conn:
            return known.known_articles(conn)

    def known_listings(self, parser_version: str | None = None) -> dict[str, KnownListing]:
        """The listing pages that can be asked for again, by URL (`storage.known`)."""
        from storage import known

        with self.connect() as conn:
            return known.known_listings(conn, parser_version)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NothingKnown:
    """What a crawl knows of an archive that does not exist yet: nothing."""

    def known_articles(self) -> dict[str, KnownArticle]:
        return {}

    def known_listings(self, parser_version: str | None = None) -> dict[str, KnownListing]:
        return {}

    def close(self) -> None:
        pass


def read_known(db_url: str) -> Reader | NothingKnown:
    """What a crawl reads of the archive before it starts (the spider's
    `ARCHIVE_KNOWN_READER`): a reader, or nothing when the database does not exist yet
    (the crawl's writer creates it). An archive behind the code is `SchemaOutOfDate`."""
    try:
        return Reader.open(db_url)
    except NoArchive:
        return NothingKnown()
