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
# The fields of a listing record a crawl follows: kept with each fetch of the page, so a
# 304 ("not modified") is followed as the page was (storage `listing_pages.links`).
LISTING_LINKS = ("article_links", "archive_links", "next_page")
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


# Fields an earlier parser version counted as content: parser 1 hashed `filed_month`.
# A stored version's hash is reproduced by the rule of the parser that made it.
FORMER_CONTENT_FIELDS: dict[str, frozenset[str]] = {"1": frozenset({"filed_month"})}


def non_content_fields(parser_version: str | None = None) -> frozenset[str]:
    """The fields left out of the hash by `parser_version` (default: the current rule)."""
    return NON_CONTENT_FIELDS - FORMER_CONTENT_FIELDS.get(parser_version or "", frozenset())


def with_key(record: dict[str, Any], key: str) -> dict[str, Any]:
    """`record` as the article of key `key`: the key is content, so the hash follows it.

    The parser keys a page by its slug (`common.urls.article_key`); a twin of another
    article of that slug is archived under a key of its own (`choose_article_key`).
    """
    if record.get("article_key") == key:
        return record
    record = {**record, "article_key": key}
    record["content_hash"] = content_hash(record)
    return record


def content_hash(record: dict[str, Any], parser_version: str | None = None) -> str:
    """sha256 hex of the canonical JSON of the record's content fields.

    `parser_version`: hash by the rule that parser version used (for stored versions).
    """
    excluded = non_content_fields(parser_version)
    content = {k: v for k, v in record.items() if k not in excluded}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
