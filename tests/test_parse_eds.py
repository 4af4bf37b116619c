"""Article pages of Edge Delivery Services as SITE.md describes them, and the 2013 form.

Small pages written here, one rule each: the unlabelled rows of `article-header` and
`byline`, the metadata as `<meta name=...>` tags (served) or the `metadata` block
(authored), which of the two wins, the facet lists of `section-nav`, the furniture
blocks. The fixture twins (`fixtures/pages/*-eds`, `*-eds-authored`) check whole pages.
"""

from __future__ import annotations

import pytest

from crawler.parsers import PageError, parse_page

SITE = "https://www.mdanderson.org"
URL = f"{SITE}/cancerwise/rest-and-recovery"
FACET = f"{SITE}/cancerwise.dir.html/category/content/cq:tags/md-anderson"
AUTHOR = f"{SITE}/cancerwise.dir.html/author/Ana%20Perez"
FACULTY = "http://faculty.mdanderson.org/profiles/"


def block(name: str, *rows: str) -> str:
    """A block of one-cell rows (a row given as a tuple is several cells)."""
    cells = (
        "".join(f"<div>{c}</div>" for c in r) if isinstance(r, tuple) else f"<div>{r}</div>"
        for r in rows
    )
    return f'<div class="{name}">' + "".join(f"<div>{c}</div>" for c in cells) + "</div>"


NAV = block(
    "section-nav topics",
    "<p>Jump To:</p>",
    f'<p><a href="{SITE}/cancerwise">Back</a></p>',
    f"""<ul><li>Diseases<ul>
<li><a href="{FACET}/diseases/breast-cancer">Breast Cancer (708)</a></li>
<li><a href="{FACET}/diseases/lung-cancer">Lung Cancer (314)</a></li></ul></li>
<li>Cancer Topic<ul>
<li><a href="{FACET}/cancer-topics/treatment">Treatment (1772)</a></li></ul></li></ul>""",
)
HEADER = block(
    "article-header",
    "<h1>Rest and recovery</h1>",
    f'<p><a href="{AUTHOR}">Ana Perez</a></p>',
    "<p>6 minute read</p>",
    "<p>June 08, 2026</p>",
)
BYLINE = block(
    "byline",
    f'<p><a href="{FACULTY}jane_roe.html">Jane Roe, M.D.,</a> and '
    f'<a href="{FACULTY}li_wei.html.html">Li Wei, Ph.D.,</a></p>',
    "<p>June 10, 2026</p>",
)
TAKEAWAYS = block(
    "callout",
    "<p><strong>Key takeaways:</strong></p><ul><li>Rest helps.</li><li>Ask early.</li></ul>",
)
BODY = (
    "<p><img src='./media_1a2b.jpeg?width=750'></p><p>Short first paragraph.</p>"
    "<h2>What helps</h2><p>Rest, water and time.</p>"
)
RELATED = "<h2>More stories from Cancerwise</h2>" + block(
    "article-cards rail", f'<p><a href="{SITE}/cancerwise/other">Another story</a></p>'
)
FURNITURE = "".join(
    [
        block("quote rail", "<p>A quote for the rail.</p>"),
        block("cards icon rail", "<p>Share Your Story</p>"),
        block("newsletter", "<h3>Subscribe to Cancerwise</h3>"),
        block("cards promo", "<p>Request an appointment</p>"),
        block("section-metadata", ("<p>Style</p>", "<p>rail</p>")),
    ]
)
META = {
    "template": "blog-article",
    "author": "Ana Perez",
    "publishdate": "2026-06-08",
    "category": "Healthy Living",
    "readtime": "6",
    "reviewer": "Jane Roe, M.D., and Li Wei, Ph.D.",
    "reviewdate": "2026-06-10",
}


def page(
    sections: list[str],
    meta: dict[str, str] | None = None,
    title: str | None = "Rest | UT MD Anderson",
) -> str:
    head = f"<title>{title}</title>" if title else ""
    head += "".join(f'<meta name="{k}" content="{v}">' for k, v in (meta or {}).items())
    main = "".join(f"<div>{s}</div>" for s in sections)
    return (
        f"<!DOCTYPE html><html><head>{head}</head><body><header></header>"
        f"<main>{main}</main><footer></footer></body></html>"
    )


