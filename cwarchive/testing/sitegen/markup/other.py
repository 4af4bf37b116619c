"""Pages that are not the archive's: the site's 404 page and a newsroom press release.

The parser must refuse both (fixture cases `not-found-page`, `newsroom-not-archived`).
"""

# Templates keep the site's markup one element per line, as the recreation shows it.
# ruff: noqa: E501

from __future__ import annotations

from collections.abc import Sequence

from cwarchive.testing.sitegen.facts import SITE
from cwarchive.testing.sitegen.markup.chrome import page_shell
from cwarchive.testing.sitegen.markup.common import ORGANIZATION, page_head, rich, text


def not_found_page() -> str:
    """The site's "page not found" page (served with status 404 or saved by mistake)."""
    head = page_head(
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
    return page_shell(head, "basepage errorpage", main)


def newsroom_page(
    slug: str, h00: str, title: str, published: str, paragraphs: Sequence[str]
) -> str:
    """A newsroom press release: a page of another section (not archived)."""
    url = f"{SITE}/newsroom/{slug}.h00-{h00}.html"
    head = page_head(f"{title} | UT MD Anderson", None, url, title, None, [ORGANIZATION])
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
    return page_shell(head, "basepage newsroompage", main)
