"""Names and defaults the CLI offers before it touches a database.

Field lists, export kinds and formats, batch sizes and the query timeout: the
commands build their option choices from these at start-up, so they live in a module
that imports neither SQLAlchemy nor Alembic. The modules that do the work
(`storage.models`, `storage.queries`, `storage.export`, `storage.readonly`) take them
from here.
"""

from __future__ import annotations

from common.record import ARTICLE_FIELDS

# The record fields stored on a version row, besides the bookkeeping columns: all but
# the page type, the fetch URL and the key (on observations and articles) and the
# site-wide tag counts (in their own tables).
VERSION_FIELDS = tuple(
    name for name in ARTICLE_FIELDS if name not in ("page_type", "url", "article_key", "tag_counts")
)
# Fields a change is reported for (`cwarchive diff`, the `field_changes` view).
DIFF_FIELDS = tuple(name for name in VERSION_FIELDS if name != "content_hash")

# `cwarchive export --what`: what each selects is `storage.export.EXPORTS`.
EXPORT_WHATS = ("articles", "versions", "changes", "tags", "runs")
EXPORT_FORMATS = ("csv", "jsonl", "parquet")
EXPORT_BATCH_SIZE = 1000

# `cwarchive query`: seconds of database time before a statement is cancelled.
QUERY_TIMEOUT = 30.0
QUERY_BATCH_SIZE = 500

# `cwarchive search --field`: where the words are looked for.
SEARCH_FIELDS = ("title", "body", "all")