def served(**changes: str) -> str:
    return page(
        [NAV + HEADER + BYLINE + TAKEAWAYS + BODY + RELATED, FURNITURE], {**META, **changes}
    )


def test_served_page_reads_every_field() -> None:
    record = parse_page(served(), URL)
    assert record["page_type"] == "article"
    assert record["title"] == "Rest and recovery"
    assert record["seo_title"] == "Rest | UT MD Anderson"
    assert record["authors"] == ["Ana Perez"]
    assert (record["read_minutes"], record["published"], record["reviewed"]) == (
        6,
        "2026-06-08",
        "2026-06-10",
    )
    assert record["reviewers"] == [
        {"name": "Jane Roe, M.D.", "url": f"{FACULTY}jane_roe.html"},
        {"name": "Li Wei, Ph.D.", "url": f"{FACULTY}li_wei.html.html"},
    ]
    assert record["key_takeaways"] == ["Rest helps.", "Ask early."]
    assert record["headings"] == ["What helps"]
    assert record["body_text"] == "Short first paragraph.\n\nWhat helps\n\nRest, water and time."
    assert [(t["group"], t["label"], t["count"]) for t in record["tag_counts"]] == [
        ("Diseases", "Breast Cancer", 708),
        ("Diseases", "Lung Cancer", 314),
        ("Cancer Topic", "Treatment", 1772),
    ]
    assert record["filed_month"] is None


def test_authored_page_gives_the_same_record() -> None:
    metadata = block(
        "metadata",
        *[
            (f"<p>{key}</p>", f"<p>{value}</p>")
            for key, value in [
                ("Title", "Rest | UT MD Anderson"),
                *((k.capitalize(), v) for k, v in META.items()),
            ]
        ],
    )
    authored = page(
        [NAV + HEADER + BYLINE + TAKEAWAYS + BODY + RELATED, FURNITURE, metadata], title=None
    )
    assert parse_page(authored, URL) == parse_page(served(), URL)


def test_rows_alone_without_metadata() -> None:
    """The rows carry it all: the first bare date is published, the byline's is reviewed."""
    record = parse_page(page([HEADER + BYLINE + BODY]), URL)
    assert (record["read_minutes"], record["published"], record["reviewed"]) == (
        6,
        "2026-06-08",
        "2026-06-10",
    )
    assert [r["name"] for r in record["reviewers"]] == ["Jane Roe, M.D.", "Li Wei, Ph.D."]
    assert record["authors"] == ["Ana Perez"]


def test_meta_wins_over_a_bare_date_but_not_over_a_labelled_one() -> None:
    record = parse_page(served(publishdate="2026-06-01", reviewdate="2026-06-11"), URL)
    assert (record["published"], record["reviewed"]) == ("2026-06-01", "2026-06-11")
    labelled = HEADER.replace("<p>June 08, 2026</p>", "<p>Published June 08, 2026</p>")
    record = parse_page(page([labelled + BODY], {**META, "publishdate": "2026-06-01"}), URL)
    assert record["published"] == "2026-06-08"


@pytest.mark.parametrize("readtime", ["6", "6 minute read", "6 min read"])
def test_meta_fills_what_the_page_does_not_show(readtime: str) -> None:
    header = block("article-header", "<h1>Rest and recovery</h1>")
    record = parse_page(page([header + BODY], {**META, "readtime": readtime}), URL)
    assert (record["read_minutes"], record["published"], record["reviewed"]) == (
        6,
        "2026-06-08",
        "2026-06-10",
    )
    assert record["authors"] == ["Ana Perez"]
    assert record["reviewers"] == [
        {"name": "Jane Roe, M.D.", "url": None},
        {"name": "Li Wei, Ph.D.", "url": None},
    ]
    assert record["body_text"].startswith("Short first paragraph.")


