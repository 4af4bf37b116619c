"""Pages in the block markup of Adobe Edge Delivery Services (EDS), where the site moves.

What an EDS server sends before its script runs: an empty `<header>` and `<footer>`
(navigation and footer are loaded later), and `<main>` made of sections (`main > div`)
holding default content (`h1`, `p`, lists) and blocks, `div.<name>` whose rows and
cells are nested divs. The `<head>` carries the meta tags EDS writes from the page's
metadata (`author`, `article:published_time`, `article:modified_time`, `article:tag`)
and no JSON-LD; images are `media_<hash>` files beside the page, so no image URL tells
the month the article was filed under (its record has no `filed_month`).

The article's section order is an EDS author's: header and review, body, then a
sidebar section (the facet lists as plain content, a promoted story), "More stories"
as a cards block, a sign-up block. The sidebar comes after the body, so nothing but the
parser's rules keeps its facets out of the article body. Our own markup and text.
"""

# Templates keep one element per line.
# ruff: noqa: E501

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cwarchive.testing.sitegen.facts import SITE, ArticleFacts, Facet, site_date
from cwarchive.testing.sitegen.markup.common import (
    attr,
    authors_html,
    body_html,
    call_to_action,
    people_html,
    rich,
    section_name,
    text,
)

_HEAD_END = """<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="/scripts/aem.js" type="module"></script>
<script src="/scripts/scripts.js" type="module"></script>
<link rel="stylesheet" href="/styles/styles.css">"""


def block(name: str, rows: Sequence[Sequence[str]], indent: str = "") -> str:
    """A block: `div.<name>`, a div per row, a div per cell (cells are markup)."""
    lines = [f'{indent}<div class="{attr(name)}">']
    for row in rows:
        cells = "".join(f"<div>{cell}</div>" for cell in row)
        lines.append(f"{indent}  <div>{cells}</div>")
    lines.append(f"{indent}</div>")
    return "\n".join(lines)


def media(key: str, width: int) -> str:
    """An EDS image URL: the file is named by a hash of its content, not its place."""
    digest = hashlib.sha1(key.encode()).hexdigest()
    return f"./media_{digest}.jpeg?width={width}&format=jpeg&optimize=medium"


def picture(key: str, alt: str = "") -> str:
    return (
        f'<picture><source type="image/webp" srcset="{attr(media(key, 750).replace("format=jpeg", "format=webply"))}">'
        f'<img loading="lazy" alt="{attr(alt)}" src="{attr(media(key, 750))}" width="1200" height="690"></picture>'
    )


def blocks_page(head: str, sections: Sequence[str]) -> str:
    """The page: `main > div` sections between the empty header and footer."""
    main = "\n".join(f"<div>\n{section}\n</div>" for section in sections)
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n{head}\n{_HEAD_END}\n</head>\n<body>\n'
        f"<header></header>\n<main>\n{main}\n</main>\n<footer></footer>\n</body>\n</html>\n"
    )


def blocks_article_page(
    facts: ArticleFacts, facets: Sequence[Facet], related: Sequence[ArticleFacts] = ()
) -> str:
    """The article in block markup, at the URL its facts give (extension-less after a move)."""
    name = section_name(facts.section)
    header = [
        block(
            "breadcrumb",
            [[f'<p><a href="{attr(f"{SITE}/{facts.section}")}">{text(name)} Blog</a></p>']],
        ),
        f"<h1>{text(facts.title)}</h1>",
    ]
    if facts.authors:
        header.append(f"<p>By {authors_html(facts, None)}</p>")
    read_time = f"{facts.read_minutes} minute read | " if facts.read_minutes else ""
    header.append(f"<p>{read_time}Published {site_date(facts.published)}</p>")
    if facts.reviewed:
        review = (
            f"Last reviewed by {people_html(facts.reviewers, None)} on {site_date(facts.reviewed)}"
        )
        header.append(block("medical-reviewer", [["Medically Reviewed", review]]))
    body = []
    if facts.image != "none":
        body.append(f"<p>{picture(facts.content_path, facts.title)}</p>")
    if facts.key_takeaways:
        items = "".join(f"<li>{rich(item)}</li>" for item in facts.key_takeaways)
        body.append(block("key-takeaways", [[f"<h3>Key takeaways:</h3><ul>{items}</ul>"]]))
    body.append(body_html(facts.body))
    if facts.call_to_action:
        body.append(call_to_action("strong"))
    sections = ["\n".join(header), "\n".join(body), _sidebar(facets, related[:1])]
    if related:
        cards = [
            [picture(r.content_path), f'<p><a href="{attr(r.url)}">{text(r.title)}</a></p>']
            for r in related
        ]
        sections.append(
            f"<h2>More stories from {text(name)}</h2>\n" + block("cards-article", cards)
        )
    subscribe = f"{SITE}/publications/subscribe-to-{facts.section.rsplit('/', 1)[-1]}"
    sections.append(
        block(
            "newsletter-subscribe",
            [
                [
                    f"<h3>Subscribe to {text(name)}</h3><p>Stories of patients, caregivers and experts, every week.</p>"
                ],
                [f'<p><a href="{attr(subscribe)}">Subscribe</a></p>'],
            ],
        )
    )
    return blocks_page(_head(facts, facets), sections)


