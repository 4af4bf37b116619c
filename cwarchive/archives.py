"""How a command opens the archive (`storage.open`): to read or to write, and the one
clean `error:` line when it cannot (missing, behind the code, unreachable).

Reading commands never create or migrate a database: `reading` opens a read-only
`storage.Reader`; only the writing commands (a crawl, `ingest`, `reparse`) use
`writing`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from cwarchive.errors import CliError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from storage import Archive
    from storage.opening import Reader


def first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@contextmanager
def reader(db_url: str, *, snapshot: bool = False) -> Iterator[Reader]:
    """The archive opened read-only, or one clean `error:` line."""
    import storage

    try:
        opened = storage.open(db_url, mode="snapshot" if snapshot else "readonly")
    except storage.ArchiveError as error:
        raise CliError(str(error)) from None
    except Exception as error:  # a bad URL, a missing driver
        raise CliError(f"cannot open the archive {db_url}: {first_line(error)}") from None
    with opened:
        yield opened


@contextmanager
def reading(db_url: str, *, snapshot: bool = False) -> Iterator[Connection]:
    """One read-only transaction on the archive, or one clean `error:` line."""
    import storage

    try:
        with reader(db_url, snapshot=snapshot) as opened, opened.connect() as conn:
            yield conn
    except storage.ArchiveError as error:
        raise CliError(str(error)) from None


@contextmanager
def writing(db_url: str, *, create: bool = True) -> Iterator[Archive]:
    """The archive's writer (creating a missing database when `create`), or one
    clean `error:` line."""
    import storage

    try:
        archive = storage.open(db_url, mode="write", create=create)
    except storage.ArchiveError as error:
        raise CliError(str(error)) from None
    except Exception as error:  # a bad URL or an unreachable server
        raise CliError(f"cannot open the archive {db_url}: {first_line(error)}") from None
    try:
        yield archive
    finally:
        archive.close()
