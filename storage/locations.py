"""Where an archive is: database URLs from what users type. Pure string rules.

Kept apart from `storage.db` so the CLI can resolve `--db` without importing
SQLAlchemy or Alembic.
"""

from __future__ import annotations

import os


def normalize_url(db_url: str) -> str:
    """A plain path becomes a SQLite URL; `postgresql://` uses psycopg 3."""
    if "://" not in db_url:
        return "sqlite:///" + os.path.abspath(db_url)
    if db_url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + db_url.split("://", 1)[1]
    return db_url
