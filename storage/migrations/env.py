"""Alembic environment: runs on the connection `storage.db.upgrade` hands over.

Run from the `alembic` command line (with `storage/alembic.ini`), it connects to the
`sqlalchemy.url` of that file or to `CWARCHIVE_DB`.
"""

from __future__ import annotations

import os

from alembic import context

from storage.db import include_object, make_engine
from storage.models import Base

target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # The search index is kept beside the models, not in them.
        include_object=include_object,
        # SQLite cannot ALTER most things: batch mode recreates the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = os.environ.get("CWARCHIVE_DB") or context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url or "cwarchive.sqlite")
    with engine.begin() as conn:
        _run(conn)
