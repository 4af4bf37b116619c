"""The parser on the redesign's block markup (Edge Delivery Services) and its URLs.

Small pages written here, one concern each: furniture left out of the body in
whatever markup carries it, the metadata read as fallbacks only, and pages known by
their content rather than their path. The fixture twins (`fixtures/pages/*-blocks`)
check whole pages against the generator's oracle.
"""

from __future__ import annotations

import pytest

from common.record import content_hash
from crawler.parsers import PageError, parse_page

SITE = "https://www.mdanderson.org"
URL = f"{SITE}/cancerwise/sleep-well"
FACET = f"{SITE}/cancerwise.dir.html/category/content/cq:tags/md-anderson"

HEADER = """<h1>Sleep well</h1>
<p>By <a href="https://www.mdanderson.org/cancerwise.dir.html/author/Ana%20P">Ana P</a></p>
<p>4 minute read | Published June 08, 2026</p>"""
BODY = """<p>First paragraph of the article.</p>
<h2>What helps</h2>
<p>Second paragraph of the article.</p>"""
FACETS = f"""<h2>Diseases</h2>
<ul>
<li><a href="{FACET}/diseases/breast-cancer">Breast Cancer (708)</a></li>
<li><a href="{FACET}/diseases/lung-cancer">Lung Cancer (314)</a></li>
</ul>
<h2>Cancer Topic</h2>
<ul>
<li><a href="{FACET}/cancer-topics/treatment">Treatment (1772)</a></li>
</ul>"""


def page(sections: list[str], head: str = "", url: str = URL) -> str:
    """An EDS page: `main > div` sections, empty header and footer (filled by script)."""
    main = "\n".join(f"<div>\n{section}\n</div>" for section in sections)
    return f"""<!DOCTYPE html><html><head><title>Sleep well | UT MD Anderson</title>
<link rel="canonical" href="{url}">{head}</head>
<body><header></header><main>
{main}
</main><footer></footer></body></html>"""


def block(name: str, *rows: tuple[str, ...]) -> str:
    """A block: `div.<name>`, each row a div of cell divs."""
    body = "".join(
        "<div>" + "".join(f"<div>{cell}</div>" for cell in row) + "</div>" for row in rows
    )
    return f'<div class="{name}">{body}</div>'


def test_facet_lists_after_the_body_are_not_body() -> None:
    """Facets as the redesign's plain content after the article: tag counts, not body."""
    record = parse_page(page([HEADER + BODY, FACETS]), URL)
    assert record["body_text"] == (
        "First paragraph of the article.\n\nWhat helps\n\nSecond paragraph of the article."
    )
    assert record["headings"] == ["What helps"]
    assert [(t["group"], t["label"], t["count"]) for t in record["tag_counts"]] == [
        ("Diseases", "Breast Cancer", 708),
        ("Diseases", "Lung Cancer", 314),
        ("Cancer Topic", "Treatment", 1772),
    ]


def test_facet_lists_in_a_block_are_not_body() -> None:
    facets = block(
        "topic-filters",
        ("<h3>Diseases</h3>", f'<ul><li><a href="{FACET}/diseases/x">X Cancer (4)</a></li></ul>'),
    )
    record = parse_page(page([HEADER + BODY + facets]), URL)
    assert "X Cancer" not in record["body_text"] and "Diseases" not in record["body_text"]
    assert record["tag_counts"] == [
        {"group": "Diseases", "label": "X Cancer", "count": 4, "tag_id": "md-anderson:diseases/x"}
    ]


def test_furniture_blocks_are_not_body() -> None:
    furniture = [
        block("breadcrumb", ('<a href="https://www.mdanderson.org/cancerwise.html">Blog</a>',)),
        block("share", ("Share this article",)),
        block("schedule-cta", ("<h2>Schedule Your Mammogram</h2>",), ("Call us today.",)),
        block("newsletter-subscribe", ("<h3>Subscribe to Cancerwise</h3>",)),
        block("sidebar-article", ("<h3>Another story</h3>",), ("Read more",)),
        block("section-metadata", ("Style", "sidebar")),
        block("metadata", ("Published", "June 08, 2026"), ("Author", "Ana P")),
    ]
    record = parse_page(page([HEADER + BODY, *furniture]), URL)
    assert record["headings"] == ["What helps"]
    assert record["word_count"] == 12


