"""The real pages of ../shared/reference against the facts SITE.md states (skipped where
the reference is absent): the recreated AEM article, and the seed's text snapshot against
the fixture made from it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from common.urls import article_key
from crawler.parsers import parse_page
from tests.reference import INSOMNIA_PAGE, REFERENCE, reference_file

# `Path(__file__).resolve().parents[2] / "shared" / "reference"` unless
# CWARCHIVE_REFERENCE says otherwise; `reference_file` skips, printing why, without it.
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
SEED_TEXT = REFERENCE / "000_bb906bd3ae0577f4.txt"
SEED_URL = (
    "https://mdanderson.org/publications/cancer-frontline/"
    "how-melanoma-resists-immunotherapy-drug.h00-159070290.html"
)


def test_the_real_aem_article_gives_the_facts_site_md_states() -> None:
    record = parse_page(reference_file(INSOMNIA_PAGE).read_bytes())
    assert record["page_type"] == "article"
    assert record["title"] == "How to cope with insomnia during cancer treatment"
    assert record["read_minutes"] == 8
    assert (record["published"], record["reviewed"]) == ("2026-06-08", "2026-06-08")
    assert record["authors"] == ["Roman Gokhman"]
    assert record["reviewers"] == [
        {
            "name": "Pamela Schlembach, M.D.",
            "url": "http://faculty.mdanderson.org/profiles/pamela_schlembach.html",
        }
    ]
    assert record["key_takeaways"] and all(record["key_takeaways"])
    counts = record["tag_counts"]
    assert counts and {t["group"] for t in counts} == {"Diseases", "Cancer Topic"}
    assert all(t["count"] > 0 and t["tag_id"].startswith("md-anderson:") for t in counts)


def _seed_snapshot() -> dict[str, Any]:
    """The seed's facts as its text shows them: facet lines, then the header lines."""
    lines = [line.strip() for line in reference_file(SEED_TEXT).read_text("utf-8").splitlines()]
    counts, group = [], None
    for line in lines:
        if match := re.fullmatch(r"- (.+?) \((\d+)\)", line):
            counts.append((group, match[1], int(match[2])))
        elif line.startswith("- "):
            group = line[2:]
    header = [line for line in lines if line and not line.startswith("- ")]
    read = re.fullmatch(r"(\d+) minute read \| Published (.+)", header[1])
    review = re.fullmatch(r"Medically Reviewed \| Last reviewed by (.+) on (.+)", header[2])
    assert read and review, header[:3]
    return {
        "title": header[0],
        "read_minutes": int(read[1]),
        "published": read[2],
        "reviewer": review[1],
        "reviewed": review[2],
        "tag_counts": counts,
    }


def test_the_seed_fixture_matches_the_seed_snapshot() -> None:
    seed = _seed_snapshot()
    fixture = json.loads((FIXTURES / "melanoma-seed-unnamed-reviewer.json").read_text("utf-8"))
    assert fixture["article_key"] == article_key(SEED_URL)
    assert fixture["title"] == seed["title"]
    assert fixture["read_minutes"] == seed["read_minutes"]
    assert (fixture["published"], fixture["reviewed"]) == ("2016-10-11", "2016-10-11")
    assert (seed["published"], seed["reviewed"]) == ("October 11, 2016", "October 11, 2016")
    assert fixture["authors"] == []  # the snapshot shows no byline
    assert fixture["reviewers"] == [{"name": seed["reviewer"], "url": None}]
    shown = [(t["group"], t["label"], t["count"]) for t in fixture["tag_counts"]]
    assert shown == seed["tag_counts"]
