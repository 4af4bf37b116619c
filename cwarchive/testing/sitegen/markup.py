"""Pages in the site's markup (the AEM template) and in a class-free redesign.

The site markup follows the structure and class names of the recreation in
`../shared/reference/pages/` (our own markup and text, real facts); the redesign
carries the same content with semantic tags only, no class or id attribute, as a
migration off AEM might. Every link is an absolute https://www.mdanderson.org URL,
as on the real site; the crawler rewrites them onto the replay root.
"""

# Templates keep the site's markup one element per line, as the recreation shows it.
# ruff: noqa: E501

from __future__ import annotations

import calendar
import json
from collections.abc import Sequence
from html import escape

from cwarchive.testing.sitegen import chrome
from cwarchive.testing.sitegen.expected import LinkLog
from cwarchive.testing.sitegen.facts import (
    SITE,
    TOPICS,
    ArticleFacts,
    Facet,
    Person,
    author_url,
    ends_with_degree,
    facet_url,
    inline_links,
    site_date,
)

CALL_TO_ACTION = (
    '<p><b><a href="https://my.mdanderson.org/RequestAppointment">Request an appointment at '
    "UT MD Anderson online</a> or call 1-855-628-7053.</b></p>"
)
_ORGANIZATION = {
    "@context": "https://schema.org",
    "@type": "Organization",
    "name": "The University of Texas MD Anderson Cancer Center",
    "url": f"{SITE}/",
    "logo": f"{SITE}/mda-logo-sharable.png",
    "slogan": "Making Cancer History",
    "telephone": "+1-877-632-6789",
}


def text(value: str) -> str:
    return escape(value, quote=False)


def attr(value: str) -> str:
    return escape(value, quote=True)


def rich(value: str) -> str:
    """Body text with its `[text](url)` links as anchors."""
    out, position = [], 0
    for link_text, url in inline_links(value):
        marker = f"[{link_text}]({url})"
        index = value.index(marker, position)
        out.append(text(value[position:index]))
        out.append(f'<a href="{attr(url)}">{text(link_text)}</a>')
        position = index + len(marker)
    out.append(text(value[position:]))
    return "".join(out)


def section_name(section: str) -> str:
    """`cancerwise` -> Cancerwise, `publications/cancer-frontline` -> Cancer Frontline."""
    name = section.rsplit("/", 1)[-1]
    return "Cancerwise" if name == "cancerwise" else name.replace("-", " ").title()


def archive_url(section: str, year: int, month: int | None = None) -> str:
    if month is None:
        return f"{SITE}/{section}/{year}.html"
    return f"{SITE}/{section}/{year}/{month:02d}.html"


# ---------------------------------------------------------------- shared pieces


def _head(
    title: str | None,
    description: str | None,
    canonical: str,
    og_title: str,
    og_image: str | None,
    json_ld: Sequence[dict[str, object]] = (),
) -> str:
    lines = ['<meta charset="utf-8">', '<meta name="viewport" content="width=device-width">']
    if title is not None:
        lines.append(f"<title>{text(title)}</title>")
    if description:
        lines.append(f'<meta name="description" content="{attr(description)}">')
    lines.append(f'<meta property="og:title" content="{attr(og_title)}">')
    if description:
        lines.append(f'<meta property="og:description" content="{attr(description)}">')
    if og_image:
        lines.append(f'<meta property="og:image" content="{attr(og_image)}">')
    lines += [
        '<meta property="og:type" content="Website">',
        f'<link rel="canonical" href="{attr(canonical)}">',
        f'<meta property="og:url" content="{attr(canonical)}">',
        '<meta property="og:site_name" content="MD Anderson Cancer Center">',
        '<meta name="robots" content="index,follow">',
    ]
    for data in json_ld:
        payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
        lines.append(f'<script type="application/ld+json">{payload}</script>')
    return "<head>\n" + "\n".join(lines) + "\n</head>"


