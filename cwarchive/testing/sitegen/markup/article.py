"""The article page: the site's AEM blog template and the class-free redesign.

`article_page` renders the markup the facts ask for (the block markup of Edge Delivery
Services is `blocks`). These two carry the same content and the same `<head>` (so the
same record); the site template follows the recreation's structure and class names
(breadcrumbs, sidebar, headline, byline, review line, key takeaways, body, "More
stories", right rail), the redesign uses semantic tags only, with no class or id.
"""

# Templates keep the site's markup one element per line, as the recreation shows it.
# ruff: noqa: E501

from __future__ import annotations

import json
from collections.abc import Sequence

from cwarchive.testing.sitegen.facts import SITE, ArticleFacts, Facet, archive_url, site_date
from cwarchive.testing.sitegen.markup.blocks import blocks_article_page
from cwarchive.testing.sitegen.markup.chrome import page_shell, plain_page_shell
from cwarchive.testing.sitegen.markup.common import (
    ORGANIZATION,
    attr,
    authors_html,
    body_html,
    call_to_action,
    page_head,
    people_html,
    plain_sidebar,
    rich,
    section_name,
    sidebar,
    text,
)
from cwarchive.testing.sitegen.markup.eds import eds_article_page


def article_page(
    facts: ArticleFacts, facets: Sequence[Facet], related: Sequence[ArticleFacts] = ()
) -> str:
    """The article's page in the markup its facts ask for."""
    if facts.markup == "redesign":
        return redesigned_article_page(facts, facets, related)
    if facts.markup == "blocks":
        return blocks_article_page(facts, facets, related)
    if facts.markup in ("eds", "eds-authored"):
        return eds_article_page(facts, facets, related, authored=facts.markup == "eds-authored")
    return site_article_page(facts, facets, related)


def site_article_page(
    facts: ArticleFacts, facets: Sequence[Facet], related: Sequence[ArticleFacts] = ()
) -> str:
    """An article in the site's AEM blog template (the recreation's structure)."""
    head, img_src = _article_head(facts)
    year, month = facts.filed_month
    name = text(section_name(facts.section))
    landing = attr(f"{SITE}/{facts.section}.html")
    byline = (
        f'                        <p class="blog-author">BY {authors_html(facts, "cta")}</p>\n'
        if facts.authors
        else ""
    )
    read_time = f"{facts.read_minutes} minute read | " if facts.read_minutes else ""
    dated = f"<span>{site_date(facts.published)}</span>"
    if not facts.bare_date:
        dated = f"{read_time}Published {dated}"
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
    body = body_html(facts.body)
    cta = call_to_action("b") if facts.call_to_action else ""
    main = f"""<div class="col-content-single breadcrumb-wrapper" data-section="breadcrumbs">
  <div>
    <section class="bleed-bottom blog-breadcrumbs">
      <ul class="breadcrumbs clearfix">
        <li><a class="breadcrumb_arrow" href="{landing}"><span>{name} Blog</span></a></li>
        <li><a class="breadcrumb_arrow" href="{attr(archive_url(facts.section, year))}"><span>{year}</span></a></li>
        <li><a class="breadcrumb_arrow" href="{attr(archive_url(facts.section, year, month))}"><span>{month:02d}</span></a></li>
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
                        <p class="blog-readtime-date"><i class="fa fa-clock-readtime fa-1x"></i><span class="tab">{dated}</span></p>
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
    return page_shell(head, "basepage blogpage", main)


def redesigned_article_page(
    facts: ArticleFacts, facets: Sequence[Facet], related: Sequence[ArticleFacts] = ()
) -> str:
    """The same article after a redesign: semantic tags only, no class or id."""
    head, img_src = _article_head(facts)
    year, month = facts.filed_month
    lines = [f"      <h1>{text(facts.title)}</h1>"]
    if facts.authors:
        lines.append(f"      <p>By {authors_html(facts, None)}</p>")
    read_time = f"{facts.read_minutes} minute read | " if facts.read_minutes else ""
    lines.append(f"      <p>{read_time}Published {site_date(facts.published)}</p>")
    if facts.reviewed:
        lines.append(
            f"      <p>Medically Reviewed | Last reviewed by "
            f"{people_html(facts.reviewers, None)} on {site_date(facts.reviewed)}</p>"
        )
    header = "\n".join(lines)
    figure = f'    <figure><img src="{attr(img_src)}" alt=""></figure>\n' if img_src else ""
    takeaways = ""
    if facts.key_takeaways:
        items = "\n".join(f"        <li>{rich(i)}</li>" for i in facts.key_takeaways)
        takeaways = f"    <section>\n      <h2>Key takeaways:</h2>\n      <ul>\n{items}\n      </ul>\n    </section>\n"
    cta = f"    {call_to_action('strong')}\n" if facts.call_to_action else ""
    stories = "\n".join(
        f'      <li><a href="{attr(r.url)}">{text(r.title)}</a></li>' for r in related
    )
    main = f"""<nav aria-label="Breadcrumb">
  <ol>
    <li><a href="{attr(f"{SITE}/{facts.section}.html")}">{text(section_name(facts.section))} Blog</a></li>
    <li><a href="{attr(archive_url(facts.section, year))}">{year}</a></li>
    <li><a href="{attr(archive_url(facts.section, year, month))}">{month:02d}</a></li>
  </ol>
