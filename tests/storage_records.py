"""Synthetic parse records (docs/record.md) and raw pages for the storage tests."""

from __future__ import annotations

import copy
import html
from typing import Any

from common.record import content_hash

SITE = "https://www.mdanderson.org"

BREAST = "md-anderson:diseases/breast-cancer"
UTERINE = "md-anderson:diseases/uterine-cancer"
PREVENTION = "md-anderson:cancer-topic/prevention"


def sidebar(**counts: int) -> list[dict[str, Any]]:
    """The default sidebar, with counts overridden by keyword (breast=708, ...)."""
    values = {"breast": 712, "uterine": 78, "prevention": 882, **counts}
    return [
        {
            "group": "Diseases",
            "label": "Breast Cancer",
            "count": values["breast"],
            "tag_id": BREAST,
        },
        {
            "group": "Diseases",
            "label": "Uterine Cancer",
            "count": values["uterine"],
            "tag_id": UTERINE,
        },
        {
            "group": "Cancer Topic",
            "label": "Prevention",
            "count": values["prevention"],
            "tag_id": PREVENTION,
        },
    ]


def article_url(key: str, h00: int = 1) -> str:
    return f"{SITE}/{key}.h00-{h00}.html"


def article(
    key: str = "cancerwise/what-to-know-about-breast-cancer-screening",
    *,
    h00: int = 158_901,
    **overrides: Any,
) -> dict[str, Any]:
    """An article record; `overrides` replace fields, `content_hash` is recomputed."""
    slug = key.rsplit("/", 1)[-1]
    url = article_url(key, h00)
    record: dict[str, Any] = {
        "page_type": "article",
        "url": url,
        "canonical_url": url,
        "article_key": key,
        "title": slug.replace("-", " ").capitalize(),
        "seo_title": f"{slug} | MD Anderson Cancer Center",
        "description": f"What you should know: {slug}.",
        "authors": ["Jane Doe"],
        "read_minutes": 4,
        "published": "2024-03-05",
        "reviewed": None,
        "reviewers": [],
        "filed_month": "2024-03",
        "key_takeaways": ["Screening saves lives", "Talk to your doctor"],
        "headings": ["Who should be screened?", "What happens next"],
        "body_text": f"Screening finds cancer early.\n\nThis article is about {slug}.",
        "word_count": 0,
        "tag_counts": sidebar(),
        "content_hash": "",
    }
    record.update(copy.deepcopy(overrides))
    if "word_count" not in overrides:
        record["word_count"] = len(record["body_text"].split())
    record["content_hash"] = content_hash(record)
    return record


FACET_URL = (
    f"{SITE}/cancerwise.dir.html/category/content/cq:tags/md-anderson/diseases/breast-cancer"
)


def listing(
    url: str = FACET_URL,
    *,
    kind: str = "facet",
    tag_id: str | None = BREAST,
    links: list[str] | None = None,
    tag_counts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "page_type": "listing",
        "url": url,
        "listing_kind": kind,
        "listing_tag_id": tag_id,
        "article_links": links or [],
        "archive_links": [],
        "next_page": None,
        "cards": [],
        "tag_counts": sidebar() if tag_counts is None else tag_counts,
    }


def raw_page(record: dict[str, Any]) -> bytes:
    """Plausible HTML for a record: different content gives different bytes."""
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in record["body_text"].split("\n\n"))
    return (
        f"<!DOCTYPE html><html><head><title>{html.escape(record['seo_title'] or '')}</title>"
        f'<link rel="canonical" href="{record["canonical_url"]}"></head><body>'
        f"<h1>{html.escape(record['title'])}</h1>{paragraphs}"
        f"<!-- {record['content_hash']} --></body></html>"
    ).encode()


def article_html(
    slug: str = "story-one",
    *,
    title: str = "Story one",
    h00: int = 159_000_001,
    published: str = "March 5, 2024",
    reviewed: str = "March 6, 2024",
    reviewer: str = "Therese Bevers, M.D.",
    body: str = "Screening finds cancer early.",
) -> bytes:
    """A small article page the real parser (`crawler.parsers.parse_page`) accepts."""
    url = f"{SITE}/cancerwise/{slug}.h00-{h00}.html"
    return f"""<!DOCTYPE html><html><head><title>{title} | MD Anderson</title>
<link rel="canonical" href="{url}"><meta name="description" content="About {title}.">
</head><body><main><article><h1>{title}</h1><p>BY Jane Doe</p>
<p>Published {published}</p>
<p>Last reviewed by <a href="https://faculty.mdanderson.org/x.html">{reviewer}</a>
on {reviewed}</p>
<div><p>{body}</p><h2>Who should be screened</h2><p>Adults over 40.</p></div>
</article></main></body></html>""".encode()
