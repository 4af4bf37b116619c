"""What the page says about itself in `<head>`: title, meta, og:*, canonical, JSON-LD."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from crawler.parsers.blocks import collapse


@dataclass(slots=True)
class PageMetadata:
    seo_title: str | None = None
    description: str | None = None
    og_title: str | None = None
    og_url: str | None = None
    og_image: str | None = None
    canonical: str | None = None
    json_ld_article: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, root: etree._Element) -> PageMetadata:
        meta = cls()
        titles = root.xpath("//title")
        if titles:
            meta.seo_title = collapse("".join(titles[0].itertext())) or None
        first: dict[str, str] = {}
        for element in root.xpath("//meta[@content]"):
            key = (element.get("property") or element.get("name") or "").strip().lower()
            value = collapse(element.get("content"))
            if value and key not in first:
                first[key] = value
        meta.description = first.get("description") or first.get("og:description")
        meta.og_title = first.get("og:title")
        meta.og_url = first.get("og:url")
        meta.og_image = first.get("og:image")
        for link in root.xpath("//link[@href]"):
            if "canonical" in (link.get("rel") or "").lower().split():
                meta.canonical = link.get("href").strip()
                break
        meta.json_ld_article = _json_ld_article(root)
        return meta

    def title_fallback(self) -> str | None:
        headline = self.json_ld_article.get("headline")
        return self.og_title or (collapse(headline) if isinstance(headline, str) else None)


def _json_ld_article(root: etree._Element) -> dict[str, Any]:
    for script in root.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict):
                continue
            kind = item.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if any(k in ("Article", "BlogPosting", "NewsArticle") for k in kinds):
                return item
    return {}
