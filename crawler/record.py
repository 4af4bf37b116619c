"""The record's shape and its content hash (see docs/record.md)."""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypedDict

ARTICLE_FIELDS = (
    "page_type",
    "url",
    "canonical_url",
    "article_key",
    "title",
    "seo_title",
    "description",
    "authors",
    "read_minutes",
    "published",
    "reviewed",
    "reviewers",
    "filed_month",
    "key_takeaways",
    "headings",
    "body_text",
    "word_count",
    "tag_counts",
    "content_hash",
)
LISTING_FIELDS = (
    "page_type",
    "url",
    "listing_kind",
    "listing_tag_id",
    "article_links",
    "archive_links",
    "next_page",
    "cards",
    "tag_counts",
)
# What may differ between two fetches of the same content: where the page was fetched,
# the site-wide sidebar counts, and `filed_month`, which comes from the path of the
# article's image in the AEM repository rather than from the article (the redesign
# serves images as `media_<hash>`, so the same article there has none).
NON_CONTENT_FIELDS = frozenset(
    {"url", "canonical_url", "tag_counts", "filed_month", "content_hash"}
)


class Reviewer(TypedDict):
    name: str
    url: str | None


class TagCount(TypedDict):
    group: str | None
    label: str
    count: int
    tag_id: str | None


class Card(TypedDict):
    title: str
    url: str
    date: str | None


def content_hash(record: dict[str, Any]) -> str:
    """sha256 hex of the canonical JSON of the record's content fields."""
    content = {k: v for k, v in record.items() if k not in NON_CONTENT_FIELDS}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