def sidebar(facets: Sequence[Facet]) -> str:
    """The two facet groups as `li.parent-link` headings over `li.sorting` links."""
    groups: dict[str, list[Facet]] = {}
    for facet in facets:
        groups.setdefault(facet.group, []).append(facet)
    parts = []
    for index, (group, members) in enumerate(groups.items()):
        items = "\n".join(
            f'                <li class="sorting"><a href="{attr(f.url)}">'
            f"{text(f.label)} ({f.count})</a></li>"
            for f in members
        )
        list_attr = 'class="child-level"' if index == 0 else 'id="list"'
        parts.append(
            f'                <li class="parent-link">\n'
            f'                  <a href="{SITE}/cancerwise.dir.html">{text(group)}'
            f'<i class="fa fa-plus dd-collapsed-icon"></i></a>\n'
            f"                  <div>\n"
            f"              <ul {list_attr}>\n{items}\n              </ul>\n"
            f"                  </div>\n"
            f"                </li>"
        )
    groups_html = "\n".join(parts)
    return f"""        <div class="col-sidebar" data-section="topic-filters">
          <div id="sidebar">
            <div id="sidebar-nav" class="blog-sidebar-nav">
              <div id="jump-menu-label">
                <span class="jump-menu-label-text">Jump To: </span>
                <a id="jump-menu-toggle" aria-label="Open jump menu" role="button" href="#"><div class="mobile-menu-container"><i class="fa mda-icon-menu fa-lg"></i></div></a>
              </div>
              <a class="sidebar-back" href="{SITE}/cancerwise.html"><i class="fa fa-angle-left"></i>Back</a>
              <ul class="parent-level">
{groups_html}
              </ul>
            </div>
          </div>
        </div>"""


def plain_sidebar(facets: Sequence[Facet]) -> str:
    groups: dict[str, list[Facet]] = {}
    for facet in facets:
        groups.setdefault(facet.group, []).append(facet)
    parts = []
    for group, members in groups.items():
        items = "\n".join(
            f'      <li><a href="{attr(f.url)}">{text(f.label)} ({f.count})</a></li>'
            for f in members
        )
        parts.append(
            f"  <section>\n    <h2>{text(group)}</h2>\n    <ul>\n{items}\n    </ul>\n  </section>"
        )
    return "<aside>\n" + "\n".join(parts) + "\n</aside>"


def _page(head: str, body_class: str, main: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n{head}\n<body class="{body_class}">\n'
        f"{chrome.header()}\n{main}\n{chrome.footer()}\n</body>\n</html>\n"
    )


def _people_html(people: Sequence[Person], link_class: str | None) -> str:
    """Names joined as the site does: `A, M.D., B, Ph.D., and C`.

    A name ending in a degree carries a trailing comma inside its link, as on the
    live page (`Pamela Schlembach, M.D.,`); the record strips it.
    """
    cls = f' class="{link_class}"' if link_class else ""
    rendered = []
    for person in people:
        shown = person.name + ("," if ends_with_degree(person.name) else "")
        if person.url:
            rendered.append(f'<a{cls} href="{attr(person.url)}">{text(shown)}</a>')
        else:
            rendered.append(text(shown))
    out = ""
    for index, piece in enumerate(rendered):
        if index == 0:
            out = piece
        elif index == len(rendered) - 1:
            out += " and " + piece
        else:
            out += (" " if out.endswith(",") or out.endswith(",</a>") else ", ") + piece
    return out


def _authors_html(facts: ArticleFacts, link_class: str | None) -> str:
    cls = f' class="{link_class}"' if link_class else ""
    links = []
    for name in facts.authors:
        ident = ""
        if link_class:
            ident = f' id="{facts.slug.strip("-")[:15].replace("-", "_")}_{name.lower().replace(" ", "_")}"'
        links.append(f'<a{ident}{cls} href="{attr(author_url(name))}">{text(name)}</a>')
    return " and ".join(links)


def _json_ld_article(facts: ArticleFacts, og_image: str | None) -> dict[str, object]:
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": facts.title,
        "datePublished": facts.published.isoformat(),
    }
    people = [{"@type": "Person", "name": name} for name in facts.authors]
    if people:
        data["author"] = people[0] if len(people) == 1 else people
    if og_image:
        data["image"] = og_image
    data["publisher"] = {
        "@type": "Organization",
        "name": "The University of Texas MD Anderson Cancer Center",
        "logo": {"@type": "ImageObject", "url": f"{SITE}/mda-logo-sharable.png"},
    }
    data["mainEntityOfPage"] = facts.url
    return data


