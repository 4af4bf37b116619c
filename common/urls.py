"""URL rules of the source, shared by parsers, spiders and storage.

Pure string functions: no I/O, no Scrapy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

SITE = "https://www.mdanderson.org"
SITE_HOSTS = frozenset({"www.mdanderson.org", "mdanderson.org"})

# Sections that use the blog template: Cancerwise and every publication, spelled as the
# site spells them (`publications/AdvanceTeam`).
_SECTION = r"(?P<section>cancerwise|publications/[A-Za-z0-9][A-Za-z0-9-]*)"
# Article pages under either URL scheme: the AEM site's `<slug>.h<NN>-<digits>.html`
# (Cancerwise files under `h00` month codes, publications under year codes such as `h35`),
# and the extension-less `<slug>` of Adobe Edge Delivery Services, where the site is moving.
_CODED_ARTICLE_PATH = re.compile(
    rf"^/{_SECTION}/(?P<slug>[^/]+?)\.(?P<code>h\d\d-\d+)\.html$", re.IGNORECASE
)
_BARE_ARTICLE_PATH = re.compile(rf"^/{_SECTION}/(?P<slug>[^/.]+)$")
# Year and month archives, with or without `.html`.
_ARCHIVE_PATH = re.compile(rf"^/{_SECTION}/(?P<year>\d{{4}})(?:/(?P<month>\d{{2}}))?(?:\.html)?$")
_LANDING_PATH = re.compile(rf"^/{_SECTION}(?:\.html)?$")
_DIRECTORY_PATH = re.compile(rf"^/{_SECTION}\.dir\.html(?P<rest>/.*)?$")
# Any page under a section: its landing page, directory or a path below it.
_IN_SECTION = re.compile(rf"^/{_SECTION}(?:$|/|\.html$|\.dir\.html(?:/|$))")
# What `article_key` drops: an `.h<NN>-<digits>` code and an `.html` extension.
_KEY_SUFFIX = re.compile(r"(?:\.h\d\d-\d+)?(?:\.html)?$", re.IGNORECASE)
# The code's number is 789 x the YYYYMM (month codes) or YYYY (year codes) it was filed in.
_CODE_FACTOR = 789
_TAGS_MARK = "cq:tags/"
# An href that urljoin resolves by the base's scheme and host alone: one with its own
# host (`https://host/...`, `//host/...`) or a path from the root (`/cancerwise/...`).
# No tab or newline anywhere: urlsplit deletes them first (`/\t/x` is read as `//x`).
_ORIGIN_RELATIVE = re.compile(
    r"(?:(?:[A-Za-z][A-Za-z0-9+.-]*:)?//[^/?#\t\r\n]|/(?![/\t\r\n]))[^\t\r\n]*"
)


def canonicalize(url: str, base: str | None = None) -> str:
    """The URL on https://www.mdanderson.org, without query or fragment.

    Any host is rewritten onto the site: a page fetched from a replay server on
    loopback keeps the identity it has on the real site.
    """
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url.strip())
    path = parts.path or "/"
    return urlunsplit(("https", "www.mdanderson.org", path, "", ""))


def resolve(href: str, base: str) -> str | None:
    """`href` made absolute against `base`, or None when it is no URL at all.

    Page content can hold hrefs that `urllib` refuses (`http://[www...`, an unclosed
    IPv6 bracket): such a link is no link, never a failed parse.
    """
    try:
        return urljoin(base, href.strip())
    except ValueError:
        return None


def origin_of(url: str) -> str | None:
    """`scheme://host/` of `url`, or None when it has no scheme or is no URL.

    See `join_base`: it stands for `url` in resolving an href with its own host or
    a path from the root.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme else None


def join_base(href: str, base: str, origin: str | None) -> str:
    """What of `base` `resolve(href, base)` and `is_same_site(..., base)` read.

    `origin` (`origin_of(base)`) for an href with its own host or a path from the
    root, else all of `base`: results keyed by it are shared by the pages of a host.
    """
    # Stripped as `resolve` strips it: `// ` is `//`, which reads the base's path.
    if origin is not None and _ORIGIN_RELATIVE.fullmatch(href.strip()):
        return origin
    return base


