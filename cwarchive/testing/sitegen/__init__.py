"""Synthetic sites in the source's markup, with the records they must parse to.

`facts` holds what a page says, `markup` renders it (the site's AEM template or a
class-free redesign), `expected` computes its record from docs/record.md, `Site`
is a whole site written in the replay layout, `generate` builds full-scale sites,
`cases` the fixture pages and the bundled site. See docs/sitegen.md.
"""

from cwarchive.testing.sitegen.facts import ArticleFacts, Facet, Person
from cwarchive.testing.sitegen.site import Page, Site, WriteReport

__all__ = ["ArticleFacts", "Facet", "Page", "Person", "Site", "WriteReport"]