</nav>
{plain_sidebar(facets)}
<main>
  <article>
    <header>
{header}
    </header>
{figure}{takeaways}{body_html(facts.body, "    ")}
{cta}  </article>
  <section>
    <h2>More stories from {text(section_name(facts.section))}</h2>
    <ul>
{stories}
    </ul>
  </section>
</main>"""
    return plain_page_shell(head, main)


def _article_head(facts: ArticleFacts) -> tuple[str, str | None]:
    """The `<head>` both article markups share (same metadata), and the body image src."""
    og_image, img_src = _images(facts)
    head = page_head(
        facts.page_title,
        facts.description,
        facts.url,
        facts.title,
        og_image,
        [ORGANIZATION, _json_ld_article(facts, og_image)],
    )
    return head, img_src


def _images(facts: ArticleFacts) -> tuple[str | None, str | None]:
    """(og:image, body img src) as the facts' `image` choice says."""
    if facts.image == "none":
        return None, None
    content = facts.content_path
    img = f"{content.replace(SITE + '/', SITE + '/content/mda/en/', 1)}/blog/adaptiveimage.resize.648.0.medium.jpg/1778514382863.jpg"
    og = f"{content}/blog/adaptiveimage.resize.702.404.jpg" if facts.image == "og" else None
    return og, img


def _json_ld_article(facts: ArticleFacts, og_image: str | None) -> dict[str, object]:
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": facts.title,
    }
    if not facts.bare_date:
        # The 2013 pages are refused by a parser that misses the bare date: no fallback.
        data["datePublished"] = facts.published.isoformat()
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


def _review_line(facts: ArticleFacts) -> str:
    if not facts.reviewed:
        return ""
    if facts.review_line == "script":
        return _review_placeholder(facts)
    people = people_html(facts.reviewers, "cta")
    return f"""              <section class="medical-reviewer-component bleed-top bleed-bottom" data-section="medical-review">
                <div class="module">
                  <div class="medical-reviewer">
                    <div class="blog-med-review"><i class="fa fa-check-medical-review fa-1x"></i><span class="bold tab">Medically Reviewed</span><span> | </span> <div class="review-text tab">Last reviewed by {people} <span class="date">on
{site_date(facts.reviewed)}</span></div></div>
                  </div>
                </div>
              </section>"""


def _review_placeholder(facts: ArticleFacts) -> str:
    """The review line as an empty element a script fills in: in the page's bytes the
    date and the reviewers are only inside the script, which no parser reads."""
    people = ", ".join(person.name for person in facts.reviewers)
    filled = json.dumps({"reviewers": people, "date": site_date(facts.reviewed)})
    return f"""              <section class="medical-reviewer-component bleed-top bleed-bottom" data-section="medical-review">
                <div class="module">
                  <div class="medical-reviewer" data-review-src="/content/review.json"></div>
                  <script>window.mdaReview = {filled};</script>
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
                          <h2 class="at-article-headline">More stories from {text(section_name(facts.section))}</h2>
{items}
                        </div>
                      </div>"""


def _right_rail(facts: ArticleFacts) -> str:
    promos = "\n".join(
        f"""                  <div data-section="{key}-promo">
                    <div class="module m-bleed">
                      <a href="{attr(f"{SITE}/{path}.html")}">
                        <div class="promo promo-simple promo-icon-{color}">
                          <div class="promo-icon-header-wrapper">
                            <div class="promo-icon icon-circle"><span class="fa-stack fa-3x"><i class="fa mda-icon-{key} mda-stack-1x"></i></span></div>
                            <div class="promo-header"><h3 class="title minion-heading heading-center">{text(title)}</h3></div>
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
                        <h3>Subscribe to {text(section_name(facts.section))}</h3>
                        <form action="#" onsubmit="return false">
                          <div class="oneField"><label for="nl-email">Email*</label><input id="nl-email" type="text"></div>
                          <div class="actions"><input type="submit" value="Submit"></div>
                        </form>
                      </div>
                    </div>
                  </div>
                </div>"""