def _body_html(blocks: Sequence[tuple[str, str]], indent: str = "") -> str:
    out: list[str] = []
    in_list = False
    for tag, value in blocks:
        if tag == "li":
            if not in_list:
                out.append(f"{indent}<ul>")
                in_list = True
            out.append(f"{indent}  <li>{rich(value)}</li>")
            continue
        if in_list:
            out.append(f"{indent}</ul>")
            in_list = False
        if tag == "blockquote":
            out.append(f"{indent}<blockquote><p>{rich(value)}</p></blockquote>")
        else:
            out.append(f"{indent}<{tag}>{rich(value)}</{tag}>")
    if in_list:
        out.append(f"{indent}</ul>")
    return "\n".join(out)


def _images(facts: ArticleFacts) -> tuple[str | None, str | None]:
    """(og:image, body img src) as the facts' `image` choice says."""
    if facts.image == "none":
        return None, None
    content = facts.content_path
    img = f"{content.replace(SITE + '/', SITE + '/content/mda/en/', 1)}/blog/adaptiveimage.resize.648.0.medium.jpg/1778514382863.jpg"
    og = f"{content}/blog/adaptiveimage.resize.702.404.jpg" if facts.image == "og" else None
    return og, img


# ---------------------------------------------------------------- articles


def article_page(
    facts: ArticleFacts, facets: Sequence[Facet], related: Sequence[ArticleFacts] = ()
) -> str:
    """The article's page in the markup its facts ask for."""
    if facts.markup == "redesign":
        return redesigned_article_page(facts, facets, related)
    return site_article_page(facts, facets, related)


def _review_line(facts: ArticleFacts) -> str:
    if not facts.reviewed:
        return ""
    people = _people_html(facts.reviewers, "cta")
    return f"""              <section class="medical-reviewer-component bleed-top bleed-bottom" data-section="medical-review">
                <div class="module">
                  <div class="medical-reviewer">
                    <div class="blog-med-review"><i class="fa fa-check-medical-review fa-1x"></i><span class="bold tab">Medically Reviewed</span><span> | </span> <div class="review-text tab">Last reviewed by {people} <span class="date">on
{site_date(facts.reviewed)}</span></div></div>
                  </div>
                </div>
              </section>"""


def _key_takeaways(facts: ArticleFacts) -> str:
    if not facts.key_takeaways:
        return ""
    items = "\n".join(
        f"                                  <li>{rich(i)}</li>" for i in facts.key_takeaways
    )
    return f"""                        <div class="module m-bleed" data-section="key-takeaways">
                          <div class="keytakeaway promo-background-white">
                            <div class="promo-icon-header-wrapper keytakeaway">
                              <div class="promo-header"><h3 class="title minion-heading heading-left">Key takeaways:</h3></div>
                            </div>
                            <div class="promo-text">
                              <div class="body promo-text-normal">
                                <ul>
{items}
                                </ul>
                              </div>
                            </div>
                          </div>
                        </div>"""


def _related(facts: ArticleFacts, related: Sequence[ArticleFacts]) -> str:
    items = "\n            <hr>\n".join(
        f'            <div class="at-article"><a href="{attr(r.url)}"><img class="thumbnail" '
        f'src="{SITE}/images/publications/cancerwise/Generics/thumb-{index}.jpg" alt="entity{index}">'
        f'<h2 class="at-title">{text(r.title)}</h2></a></div>'
        for index, r in enumerate(related, start=1)
    )
    return f"""                      <div class="blog-tags at-element-marker" data-section="more-stories">
                        <div class="at-article-list">
                          <h2 class="at-article-headline">More stories from {section_name(facts.section)}</h2>
{items}
                        </div>
                      </div>"""


def _right_rail(facts: ArticleFacts) -> str:
    promos = "\n".join(
        f"""                  <div data-section="{key}-promo">
                    <div class="module m-bleed">
                      <a href="{SITE}/{path}.html">
                        <div class="promo promo-simple promo-icon-{color}">
                          <div class="promo-icon-header-wrapper">
                            <div class="promo-icon icon-circle"><span class="fa-stack fa-3x"><i class="fa mda-icon-{key} mda-stack-1x"></i></span></div>
                            <div class="promo-header"><h3 class="title minion-heading heading-center">{title}</h3></div>
                          </div>
                          <div class="promo-text"><div class="cta-wrapper cta-entire-module-wrapper"></div></div>
                        </div>
                      </a>
                    </div>
                  </div>"""
        for key, title, color, path in (
            ("sharestory", "Share Your Story", "green", "patients-family/share-your-story"),
            ("appointments", "Request an Appointment", "blue",
             "about-md-anderson/contact-us/askmdanderson/appointments"),
            ("screenings", "Reduce Your Cancer Risk", "purple", "prevention-screening/manage-your-risk"),
        )
    )  # fmt: skip
    return f"""                <div class="cell-r last">
{promos}
                  <div data-section="newsletter-signup">
                    <div class="module">
                      <div class="SFMC bg-green">
                        <h3>Subscribe to {section_name(facts.section)}</h3>
                        <form action="#" onsubmit="return false">
                          <div class="oneField"><label for="nl-email">Email*</label><input id="nl-email" type="text"></div>
                          <div class="actions"><input type="submit" value="Submit"></div>
                        </form>
                      </div>
                    </div>
                  </div>
                </div>"""


