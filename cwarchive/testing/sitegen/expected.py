"""Expected parse records, computed from facts by the rules of docs/record.md.

Nothing here reads HTML: the record follows from the same facts the page is rendered
from, so a fixture checks the parser against the documented contract.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from common import urls
from common.record import ARTICLE_FIELDS, LISTING_FIELDS, content_hash
from cwarchive.testing.sitegen.facts import ArticleFacts, Facet, plain

_WHITESPACE = re.compile(r"\s+")


def normal(text: str) -> str:
    """The record's text normal form: whitespace collapsed to one space, stripped."""
    return _WHITESPACE.sub(" ", text).strip()


def tag_counts(facets: Iterable[Facet]) -> list[dict[str, Any]]:
    return [
        {"group": f.group, "label": normal(f.label), "count": f.count, "tag_id": f.tag_id}
        for f in facets
    ]


def article_record(
    facts: ArticleFacts, facets: Sequence[Facet], url: str | None = None
) -> dict[str, Any]:
    """The record `parse_page(page, url)` must return for this article's page."""
    body_blocks = [(tag, normal(plain(text))) for tag, text in facts.body]
    body_text = "\n\n".join(text for _, text in body_blocks if text)
    canonical = urls.canonicalize(facts.url)
    readable_review = facts.reviewed is not None and facts.review_line == "text"
    record: dict[str, Any] = {
        "page_type": "article",
        "url": url or facts.url,
        "canonical_url": canonical,
        "article_key": urls.article_key(canonical),
        "title": normal(facts.title),
        "seo_title": normal(facts.page_title),
        "description": normal(facts.description) if facts.description else None,
        "authors": [normal(name) for name in facts.authors],
        "read_minutes": facts.read_minutes,
        "published": facts.published.isoformat(),
        "reviewed": facts.reviewed.isoformat() if readable_review else None,
        "reviewers": [{"name": normal(p.name), "url": p.url} for p in facts.reviewers]
        if readable_review
        else [],
        # Block markup serves images as `media_<hash>`: no content path, no month.
        "filed_month": None
        if facts.image == "none" or facts.markup in ("blocks", "eds", "eds-authored")
        else "{:04d}-{:02d}".format(*facts.filed_month),
        "key_takeaways": [normal(plain(item)) for item in facts.key_takeaways],
        "headings": [text for tag, text in body_blocks if tag in ("h2", "h3")],
        "body_text": body_text,
        "word_count": len(body_text.split()),
        "tag_counts": tag_counts(facets),
    }
    record["content_hash"] = content_hash(record)
    assert tuple(record) == ARTICLE_FIELDS
    return record


@dataclass
class LinkLog:
    """The article and archive links a listing page shows, in the order it shows them.

    The renderer writes every link here as it emits it; `listing_record` then applies
    the documented rules (de-duplication, first title, first date) to that order.
    """

    entries: list[tuple[str, str | None, str | None]]
    next_page: str | None = None

    @classmethod
    def new(cls) -> LinkLog:
        return cls([])

    def article(self, url: str, title: str | None = None, date: str | None = None) -> None:
        """A link to an article; `title` when the link text is the article's title."""
        self.entries.append((url, title, date))

    def archive(self, url: str) -> None:
        self.entries.append((url, None, None))


def listing_record(url: str, log: LinkLog, facets: Sequence[Facet]) -> dict[str, Any]:
    article_links: list[str] = []
    archive_links: list[str] = []
    titles: dict[str, str] = {}
    dates: dict[str, str] = {}
    for link, title, date in log.entries:
        target = urls.canonicalize(link)
        if urls.is_article_url(target):
            if target not in article_links:
                article_links.append(target)
            if title and target not in titles:
                titles[target] = normal(title)
            if date and target not in dates:
                dates[target] = date
        elif urls.is_archive_url(target) and target not in archive_links:
            archive_links.append(target)
    kind = urls.listing_kind(url)
    record: dict[str, Any] = {
        "page_type": "listing",
        "url": url,
        "listing_kind": kind,
        "listing_tag_id": urls.tag_id_from_url(url) if kind == "facet" else None,
        "article_links": article_links,
        "archive_links": archive_links,
        "next_page": urls.site_url(log.next_page) if log.next_page else None,
        "cards": [
            {"title": titles[link], "url": link, "date": dates.get(link)}
            for link in article_links
            if link in titles
        ],
        "tag_counts": tag_counts(facets),
    }
    assert tuple(record) == LISTING_FIELDS
    return record
