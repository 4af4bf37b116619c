"""Listing pages: the directory, facet and author pages (paged cards) and the archives.

Every article or archive link a listing page shows is also written to its `LinkLog`,
in page order, so `expected.listing_record` computes the record from the same links.
"""

# Templates keep the site's markup one element per line, as the recreation shows it.
# ruff: noqa: E501

from __future__ import annotations

import calendar
from collections.abc import Sequence

from cwarchive.testing.sitegen.expected import LinkLog
from cwarchive.testing.sitegen.facts import ArticleFacts, Facet, archive_url, paged_url, site_date
from cwarchive.testing.sitegen.markup.chrome import page_shell
from cwarchive.testing.sitegen.markup.common import (
    ORGANIZATION,
    attr,
    page_head,
    section_name,
    sidebar,
    text,
)


def paged_listing_page(
    base_url: str,
    title: str,
    articles: Sequence[ArticleFacts],
    page: int,
    pages: int,
    facets: Sequence[Facet],
) -> tuple[str, LinkLog]:
    """One page of the directory, a facet page or an author page (dated cards)."""
    log = LinkLog.new()
    cards = "\n".join(_card(a, log, dated=True) for a in articles)
    pagination = _pagination(base_url, page, pages, log)
    content = f'<div class="blog-listing">\n{cards}\n</div>\n{pagination}'
    page_url = paged_url(base_url, page)
    return _listing_page(title, title, page_url, facets, content, "blog-listing"), log


def archive_page(
    section: str,
    year: int,
    month: int | None,
    articles: Sequence[ArticleFacts],
    months: Sequence[tuple[int, int]],
    years: Sequence[int],
) -> tuple[str, LinkLog]:
    """A year archive (links to its months) or a month archive (its articles)."""
    log = LinkLog.new()
    parts = []
    if month is None:
        heading = str(year)
        items = []
        for y, m in months:
            if y == year:
                log.archive(archive_url(section, y, m))
                items.append(
                    f'<li><a href="{attr(archive_url(section, y, m))}">{y}/{m:02d}</a></li>'
                )
        parts.append('<ul class="archive-months">\n' + "\n".join(items) + "\n</ul>")
    else:
        heading = f"{calendar.month_name[month]} {year}"
        log.archive(archive_url(section, year))
        parts.append(
            f'<p class="archive-up"><a href="{attr(archive_url(section, year))}">{year}</a></p>'
        )
        parts.append(
            '<div class="blog-listing">\n'
            + "\n".join(_card(a, log, dated=True, summary=False) for a in articles)
            + "\n</div>"
        )
    years_html = []
    for y in years:
        log.archive(archive_url(section, y))
        years_html.append(f'<li><a href="{attr(archive_url(section, y))}">{y}</a></li>')
    parts.append('<ul class="archive-years">\n' + "\n".join(years_html) + "\n</ul>")
    canonical = archive_url(section, year, month)
    name = section_name(section)
    page = _listing_page(f"{name} {heading}", heading, canonical, (), "\n".join(parts), "archive")
    return page, log


def _card(article: ArticleFacts, log: LinkLog, dated: bool, summary: bool = True) -> str:
    """A listing card: image link, title link, optional date and summary."""
    date_html = ""
    date = None
    if dated:
        date = article.published.isoformat()
        date_html = f'\n    <p class="author-date">{site_date(article.published)}</p>'
    log.article(article.url)  # the image link: no text
    log.article(article.url, article.title, date)
    summary_html = ""
    if summary and article.description:
        summary_html = f'\n    <div class="summary-text"><p>{text(article.description)}</p></div>'
    thumb = f"{article.content_path}/blog/adaptiveimage.resize.330.190.jpg"
    return f"""<div class="module m-pad">
  <div class="blog-summary small">
    <div class="blog-summary-img-wrapper"><a href="{attr(article.url)}"><img src="{attr(thumb)}" alt=""></a></div>
    <div class="blog-summary-wrapper">
    <h3 class="blog-title"><a href="{attr(article.url)}">{text(article.title)}</a></h3>{date_html}{summary_html}
    </div>
  </div>
</div>"""


def _listing_page(
    title: str,
    heading: str,
    canonical: str,
    facets: Sequence[Facet],
    content: str,
    data_section: str,
) -> str:
    head = page_head(f"{title} | UT MD Anderson", None, canonical, title, None, [ORGANIZATION])
    main = f"""<main class="mda-content" data-template="listing">
  <div id="skip">
    <div class="content">
      <section class="col-content-wrapper blog-content" data-section="{attr(data_section)}">
{sidebar(facets) if facets else ""}
        <div class="col-content">
          <div class="module">
            <div class="headline"><h1>{text(heading)}</h1></div>
{content}
          </div>
        </div>
      </section>
    </div>
  </div>
</main>"""
    return page_shell(head, "basepage bloglisting", main)


def _pagination(base: str, page: int, pages: int, log: LinkLog) -> str:
    if pages <= 1:
        return ""
    parts = []
    if page > 1:
        parts.append(f'<a rel="prev" href="{attr(paged_url(base, page - 1))}">Previous</a>')
    parts.append(f"<span>Page {page} of {pages}</span>")
    if page < pages:
        log.next_page = paged_url(base, page + 1)
        parts.append(f'<a rel="next" href="{attr(log.next_page)}">Next</a>')
    return '<div class="pagination">' + " ".join(parts) + "</div>"