def test_header_without_author_or_byline() -> None:
    header = block(
        "article-header",
        "<h1>Rest and recovery</h1>",
        "<p>6 minute read</p>",
        "<p>June 08, 2026</p>",
    )
    record = parse_page(page([header + BODY]), URL)
    assert (record["authors"], record["reviewers"], record["reviewed"]) == ([], [], None)
    assert record["body_text"].startswith("Short first paragraph.")


def test_unnamed_reviewer_row() -> None:
    byline = block(
        "byline", "<p>an MD Anderson Cancer Center medical professional</p>", "<p>June 10, 2026</p>"
    )
    record = parse_page(page([HEADER + byline + BODY]), URL)
    assert record["reviewers"] == [
        {"name": "an MD Anderson Cancer Center medical professional", "url": None}
    ]
    assert record["reviewed"] == "2026-06-10"


def test_furniture_blocks_are_never_body() -> None:
    """Rail and promo blocks, even before "More stories", stay out of the body."""
    record = parse_page(page([HEADER + BODY + FURNITURE]), URL)
    assert record["body_text"] == "Short first paragraph.\n\nWhat helps\n\nRest, water and time."


def test_a_blog_article_template_is_never_a_listing() -> None:
    """Without a date, the page says why it is no article rather than pass for a listing."""
    header = block("article-header", "<h1>Rest and recovery</h1>")
    sections = [NAV + header + BODY + RELATED]
    assert parse_page(page(sections), URL)["page_type"] == "listing"
    with pytest.raises(PageError, match="^no published date$"):
        parse_page(page(sections, {"template": "blog-article"}), URL)
    authored = block("metadata", ("<p>Template</p>", "<p>blog-article</p>"))
    with pytest.raises(PageError, match="^no published date$"):
        parse_page(page([*sections, authored]), URL)


@pytest.mark.parametrize("code", ["h00-159856134", "h35-1592202", "h12-1597722"])
def test_a_coded_url_is_an_article_url(code: str) -> None:
    url = f"{SITE}/publications/promise/rest-and-recovery.{code}.html"
    header = block("article-header", "<h1>Rest and recovery</h1>")
    with pytest.raises(PageError, match="^no published date$"):
        parse_page(page([NAV + header + BODY + RELATED]), url)


def test_the_2013_form() -> None:
    """`BY MD Anderson`, the date alone where the read time stands, an unnamed reviewer."""
    header = f"""<h1>Winter walks</h1>
<p>BY <a href="{SITE}/cancerwise.dir.html/author/MD%20Anderson">MD Anderson</a></p>
<div><span> | </span><div>Share this article</div></div>
<p><span><span>December 16, 2013</span></span></p>
<div>Medically Reviewed | <div>Last reviewed by an MD Anderson Cancer Center medical professional on
January 06, 2014</div></div>"""
    url = f"{SITE}/cancerwise/winter-walks.h00-158835168.html"
    record = parse_page(page([header + BODY]), url)
    assert record["authors"] == ["MD Anderson"]
    assert (record["read_minutes"], record["published"], record["reviewed"]) == (
        None,
        "2013-12-16",
        "2014-01-06",
    )
    assert record["reviewers"] == [
        {"name": "an MD Anderson Cancer Center medical professional", "url": None}
    ]
    assert record["body_text"].startswith("Short first paragraph.")


def test_a_page_no_rule_reads_is_refused_with_a_reason() -> None:
    for html in (
        "<html><body><main><div><p>Nothing here.</p></div></main></body></html>",
        "<html><body>",
    ):
        with pytest.raises(PageError) as raised:
            parse_page(html, URL)
        assert raised.value.reason


