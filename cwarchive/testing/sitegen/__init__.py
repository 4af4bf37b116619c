"""Synthetic sites in the source's markup, with the records they must parse to.

Modules:

- `facts`: what a page says (`ArticleFacts`, `Person`, `Facet`) and the URL rules
- `tags`: the sidebar facets of 2026-08-19 and of the seed snapshot
- `markup`: renders pages, one module per page kind (`markup.common`, `chrome`,
  `article`, `blocks`, `listing`, `landing`, `other`; the site's AEM template, a
  class-free redesign, or the block markup of Edge Delivery Services)
- `expected`: the record a page must parse to, computed from docs/record.md
- `site`: `Site`, a whole site: the model, its mutations, its pages
- `writer`: writes a site's pages in the replay layout (`Site.write`)
- `generate`: full-scale sites and their mutation
- `articles`: the real articles (as facts) the fixtures and the bundled site show
- `cases`: the fixture pages and the bundled site

See docs/sitegen.md.
"""

from cwarchive.testing.sitegen.facts import ArticleFacts, Facet, Person
from cwarchive.testing.sitegen.site import Page, Site
from cwarchive.testing.sitegen.writer import WriteReport

__all__ = ["ArticleFacts", "Facet", "Page", "Person", "Site", "WriteReport"]
