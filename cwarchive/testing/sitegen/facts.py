"""The facts a page is rendered from, and from which its expected record is computed.

A page and its expected record come from the same facts but by separate paths
(`markup` renders, `expected` follows docs/record.md), so a fixture is an oracle
that does not depend on the parser.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import quote

SITE = "https://www.mdanderson.org"
UNNAMED_REVIEWER = "an MD Anderson Cancer Center medical professional"
FACET_BASE = f"{SITE}/cancerwise.dir.html/category/content/cq:tags/md-anderson/"
AUTHOR_BASE = f"{SITE}/cancerwise.dir.html/author/"

# The landing page's topic tabs: (tag under publications/cancerwise/, tab label,
# the label cards show, the CSS class the site uses for it).
TOPICS: tuple[tuple[str, str, str, str], ...] = (
    ("diagnosis-treatment", "Diagnosis & Treatment", "Diagnosis & Treatment", "diag-treatment"),
    ("patient-caregiver-stories", "Patients & Caregivers", "Patient & Caregiver Stories",
     "patientCare"),
    ("healthy-living", "Healthy Living", "Healthy Living", "healthy-living"),
    ("research", "Research", "Research", "research"),
    ("expert-insights", "Expert Insights", "Expert Insights", "expert-insights"),
    ("philanthropy", "Philanthropy", "Philanthropy", "philanthropy"),
)  # fmt: skip
TOPIC_TAGS = tuple(topic for topic, *_ in TOPICS)

_DEGREE_END = re.compile(r"(?:[A-Za-z]{1,5}\.)+$|\b(?:MD|PhD|RN|MSN|APRN|MPH)$")
_SLUG_UNSAFE = re.compile(r"[^a-z0-9]")
_INLINE_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def site_date(day: dt.date) -> str:
    """The site's date format: `June 08, 2026` (day zero-padded)."""
    return day.strftime("%B %d, %Y")


def slugify(title: str, limit: int = 120) -> str:
    """The slug AEM derives from a title: every other character becomes `-`.

    A title starting with a quote mark gives a leading `-`, `: ` gives `--`; long
    titles are cut (`...during-cancer-treatm`).
    """
    return _SLUG_UNSAFE.sub("-", title.lower())[:limit]


def plain(text: str) -> str:
    """A body text without its inline links (`[text](url)` -> `text`)."""
    return _INLINE_LINK.sub(r"\1", text)


def inline_links(text: str) -> list[tuple[str, str]]:
    return _INLINE_LINK.findall(text)


def ends_with_degree(name: str) -> bool:
    return bool(_DEGREE_END.search(name))


@dataclass(frozen=True)
class Person:
    """An author or reviewer, named as the page shows them (no trailing comma)."""

    name: str
    url: str | None = None

    @classmethod
    def author(cls, name: str) -> Person:
        return cls(name, AUTHOR_BASE + quote(name))


UNNAMED = Person(UNNAMED_REVIEWER)


@dataclass(frozen=True)
class Facet:
    """One sidebar line `Label (count)` linking to a tag's facet page."""

    group: str
    tag: str  # path under md-anderson/: `diseases/breast-cancer`
    label: str
    count: int

    @property
    def tag_id(self) -> str:
        return f"md-anderson:{self.tag}"

    @property
    def url(self) -> str:
        return FACET_BASE + self.tag


def facet_url(tag: str) -> str:
    return FACET_BASE + tag


def author_url(name: str) -> str:
    return AUTHOR_BASE + quote(name)


def archive_url(section: str, year: int, month: int | None = None) -> str:
    """A year archive (`/<section>/YYYY.html`) or a month archive (`.../YYYY/MM.html`)."""
    if month is None:
        return f"{SITE}/{section}/{year}.html"
    return f"{SITE}/{section}/{year}/{month:02d}.html"


def paged_url(base: str, page: int) -> str:
    """Page `page` of a listing: the base URL for the first, `?page=N` after it."""
    return base if page == 1 else f"{base}?page={page}"


# A body block: (tag, text); tag is p, h2, h3, li (consecutive items make one list)
# or blockquote. Text may hold inline links as `[text](https://...)`.
Block = tuple[str, str]


@dataclass
class ArticleFacts:
    """One article as the site shows it (every field of the record comes from here)."""

    slug: str
    h00: str  # the code's number; "" for the extension-less URL `/<section>/<slug>`
    title: str
    published: dt.date
    section: str = "cancerwise"
    seo_title: str | None = None
    description: str | None = None
    authors: list[str] = field(default_factory=list)
    read_minutes: int | None = 3
    reviewed: dt.date | None = None
    reviewers: list[Person] = field(default_factory=list)
    filed: tuple[int, int] | None = None  # (year, month) of the content path
    key_takeaways: list[str] = field(default_factory=list)
    body: list[Block] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # facet tags (`diseases/x`)
    topic: str = "diagnosis-treatment"  # landing-page topic (publications/cancerwise/x)
    # Rendering choices that do not change the record.
    call_to_action: bool = True
    image: str = "og"  # og: og:image and img; img: img src only; none
    # site (the AEM template), redesign (class-free), blocks (a block design), eds and
    # eds-authored (Edge Delivery Services as SITE.md describes it: served, authored)
    markup: str = "site"
    # The 2013 pages: the date alone where `N minute read | Published DATE` stands.
    bare_date: bool = False
    # The review line (site markup): `text` as the site shows it; `script`, an empty
    # placeholder a script fills in, which the parser cannot read (the record then has
    # no review date and no reviewers: a field moved out of reach, docs/crawl.md).
    review_line: str = "text"
    # When the page last changed (sitemap lastmod, file mtime); default: publish/review.
    modified: dt.datetime | None = None
    # The code's prefix: `h00` (Cancerwise's month codes), `h35` (a publication's year code).
    code: str = "h00"
    # A twin's key (its slug is live under another code too, another article): the slug
    # key with the code it was first listed under kept (`common.urls.choose_article_key`).
    twin_key: str = ""

    @property
    def path(self) -> str:
        if not self.h00:
            # The extension-less URL of Edge Delivery Services, where the site moves.
            return f"/{self.section}/{self.slug}"
        return f"/{self.section}/{self.slug}.{self.code}-{self.h00}.html"

    @property
    def url(self) -> str:
        return SITE + self.path

    @property
    def key(self) -> str:
        """The article's key in the archive (and in `Site.articles`)."""
        return self.twin_key or f"{self.section}/{self.slug}"

    @property
    def filed_month(self) -> tuple[int, int]:
        return self.filed or (self.published.year, self.published.month)

    @property
    def content_path(self) -> str:
        year, month = self.filed_month
        return f"{SITE}/{self.section}/{year}/{month:02d}/{self.slug}/jcr:content"

    @property
    def lastmod(self) -> dt.datetime:
        if self.modified is not None:
            return self.modified
        day = max(self.published, self.reviewed or self.published)
        # Noon UTC: a fixed time of day keeps mtimes deterministic.
        return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)

    @property
    def page_title(self) -> str:
        return self.seo_title if self.seo_title is not None else f"{self.title} | UT MD Anderson"
