"""The parser on the real material in ../shared/reference (skipped where absent)."""

from __future__ import annotations

import re

import pytest

from crawler.parsers import PageError, parse_page
from tests.reference import INSOMNIA_PAGE, LANDING_PAGE, reference_file

INSOMNIA_URL = (
    "https://www.mdanderson.org/cancerwise/how-to-cope-with-insomnia-during-cancer-treatment"
    ".h00-159856134.html"
)


@pytest.fixture(scope="module")
def insomnia() -> dict:
    return parse_page(reference_file(INSOMNIA_PAGE).read_bytes())


def test_recreated_article_parses_to_known_facts(insomnia: dict) -> None:
    assert insomnia["page_type"] == "article"
    assert insomnia["url"] == INSOMNIA_URL  # read from the page's canonical link
    assert insomnia["canonical_url"] == INSOMNIA_URL
    assert insomnia["article_key"] == "cancerwise/how-to-cope-with-insomnia-during-cancer-treatment"
    assert insomnia["title"] == "How to cope with insomnia during cancer treatment"
    assert insomnia["seo_title"] == (
        "Insomnia during cancer treatment: Causes, symptoms, coping | UT MD Anderson"
    )
    assert insomnia["authors"] == ["Roman Gokhman"]
    assert insomnia["read_minutes"] == 8
    assert insomnia["published"] == "2026-06-08"
    assert insomnia["reviewed"] == "2026-06-08"
    assert insomnia["reviewers"] == [
        {
            "name": "Pamela Schlembach, M.D.",
            "url": "http://faculty.mdanderson.org/profiles/pamela_schlembach.html",
        }
    ]
    assert insomnia["filed_month"] == "2026-06"
    assert len(insomnia["tag_counts"]) == 94
    assert len(insomnia["key_takeaways"]) == 3


def test_recreated_article_tag_counts(insomnia: dict) -> None:
    by_id = {t["tag_id"]: t for t in insomnia["tag_counts"]}
    # A renamed tag keeps its id: "Endometrial Cancer" is diseases/uterine-cancer.
    assert by_id["md-anderson:diseases/uterine-cancer"] == {
        "group": "Diseases",
        "label": "Endometrial Cancer",
        "count": 84,
        "tag_id": "md-anderson:diseases/uterine-cancer",
    }
    assert by_id["md-anderson:cancer-topics/treatment"]["count"] == 1772
    assert by_id["md-anderson:cancer-topics/treatment"]["group"] == "Cancer Topic"
    groups = [t["group"] for t in insomnia["tag_counts"]]
    assert groups == sorted(groups, key=["Diseases", "Cancer Topic"].index)


def test_recreated_article_body_has_no_furniture(insomnia: dict) -> None:
    body = insomnia["body_text"]
    assert body.startswith("Insomnia is a sleep disorder")
    assert "More stories from Cancerwise" not in body
    assert "Request an appointment" not in body
    assert "Key takeaways" not in body
    assert "Acoustic Neuroma" not in body
    assert "Last reviewed" not in body
    assert insomnia["headings"][0] == "Insomnia causes during cancer treatment"
    assert insomnia["word_count"] == len(body.split())


def test_same_content_without_class_names_parses_identically(insomnia: dict) -> None:
    html = reference_file(INSOMNIA_PAGE).read_text("utf-8")
    stripped = re.sub(r'\s(?:class|id|data-[\w-]+)="[^"]*"', "", html)
    assert "class=" not in stripped
    assert parse_page(stripped) == insomnia


def test_truncated_copy_of_the_article_is_refused() -> None:
    raw = reference_file(INSOMNIA_PAGE).read_bytes()
    for cut in (len(raw) // 3, len(raw) // 2, len(raw) - 200):
        with pytest.raises(PageError, match="truncated"):
            parse_page(raw[:cut])


def test_landing_page_is_a_listing() -> None:
    record = parse_page(reference_file(LANDING_PAGE).read_bytes())
    assert record["page_type"] == "listing"
    assert record["listing_kind"] == "landing"
    assert record["listing_tag_id"] is None
    assert len(record["article_links"]) == len(set(record["article_links"])) > 40
    assert all(
        u.startswith("https://www.mdanderson.org/cancerwise/") for u in record["article_links"]
    )
    cards = {c["url"]: c for c in record["cards"]}
    glp = cards[
        "https://www.mdanderson.org/cancerwise/glp-1s-and-anesthesia--what-to-know-before-surgery"
        ".h00-159857712.html"
    ]
    assert glp == {
        "title": "GLP-1s and anesthesia: What to know before surgery",
        "url": glp["url"],
        "date": "2026-08-19",
    }