def _article_head(facts: ArticleFacts) -> tuple[str, str | None]:
    """The `<head>` both article markups share (same metadata), and the body image src."""
    og_image, img_src = _images(facts)
    head = _head(
        facts.page_title,
        facts.description,
        facts.url,
        facts.title,
        og_image,
        [_ORGANIZATION, _json_ld_article(facts, og_image)],
    )
    return head, img_src


def site_article_page(
    facts: ArticleFacts, facets: Sequence[Facet], related: Sequence[ArticleFacts] = ()
) -> str:
    """An article in the site's AEM blog template (the recreation's structure)."""
    head, img_src = _article_head(facts)
    year, month = facts.filed_month
    name = section_name(facts.section)
    landing = f"{SITE}/{facts.section}.html"
    byline = (
        f'                        <p class="blog-author">BY {_authors_html(facts, "cta")}</p>\n'
        if facts.authors
        else ""
    )
    read_time = f"{facts.read_minutes} minute read | " if facts.read_minutes else ""
    image = ""
    if img_src:
        image = f"""                <div class="rail-media" data-section="feature-image">
                  <div class="module m-bleed">
                    <div class="basic-content-media bcm-standalone-image adaptive">
                      <div class="media-image">
                        <picture><img src="{attr(img_src)}" alt="{attr(facts.title)}"></picture>
                      </div>
                    </div>
                  </div>
                </div>"""
    body = _body_html(facts.body)
    cta = CALL_TO_ACTION if facts.call_to_action else ""
    main = f"""<div class="col-content-single breadcrumb-wrapper" data-section="breadcrumbs">
  <div>
    <section class="bleed-bottom blog-breadcrumbs">
      <ul class="breadcrumbs clearfix">
        <li><a class="breadcrumb_arrow" href="{landing}"><span>{name} Blog</span></a></li>
        <li><a class="breadcrumb_arrow" href="{archive_url(facts.section, year)}"><span>{year}</span></a></li>
        <li><a class="breadcrumb_arrow" href="{archive_url(facts.section, year, month)}"><span>{month:02d}</span></a></li>
        <li><span>{text(facts.title)}</span></li>
      </ul>
    </section>
  </div>
</div>
<main class="mda-content" data-template="article">
  <a href="#" class="scrollToTop"><span class="cta_icon_top fa-angle-up"></span><span class="cta_top_text">Top</span></a>
  <div id="skip">
    <div class="content">
      <section class="col-content-wrapper blog-content" data-section="blog-article">
{sidebar(facets)}
        <div class="col-content">
          <div class="social-share-padding">
            <div>
              <section class="bleed-bottom" data-section="article-header">
                <div class="col-content-single">
                  <div class="module">
                    <div class="headline">
                      <h1>{text(facts.title)}</h1>
                      <div class="blog-info">
{byline}                        <div><span class="spacer">  | </span>
                          <div class="social-share-buttons">
                            <a id="email-share" class="box email" href="mailto:?subject={attr(facts.title)}"><i class="fa fa-mail-share mda-inverse fa-1x"></i></a>
                            <a id="social-share" class="box social-share" href="#"><i class="fa fa-share-arrow-o mda-inverse fa-1x"></i></a>
                            <div id="myModal" class="modal">
                              <div class="modal-content">
                                <span class="close" id="closeBtn" role="button"><i class="fa fa-x mda-icon-X"></i> <span class="close-text">Close</span></span>
                                <div class="modal-header">Share this article</div>
                                <div class="social-icons">Via social media:
                                  <a id="fb-share" aria-label="facebook" href="#" class="box"><i class="fa fa-facebook-square fa-2x"></i></a>
                                  <a id="linkedin-share" aria-label="linkedIn" href="#" class="box"><i class="fa fa-linkedin-square fa-2x"></i></a>
                                </div>
                                <div class="copy-link">Or copy the link: <br>
                                  <input type="text" value="" id="myInput" class="copyField">
                                  <div class="copyButton"><button class="red" type="button">Copy</button></div>
                                </div>
                              </div>
                            </div>
                          </div>
                        </div>
                      </div>
                      <div class="blog-info margin">
                        <p class="blog-readtime-date"><i class="fa fa-clock-readtime fa-1x"></i><span class="tab">{read_time}Published <span>{site_date(facts.published)}</span></span></p>
                      </div>
                    </div>
                  </div>
                </div>
              </section>
{_review_line(facts)}
              <section class="table d-pad-top-small blog" data-section="article-body">
{image}
                <div class="cell-l">
                  <div class="module m-pad m-bleed-top">
                    <div class="article-blog">
                      <div class="blog-section">
                        <div class="blog-section-text">
{_key_takeaways(facts)}
{body}
{cta}
                        </div>
                      </div>
{_related(facts, related)}
                    </div>
                  </div>
                </div>
{_right_rail(facts)}
              </section>
            </div>
          </div>
        </div>
      </section>
    </div>
  </div>
</main>"""
    return _page(head, "basepage blogpage", main)


