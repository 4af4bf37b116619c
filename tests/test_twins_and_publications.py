"""The real site's URL facts in a crawl: twins are two articles, publications' year codes
and mixed-case sections are archived (SITE.md, "What the real URL inventory says").

Real crawls (`python -m cwarchive.cli crawl`) of generated sites on the replay server,
into SQLite, read back through the CLI as a user would.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from cwarchive.testing.replay import ReplayServer
from cwarchive.testing.sitegen import ArticleFacts, Person, Site
from cwarchive.testing.sitegen.site import noon
from tests.test_crawl import cli, crawl, query

REVIEWER = Person("Pamela Schlembach, M.D.", "https://faculty.mdanderson.org/p.html")
SLUG = "how-to-cope-with-insomnia-during-cancer-treatment"
# Codes are 789 x the month (Cancerwise) or the year (publications) the page was filed in.
OLD_TWIN = str(789 * 201503)
NEW_TWIN = str(789 * 202606)


def story(slug: str, number: str, published: dt.date, **fields: object) -> ArticleFacts:
    return ArticleFacts(
        slug=slug,
        h00=number,
        title=fields.pop("title", slug.replace("-", " ").capitalize()),  # type: ignore[arg-type]
        published=published,
        authors=["Roman Gokhman"],
        body=[("p", f"The story of {slug}, filed {number}."), ("h2", "More"), ("p", "Text.")],
        tags=["diseases/breast-cancer"],
        **fields,  # type: ignore[arg-type]
    )


def twin_site() -> Site:
    """Cancerwise with a slug live under two codes (filed 2015-03 and 2026-06), and two
    publications: `AdvanceTeam` (mixed case, `.h20-` year codes) and `promise` (`.h35-`,
    `.h36-`, and twins of its own)."""
    site = Site()
    facts = [
        story(SLUG, OLD_TWIN, dt.date(2015, 3, 9), title="Coping with insomnia"),
        dataclasses.replace(
            story(SLUG, NEW_TWIN, dt.date(2026, 6, 8), title="How to cope with insomnia"),
            twin_key=f"cancerwise/{SLUG}.h00-{NEW_TWIN}",
            reviewed=dt.date(2026, 6, 8),
            reviewers=[REVIEWER],
        ),
        *(story(f"story-{i}", str(789 * 202601), dt.date(2026, 1, 2 + i)) for i in range(4)),
        *(
            dataclasses.replace(
                story(f"advance-{i}", str(789 * 2016), dt.date(2016, 5, 1 + i)),
                section="publications/AdvanceTeam",
                code="h20",
            )
            for i in range(3)
        ),
        dataclasses.replace(
            story("among-friends", str(789 * 2016), dt.date(2016, 4, 1)),
            section="publications/promise",
            code="h35",
        ),
        dataclasses.replace(
            story("among-friends", str(789 * 2019), dt.date(2019, 4, 1), title="Friends again"),
            section="publications/promise",
            code="h36",
            twin_key=f"publications/promise/among-friends.h36-{789 * 2019}",
        ),
    ]
    for article in facts:
        site.add(article, when=noon(article.published))
    return site


@pytest.fixture
def served(tmp_path: Path) -> tuple[Site, Path, ReplayServer]:
    site = twin_site()
    root = tmp_path / "site"
    site.write(root)
    with ReplayServer(root) as server:
        yield site, root, server


def keys(db: Path, *args: str) -> dict[str, str]:
    return {a["article_key"]: a["title"] for a in query(db, "articles", *args)}


def test_twins_are_two_articles_whose_keys_stay(
    served: tuple[Site, Path, ReplayServer], tmp_path: Path
) -> None:
    site, root, server = served
    db = tmp_path / "a.sqlite"
    first = crawl(server, db)
    assert first["new"] == 6
    twins = {
        f"cancerwise/{SLUG}": "Coping with insomnia",
        f"cancerwise/{SLUG}.h00-{NEW_TWIN}": "How to cope with insomnia",
    }
    assert twins.items() <= keys(db).items()
    # Both twins were requested: neither is decided as the other.
    requested = {path for _, path, _ in server.requests}
    assert {a.path for a in site.articles.values() if a.section == "cancerwise"} <= requested

    # Weeks later the younger twin is re-reviewed: the change goes to it, not to its twin.
    site.rereview(
        f"cancerwise/{SLUG}.h00-{NEW_TWIN}", dt.date(2026, 9, 1), when=noon(dt.date(2026, 9, 1))
    )
    site.write(root)
    second = crawl(server, db)
    assert (second["new"], second["changed"]) == (0, 1)
    assert twins.items() <= keys(db).items()
    history = query(db, "history", f"cancerwise/{SLUG}.h00-{NEW_TWIN}")
    assert [v["reviewed"] for v in history] == ["2026-06-08", "2026-09-01"]
    assert len(query(db, "history", f"cancerwise/{SLUG}")) == 1
    # Named by its URL, each twin is itself.
    by_url = query(
        db, "history", f"https://www.mdanderson.org/cancerwise/{SLUG}.h00-{OLD_TWIN}.html"
    )
    assert [v["title"] for v in by_url] == ["Coping with insomnia"]

    # The older twin is taken down: it is removed, and its key is not handed on.
    site.remove(f"cancerwise/{SLUG}", when=noon(dt.date(2026, 9, 2)))
    site.write(root)
    crawl(server, db, "--full")
    assert keys(db, "--status", "removed") == {f"cancerwise/{SLUG}": "Coping with insomnia"}
    assert f"cancerwise/{SLUG}.h00-{NEW_TWIN}" in keys(db, "--status", "active")


def test_a_publication_is_archived_from_its_sitemap_and_listings(
    served: tuple[Site, Path, ReplayServer], tmp_path: Path
) -> None:
    site, root, server = served
    db = tmp_path / "p.sqlite"
    # Typed in another case than the site spells it: the same section.
    result = crawl(server, db, "--section", "publications/advanceteam")
    assert result["new"] == 3
    assert set(keys(db)) == {f"publications/AdvanceTeam/advance-{i}" for i in range(3)}
    assert "/publications/AdvanceTeam.html" in {path for _, path, _ in server.requests}
    assert not any(
        path.startswith("/cancerwise/") and ".h00-" in path for _, path, _ in server.requests
    )

    result = crawl(server, db, "--section", "publications/promise")
    assert result["new"] == 2
    assert {k for k in keys(db) if k.startswith("publications/promise/")} == {
        "publications/promise/among-friends",
        f"publications/promise/among-friends.h36-{789 * 2019}",
    }


def test_a_publication_found_only_by_its_listings(
    served: tuple[Site, Path, ReplayServer], tmp_path: Path
) -> None:
    """Without the sitemaps (robots.txt declares none), the landing page's links."""
    site, root, server = served
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /gifts/\n")
    db = tmp_path / "l.sqlite"
    result = crawl(server, db, "--section", "publications/AdvanceTeam")
    assert result["new"] == 3
    assert json.dumps(sorted(keys(db))) == json.dumps(
        [f"publications/AdvanceTeam/advance-{i}" for i in range(3)]
    )


