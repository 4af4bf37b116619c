"""The versioned archive: SQLAlchemy models, Alembic migrations and the `Archive` API.

See docs/architecture.md (the contract) and docs/storage.md (schema, rules, queries).
"""

from storage.archive import Archive, KnownArticle
from storage.db import ArchiveError, NoArchive, SchemaOutOfDate

__all__ = ["Archive", "ArchiveError", "KnownArticle", "NoArchive", "SchemaOutOfDate"]
