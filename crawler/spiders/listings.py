"""Listing pages as the spider reads them: a fetched (or not modified) listing page
is stored, and what it links to is followed (articles, archives, next pages, facet and
author pages), within the configured sections and this run's mode.

A part of `crawler.spiders.cancerwise.CancerwiseSpider` (a mixin of its methods, on
its state): the spider's module holds discovery, identities and the later phases.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from scrapy import Request, Selector
from scrapy.http import Response, TextResponse

from common.urls import canonicalize, listing_kind, same_section, section_of, site_url
from crawler.items import PageItem, PageKind

if TYPE_CHECKING:
    from crawler.spiders.cancerwise import CancerwiseSpider

logger = logging.getLogger("crawler.spiders.cancerwise")


class ListingPages:
    """`parse_listing` and the following of a listing page's links."""

    async def parse_listing(
        self: CancerwiseSpider, response: Response
    ) -> AsyncIterator[PageItem | Request]:
        url = site_url(response.url)
        if response.status == 404:
            self.crawler.stats.inc_value("archive/discovery/missing_entry_pages")
            logger.info("no such entry page: %(url)s", {"url": url})
            return
        item = self._item(response, PageKind.LISTING, url=url)
        if response.status == 304:
            # Not modified since the last fetch: stored as it was, followed as it was.
            self.crawler.stats.inc_value("archive/discovery/listings_not_modified")
            known = self.known_listings.get(url)
            yield item
            if known is not None:
                record = {"listing_kind": known.listing_kind, **known.links}
                for request in self._follow_listing(response, url, record):
                    yield request
            return
        await self._read(item)
        yield item
        if item.record is not None:
            for request in self._follow_listing(response, url, item.record):
                yield request

    def _follow_listing(
        self: CancerwiseSpider, response: Response, url: str, record: dict[str, Any]
    ) -> Iterator[Request]:
        kind = record.get("listing_kind")
        for link in record.get("article_links", []):
            if same_section(section_of(link), self.sections):
                yield from self._listing_article(link)
        for link in record.get("archive_links", []):
            if same_section(section_of(link), self.sections) and self._want_archive(link):
                yield from self._new_listing(link)
        next_page = record.get("next_page")
        # Every run reads first pages (tag counts, new articles); the rest of a long
        # listing only adds article tags, which full runs and --tags collect.
        if next_page and (kind in ("archive", "landing") or self.follow_tags):
            yield from self._new_listing(next_page)
        # Facet and author pages are not record fields: found as links, like a reader
        # would. The landing page and the directory link every facet (the sidebar of
        # every other page repeats them); author pages only matter to full runs.
        wanted: tuple[str, ...] = ()
        if kind in ("landing", "directory") and "?" not in url:
            wanted = ("facet", "author") if self.mode == "full" else ("facet",)
        elif kind in ("facet", "archive") and self.mode == "full":
            wanted = ("author",)
        for link in self._listing_links_of(response, wanted):
            yield from self._new_listing(link)

    def _listing_links_of(
        self: CancerwiseSpider, response: Response, kinds: tuple[str, ...]
    ) -> Iterator[str]:
        """Links to listing pages of `kinds` (facet, author) in the configured sections."""
        marks = {"facet": "cq:tags", "author": "/author/"}
        selector = ", ".join(f"a[href*='{marks[kind]}']::attr(href)" for kind in kinds)
        if not selector or not isinstance(response, TextResponse):
            return  # parse_page read it as HTML, but Scrapy's selectors need a text type
        # A selector of its own rather than the response's cached one (and no cached
        # text): the response may stay alive a while after its callback, and its tree
        # is 1-2 MB (a crawl of a fast replay server peaked at 419 MB with it, 189 without).
        page = Selector(body=response.body, encoding=response.encoding, type="html")
        for href in page.css(selector).getall():
            link = site_url(response.urljoin(href))
            if same_section(section_of(link), self.sections) and listing_kind(link) in kinds:
                yield link.split("?", 1)[0]  # a first page: next pages come from it

    def _new_listing(self: CancerwiseSpider, url: str) -> Iterator[Request]:
        # Sidebars and archive menus repeat the same links on every page: filtered
        # here, a set lookup, rather than as thousands of requests in the scheduler.
        if url not in self._listing_urls:
            self._listing_urls.add(url)
            yield self._listing_request(url)

    def _listing_article(self: CancerwiseSpider, url: str) -> Iterator[Request]:
        self._list_article(url)
        if self._phase == "discovery":
            # The sitemap may still list it with a lastmod that spares the fetch, and
            # its key waits for every twin discovery lists.
            self._listing_links.setdefault(canonicalize(url), url)
            return
        key = self._key_of(url)
        self._listed.add(key)
        if self._claim_article(key):
            yield self._article_request(url, key)