def test_an_archive_that_merged_twins_separates_them_and_says_so(
    served: tuple[Site, Path, ReplayServer], tmp_path: Path
) -> None:
    """An archive written before twins were told apart holds one article under the slug's
    key, here at the younger twin's URL. The next crawl keeps that article's key and
    history, archives the other twin under its coded key, and says so in its log."""
    site, root, server = served
    older = site.articles.pop(f"cancerwise/{SLUG}")
    site.write(root)
    db = tmp_path / "merged.sqlite"
    crawl(server, db, "--section", "cancerwise")
    # Listed under one code only, the younger twin is the slug's article.
    assert keys(db)[f"cancerwise/{SLUG}"] == "How to cope with insomnia"

    site.articles[older.key] = older
    site.write(root)
    result = cli("crawl", "--site", server.url, "--db", str(db), "--json", check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["new"] == 1
    assert {k: v for k, v in keys(db).items() if SLUG in k} == {
        f"cancerwise/{SLUG}": "How to cope with insomnia",
        f"cancerwise/{SLUG}.h00-{OLD_TWIN}": "Coping with insomnia",
    }
    assert (
        f"twin: https://www.mdanderson.org/cancerwise/{SLUG}.h00-{OLD_TWIN}.html is another "
        f"article than cancerwise/{SLUG}, archived as cancerwise/{SLUG}.h00-{OLD_TWIN}"
    ) in result.stderr
    assert len(query(db, "history", f"cancerwise/{SLUG}")) == 1


def test_twins_ingested_together_are_two_articles(tmp_path: Path) -> None:
    """`cwarchive ingest` lists the files it is given as a crawl lists a sitemap: two
    saved pages of one slug under two codes are two articles, keyed as a crawl keys them."""
    site = twin_site()
    paths = {f"/cancerwise/{SLUG}.h00-{OLD_TWIN}.html", f"/cancerwise/{SLUG}.h00-{NEW_TWIN}.html"}
    files = []
    for page in site.pages():
        if page.path in paths:
            files.append(tmp_path / page.path.rsplit("/", 1)[1])
            files[-1].write_bytes(page.body)
    assert len(files) == 2
    db = tmp_path / "ingested.sqlite"
    result = json.loads(cli("ingest", *map(str, files), "--db", str(db), "--json").stdout)
    assert result["new"] == 2
    assert {k: v for k, v in keys(db).items() if SLUG in k} == {
        f"cancerwise/{SLUG}": "Coping with insomnia",
        f"cancerwise/{SLUG}.h00-{NEW_TWIN}": "How to cope with insomnia",
    }
    # The twin's stored version hashes as its key says (db check recomputes it).
    assert cli("db", "check", "--db", str(db)).returncode == 0
