"""An article in the block markup of Edge Delivery Services as SITE.md describes it.

The blocks and their order are those seen in the public proof-of-concept migrations
(`../shared/reference/SITE.md`, "The site's move to Edge Delivery Services"):
`breadcrumbs`; `section-nav topics` (`Jump To:`, a `Back` link, the facet groups as
nested lists); `article-header` (rows: the h1, the author link, `8 minute read`, the
date alone, no "Published"); `byline` (rows: the reviewer link(s), the date alone, no
"Last reviewed by ... on"); a `callout` holding the key takeaways; the body as default
content; then "More stories from ..." and `article-cards rail`, and a section of
furniture (`quote rail`, `cards icon rail`, `newsletter`, `cards promo`,
`section-metadata`).

Two forms of one page: as authored, the `metadata` block (Title, Description,
Template, Author, Publishdate, Category, Image, Readtime, Reviewer, Reviewdate) is the
last section of `<main>` and the `<head>` holds no metadata; as served, EDS has turned
that block into `<title>`, og:* and `<meta name=...>` tags and dropped it from `<main>`.
Our own markup and text.
"""

# Templates keep one element per line.
# ruff: noqa: E501

from __future__ import annotations

from collections.abc import Sequence

from cwarchive.testing.sitegen.facts import SITE, TOPICS, ArticleFacts, Facet, site_date
from cwarchive.testing.sitegen.markup.blocks import blocks_page, media, picture
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


def eds_article_page(
    facts: ArticleFacts,
    facets: Sequence[Facet],
    related: Sequence[ArticleFacts] = (),
    authored: bool = False,
) -> str:
    """The article as EDS serves it, or (`authored`) with its metadata block in `<main>`."""
    metadata = _metadata(facts)
    sections = [_article_section(facts, facets, related), _furniture_section(facts)]
    if authored:
        sections.append(_metadata_block(facts, metadata))
        return blocks_page(
            '<meta name="viewport" content="width=device-width, initial-scale=1">', sections
        )
    return blocks_page(_served_head(facts, metadata), sections)


def _block(name: str, rows: Sequence[Sequence[str]]) -> str:
    """A block of rows of cells, one element per line."""
    lines = [f'<div class="{attr(name)}">']
    for row in rows:
        lines.append("  <div>")
        lines += [f"    <div>{cell}</div>" for cell in row]
        lines.append("  </div>")
    lines.append("</div>")
    return "\n".join(lines)


def _article_section(
    facts: ArticleFacts, facets: Sequence[Facet], related: Sequence[ArticleFacts]
) -> str:
    name = section_name(facts.section)
    parts = [
        _block(
            "breadcrumbs",
            [
                [f'<p><a href="{SITE}/">Home</a></p>'],
                [f'<p><a href="{attr(f"{SITE}/{facts.section}")}">{text(name)}</a></p>'],
            ],
        ),
        _section_nav(facts, facets),
    ]
    header = [[f"<h1>{text(facts.title)}</h1>"]]
    if facts.authors:
        header.append([f"<p>{authors_html(facts, None)}</p>"])
    if facts.read_minutes:
        header.append([f"<p>{facts.read_minutes} minute read</p>"])
    header.append([f"<p>{site_date(facts.published)}</p>"])
    parts.append(_block("article-header", header))
    if facts.reviewed:
        parts.append(
            _block(
                "byline",
                [
                    [f"<p>{people_html(facts.reviewers, None)}</p>"],
                    [f"<p>{site_date(facts.reviewed)}</p>"],
                ],
            )
        )
    if facts.key_takeaways:
        items = "".join(f"<li>{rich(item)}</li>" for item in facts.key_takeaways)
        parts.append(
            _block("callout", [[f"<p><strong>Key takeaways:</strong></p><ul>{items}</ul>"]])
        )
    if facts.image != "none":
        parts.append(f"<p>{picture(facts.content_path, facts.title)}</p>")
    parts.append(body_html(facts.body))
    if facts.call_to_action:
        parts.append(call_to_action("strong"))
    if related:
        parts.append(f"<h2>More stories from {text(name)}</h2>")
        parts.append(
            _block(
                "article-cards rail",
                [
                    [
                        picture(r.content_path),
                        f'<p><a href="{attr(r.url)}">{text(r.title)}</a></p><p>{site_date(r.published)}</p>',
                    ]
                    for r in related
                ],
            )
        )
    return "\n".join(parts)