def redesigned_article_page(
    facts: ArticleFacts, facets: Sequence[Facet], related: Sequence[ArticleFacts] = ()
) -> str:
    """The same article after a redesign: semantic tags only, no class or id."""
    head, img_src = _article_head(facts)
    year, month = facts.filed_month
    lines = [f"      <h1>{text(facts.title)}</h1>"]
    if facts.authors:
        lines.append(f"      <p>By {_authors_html(facts, None)}</p>")
    read_time = f"{facts.read_minutes} minute read | " if facts.read_minutes else ""
    lines.append(f"      <p>{read_time}Published {site_date(facts.published)}</p>")
    if facts.reviewed:
        lines.append(
            f"      <p>Medically Reviewed | Last reviewed by "
            f"{_people_html(facts.reviewers, None)} on {site_date(facts.reviewed)}</p>"
        )
    header = "\n".join(lines)
    figure = f'    <figure><img src="{attr(img_src)}" alt=""></figure>\n' if img_src else ""
    takeaways = ""
    if facts.key_takeaways:
        items = "\n".join(f"        <li>{rich(i)}</li>" for i in facts.key_takeaways)
        takeaways = f"    <section>\n      <h2>Key takeaways:</h2>\n      <ul>\n{items}\n      </ul>\n    </section>\n"
    cta = (
        "    " + CALL_TO_ACTION.replace("<b>", "<strong>").replace("</b>", "</strong>") + "\n"
        if facts.call_to_action
        else ""
    )
    stories = "\n".join(
        f'      <li><a href="{attr(r.url)}">{text(r.title)}</a></li>' for r in related
    )
    main = f"""<nav aria-label="Breadcrumb">
  <ol>
    <li><a href="{SITE}/{facts.section}.html">{section_name(facts.section)} Blog</a></li>
    <li><a href="{archive_url(facts.section, year)}">{year}</a></li>
    <li><a href="{archive_url(facts.section, year, month)}">{month:02d}</a></li>
  </ol>
</nav>
{plain_sidebar(facets)}
<main>
  <article>
    <header>
{header}
    </header>
{figure}{takeaways}{_body_html(facts.body, "    ")}
{cta}  </article>
  <section>
    <h2>More stories from {section_name(facts.section)}</h2>
    <ul>
{stories}
    </ul>
  </section>
</main>"""
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n{head}\n<body>\n{chrome.plain_header()}\n'
        f"{main}\n{chrome.plain_footer()}\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------- listings


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
    head = _head(f"{title} | UT MD Anderson", None, canonical, title, None, [_ORGANIZATION])
    main = f"""<main class="mda-content" data-template="listing">
  <div id="skip">
    <div class="content">
      <section class="col-content-wrapper blog-content" data-section="{data_section}">
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
    return _page(head, "basepage bloglisting", main)


def paged_url(base: str, page: int) -> str:
    return base if page == 1 else f"{base}?page={page}"


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
                items.append(f'<li><a href="{archive_url(section, y, m)}">{y}/{m:02d}</a></li>')
        parts.append('<ul class="archive-months">\n' + "\n".join(items) + "\n</ul>")
    else:
        heading = f"{calendar.month_name[month]} {year}"
        log.archive(archive_url(section, year))
        parts.append(f'<p class="archive-up"><a href="{archive_url(section, year)}">{year}</a></p>')
        parts.append(
            '<div class="blog-listing">\n'
            + "\n".join(_card(a, log, dated=True, summary=False) for a in articles)
            + "\n</div>"
        )
    years_html = []
    for y in years:
        log.archive(archive_url(section, y))
        years_html.append(f'<li><a href="{archive_url(section, y)}">{y}</a></li>')
    parts.append('<ul class="archive-years">\n' + "\n".join(years_html) + "\n</ul>")
    canonical = archive_url(section, year, month)
    name = section_name(section)
    page = _listing_page(f"{name} {heading}", heading, canonical, (), "\n".join(parts), "archive")
    return page, log


def landing_page(
    section: str,
    latest: Sequence[ArticleFacts],
    top: Sequence[ArticleFacts],
    by_topic: dict[str, Sequence[ArticleFacts]],
) -> tuple[str, LinkLog]:
    """The landing page: featured story, latest and top stories, topic tabs."""
    log = LinkLog.new()
    featured = latest[0]
    log.article(featured.url, featured.title)
    log.article(featured.url)  # "Keep reading"
    labels = {tag: (card_label, css) for tag, _, card_label, css in TOPICS}
    latest_items = []
    for article in latest[1:6]:
        label, css = labels.get(article.topic, ("Cancerwise", "cancerwise"))
        log.article(article.url, article.title)
        latest_items.append(f"""<div class="module m-pad">