def is_site_url(url: str) -> bool:
    """True for an absolute URL on the site (either host name, http or https)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname in SITE_HOSTS


def path_of(url: str) -> str:
    return urlsplit(url).path or "/"


def section_of(url: str) -> str | None:
    """`cancerwise` or `publications/<name>` for a page under an archived section."""
    path = path_of(url)
    match = _IN_SECTION.match(path) or _CODED_ARTICLE_PATH.match(path)
    return match.group("section") if match else None


def same_section(section: str | None, sections: Iterable[str]) -> bool:
    """`section` is one of `sections`, whatever the case either is typed in.

    The site spells some sections in mixed case (`publications/AdvanceTeam`); a user
    typing `publications/advanceteam` means the same one.
    """
    if section is None:
        return False
    folded = section.casefold()
    return any(folded == name.casefold() for name in sections)


def is_article_url(url: str) -> bool:
    """An article page by its URL: `/<section>/<slug>.h<NN>-<digits>.html` (any two-digit
    code), or the extension-less `/<section>/<slug>` of the redesign (a year like
    `/cancerwise/2026` is an archive). A bare `<slug>.html` is not claimed: publications
    keep issue pages there, and such a page is known by its content.
    """
    path = path_of(url)
    if _CODED_ARTICLE_PATH.match(path):
        return True
    return bool(_BARE_ARTICLE_PATH.match(path)) and not _ARCHIVE_PATH.match(path)


# Cached: a crawl asks for the key of the same URL several times (the spider's decision,
# the dedupe pipeline, the archive's save), 3,400 times each in an unchanged re-crawl.
@lru_cache(maxsize=1 << 14)
def article_key(url: str) -> str:
    """The article's identity by its slug: its path without `/`, an `.h<NN>-<digits>`
    code and an `.html` extension, so `x.h00-159856134.html`, `x.html` and `x` are one
    article. Twins (two live pages of one slug under two codes) are told apart by
    `choose_article_key`."""
    path = path_of(url).lstrip("/")
    return _KEY_SUFFIX.sub("", path)


def article_code(url: str) -> str | None:
    """`h00-159856134` of an article URL that carries a code, else None."""
    match = _CODED_ARTICLE_PATH.match(path_of(url))
    return match.group("code").lower() if match else None


def twin_key(url: str) -> str:
    """The key of a twin: the slug key with the URL's code kept
    (`cancerwise/x.h00-159856134`); the slug key for a URL without a code."""
    code = article_code(url)
    key = article_key(url)
    return f"{key}.{code}" if code else key


def filed_order(code: str) -> tuple[int, str]:
    """Sorts codes by when they were filed: `h00-<789 x YYYYMM>` and `h35-<789 x YYYY>`
    compare as YYYYMM (a year code as its January); a number that is no such product
    sorts by itself, after them."""
    digits = int(code.partition("-")[2])
    filed, rest = divmod(digits, _CODE_FACTOR)
    if rest:
        return (1 << 62, code)
    return (filed * 100 + 1 if filed < 10_000 else filed, code)


def choose_article_key(url: str, listed: Iterable[str], holders: Mapping[str, str]) -> str:
    """The key of the article at `url`: the one rule of identity (docs/record.md).

    `listed`: the article URLs of the same slug key that this run's discovery found live
    (`url` among them); `holders`: the archive's article keys -> the URL each was last
    fetched at.

    1. A twin separated before keeps its coded key (`twin_key`).
    2. A slug listed under one code only is one article: the slug key, even where the
       archive knew it at another code (a move; the old URL answers 301).
    3. Twins: the article holding the slug key keeps it where its URL is one of them;
       where none holds it (a first sighting, or its holder's URL is no longer listed),
       the twin filed first takes it. Every other twin gets its coded key, for good.
    """
    key = article_key(url)
    own_code = article_code(url)
    if own_code is None:
        return key  # an extension-less URL: EDS serves one page per slug
    coded = f"{key}.{own_code}"
    if coded in holders:
        return coded
    codes = {code for code in map(article_code, listed) if code is not None}
    codes.add(own_code)
    if len(codes) < 2:
        return key
    holder_url = holders.get(key)
    holder_code = article_code(holder_url) if holder_url else None
    if holder_code in codes:
        return key if holder_code == own_code else coded
    free = [code for code in codes if f"{key}.{code}" not in holders]
    return key if min(free, key=filed_order) == own_code else coded


def listing_kind(url: str) -> str | None:
    """`landing`, `directory`, `facet`, `author`, `archive`, or None."""
    path = path_of(url)
    if _LANDING_PATH.match(path):
        return "landing"
    if _ARCHIVE_PATH.match(path):
        return "archive"
    match = _DIRECTORY_PATH.match(path)
    if not match:
        return None
    rest = match.group("rest") or ""
    if rest in ("", "/"):
        return "directory"
    if rest.startswith("/category/") and _TAGS_MARK in rest:
        return "facet"
    if rest.startswith("/author/"):
        return "author"
    return None


def tag_id_from_url(url: str) -> str | None:
    """`md-anderson:diseases/x` from a facet link ending `.../cq:tags/md-anderson/diseases/x`."""
    try:
        path = unquote(path_of(url))
    except ValueError:  # no URL at all (an unclosed IPv6 bracket)
        return None
    index = path.find(_TAGS_MARK)
    if index < 0:
        return None
    rest = path[index + len(_TAGS_MARK) :].strip("/")
    if rest.endswith(".html"):
        rest = rest[: -len(".html")]
    namespace, _, tag = rest.partition("/")
    if not namespace or not tag:
        return None
    return f"{namespace}:{tag}"


def url_kind(url: str) -> str:
    """`article`, `archive`, `landing`, `listing` (directory, facet, author) or `other`
    (outside the archived sections, or a page there no rule names, such as a
    publication's issue page `/publications/promise/Spring2016.html`)."""
    if section_of(url) is None:
        return "other"
    if is_article_url(url):
        return "article"
    kind = listing_kind(url)
    if kind in ("archive", "landing"):
        return kind
    return "other" if kind is None else "listing"


def is_archive_url(url: str) -> bool:
    return bool(_ARCHIVE_PATH.match(path_of(url)))


def on_root(url: str, root: str) -> str:
    """The same path and query of a site URL, requested on another root (a replay server)."""
    parts = urlsplit(url)
    if parts.hostname not in SITE_HOSTS:
        return url
    root_parts = urlsplit(root.rstrip("/"))
    return urlunsplit((root_parts.scheme, root_parts.netloc, parts.path, parts.query, ""))


def site_url(url: str, base: str | None = None) -> str:
    """Like `canonicalize`, but keeps the query (a listing's `?page=2`)."""
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url.strip())
    return urlunsplit(("https", "www.mdanderson.org", parts.path or "/", parts.query, ""))


def is_same_site(url: str, page_url: str) -> bool:
    """A link to the site itself, or to the host the page was fetched from (a replay)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    return parts.hostname in SITE_HOSTS or parts.netloc == urlsplit(page_url).netloc