def _section_nav(facts: ArticleFacts, facets: Sequence[Facet]) -> str:
    """The facet lists: `Jump To:`, a `Back` link, each group an item holding its list."""
    groups: dict[str, list[Facet]] = {}
    for facet in facets:
        groups.setdefault(facet.group, []).append(facet)
    items = []
    for group, members in groups.items():
        links = "\n".join(
            f'      <li><a href="{attr(f.url)}">{text(f.label)} ({f.count})</a></li>'
            for f in members
        )
        items.append(f"  <li>{text(group)}\n    <ul>\n{links}\n    </ul>\n  </li>")
    lists = "<ul>\n" + "\n".join(items) + "\n</ul>"
    back = attr(f"{SITE}/{facts.section}")
    return _block(
        "section-nav topics", [["<p>Jump To:</p>"], [f'<p><a href="{back}">Back</a></p>'], [lists]]
    )


def _furniture_section(facts: ArticleFacts) -> str:
    """The rail and promotion blocks after the article, and the section's style."""
    name = section_name(facts.section)
    return "\n".join(
        [
            _block(
                "quote rail",
                [
                    ["<p>“Every question a patient asks makes our care better.”</p>"],
                    ["<p>A nurse in our clinics</p>"],
                ],
            ),
            _block(
                "cards icon rail",
                [
                    [
                        "<p>Share Your Story</p>",
                        f'<p><a href="{SITE}/patients-family/share-your-story.html">Tell us</a></p>',
                    ],
                    [
                        "<p>Reduce Your Cancer Risk</p>",
                        f'<p><a href="{SITE}/prevention-screening/manage-your-risk.html">Learn how</a></p>',
                    ],
                ],
            ),
            _block(
                "newsletter",
                [
                    [
                        f"<h3>Subscribe to {text(name)}</h3>",
                        "<p>Stories from our patients and experts, in your inbox.</p>",
                    ]
                ],
            ),
            _block(
                "cards promo",
                [
                    [
                        "<p>Request an appointment</p>",
                        f'<p><a href="{SITE}/patients-family/becoming-our-patient.html">Get started</a></p>',
                    ]
                ],
            ),
            _block("section-metadata", [["<p>Style</p>", "<p>rail</p>"]]),
        ]
    )


def _metadata(facts: ArticleFacts) -> list[tuple[str, str]]:
    """The metadata block's rows (key, value as text), in the order authors write them;
    the Image row's value is its picture's source."""
    rows = [("Title", facts.page_title)]
    if facts.description:
        rows.append(("Description", facts.description))
    rows.append(("Template", "blog-article"))
    if facts.authors:
        rows.append(("Author", ", ".join(facts.authors)))
    rows.append(("Publishdate", facts.published.isoformat()))
    rows.append(("Category", next(label for tag, label, *_ in TOPICS if tag == facts.topic)))
    if facts.image == "og":  # "img": a picture in the body, no page image
        rows.append(("Image", f"{SITE}/{facts.section}/" + media(facts.content_path, 1200)[2:]))
    if facts.read_minutes:
        rows.append(("Readtime", str(facts.read_minutes)))
    if facts.reviewed:
        rows.append(("Reviewer", ", ".join(p.name for p in facts.reviewers)))
        rows.append(("Reviewdate", facts.reviewed.isoformat()))
    return rows


def _metadata_block(facts: ArticleFacts, metadata: Sequence[tuple[str, str]]) -> str:
    cells = [
        [
            f"<p>{text(key)}</p>",
            picture(facts.content_path, facts.title) if key == "Image" else f"<p>{text(value)}</p>",
        ]
        for key, value in metadata
    ]
    return _block("metadata", cells)


def _served_head(facts: ArticleFacts, metadata: Sequence[tuple[str, str]]) -> str:
    """The `<head>` EDS writes from the metadata block."""
    values = dict(metadata)
    lines = [
        f"<title>{text(values['Title'])}</title>",
        f'<link rel="canonical" href="{attr(facts.url)}">',
    ]
    if "Description" in values:
        lines.append(f'<meta name="description" content="{attr(values["Description"])}">')
    lines.append(f'<meta property="og:title" content="{attr(values["Title"])}">')
    if "Description" in values:
        lines.append(f'<meta property="og:description" content="{attr(values["Description"])}">')
    lines.append(f'<meta property="og:url" content="{attr(facts.url)}">')
    if "Image" in values:
        lines.append(f'<meta property="og:image" content="{attr(values["Image"])}">')
    for key in (
        "Template",
        "Author",
        "Publishdate",
        "Category",
        "Readtime",
        "Reviewer",
        "Reviewdate",
    ):
        if key in values:
            lines.append(f'<meta name="{key.lower()}" content="{attr(values[key])}">')
    return "\n".join(lines)
