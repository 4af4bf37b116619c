"""Every SQL example of docs/storage.md and docs/research.md runs, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import Archive
from tests.storage_records import BREAST, UTERINE, article, listing, raw_page, sidebar

DOCS = Path(__file__).resolve().parents[1] / "docs"


def sql_blocks(name: str) -> list[tuple[str, str]]:
    """The doc's `sql` blocks as (dialect or "", SQL); a dialect limits where it runs."""
    return re.findall(r"```sql( \w+)?\n(.*?)```", (DOCS / name).read_text(), re.DOTALL)


EXAMPLES = [
    pytest.param(name, dialect, sql, id=f"{name.removesuffix('.md')}-query-{i}")
    for name in ("storage.md", "research.md")
    for i, (dialect, sql) in enumerate(sql_blocks(name))
]


def facet(tag_id: str, key: str, breast: int = 712) -> dict:
    url = "https://www.mdanderson.org/cancerwise.dir.html/category/content/cq:tags/" + (
        tag_id.replace(":", "/")
    )
    links = [f"https://www.mdanderson.org/{key}.h00-1.html"]
    return listing(url, tag_id=tag_id, links=links, tag_counts=sidebar(breast=breast))


@pytest.fixture
def four_runs(archive_url: str) -> str:
    """story-one is re-reviewed and retitled in run 4, and moves from Uterine to Breast
    Cancer only; Breast Cancer's count grows by one each run (700 + run)."""
    archive = Archive.open(archive_url)
    reviewers = [{"name": "Therese Bevers, M.D.", "url": None}]
    for run_number in range(1, 5):
        run = archive.start_run("full", site_root="", parser_version="1")
        assert run == run_number
        reviewed = "2025-02-01" if run == 4 else "2024-01-01"
        record = article(
            "cancerwise/story-one",
            title="Story one, revised" if run == 4 else "Story one",
            reviewed=reviewed,
            reviewers=reviewers,
            key_takeaways=["Regular screening finds cancer early"],
            tag_counts=sidebar(breast=700 + run),
        )
        archive.save_article(run, record, raw=raw_page(record), url=record["url"])
        other = article("cancerwise/story-two", tag_counts=sidebar(breast=700))
        archive.save_article(run, other, raw=raw_page(other), url=other["url"])
        breast = facet(BREAST, "cancerwise/story-one", breast=700 + run)
        archive.save_listing(run, breast, raw=None, url="f1")
        if run == 3:
            archive.save_listing(run, facet(UTERINE, "cancerwise/story-one"), raw=None, url="f2")
        archive.finish_run(run, "completed")
    archive.close()
    return archive_url


@pytest.mark.parametrize("doc, dialect, sql", EXAMPLES)
def test_doc_query_runs(four_runs: str, doc: str, dialect: str, sql: str) -> None:
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
    if doc == "research.md":  # the fixture has an answer to every research question
        assert rows


@pytest.mark.parametrize("name", ["storage.md", "research.md"])
def test_the_doc_has_examples(name: str) -> None:
    assert len(sql_blocks(name)) >= 8