def test_block_names_count_only_for_blocks() -> None:
    """A class that reads like a furniture block, deeper in the content, is content."""
    body = BODY + '<div class="columns"><div><div><div class="share">Shared decisions help.</div>'
    record = parse_page(page([HEADER + body + "</div></div></div>"]), URL)
    assert record["body_text"].endswith("Shared decisions help.")


def test_call_to_action_and_related_stories_end_the_body() -> None:
    cta = (
        '<p><strong><a href="https://my.mdanderson.org/RequestAppointment">'
        "Request an appointment at UT MD Anderson online</a> or call 1-855-628-7053.</strong></p>"
    )
    related = "<h2>More stories from Cancerwise</h2>" + block(
        "cards-article", (f'<p><a href="{SITE}/cancerwise/other">Other</a></p>',)
    )
    record = parse_page(page([HEADER + BODY + cta, related]), URL)
    assert record["headings"] == ["What helps"]
    assert "appointment" not in record["body_text"] and "Other" not in record["body_text"]


# ---------------------------------------------------------------- metadata fallbacks

META = """<meta property="article:published_time" content="2026-05-01T09:00:00Z">
<meta property="article:modified_time" content="2026-07-01T09:00:00Z">
<meta name="author" content="Roman Gokhman, Ana P">
<meta property="article:tag" content="Breast Cancer">"""


def test_visible_page_wins_over_metadata() -> None:
    record = parse_page(page([HEADER + BODY], head=META), URL)
    assert (record["published"], record["authors"]) == ("2026-06-08", ["Ana P"])
    assert record["reviewed"] is None  # a modification is not a review


def test_meta_tags_fill_what_the_page_does_not_show() -> None:
    record = parse_page(page(["<h1>Sleep well</h1>" + BODY], head=META), URL)
    assert record["published"] == "2026-05-01"
    assert record["authors"] == ["Roman Gokhman", "Ana P"]
    assert record["read_minutes"] is None


def test_metadata_block_fills_what_the_page_does_not_show() -> None:
    metadata = block(
        "metadata",
        ("Description", "How to sleep during treatment."),
        ("Publication Date", "April 2, 2026"),
        ("Author", "Jay Martinez and Ana P"),
    )
    record = parse_page(page(["<h1>Sleep well</h1>" + BODY, metadata]), URL)
    assert record["published"] == "2026-04-02"
    assert record["authors"] == ["Jay Martinez", "Ana P"]
    assert record["description"] == "How to sleep during treatment."
    assert "Publication Date" not in record["body_text"]


def test_no_date_anywhere_is_still_refused() -> None:
    with pytest.raises(PageError, match="no published date"):
        parse_page(page(["<h1>Sleep well</h1>" + BODY]), URL)


# ---------------------------------------------------------------- known by content


@pytest.mark.parametrize(
    "path",
    [
        "/cancerwise/sleep-well.h00-159856134.html",
        "/cancerwise/sleep-well.html",
        "/cancerwise/sleep-well",
        "/cancerwise/2026/06/sleep-well",
    ],
)
def test_an_article_whatever_its_path(path: str) -> None:
    record = parse_page(page([HEADER + BODY, FACETS], url=SITE + path), SITE + path)
    assert record["page_type"] == "article"
    assert record["canonical_url"] == SITE + path


def test_one_article_under_both_schemes_hashes_alike() -> None:
    old = parse_page(page([HEADER + BODY], url=f"{URL}.h00-1.html"), f"{URL}.h00-1.html")
    new = parse_page(page([HEADER + BODY]), URL)
    assert old["article_key"] == new["article_key"] == "cancerwise/sleep-well"
    assert old["content_hash"] == new["content_hash"] == content_hash(new)


