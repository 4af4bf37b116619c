"""Every SQL example of docs/storage.md runs, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import Archive
from tests.storage_records import BREAST, UTERINE, article, listing, raw_page, sidebar

DOC = Path(__file__).resolve().parents[1] / "docs" / "storage.md"
BLOCKS = re.findall(r"```sql( \w+)?\n(.*?)```", DOC.read_text(), re.DOTALL)


def facet(tag_id: str, key: str) -> dict:
    url = "https://www.mdanderson.org/cancerwise.dir.html/category/content/cq:tags/" + (
        tag_id.replace(":", "/")
    )
    return listing(url, tag_id=tag_id, links=[f"https://www.mdanderson.org/{key}.h00-1.html"])


@pytest.fixture
def four_runs(archive_url: str) -> str:
    """story-one is re-reviewed in run 4, and moves from Uterine to Breast Cancer only."""
    archive = Archive.open(archive_url)
    reviewers = [{"name": "Therese Bevers, M.D.", "url": None}]
    for run_number in range(1, 5):
        run = archive.start_run("full", site_root="", parser_version="1")
        assert run == run_number
        reviewed = "2025-02-01" if run == 4 else "2024-01-01"
        record = article(
            "cancerwise/story-one",
            reviewed=reviewed,
            reviewers=reviewers,
            key_takeaways=["Regular screening finds cancer early"],
            tag_counts=sidebar(breast=700 + run),
        )
        archive.save_article(run, record, raw=raw_page(record), url=record["url"])
        other = article("cancerwise/story-two", tag_counts=sidebar(breast=700))
        archive.save_article(run, other, raw=raw_page(other), url=other["url"])
        archive.save_listing(run, facet(BREAST, "cancerwise/story-one"), raw=None, url="f1")
        if run == 3:
            archive.save_listing(run, facet(UTERINE, "cancerwise/story-one"), raw=None, url="f2")
        archive.finish_run(run, "completed")
    archive.close()
    return archive_url


@pytest.mark.parametrize("dialect, sql", BLOCKS, ids=[f"query-{i}" for i in range(len(BLOCKS))])
def test_doc_query_runs(four_runs: str, dialect: str, sql: str) -> None:
    archive = Archive.open(four_runs, create=False)
    if dialect.strip() and dialect.strip() != archive.engine.dialect.name:
        archive.close()
        pytest.skip(f"a {dialect.strip()} example")
    with archive.engine.connect() as conn:
        rows = conn.execute(text(sql)).all()
    archive.close()
    if "re-reviewed" in sql or "old_reviewed" in sql:
        assert [tuple(r)[0] for r in rows] == ["cancerwise/story-one"]
    if "'added' ELSE 'dropped'" in sql:
        assert sorted(r.change for r in rows) == ["dropped"]


def test_the_doc_has_examples() -> None:
    assert len(BLOCKS) >= 8