def _sidebar(facets: Sequence[Facet], promoted: Sequence[ArticleFacts]) -> str:
    """The sidebar section: its style, the facet groups as plain content, a promoted story."""
    parts = [block("section-metadata", [["Style", "sidebar"]])]
    groups: dict[str, list[Facet]] = {}
    for facet in facets:
        groups.setdefault(facet.group, []).append(facet)
    for group, members in groups.items():
        items = "\n".join(
            f'  <li><a href="{attr(f.url)}">{text(f.label)} ({f.count})</a></li>' for f in members
        )
        parts.append(f"<h2>{text(group)}</h2>\n<ul>\n{items}\n</ul>")
    for story in promoted:
        parts.append(
            block(
                "sidebar-article",
                [
                    [picture(story.content_path)],
                    [f"<h3>{text(story.title)}</h3>"],
                    [f"<p>{text(story.description or 'A story from our experts.')}</p>"],
                    [f'<p><a href="{attr(story.url)}">Read more</a></p>'],
                ],
            )
        )
    return "\n".join(parts)


def _head(facts: ArticleFacts, facets: Sequence[Facet]) -> str:
    """The head EDS writes from the page's metadata: no JSON-LD, a `media_` image."""
    lines = [
        f"<title>{text(facts.page_title)}</title>",
        f'<link rel="canonical" href="{attr(facts.url)}">',
    ]
    if facts.description:
        lines.append(f'<meta name="description" content="{attr(facts.description)}">')
    lines.append(f'<meta property="og:title" content="{attr(facts.title)}">')
    if facts.description:
        lines.append(f'<meta property="og:description" content="{attr(facts.description)}">')
    lines.append(f'<meta property="og:url" content="{attr(facts.url)}">')
    if facts.image == "og":
        image = (
            SITE
            + f"/{facts.section}/"
            + media(facts.content_path, 1200)[2:].replace("format=jpeg", "format=pjpg")
        )
        lines.append(f'<meta property="og:image" content="{attr(image)}">')
    lines.append('<meta name="twitter:card" content="summary_large_image">')
    if facts.authors:
        lines.append(f'<meta name="author" content="{attr(", ".join(facts.authors))}">')
    lines.append(
        f'<meta property="article:published_time" content="{facts.published.isoformat()}">'
    )
    lines.append(
        f'<meta property="article:modified_time" content="{facts.lastmod.isoformat(timespec="seconds")}">'
    )
    labels = {f.tag: f.label for f in facets}
    lines += [
        f'<meta property="article:tag" content="{attr(labels[tag])}">'
        for tag in facts.tags
        if tag in labels
    ]
    lines.append('<meta name="template" content="blog-article">')
    return "\n".join(lines)


def blocks_not_found_page() -> str:
    """The 404 page of an EDS site (served with status 404, or saved by mistake)."""
    head = (
        f'<title>Page Not Found | UT MD Anderson</title>\n<link rel="canonical" href="{SITE}/404">'
    )
    section = (
        "<h1>Page Not Found</h1>\n"
        "<p>We're sorry, the page you requested could not be found. It may have moved or no longer exists.</p>\n"
        f'<p><a href="{SITE}/">Go to the home page</a> or <a href="{SITE}/cancerwise">read Cancerwise</a>.</p>'
    )
    return blocks_page(head, [section])
