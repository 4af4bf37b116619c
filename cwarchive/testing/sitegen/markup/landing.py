"""The landing page (`/cancerwise.html`): featured story, latest and top stories, topic tabs.

Every article link it shows is also written to its `LinkLog`, in page order.
"""

# Templates keep the site's markup one element per line, as the recreation shows it.
# ruff: noqa: E501

from __future__ import annotations

from collections.abc import Sequence

from cwarchive.testing.sitegen.expected import LinkLog
from cwarchive.testing.sitegen.facts import SITE, TOPICS, ArticleFacts, facet_url, site_date
from cwarchive.testing.sitegen.markup.chrome import page_shell
from cwarchive.testing.sitegen.markup.common import (
    ORGANIZATION,
    attr,
    page_head,
    section_name,
    text,
)


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
<a href="{attr(f"{SITE}/{section}.html")}">Cancer<span class="color">wise</span></a>
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
    head = page_head(
        f"{name} Blog | UT MD Anderson",
        f"UT MD Anderson's {name} blog: patient and caregiver stories, expert insight and research.",
        f"{SITE}/{section}.html",
        f"{name} Blog",
        f"{SITE}/images/publications/cancerwise/Graphics/EndCancerDoodles.png",
        [ORGANIZATION],
    )
    main = f"""<main class="mda-content" data-template="listing">
  <div id="skip">
    <div class="content">
{content}
    </div>
  </div>
</main>"""
    return page_shell(head, "basepage bloglanding", main), log