<div class="blog-summary small stories">
<div class="blog-summary-wrapper stories">
<div class="blog-category {css}">
{text(label)}
</div>
<h3 class="blog-title stories">
<a href="{attr(article.url)}">
{text(article.title)}
</a>
</h3>
</div>
</div>
</div>""")
    top_rows = []
    for article in top:
        label, css = labels.get(article.topic, ("Cancerwise", "cancerwise"))
        log.article(article.url, article.title)
        top_rows.append(f"""        <tr class="at-table-row">
          <th class="at-table-column">
            <div class="at-category {css}">
              {text(label)}</div>
            <div>
              <a href="{attr(article.url)}">
                <div>{text(article.title)}</div>
              </a>
            </div>
          </th>
        </tr>""")
    tab_menu, tab_panels = [], []
    for index, (tag, tab_label, _, css) in enumerate(TOPICS):
        active = " ui-tabs-active" if index == 0 else ""
        tab_menu.append(
            f"<li class='{css}{active}'>\n<a href='#tabs-{index}'><h3>{text(tab_label)}</h3></a>\n</li>"
        )
        cards = []
        for article in by_topic.get(tag, ())[:4]:
            log.article(article.url)
            log.article(article.url, article.title, article.published.isoformat())
            thumb = f"{article.content_path}/blog/adaptiveimage.resize.330.190.jpg"
            cards.append(f"""<div class="module m-pad">
<div class="blog-summary cwtabcontainer small {css}">
<div class="blog-summary-img-wrapper cwtabcontainer">
<a href="{attr(article.url)}"><picture><img src="{attr(thumb)}" alt=""></picture></a>
</div>
<div class="blog-summary-wrapper cwtabcontainer">
<h3 class="blog-title cwtabcontainer">
<a href="{attr(article.url)}">
{text(article.title)}
</a>
</h3>
<p class="author-date">{site_date(article.published)}</p>
</div>
</div>
</div>""")
        more = facet_url(f"publications/{section}/{tag}")
        tab_panels.append(f"""<div class='collection-group four-columns {css} resources ui-tabs-panel' id="tabs-{index}">
<div class="collection-item-tab">
{chr(10).join(cards)}
</div>
<div class='cta {css}'>
<a href='{attr(more)}'>Read more {text(tab_label.lower())} articles</a>
</div>
</div>""")
    summary = text(featured.description or featured.title)
    content = f"""<section class="bleed-full" data-section="cancerwise-hero">
