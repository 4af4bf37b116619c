"""Engines and schema migrations: the one place that knows about backends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url

from storage import search
from storage.locations import normalize_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The newest migration's revision: what an archive's `alembic_version` holds when it is
# current. Every command that opens an archive compares with it, and Alembic (a tenth
# of a second to import, and to read the scripts) is loaded only to migrate or when
# the archive is not current. `tests/test_storage.py` checks it is Alembic's head.
HEAD_REVISION = "0010"
_extracted: Path | None = None
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option that makes a SQLite transaction take the write lock at BEGIN:
# a transaction that reads and then writes would otherwise fail with "database is
# locked" instead of waiting, when another writer committed in between.
WRITE = "cwarchive_write"


class ArchiveError(Exception):
    """A problem with the archive database the user can fix; str() is one line."""


class SchemaOutOfDate(ArchiveError):
    """The database is behind the code's schema: `cwarchive db upgrade` fixes it."""


class NoArchive(ArchiveError):
    """A read-only command was pointed at a database with no archive in it."""


def _dumps(value: Any) -> str:
    # Keep non-ASCII names readable in SQL (LIKE '%Müller%' must match).
    return json.dumps(value, ensure_ascii=False)


# Every PostgreSQL session of ours: no JIT compilation. The views' plans carry a
# correlated subquery per row, whose estimated cost passes `jit_above_cost` long before
# the query is slow: compiling then costs 20 to 100 ms of a query that runs in under one
# (the last run's `reviewed_changes`, 0.04 ms, took 23 ms at week 520 of
# benchmarks/growth.py). JIT pays back on long analytical scans, not on these.
# And random reads priced as the archive's are, from memory: at the default (4, a
# spinning disk's) the planner read every version ever stored into a hash to join the
# 3,530 current ones (`current_articles`, 45 ms of 90 at week 520); at 1.1 it looks
# each up by id, and the view stays within 1.4x from week 10 to 520.
POSTGRES_SESSION_OPTIONS = ("-c jit=off", "-c random_page_cost=1.1")


def with_session_options(url: URL, *options: str) -> URL:
    """A PostgreSQL URL whose sessions start with `options` and ours, after the URL's own
    (a `search_path`, say)."""
    given = url.query.get("options")
    kept = [given] if isinstance(given, str) else list(given or ())
    return url.update_query_dict(
        {"options": " ".join([*kept, *POSTGRES_SESSION_OPTIONS, *options])}
    )


def make_engine(db_url: str) -> Engine:
    url = make_url(normalize_url(db_url))
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, json_serializer=_dumps)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(with_session_options(url), json_serializer=_dumps, pool_pre_ping=True)


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Take over BEGIN from the sqlite3 module (SQLAlchemy's documented recipe), so
    # `_sqlite_on_begin` decides between a plain and an IMMEDIATE transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers work while a crawl writes
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # In WAL mode NORMAL is still safe against a killed process (only a power loss
    # can lose the last commits) and saves an fsync per commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Whether Alembic compares this object with the models.

    The search index (migration 0003) is no model: an FTS5 table and its shadow tables
    (`version_search_data`, ...) on SQLite, a tsvector table on PostgreSQL.
    """
    if type_ == "table" and reflected and compare_to is None and name:
        return name != search.TABLE and not name.startswith(search.TABLE + "_")
    return True


def migrations_dir() -> Path:
    """The migration scripts as files, which is how Alembic reads them.

    From an installed package that is `MIGRATIONS_DIR`. Scrapyd runs a deployed project
    from its egg, a zip file on `sys.path`: the scripts are then copied out of it once,
    into a temporary directory that lives as long as the process.
    """
    global _extracted
    if MIGRATIONS_DIR.is_dir():
        return MIGRATIONS_DIR
    if _extracted is None:
        import atexit
        import shutil
        import tempfile
        from importlib import resources

        target = Path(tempfile.mkdtemp(prefix="cwarchive-migrations-"))
        atexit.register(shutil.rmtree, target, ignore_errors=True)
        _copy_tree(resources.files("storage") / "migrations", target / "migrations")
        _extracted = target / "migrations"
    return _extracted


def _copy_tree(source: Any, target: Path) -> None:
    target.mkdir()
    for entry in source.iterdir():
        if entry.is_dir():
            if entry.name != "__pycache__":
                _copy_tree(entry, target / entry.name)
        elif entry.name.endswith((".py", ".mako", ".ini")):
            (target / entry.name).write_bytes(entry.read_bytes())


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return HEAD_REVISION


def scripts_head() -> str:
    """The head revision of the migration scripts, as Alembic reads them."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "storage/migrations has no revision"
    return head


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }


def current_revision(engine: Engine) -> str | None:
    """The revision in the archive's `alembic_version` table (None: no such table)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def has_tables(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(inspect(conn).get_table_names())


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Apply migrations up to `revision`; returns (revision before, revision after)."""
    from alembic import command

    before = current_revision(engine)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)
    after = current_revision(engine)
    assert after is not None
    return before, after


def check_schema(engine: Engine, *, create: bool) -> None:
    """Create an empty database at head, or refuse one that is not at head."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None and not has_tables(engine):
        if create:
            upgrade(engine)
            return
        raise NoArchive(
            f"no archive in {safe_url(engine)}: run a crawl, `cwarchive ingest` "
            "or `cwarchive db upgrade` first"
        )
    if current is not None and current not in known_revisions():
        raise ArchiveError(
            f"the archive schema {current} is newer than this cwarchive knows: "
            "upgrade cwarchive itself"
        )
    raise SchemaOutOfDate(
        f"the archive schema is at {current or 'an unknown revision'}, this cwarchive "
        f"needs {head}: run `cwarchive db upgrade`"
    )


def safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def sqlite_file(db_url: str) -> str | None:
    """The file behind a SQLite URL, or None for other backends and :memory:."""
    url = make_url(normalize_url(db_url))
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return url.database