@pytest.mark.parametrize(
    ("header_rows", "byline_rows"),
    [
        # the read time and the date in one row
        (
            ['<p><a href="{author}">Ana Perez</a></p>', "<p>6 minute read | June 08, 2026</p>"],
            ['<p><a href="{faculty}">Jane Roe, M.D.,</a></p>', "<p>June 10, 2026</p>"],
        ),
        (
            ['<p><a href="{author}">Ana Perez</a></p>', "<p>6 minute read</p>",
             "<p>June 08, 2026</p>"],
            ['<p>Medically Reviewed | <a href="{faculty}">Jane Roe, M.D.,</a></p>',
             "<p>June 10, 2026</p>"],
        ),
        # labels the rows may carry after all; a row above the author's
        (
            ["<p>Healthy Living</p>", '<p>By <a href="{author}">Ana Perez</a></p>',
             "<p>6 minute read</p>", "<p>June 08, 2026</p>"],
            ["<p>Medically Reviewed</p>",
             '<p>Reviewed by <a href="{faculty}">Jane Roe, M.D.,</a> on</p>',
             "<p>June 10, 2026</p>"],
        ),
    ],
)  # fmt: skip
def test_row_variants(header_rows: list[str], byline_rows: list[str]) -> None:
    links = {"author": AUTHOR, "faculty": f"{FACULTY}jane_roe.html"}
    header = block(
        "article-header", "<h1>Rest and recovery</h1>", *(r.format(**links) for r in header_rows)
    )
    byline = block("byline", *(r.format(**links) for r in byline_rows))
    record = parse_page(page([header + byline + BODY]), URL)
    assert record["authors"] == ["Ana Perez"]
    assert (record["read_minutes"], record["published"], record["reviewed"]) == (
        6,
        "2026-06-08",
        "2026-06-10",
    )
    assert record["reviewers"] == [{"name": "Jane Roe, M.D.", "url": f"{FACULTY}jane_roe.html"}]
    assert record["body_text"].startswith("Short first paragraph.")


def test_authored_sections_without_main_give_the_same_record() -> None:
    """EDS's `.plain.html` shape: the sections at the top of the body, no `<main>`."""
    metadata = block(
        "metadata", *[(f"<p>{k.capitalize()}</p>", f"<p>{v}</p>") for k, v in META.items()]
    )
    sections = [NAV + HEADER + BYLINE + TAKEAWAYS + BODY + RELATED, FURNITURE, metadata]
    plain = "<html><body>" + "".join(f"<div>{s}</div>" for s in sections) + "</body></html>"
    record = parse_page(plain, URL)
    assert record == parse_page(served(), URL) | {
        "seo_title": None,
        "content_hash": record["content_hash"],
    }


def test_rows_in_one_cell_or_without_paragraphs() -> None:
    """Cells hold text bare (no `<p>`), or one cell holds every row as paragraphs."""
    bare = block(
        "article-header",
        "<h1>Rest and recovery</h1>",
        f'<a href="{AUTHOR}">Ana Perez</a>',
        "6 minute read",
        "June 08, 2026",
    ) + block("byline", f'<a href="{FACULTY}jane_roe.html">Jane Roe, M.D.,</a>', "June 10, 2026")
    one_cell = block(
        "article-header",
        f'<h1>Rest and recovery</h1><p><a href="{AUTHOR}">Ana Perez</a></p>'
        "<p>6 minute read</p><p>June 08, 2026</p>",
    ) + block(
        "byline",
        f'<p><a href="{FACULTY}jane_roe.html">Jane Roe, M.D.,</a></p><p>June 10, 2026</p>',
    )
    for header in (bare, one_cell):
        record = parse_page(page([NAV + header + BODY]), URL)
        assert record["authors"] == ["Ana Perez"]
        assert (record["read_minutes"], record["published"], record["reviewed"]) == (
            6,
            "2026-06-08",
            "2026-06-10",
        )
        assert record["reviewers"] == [{"name": "Jane Roe, M.D.", "url": f"{FACULTY}jane_roe.html"}]
        assert record["body_text"].startswith("Short first paragraph.")


def test_a_listing_of_dated_cards_is_no_article() -> None:
    """A title, then a card's link and date, reads like a header without read time: at a
    path no rule names, without an article template or code, it stays a listing."""
    cards = "".join(
        f'<div><div><a href="{SITE}/cancerwise/story-{i}">Story {i}</a></div>'
        f"<div>June 0{i}, 2026</div></div>"
        for i in range(1, 4)
    )
    url = f"{SITE}/cancerwise/topics/healthy-living"
    record = parse_page(page([f"<h1>Healthy living</h1>{cards}", NAV]), url)
    assert record["page_type"] == "listing"
    assert record["article_links"] == [f"{SITE}/cancerwise/story-{i}" for i in range(1, 4)]