<div class="cw-hero clearfix">
<h1 class="cw-title">
<a href="{SITE}/{section}.html">Cancer<span class="color">wise</span></a>
</h1>
<div class="cw-summary">UT MD Anderson's blog: stories from survivors and caregivers, and our experts' insights.</div>
</div>
</section>
<section class="table d-pad-top-small v3 bleed-top bleed-bottom" data-section="featured-stories">
<div class="cell-l">
<div class="module m-pad">
<div class="blog-summary small featured-article">
<div class="blog-summary-wrapper">
<a href="{attr(featured.url)}" aria-label="{attr(featured.title)}">
<div class="blog-summary-img-wrapper featured-article"><picture><img src="{attr(featured.content_path)}/blog/adaptiveimage.resize.702.404.jpg" alt=""></picture></div>
<h3 class="blog-title featured-article">
{text(featured.title)}
</h3></a>
<div>
<div class="summary-text featured-article"><p>{summary}</p></div>
</div>
<div class="summary-cta-info">
<div>
<a href="{attr(featured.url)}" class="cta">Keep reading<i class="mdicon-arrow"></i>
</a>
</div>
</div>
</div>
</div>
</div>
</div>
<div class="cell-r last">
<section class="highlight stories" data-section="featured-stories">
<div class="cw-collection stories">
<div class="mda-tabs stories">
<ul class="cw-tab-menu stories">
<li class="cw-latest ui-tabs-active">
<a href="#latest"><h3>Read the latest stories</h3></a>
</li>
<li class="cw-top">
<a href="#top"><h3>Top Stories</h3></a>
</li>
</ul>
<div class="module stories" id="latest">
<div class='collection-group one-columns resources ui-tabs-panel'>
<div class="cw-collection-item">
{chr(10).join(latest_items)}
</div>
</div>
</div>
<div class="collection-group one-columns resources ui-tabs-panel" id="top" style="display: none;">
<div class="cw-collection-item at-element-marker">
      <table class="at-table">
        <tbody>
{chr(10).join(top_rows)}
        </tbody>
      </table>
</div>
</div>
</div>
</div>
</section>
</div>
</section>
<section class="bleed-bottom cw-tabs" data-section="stories-by-topic">
<div class="col-single cw-tabs">
<div class="cw-collection tabbed">
<div class="section-title">
<h2>Find stories by topic</h2>
</div>
<div class="mda-tabs cw-tabs">
<ul class="cw-tab-menu cw-tabs">
{chr(10).join(tab_menu)}
</ul>
{chr(10).join(tab_panels)}
</div>
</div>
</div>
</section>"""
    name = section_name(section)
    head = _head(
        f"{name} Blog | UT MD Anderson",
        f"UT MD Anderson's {name} blog: patient and caregiver stories, expert insight and research.",
        f"{SITE}/{section}.html",
        f"{name} Blog",
        f"{SITE}/images/publications/cancerwise/Graphics/EndCancerDoodles.png",
        [_ORGANIZATION],
    )
    main = f"""<main class="mda-content" data-template="listing">
  <div id="skip">
    <div class="content">
{content}
    </div>
  </div>
</main>"""
    return _page(head, "basepage bloglanding", main), log


# ---------------------------------------------------------------- other pages


def not_found_page() -> str:
    """The site's "page not found" page (served with status 404 or saved by mistake)."""
    head = _head(
        "Page Not Found | UT MD Anderson", None, f"{SITE}/404.html", "Page Not Found", None
    )
    main = f"""<main class="mda-content" data-template="error">
  <div id="skip">
    <div class="content">
      <section class="col-content-single">
        <div class="module">
          <h1>Page Not Found</h1>
          <p>We're sorry, the page you requested could not be found. It may have moved or no longer exists.</p>
          <p><a href="{SITE}/">Go to the home page</a> or <a href="{SITE}/cancerwise.html">read Cancerwise</a>.</p>
        </div>
      </section>
    </div>
  </div>
</main>"""
    return _page(head, "basepage errorpage", main)


def newsroom_page(
    slug: str, h00: str, title: str, published: str, paragraphs: Sequence[str]
) -> str:
    """A newsroom press release: a page of another section (not archived)."""
    url = f"{SITE}/newsroom/{slug}.h00-{h00}.html"
    head = _head(f"{title} | UT MD Anderson", None, url, title, None, [_ORGANIZATION])
    body = "\n".join(f"          <p>{rich(p)}</p>" for p in paragraphs)
    main = f"""<main class="mda-content" data-template="newsroom">
  <div id="skip">
    <div class="content">
      <section class="col-content-single newsroom-article">
        <div class="module">
          <h1>{text(title)}</h1>
          <p class="news-date">{text(published)}</p>
{body}
          <h3>Media Specialist Contact</h3>
        </div>
      </section>
    </div>
  </div>
</main>"""
    return _page(head, "basepage newsroompage", main)
