"""The fixture pages (`fixtures/pages/`) and the bundled small site (`fixtures/site/`).

Both are made of the articles of `articles` (real facts, our own wording): the
bundled site is them and all their listings; a fixture case is one page, written
with the record it must parse to (or the error it must raise).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cwarchive.testing.sitegen.articles import (
    BASEN_ENGQUIST,
    MAITRA,
    RICHARDS,
    SHARMA,
    D,
    colorectal,
    drug_hunter,
    holidays_2013,
    insomnia,
    landing_articles,
    melanoma_seed,
    social_work,
    walking,
    zebrafish,
)
from cwarchive.testing.sitegen.expected import article_record
from cwarchive.testing.sitegen.facts import SITE, ArticleFacts, Facet
from cwarchive.testing.sitegen.markup.article import article_page
from cwarchive.testing.sitegen.markup.blocks import blocks_not_found_page
from cwarchive.testing.sitegen.markup.other import newsroom_page, not_found_page
from cwarchive.testing.sitegen.site import Page, Site, current_facets
from cwarchive.testing.sitegen.tags import SEED


def small_site() -> Site:
    """The bundled site: 30 articles (one Cancer Frontline) and all their listings.

    Five cards per listing page, so facet and author pages have next pages.
    """
    articles = [insomnia(), colorectal(), walking(), drug_hunter(), social_work(), zebrafish()]
    articles += landing_articles()
    articles.append(melanoma_seed())
    site = Site(articles={a.key: a for a in articles}, page_size=5)
    site.top_stories = [
        "cancerwise/how-to-cope-with-insomnia-during-cancer-treatment",
        "cancerwise/your-guide-to-walking-as-exercise",
        "cancerwise/12-things-to-know-about-donating-platelets",
        "cancerwise/what-is-a-cytokine-storm",
        "cancerwise/-how-i-knew-i-had-colorectal-cancer---six-survivors-share-symptoms",
    ]
    site.extra_pages[NEWSROOM_PATH] = (newsroom_html(), dt.datetime(2022, 1, 12, 12, tzinfo=dt.UTC))
    return site


NEWSROOM_PATH = "/newsroom/-md-anderson-research-highlights-for-january-12--2022.h00-159536589.html"


def newsroom_html() -> str:
    return newsroom_page(
        "-md-anderson-research-highlights-for-january-12--2022",
        "159536589",
        "MD Anderson Research Highlights for January 12, 2022",
        "January 12, 2022",
        [
            "A roundup of recently published studies from our researchers.",
            "Topics include cell therapy, targeted drugs and the tumor microenvironment.",
        ],
    )


# ---------------------------------------------------------------- fixture cases


@dataclass
class Case:
    """One fixture: a page and its expected record (or the error it must raise)."""

    name: str
    about: str
    url: str  # the URL the page is parsed with (`<case>.url`)
    html: Callable[[], bytes]
    expected: Callable[[], dict[str, Any]]


def _article_case(
    name: str, about: str, facts: ArticleFacts, facets: list[Facet] | None = None
) -> Case:
    site = small_site()
    shown = facets if facets is not None else list(site.facets)
    related = _related_for(site, facts)
    if facts.markup != "site" and facts.markup != "redesign":
        related = [moved(r) for r in related]  # the site moved as a whole
    return Case(
        name,
        about,
        facts.url,
        lambda: article_page(facts, shown, related).encode(),
        lambda: article_record(facts, shown),
    )


def _related_for(site: Site, facts: ArticleFacts) -> list[ArticleFacts]:
    others = [a for a in site.listed("cancerwise") if a.key != facts.key]
    return others[:5]


def _site_page_case(name: str, about: str, path: str) -> Case:
    def find() -> Page:
        for page in small_site().pages():
            if page.path == path:
                return page
        raise KeyError(path)

    def expected() -> dict[str, Any]:
        record = find().record()
        assert record is not None
        return record

    return Case(name, about, SITE + path, lambda: find().body, expected)


def _error_case(name: str, about: str, url: str, html: Callable[[], bytes], reason: str) -> Case:
    return Case(name, about, url, html, lambda: {"error": reason})


def moved(facts: ArticleFacts) -> ArticleFacts:
    """The article after the move to Edge Delivery Services: extension-less, in blocks."""
    return replace(facts, h00="", markup="blocks")


def on_eds(facts: ArticleFacts, authored: bool = False) -> ArticleFacts:
    """The article on Edge Delivery Services as SITE.md describes it, at its new URL."""
    return replace(facts, h00="", markup="eds-authored" if authored else "eds")


def _truncated(facts: ArticleFacts) -> Callable[[], bytes]:
    def cut() -> bytes:
        page = article_page(facts, current_facets(), [])
        body_start = page.index("Why treatment disrupts sleep")
        return page[:body_start].encode()

    return cut


def cases() -> list[Case]:
    """Every fixture case, in a stable order."""
    seed_facets = [Facet(*row) for row in SEED]
    redesigned = replace(insomnia(), markup="redesign")
    two_authors = replace(
        drug_hunter(),
        authors=["Jay Martinez", "Roman Gokhman"],  # invented second author
    )
    three_reviewers = replace(
        walking(),
        reviewed=D(2025, 11, 20),  # invented
        reviewers=[BASEN_ENGQUIST, MAITRA, SHARMA],  # invented
    )
    reviewed_earlier = replace(
        social_work(),
        reviewed=D(2014, 12, 1),
        reviewers=[RICHARDS],  # invented data error
    )
    img_only = replace(zebrafish(), image="img")
    no_image = replace(social_work(), image="none", call_to_action=False)
    no_author_no_reviewer = replace(zebrafish(), authors=[])
    cytokine = landing_articles()[8]
    dash = [
        ("insomnia-named-reviewer", "named reviewer with profile link, key takeaways, long body",
         insomnia()),
        ("insomnia-redesign", "the same article in a class-free redesign (same content hash)",
         redesigned),
        ("colorectal-two-reviewers", "two reviewers with degrees joined by 'and'; slug -...---",
         colorectal()),
        ("melanoma-seed-unnamed-reviewer",
         "Cancer Frontline seed: no author, unnamed reviewer, older tag counts", melanoma_seed()),
        ("walking-retitled", "retitled article: the slug keeps the first title", walking()),
        ("drug-hunter-leading-dash", "slug with a leading '-' and '--'", drug_hunter()),
        ("social-work-cut-slug", "slug cut short, list body", social_work()),
        ("zebrafish-no-reviewer", "no reviewer", zebrafish()),
        ("zebrafish-no-author-no-reviewer", "no byline and no review line",
         no_author_no_reviewer),
        ("drug-hunter-two-authors", "two authors joined by 'and'", two_authors),
        ("walking-three-reviewers",
         "three reviewers: linked, M.B.B.S. degree, one named in plain text", three_reviewers),
        ("social-work-reviewed-before-published", "reviewed date earlier than published",
         reviewed_earlier),
        ("zebrafish-filed-from-img", "no og:image: filed month from the img src", img_only),
        ("social-work-no-image", "no image at all: no filed month, no call to action",
         no_image),
        ("cytokine-storm", "a short recent article", cytokine),
        ("holidays-2013-date-alone",
         "2013 form: BY MD Anderson, the date alone (no read time), unnamed reviewer",
         holidays_2013()),
    ]  # fmt: skip
    # Every article again as the site serves it after its move: block markup at an
    # extension-less URL, the same record but for the URL fields and the filed month
    # (no image path tells it), the same content hash. The class-free redesign's twin
    # would be the named-reviewer one's: it has none.
    twins = [
        (f"{name}-blocks", f"{about}; block markup at its extension-less URL", moved(facts))
        for name, about, facts in dash
        if facts.markup == "site"
    ]
    # And as SITE.md describes EDS: unlabelled header rows, metadata as meta tags (served)
    # or as the `metadata` block in <main> (authored). The same record, the same hash.
    eds = [
        (f"{name}-eds{suffix}", f"{about}; EDS {form}", on_eds(facts, authored))
        for authored, suffix, form in ((False, "", "as served"), (True, "-authored", "as authored"))
        for name, about, facts in dash
        if facts.markup == "site"
    ]
    out = []
    for name, about, facts in dash + twins + eds:
        facets = seed_facets if facts.section.startswith("publications/") else None
        out.append(_article_case(name, about, facts, facets))
    facet = "/cancerwise.dir.html/category/content/cq:tags/md-anderson/cancer-topics/treatment"
    out += [
        _site_page_case("landing", "the landing page: featured, latest, top, topic tabs",
                        "/cancerwise.html"),
        _site_page_case("directory", "the directory, first page", "/cancerwise.dir.html"),
        _site_page_case("facet-with-next-page", "a facet page with a next page", facet),
        _site_page_case("facet-last-page", "the last page of a facet (a query URL)",
                        facet + "?page=3"),
        _site_page_case("topic-facet", "a landing-topic facet page",
                        "/cancerwise.dir.html/category/content/cq:tags/md-anderson/"
                        "publications/cancerwise/healthy-living"),
        _site_page_case("author", "an author page",
                        "/cancerwise.dir.html/author/Roman%20Gokhman"),
        _site_page_case("month-archive", "a month archive", "/cancerwise/2026/06.html"),
        _site_page_case("year-archive", "a year archive", "/cancerwise/2026.html"),
        _error_case("newsroom-not-archived", "a newsroom page: another section",
                    SITE + NEWSROOM_PATH, lambda: newsroom_html().encode(),
                    f"not a page of the archived sections: {SITE}{NEWSROOM_PATH}"),
        _error_case("not-found-page", "the site's 404 page, saved for an article URL",
                    f"{SITE}/cancerwise/a-removed-article.h00-159000000.html",
                    lambda: not_found_page().encode(), "page not found (404 page)"),
        _error_case("truncated-download", "an article page cut off mid-body",
                    insomnia().url, _truncated(insomnia()), "truncated page (no </html>)"),
        _error_case("not-found-page-blocks", "the redesign's 404 page, saved for an article URL",
                    f"{SITE}/cancerwise/a-removed-article",
                    lambda: blocks_not_found_page().encode(), "page not found (404 page)"),
        _error_case("truncated-download-blocks", "a block-markup article page cut off mid-body",
                    moved(insomnia()).url, _truncated(moved(insomnia())),
                    "truncated page (no </html>)"),
        _error_case("empty-file", "an empty download", zebrafish().url, lambda: b"",
                    "empty file"),
    ]  # fmt: skip
    return out


def write_cases(out_dir: str | Path) -> list[str]:
    """Write `<case>.html` and `<case>.json` for every case; returns the names."""
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    names = []
    index = {}
    for case in cases():
        (root / f"{case.name}.html").write_bytes(case.html())
        expected = case.expected()
        text = json.dumps(expected, ensure_ascii=False, indent=2) + "\n"
        (root / f"{case.name}.json").write_text(text, "utf-8")
        (root / f"{case.name}.url").write_text(case.url + "\n", "utf-8")
        names.append(case.name)
        index[case.name] = case.about
    (root / "README.md").write_text(_readme(index), "utf-8")
    return names


def _readme(index: dict[str, str]) -> str:
    rows = "\n".join(f"| `{name}` | {about} |" for name, about in index.items())
    return f"""# Fixture pages

Written by `cwarchive fixtures pages` from `cwarchive/testing/sitegen/cases.py`: do not
edit by hand. Each `<case>.html` is a page in the site's markup (or the class-free
redesign, or a block markup of Edge Delivery Services: the `*-blocks` cases, each the
twin of the case without the suffix, at its extension-less URL; or EDS as SITE.md
describes it: the `*-eds` cases as served, metadata as `<meta>` tags, and the
`*-eds-authored` cases with the `metadata` block in `<main>`, twins too); `<case>.json` is the
record `parse_page(html, url)` must return, computed from the same facts by the rules
of `docs/record.md` (or `{{"error": reason}}` for a page that must fail); `<case>.url`
is the URL to parse it with (the record's `url`).

| case | what it covers |
|---|---|
{rows}
"""
