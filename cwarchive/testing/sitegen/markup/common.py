"""What the pages share: escaping, the `<head>`, the facet sidebars, article parts.

`text` and `attr` are `html.escape` (element text, attribute values); `rich` is body
text with its `[text](url)` links as anchors. The article parts every article markup
writes alike (people, the byline's links, the body, the call to action) are here too.
The page chrome and the shells that put a page's main part in it are in `chrome`.
"""

# Templates keep the site's markup one element per line, as the recreation shows it.
# ruff: noqa: E501

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

from cwarchive.testing.sitegen.facts import (
    SITE,
    ArticleFacts,
    Facet,
    Person,
    author_url,
    ends_with_degree,
    inline_links,
)

ORGANIZATION = {
    "@context": "https://schema.org",
    "@type": "Organization",
    "name": "The University of Texas MD Anderson Cancer Center",
    "url": f"{SITE}/",
    "logo": f"{SITE}/mda-logo-sharable.png",
    "slogan": "Making Cancer History",
    "telephone": "+1-877-632-6789",
}


def text(value: str) -> str:
    """Element text, escaped (`&`, `<`, `>`)."""
    return escape(value, quote=False)


def attr(value: str) -> str:
    """A double-quoted attribute value, escaped (`&`, `<`, `>`, `"`, `'`)."""
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


def page_head(
    title: str | None,
    description: str | None,
    canonical: str,
    og_title: str,
    og_image: str | None,
    json_ld: Sequence[dict[str, object]] = (),
) -> str:
    """The `<head>`: title, description, Open Graph, canonical, JSON-LD scripts."""
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
        # A <script> holds raw text: entities are not decoded there, so html.escape
        # would change the JSON. What must not appear is `</` (a title holding
        # `</script>` would end the element); `<\/` is the same string to JSON.
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
    """The redesign's facets: an `<aside>` of `<section><h2>group</h2><ul>` lists."""
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


APPOINTMENTS = "https://my.mdanderson.org/RequestAppointment"


def call_to_action(bold: str) -> str:
    """The closing "Request an appointment" paragraph, in `<b>` (site) or `<strong>`."""
    return (
        f'<p><{bold}><a href="{attr(APPOINTMENTS)}">Request an appointment at '
        f"UT MD Anderson online</a> or call 1-855-628-7053.</{bold}></p>"
    )


def people_html(people: Sequence[Person], link_class: str | None) -> str:
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


def authors_html(facts: ArticleFacts, link_class: str | None) -> str:
    cls = f' class="{link_class}"' if link_class else ""
    links = []
    for name in facts.authors:
        ident = ""
        if link_class:
            # The site's id: the slug's first 15 characters and the name, `_` for `-`/` `.
            slug = facts.slug.strip("-")[:15].replace("-", "_")
            ident = f' id="{attr(slug)}_{attr(name.lower().replace(" ", "_"))}"'
        links.append(f'<a{ident}{cls} href="{attr(author_url(name))}">{text(name)}</a>')
    return " and ".join(links)


def body_html(blocks: Sequence[tuple[str, str]], indent: str = "") -> str:
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