def test_filed_month_is_not_content() -> None:
    image = "<p><img src='https://www.mdanderson.org/cancerwise/2025/01/sleep-well/jcr:content/a.jpg'></p>"
    filed = parse_page(page([HEADER + image + BODY]), URL)
    media = parse_page(
        page([HEADER + "<p><img src='./media_1a2b3c.jpeg?width=750'></p>" + BODY]), URL
    )
    assert (filed["filed_month"], media["filed_month"]) == ("2025-01", None)
    assert filed["content_hash"] == media["content_hash"]


def test_a_listing_known_by_its_links_and_facets() -> None:
    cards = "".join(
        f'<li><a href="{SITE}/cancerwise/story-{i}">Story {i}</a><p>June 0{i}, 2026</p></li>'
        for i in range(1, 4)
    )
    url = f"{SITE}/cancerwise/topics/healthy-living"
    record = parse_page(page([f"<h1>Healthy living</h1><ul>{cards}</ul>", FACETS], url=url), url)
    assert record["page_type"] == "listing"
    assert record["listing_kind"] is None
    assert record["article_links"] == [f"{SITE}/cancerwise/story-{i}" for i in range(1, 4)]
    assert record["cards"][0] == {
        "title": "Story 1",
        "url": f"{SITE}/cancerwise/story-1",
        "date": "2026-06-01",
    }
    assert len(record["tag_counts"]) == 3


def test_extension_less_listing_paths() -> None:
    archive = f"{SITE}/cancerwise/2026/06"
    links = f'<a href="{SITE}/cancerwise/sleep-well">Sleep well</a>'
    record = parse_page(page([f"<h1>June 2026</h1><p>{links}</p>"], url=archive), archive)
    assert (record["listing_kind"], record["article_links"]) == ("archive", [URL])


@pytest.mark.parametrize(
    ("url", "html", "reason"),
    [
        # An `.h00-N.html` URL is an article's: the reason is the article's.
        (f"{URL}.h00-1.html", page(["<h1>Sleep well</h1>" + BODY, FACETS]), "no published date"),
        (URL, page(["<h1>Sleep well</h1>" + BODY]), "no published date"),
        (f"{SITE}/cancerwise/a/b", page(["<p>Nothing to see.</p>"]), "unknown page type: "),
        (f"{SITE}/newsroom/sleep-well", page([HEADER + BODY]), "not a page of the archived"),
        (URL, page(["<h1>Page Not Found</h1><p>Sorry.</p>"]), "page not found (404 page)"),
        (URL, page([HEADER + BODY])[:-40], "truncated page (no </html>)"),
    ],
)
def test_refused(url: str, html: str, reason: str) -> None:
    html = html.replace(f'href="{URL}"', f'href="{url}"')
    with pytest.raises(PageError) as raised:
        parse_page(html, url)
    assert raised.value.reason.startswith(reason)


def test_links_that_are_no_urls_are_no_links() -> None:
    """An unclosed IPv6 bracket (`http://[...`) makes urllib refuse a URL: a mangled
    canonical link, byline, facet or card link is ignored, never a failed parse."""
    bad = "https://[www.mdanderson.org/x"
    header = HEADER.replace("https://www.mdanderson.org/cancerwise.dir.html/author/Ana%20P", bad)
    facets = FACETS.replace(f"{FACET}/diseases/lung-cancer", bad)
    html = page([header + BODY, facets]).replace(f'href="{URL}"', f'href="{bad}"')
    record = parse_page(html, URL)
    assert (record["canonical_url"], record["authors"]) == (URL, ["Ana P"])
    # An item without a tag link counts only in a list of counted items (3 or more).
    assert [t["label"] for t in record["tag_counts"]] == ["Breast Cancer", "Treatment"]
    assert "Lung Cancer" not in record["body_text"]
    cards = (
        f'<ul><li><a href="{bad}">Lost</a></li><li><a href="{SITE}/cancerwise/x">X</a></li></ul>'
    )
    listing_url = f"{SITE}/cancerwise/2026/06"
    listing = parse_page(page([f"<h1>June</h1>{cards}"], url=listing_url), listing_url)
    assert listing["article_links"] == [f"{SITE}/cancerwise/x"]
    with pytest.raises(PageError, match="not a URL"):
        parse_page(page([HEADER + BODY], url=bad))
