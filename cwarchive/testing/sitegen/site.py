"""A whole synthetic site: articles, facets, listings; written in the replay layout.

`Site` is the model tests mutate between crawls (re-review and move an article,
remove one, add one, change tag counts) and write again; `pages` renders every page
(articles, listings, robots.txt, sitemaps) with its lastmod and expected record, and
`write` hands them to `writer`, which writes them in the replay layout with
`_rules.json` (docs/replay.md, docs/sitegen.md).
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from cwarchive.testing.sitegen.expected import LinkLog, article_record, listing_record
from cwarchive.testing.sitegen.facts import (
    SITE,
    TOPIC_TAGS,
    ArticleFacts,
    Facet,
    Person,
    archive_url,
    author_url,
    facet_url,
    paged_url,
)
from cwarchive.testing.sitegen.markup.article import article_page
from cwarchive.testing.sitegen.markup.landing import landing_page
from cwarchive.testing.sitegen.markup.listing import archive_page, paged_listing_page
from cwarchive.testing.sitegen.markup.sitemap import sitemap_xml
from cwarchive.testing.sitegen.tags import CURRENT
from cwarchive.testing.sitegen.writer import WriteReport, write_pages

DEFAULT_DISALLOW = ("/gifts/", "/lookups/", "/patient-education/")
SITEMAPS = (
    "sitemap.xml",
    "newsroom-sitemap.xml",
    "cancerwise-sitemap.xml",
    "cancer-types-sitemap.xml",
    "treatmentoptions-sitemap.xml",
)
# Pages of other sections listed in sitemap.xml and the other sitemaps, never archived.
OTHER_URLS: dict[str, tuple[str, ...]] = {
    "sitemap.xml": (
        "/publications.html",
        "/publications/subscribe-to-cancerwise.html",
        "/publications/subscribe-to-frontline.html",
        "/about-md-anderson/our-locations.html",
        "/patients-family/diagnosis-treatment/clinical-trials.html",
        "/gifts/donate.html",
        "/patient-education/sleep-hygiene.html",
    ),
    "newsroom-sitemap.xml": (
        "/newsroom/-md-anderson-research-highlights-for-january-12--2022.h00-159536589.html",
    ),
    "cancer-types-sitemap.xml": (
        "/cancer-types/breast-cancer.html",
        "/cancer-types/lung-cancer.html",
    ),
    "treatmentoptions-sitemap.xml": (
        "/treatment-options/chemotherapy.html",
        "/treatment-options/radiation-therapy.html",
    ),
}


def current_facets() -> list[Facet]:
    """The 2026-08-19 sidebar: 94 facets with their real counts."""
    return [Facet(*row) for row in CURRENT]


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


@dataclass
class Page:
    """One file of the site: its URL path (with query), bytes, lastmod and record."""

    path: str
    body: bytes
    lastmod: dt.datetime
    # The expected parse record (None for robots.txt, sitemaps, other pages).
    record: Callable[[], dict[str, Any] | None] = lambda: None

    @property
    def url(self) -> str:
        return SITE + self.path


@dataclass
class Site:
    """The model of a site: what `write` renders and what tests change between crawls."""

    articles: dict[str, ArticleFacts] = field(default_factory=dict)  # key -> facts
    facets: list[Facet] = field(default_factory=current_facets)
    page_size: int = 10
    disallow: list[str] = field(default_factory=lambda: list(DEFAULT_DISALLOW))
    # Old path -> (new path, status), paths answered 410, status overrides (_rules.json).
    redirects: dict[str, tuple[str, int]] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    status: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Keys shown under "Top Stories" on the landing page (default: a fixed pick).
    top_stories: list[str] = field(default_factory=list)
    # Pages of other sections: path -> (html, lastmod); e.g. a newsroom article.
    extra_pages: dict[str, tuple[str, dt.datetime]] = field(default_factory=dict)
    # Other URLs of an article (alias path -> key): AEM serves a page for any h00
    # selector. (A slug the real sitemap lists under two codes is two articles, twins:
    # `ArticleFacts.twin_key`.)
    aliases: dict[str, str] = field(default_factory=dict)
    # Pages showing other sidebar counts than `facets` (URL path with query -> facets):
    # pages are cached separately, so two pages fetched minutes apart can disagree.
    page_facets: dict[str, list[Facet]] = field(default_factory=dict)
    # Archive months that exist even without articles (a real inventory lists them).
    archive_months: set[tuple[str, int, int]] = field(default_factory=set)
    # The site's clock: the lastmod of every listing page. Mutations move it forward,
    # so a listing whose content changed never keeps its old Last-Modified.
    stamp: dt.datetime | None = None

    # ------------------------------------------------------------ model

    def __post_init__(self) -> None:
        if self.stamp is None and self.articles:
            self.stamp = max(a.lastmod for a in self.articles.values())

    def _now(self) -> dt.datetime:
        return self.stamp or dt.datetime(2026, 8, 19, 12, tzinfo=dt.UTC)

    def _touch(self, when: dt.datetime | None) -> dt.datetime:
        """The time of a change: `when`, by default the wall clock.

        Crawlers compare sitemap lastmods with the time of their last fetch, so a
        change made after a crawl must carry a later time than that crawl: the
        wall clock, and never earlier than the site's previous change.
        """
        if when is None:
            clock = dt.datetime.now(dt.UTC).replace(microsecond=0)
            when = max(clock, self._now() + dt.timedelta(seconds=1))
        self.stamp = max(self._now(), when)
        return when

    def article(self, key: str) -> ArticleFacts:
        try:
            return self.articles[key]
        except KeyError:
            raise KeyError(f"no article {key!r} in the site") from None

    def add(self, facts: ArticleFacts, when: dt.datetime | None = None) -> ArticleFacts:
        """A new article; its lastmod is `when`, else its publish (or review) date."""
        if facts.key in self.articles:
            raise ValueError(f"article {facts.key!r} already exists")
        self.articles[facts.key] = facts
        moment = self._touch(when)
        if when is not None:
            facts.modified = moment
        return facts

    def remove(self, key: str, status: int = 404, when: dt.datetime | None = None) -> None:
        """Remove an article: its URL then answers 404 (or 410 with `status=410`)."""
        facts = self.articles.pop(key)
        for path in [p for p, k in self.aliases.items() if k == key]:
            del self.aliases[path]
        if status == 410:
            self.gone.add(facts.path)
        elif status != 404:
            raise ValueError("a removed article answers 404 or 410")
        self._touch(when)

    def move(
        self, key: str, new_h00: str, status: int = 301, when: dt.datetime | None = None
    ) -> ArticleFacts:
        """Give an article a new `h00` URL ("": its extension-less URL); the old URL
        redirects to it."""
        facts = self.article(key)
        old_path = facts.path
        facts.h00 = new_h00
        new_path = facts.path
        if new_path == old_path:
            return facts
        # No chains: earlier redirects to the old URL now point at the new one.
        for source, (target, code) in list(self.redirects.items()):
            if target == old_path:
                self.redirects[source] = (new_path, code)
        self.redirects[old_path] = (new_path, status)
        self.redirects.pop(new_path, None)
        facts.modified = self._touch(when)
        return facts

    def migrate(
        self,
        keys: Iterable[str] | None = None,
        status: int = 301,
        when: dt.datetime | None = None,
    ) -> dict[str, tuple[str, str]]:
        """The move to Edge Delivery Services: articles (all by default) served in block
        markup at their extension-less URLs, every old URL of theirs (aliases too)
        answering `status` to the new one. Sitemaps and listings show the new URLs;
        listing pages keep their URLs and markup. Returns {key: (old URL, new URL)}.
        """
        moment = self._touch(when)
        moved: dict[str, tuple[str, str]] = {}
        for key in list(self.articles) if keys is None else list(keys):
            facts = self.article(key)
            old_url = facts.url
            facts.markup = "blocks"
            self.move(key, "", status=status, when=moment)
            for path in [p for p, k in self.aliases.items() if k == key]:
                del self.aliases[path]
                self.redirects[path] = (facts.path, status)
            moved[key] = (old_url, facts.url)
        return moved

    def rereview(
        self,
        key: str,
        reviewed: dt.date,
        new_h00: str | None = None,
        reviewers: list[Person] | None = None,
        when: dt.datetime | None = None,
    ) -> ArticleFacts:
        """A new "Last reviewed" date (and reviewers); with `new_h00`, a move + 301."""
        facts = self.article(key)
        facts.reviewed = reviewed
        if reviewers is not None:
            facts.reviewers = list(reviewers)
        elif not facts.reviewers:
            facts.reviewers = [Person("an MD Anderson Cancer Center medical professional")]
        moment = self._touch(when)
        if new_h00 is not None:
            self.move(key, new_h00, when=moment)
        facts.modified = self._touch(moment)
        return facts

    def retitle(self, key: str, title: str, when: dt.datetime | None = None) -> ArticleFacts:
        """A new h1 (the slug stays, as on the real site)."""
        facts = self.article(key)
        facts.title = title
        facts.modified = self._touch(when)
        return facts

    def edit_body(
        self, key: str, body: list[tuple[str, str]], when: dt.datetime | None = None
    ) -> ArticleFacts:
        facts = self.article(key)
        facts.body = list(body)
        facts.modified = self._touch(when)
        return facts

    def bump_tag_counts(
        self,
        deltas: Mapping[str, int] | None = None,
        seed: int = 0,
        when: dt.datetime | None = None,
    ) -> dict[str, int]:
        """Change sidebar counts: `deltas` by tag path or tag id, else random even steps.

        Returns the deltas applied (tag path -> delta).
        """
        if deltas is None:
            rng = random.Random(seed)
            deltas = {f.tag: rng.choice((-2, 2, 2, 4)) for f in self.facets if rng.random() < 0.5}
        applied: dict[str, int] = {}
        by_tag = {f.tag: i for i, f in enumerate(self.facets)}
        for tag, delta in deltas.items():
            tag = tag.removeprefix("md-anderson:")
            if tag not in by_tag:
                raise KeyError(f"no facet {tag!r} in the sidebar")
            index = by_tag[tag]
            facet = self.facets[index]
            self.facets[index] = replace(facet, count=max(0, facet.count + delta))
            applied[tag] = delta
        self._touch(when)
        return applied

    # ------------------------------------------------------------ views

    def _newest_first(self, articles: Iterable[ArticleFacts]) -> list[ArticleFacts]:
        return sorted(articles, key=lambda a: (a.published, a.key), reverse=True)

    def sections(self) -> list[str]:
        return sorted(
            {a.section for a in self.articles.values()}, key=lambda s: (s != "cancerwise", s)
        )

    def listed(self, section: str = "cancerwise") -> list[ArticleFacts]:
        return self._newest_first(a for a in self.articles.values() if a.section == section)

    def months(self, section: str) -> list[tuple[int, int]]:
        found = {a.filed_month for a in self.articles.values() if a.section == section}
        found |= {(y, m) for s, y, m in self.archive_months if s == section}
        return sorted(found)

    def _related(self) -> dict[str, list[ArticleFacts]]:
        """Five stories per article: the nearest of its topic (then of the site)."""
        related: dict[str, list[ArticleFacts]] = {}
        everything = self._newest_first(self.articles.values())
        by_topic: dict[tuple[str, str], list[ArticleFacts]] = {}
        for article in everything:
            by_topic.setdefault((article.section, article.topic), []).append(article)
        for group in by_topic.values():
            pool = group if len(group) > 5 else everything
            index = {a.key: i for i, a in enumerate(pool)}
            for article in group:
                i = index[article.key]
                picks = [
                    a for a in pool[i + 1 : i + 6] + pool[max(0, i - 5) : i] if a is not article
                ]
                related[article.key] = picks[:5]
        return related

    def pages(self) -> Iterator[Page]:
        """Every page of the site, rendered (robots.txt and sitemaps first)."""
        stamp = self._now()
        yield Page("/robots.txt", self.robots_txt().encode(), stamp)
        yield from self._sitemaps(stamp)
        facets = list(self.facets)
        related = self._related()
        aliased: dict[str, list[str]] = {}
        for path, key in self.aliases.items():
            aliased.setdefault(key, []).append(path)
        for article in self.articles.values():
            shown = self.page_facets.get(article.path, facets)
            page = self._article_page(article, shown, related.get(article.key, []))
            yield page
            for path in aliased.get(article.key, ()):
                if path != article.path:
                    yield Page(path, page.body, page.lastmod, _at_url(page, SITE + path))
        for section in self.sections():
            yield from self._listings(section, facets, stamp)
        for path, (html, lastmod) in self.extra_pages.items():
            yield Page(path, html.encode(), lastmod)

    def _article_page(
        self, article: ArticleFacts, facets: list[Facet], related: list[ArticleFacts]
    ) -> Page:
        html = article_page(article, facets, related)
        snapshot = replace(article, authors=list(article.authors), body=list(article.body))
        return Page(
            article.path,
            html.encode(),
            article.lastmod,
            lambda: article_record(snapshot, facets),
        )

    def _listings(self, section: str, facets: list[Facet], stamp: dt.datetime) -> Iterator[Page]:
        listed = self.listed(section)
        if section == "cancerwise" and listed:
            yield self._landing(listed, stamp)
            yield from self._paged(
                f"{SITE}/cancerwise.dir.html", "Cancerwise", listed, facets, stamp
            )
            tagged: dict[str, list[ArticleFacts]] = {f.tag: [] for f in facets}
            tagged.update({f"publications/cancerwise/{t}": [] for t in TOPIC_TAGS})
            authors: dict[str, list[ArticleFacts]] = {}
            for article in listed:
                for tag in article.tags:
                    tagged.setdefault(tag, []).append(article)
                tagged.setdefault(f"publications/cancerwise/{article.topic}", []).append(article)
                for name in article.authors:
                    authors.setdefault(name, []).append(article)
            labels = {f.tag: f.label for f in facets}
            for tag, members in tagged.items():
                title = labels.get(tag) or tag.rsplit("/", 1)[-1].replace("-", " ").title()
                yield from self._paged(facet_url(tag), title, members, facets, stamp)
            for name, members in sorted(authors.items()):
                yield from self._paged(author_url(name), name, members, facets, stamp)
        elif listed:
            # A publication's landing page lists its stories (`/publications/promise.html`).
            title = section.rsplit("/", 1)[-1]
            yield from self._paged(f"{SITE}/{section}.html", title, listed, facets, stamp)
        months = self.months(section)
        years = sorted({y for y, _ in months})
        by_month: dict[tuple[int, int], list[ArticleFacts]] = {}
        for article in listed:
            by_month.setdefault(article.filed_month, []).append(article)
        for year in years:
            html, log = archive_page(section, year, None, [], months, years)
            url = archive_url(section, year)
            yield Page(_path(url), html.encode(), stamp, _listing(url, log, []))
        for year, month in months:
            html, log = archive_page(
                section, year, month, by_month.get((year, month), []), months, years
            )
            url = archive_url(section, year, month)
            yield Page(_path(url), html.encode(), stamp, _listing(url, log, []))

    def _landing(self, listed: list[ArticleFacts], stamp: dt.datetime) -> Page:
        top = [self.articles[k] for k in self.top_stories if k in self.articles]
        if not top:
            # A fixed pick that is not just the newest: every 7th article.
            top = listed[6::7][:5] or listed[:5]
        by_topic: dict[str, list[ArticleFacts]] = {}
        for article in listed:
            by_topic.setdefault(article.topic, []).append(article)
        html, log = landing_page("cancerwise", listed[:6], top, by_topic)
        url = f"{SITE}/cancerwise.html"
        return Page("/cancerwise.html", html.encode(), stamp, _listing(url, log, []))

    def _paged(
        self,
        base: str,
        title: str,
        members: list[ArticleFacts],
        facets: list[Facet],
        stamp: dt.datetime,
    ) -> Iterator[Page]:
        size = max(1, self.page_size)
        pages = max(1, -(-len(members) // size))
        for page in range(1, pages + 1):
            chunk = members[(page - 1) * size : page * size]
            url = paged_url(base, page)
            shown = self.page_facets.get(_path(url), facets)
            html, log = paged_listing_page(base, title, chunk, page, pages, shown)
            yield Page(_path(url), html.encode(), stamp, _listing(url, log, shown))

    def robots_txt(self) -> str:
        lines = ["User-agent: *"] + [f"Disallow: {path}" for path in self.disallow]
        lines.append("")
        lines += [f"Sitemap: {SITE}/{name}" for name in SITEMAPS]
        return "\n".join(lines) + "\n"

    def _sitemaps(self, stamp: dt.datetime) -> Iterator[Page]:
        entries: dict[str, list[tuple[str, dt.datetime]]] = {name: [] for name in SITEMAPS}
        for name, paths in OTHER_URLS.items():
            entries[name] += [(SITE + path, stamp) for path in paths]
        for section in self.sections():
            name = "cancerwise-sitemap.xml" if section == "cancerwise" else "sitemap.xml"
            for article in sorted(
                (a for a in self.articles.values() if a.section == section), key=lambda a: a.path
            ):
                entries[name].append((article.url, article.lastmod))
            for path, key in sorted(self.aliases.items()):
                article = self.articles.get(key)
                if article is not None and article.section == section and path != article.path:
                    entries[name].append((SITE + path, article.lastmod))
            months = self.months(section)
            for year in sorted({y for y, _ in months}):
                entries[name].append((archive_url(section, year), stamp))
            for year, month in months:
                entries[name].append((archive_url(section, year, month), stamp))
        for name, rows in entries.items():
            yield Page("/" + name, sitemap_xml(rows).encode(), stamp)

    def rules(self) -> dict[str, Any]:
        return {
            "redirects": {src: [dst, code] for src, (dst, code) in sorted(self.redirects.items())},
            "gone": sorted(self.gone),
            "status": self.status,
        }

    def expected_records(self) -> dict[str, dict[str, Any]]:
        """URL -> expected record of every article and listing page."""
        out = {}
        for page in self.pages():
            record = page.record()
            if record is not None:
                out[page.url] = record
        return out

    # ------------------------------------------------------------ writing

    def write(self, out_dir: str | os.PathLike[str]) -> WriteReport:
        """Render the site into `out_dir` in the replay layout (docs/replay.md).

        Only changed files are rewritten; mtimes are the pages' lastmods; files of
        pages no longer in the model are deleted (`writer.write_pages`).
        """
        return write_pages(out_dir, self.pages(), self.rules(), self._now())


def _at_url(page: Page, url: str) -> Callable[[], dict[str, Any] | None]:
    """The record of the same page fetched at another URL."""

    def record() -> dict[str, Any] | None:
        found = page.record()
        return None if found is None else {**found, "url": url}

    return record


def _listing(url: str, log: LinkLog, facets: list[Facet]) -> Callable[[], dict[str, Any]]:
    return lambda: listing_record(url, log, facets)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
