"""The versioned archive: SQLAlchemy models, Alembic migrations and the `Archive` API.

See docs/architecture.md (the contract) and docs/storage.md (schema, rules, queries).

The names below are imported on first use (PEP 562), so that importing a light
submodule (`storage.vocabulary`, `storage.locations`) does not import SQLAlchemy and
Alembic: the CLI's start-up depends on it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.archive import Archive
    from storage.db import ArchiveError, NoArchive, SchemaOutOfDate
    from storage.known import KnownArticle
    from storage.listings import KnownListing

_EXPORTS = {
    "Archive": "storage.archive",
    "KnownArticle": "storage.known",
    "KnownListing": "storage.listings",
    "ArchiveError": "storage.db",
    "NoArchive": "storage.db",
    "SchemaOutOfDate": "storage.db",
    # One way in: `storage.open(url, mode="write"|"shared"|"readonly"|"snapshot")`.
    "open": "storage.opening",
    "Reader": "storage.opening",
}

__all__ = [
    "Archive",
    "ArchiveError",
    "KnownArticle",
    "KnownListing",
    "NoArchive",
    "Reader",
    "SchemaOutOfDate",
    "open",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'storage' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
