"""URL rules of the source, shared by parsers, spiders and storage.

Pure string functions: no I/O, no Scrapy.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

SITE = "https://www.mdanderson.org"
SITE_HOSTS = frozenset({"www.mdanderson.org", "mdanderson.org"})

# Sections that use the blog template: Cancerwise and every publication.
_SECTION = r"(?P<section>cancerwise|publications/[a-z0-9][a-z0-9-]*)"
# Article pages under either URL scheme: the AEM site's `<slug>.h00-<digits>.html`, and
# the extension-less `<slug>` of Adobe Edge Delivery Services, where the site is moving.
_H00_ARTICLE_PATH = re.compile(
    rf"^/{_SECTION}/(?P<slug>[^/]+?)\.h00-(?P<h00>\d+)\.html$", re.IGNORECASE
)
_BARE_ARTICLE_PATH = re.compile(rf"^/{_SECTION}/(?P<slug>[^/.]+)$")
# Year and month archives, with or without `.html`.
_ARCHIVE_PATH = re.compile(rf"^/{_SECTION}/(?P<year>\d{{4}})(?:/(?P<month>\d{{2}}))?(?:\.html)?$")
_LANDING_PATH = re.compile(rf"^/{_SECTION}(?:\.html)?$")
_DIRECTORY_PATH = re.compile(rf"^/{_SECTION}\.dir\.html(?P<rest>/.*)?$")
# Any page under a section: its landing page, directory or a path below it.
_IN_SECTION = re.compile(rf"^/{_SECTION}(?:$|/|\.html$|\.dir\.html(?:/|$))")
# What `article_key` drops: an `.h00-<digits>` part and an `.html` extension.
_KEY_SUFFIX = re.compile(r"(?:\.h00-\d+)?(?:\.html)?$", re.IGNORECASE)
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
    match = _IN_SECTION.match(path) or _H00_ARTICLE_PATH.match(path)
    return match.group("section") if match else None


def is_article_url(url: str) -> bool:
    """An article page by its URL: `/<section>/<slug>.h00-<digits>.html`, or the
    extension-less `/<section>/<slug>` of the redesign (a year like `/cancerwise/2026`
    is an archive). A bare `<slug>.html` is not claimed: the page is known by its content.
    """
    path = path_of(url)
    if _H00_ARTICLE_PATH.match(path):
        return True
    return bool(_BARE_ARTICLE_PATH.match(path)) and not _ARCHIVE_PATH.match(path)


# Cached: a crawl asks for the key of the same URL several times (the spider's decision,
# the dedupe pipeline, the archive's save), 3,400 times each in an unchanged re-crawl.
@lru_cache(maxsize=1 << 14)
def article_key(url: str) -> str:
    """The article's stable identity: its path without `/`, an `.h00-<digits>` part and
    an `.html` extension, so `x.h00-159856134.html`, `x.html` and `x` are one article."""
    path = path_of(url).lstrip("/")
    return _KEY_SUFFIX.sub("", path)


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
