"""Pages in the site's markup (the AEM template), a class-free redesign and EDS blocks.

The site markup follows the structure and class names of the recreation in
`../shared/reference/pages/` (our own markup and text, real facts); the redesign
carries the same content with semantic tags only, no class or id attribute, as a
migration off AEM might. Every link is an absolute https://www.mdanderson.org URL,
as on the real site; the crawler rewrites them onto the replay root.

One module per page kind; callers import the page functions from them:

- `common`: escaping (`text`, `attr`, `rich`), the `<head>`, the facet sidebars
- `chrome`: header, mega-menus, #EndCancer band, footer, and the page shells
- `article`: the article page, site template and redesign (`article_page`)
- `blocks`: a block markup of Edge Delivery Services (the article, the 404 page)
- `eds`: the article in EDS blocks as SITE.md describes them, served and authored
- `listing`: directory, facet and author pages, archives (cards, pagination)
- `landing`: the landing page
- `other`: the 404 page and a newsroom page (pages the parser must refuse)

Templates are f-strings with `html.escape` (`common.text`, `common.attr`), not
Jinja2: the output must stay byte-identical to the committed fixtures and sites
(the tests compare them) and copies the site's markup whitespace for whitespace,
which Jinja2's block and whitespace handling would make harder to keep exact; the
listing renderers write each link to a `LinkLog` as they emit it, which a template
would have to call back into; and it would add a dependency for test tooling only.
Every value from facts goes through `text`, `attr` or `rich`; the only other
escaping is JSON-LD's `</` (see `common.page_head`).
"""
