"""The synthetic-site generator: determinism, sizes, mutations, the replay layout."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from common import urls
from cwarchive.cli import main
from cwarchive.testing.layout import file_for, layout
from cwarchive.testing.replay import ReplayServer
from cwarchive.testing.sitegen import ArticleFacts, Person, Site
from cwarchive.testing.sitegen.articles import insomnia
from cwarchive.testing.sitegen.cases import cases, small_site
from cwarchive.testing.sitegen.generate import generate_site, mutate, site_from_inventory
from tests.reference import REFERENCE

REPO = Path(__file__).resolve().parents[1]
INVENTORY = REFERENCE / "urls" / "cancerwise.txt"
WHEN = dt.datetime(2026, 9, 1, 8, 30, tzinfo=dt.UTC)
INSOMNIA = "cancerwise/how-to-cope-with-insomnia-during-cancer-treatment"


def tree_digest(root: Path) -> dict[str, tuple[str, int]]:
    """Relative path -> (sha1 of the bytes, mtime) of every file."""
    return {
        file.relative_to(root).as_posix(): (
            hashlib.sha1(file.read_bytes()).hexdigest(),
            int(file.stat().st_mtime),
        )
        for file in sorted(root.rglob("*"))
        if file.is_file()
    }


def get(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


# ---------------------------------------------------------------- determinism, sizes


def test_same_seed_same_site(tmp_path: Path) -> None:
    generate_site(120, seed=3).write(tmp_path / "a")
    generate_site(120, seed=3).write(tmp_path / "b")
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    generate_site(120, seed=4).write(tmp_path / "c")
    assert tree_digest(tmp_path / "a") != tree_digest(tmp_path / "c")


def test_rewriting_an_unchanged_site_writes_nothing(tmp_path: Path) -> None:
    site = generate_site(60, seed=1)
    first = site.write(tmp_path)
    before = tree_digest(tmp_path)
    again = generate_site(60, seed=1).write(tmp_path)
    assert (again.written, again.removed, again.files) == (0, 0, first.files)
    assert tree_digest(tmp_path) == before


def test_url_shapes_and_page_sizes() -> None:
    site = generate_site(400, seed=0)
    paths = [a.path for a in site.articles.values()]
    assert all(urls.is_article_url(urls.SITE + p) for p in paths)
    slugs = [a.slug for a in site.articles.values()]
    assert any(s.startswith("-") for s in slugs)
    assert any("--" in s for s in slugs)
    h00s = [a.h00 for a in site.articles.values()]
    assert len(set(h00s)) < len(h00s) / 5  # numbers are shared, as on the site
    sizes = [len(p.body) for p in site.pages() if urls.is_article_url(p.url)]
    median = sorted(sizes)[len(sizes) // 2]
    assert 85_000 < median < 130_000
    variants = site.articles.values()
    assert any(not a.authors for a in variants)
    assert any(len(a.authors) == 2 for a in variants)
    assert any(len(a.reviewers) == 2 for a in variants)
    assert any(a.reviewers and a.reviewers[0].url is None for a in variants)
    assert any(a.key_takeaways for a in variants)
    assert any(a.image == "none" for a in variants)


def test_redesign_share_leaves_the_records_alone() -> None:
    plain = generate_site(50, seed=5)
    mixed = generate_site(50, seed=5, redesign_pct=20)
    assert sum(a.markup == "redesign" for a in mixed.articles.values()) == 10
    assert plain.expected_records() == mixed.expected_records()


@pytest.mark.skipif(not INVENTORY.exists(), reason=f"no URL inventory at {INVENTORY}")
def test_site_from_the_real_inventory() -> None:
    lines = INVENTORY.read_text("utf-8").splitlines()
    site = site_from_inventory(lines, limit=None)
    listed = {line.strip() for line in lines if urls.is_article_url(line.strip())}
    served = {a.url for a in site.articles.values()} | {urls.SITE + p for p in site.aliases}
    assert served == listed
    # Twins (a slug listed under two codes) are two articles, as on the real site.
    assert len(site.articles) == len(listed)
    assert sum(bool(a.twin_key) for a in site.articles.values()) == 16
    archives = {line.strip() for line in lines if urls.is_archive_url(line.strip())}
    sitemap = next(p for p in site.pages() if p.path == "/cancerwise-sitemap.xml").body.decode()
    locs = set(re.findall(r"<loc>([^<]+)</loc>", sitemap))
    assert archives <= locs
    assert listed <= locs


# ---------------------------------------------------------------- expected records


def test_redesign_has_no_classes_and_the_same_content_hash() -> None:
    by_name = {case.name: case for case in cases()}
    site_page = by_name["insomnia-named-reviewer"]
    redesign = by_name["insomnia-redesign"]
    assert not re.search(rb"\s(class|id)=", redesign.html())
    assert redesign.expected() == site_page.expected()


# The fields a move to the extension-less URLs in block markup changes: where the page
# is, and the filing month that only the AEM image path told (not content).
MOVED_FIELDS = {"url", "canonical_url", "filed_month"}


TWIN_SUFFIXES = ("-blocks", "-eds", "-eds-authored")


@pytest.mark.parametrize("suffix", TWIN_SUFFIXES)
def test_every_article_case_has_a_block_markup_twin(suffix: str) -> None:
    by_name = {case.name: case for case in cases()}
    articles = [n for n, case in by_name.items() if case.expected().get("page_type") == "article"]
    twins = [name for name in articles if name.endswith(suffix)]
    originals = [name for name in articles if not name.endswith((*TWIN_SUFFIXES, "-redesign"))]
    assert sorted(twins) == sorted(f"{name}{suffix}" for name in originals)
    for name in originals:
        original, twin = by_name[name].expected(), by_name[f"{name}{suffix}"].expected()
        assert {k for k in original if original[k] != twin[k]} <= MOVED_FIELDS, name
        assert twin["content_hash"] == original["content_hash"], name
        assert twin["article_key"] == original["article_key"], name
        assert not urls.path_of(twin["url"]).endswith(".html"), name
        assert twin["filed_month"] is None
        html = by_name[f"{name}-blocks"].html()
        assert b'<main>\n<div>\n<div class="breadcrumb">' in html
        assert b"jcr:content" not in html and b"application/ld+json" not in html


def test_migrate_moves_every_article_and_keeps_its_hash(tmp_path: Path) -> None:
    site = small_site()
    site.aliases["/cancerwise/what-is-a-cytokine-storm.h00-159000001.html"] = (
        "cancerwise/what-is-a-cytokine-storm"
    )
    hashes = {
        r["article_key"]: r["content_hash"]
        for r in site.expected_records().values()
        if r["page_type"] == "article"
    }
    site.write(tmp_path)
    moved = site.migrate(when=WHEN)
    assert set(moved) == set(site.articles)
    for old, new in moved.values():
        assert site.redirects[urls.path_of(old)] == (urls.path_of(new), 301)
        assert urls.is_article_url(new) and urls.article_key(new) == urls.article_key(old)
    assert site.redirects["/cancerwise/what-is-a-cytokine-storm.h00-159000001.html"] == (
        "/cancerwise/what-is-a-cytokine-storm",
        301,
    )
    records = site.expected_records()
    after = {r["article_key"]: r for r in records.values() if r["page_type"] == "article"}
    assert {key: r["content_hash"] for key, r in after.items()} == hashes
    assert all(a.lastmod == WHEN for a in site.articles.values())
    directory = records[f"{urls.SITE}/cancerwise.dir.html"]
    assert directory["article_links"] and all(
        urls.is_article_url(link) and not link.endswith(".html")
        for link in directory["article_links"]
    )
    site.write(tmp_path)
    sitemap = (tmp_path / "cancerwise-sitemap.xml").read_text("utf-8")
    assert ".h00-" not in sitemap
    key = "cancerwise/how-to-cope-with-insomnia-during-cancer-treatment"
    old, new = moved[key]
    assert (tmp_path / key).is_file()  # an extension-less page is a file of its own
    with ReplayServer(tmp_path) as server:
        status, body, headers = get(server.url + urls.path_of(new))
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert b'<div class="medical-reviewer">' in body
        request = urllib.request.Request(server.url + urls.path_of(old), method="HEAD")
        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(request, timeout=10)
        assert answer.value.code == 301
        assert urls.path_of(answer.value.headers["Location"]) == urls.path_of(new)


def test_after_the_move_sites_still_mutate_and_generate() -> None:
    site = generate_site(60, seed=4)
    site.migrate(when=WHEN)
    report = mutate(site, 10, seed=4, when=WHEN + dt.timedelta(days=1))
    assert report.changed == 6 and not report.moved  # no h00 number to move to
    inventory = [
        f"{urls.SITE}/cancerwise/an-extension-less-story",
        f"{urls.SITE}/cancerwise/an-aem-story.h00-159000001.html",
        f"{urls.SITE}/cancerwise/2026/06",
    ]
    generated = site_from_inventory(inventory)
    assert sorted(a.path for a in generated.articles.values()) == [
        "/cancerwise/an-aem-story.h00-159000001.html",
        "/cancerwise/an-extension-less-story",
    ]
    assert generated.archive_months == {("cancerwise", 2026, 6)}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_every_case_has_a_record_or_an_error() -> None:
    found = cases()
    assert len(found) >= 20
    for case in found:
        expected = case.expected()
        assert set(expected) == {"error"} or expected["url"] == case.url, case.name


def test_expected_article_record_follows_the_facts() -> None:
    site = small_site()
    record = site.expected_records()[insomnia().url]
    assert record["title"] == "How to cope with insomnia during cancer treatment"
    assert record["authors"] == ["Roman Gokhman"]
    assert record["reviewers"] == [
        {
            "name": "Pamela Schlembach, M.D.",
            "url": "http://faculty.mdanderson.org/profiles/pamela_schlembach.html",
        }
    ]
    assert (record["published"], record["reviewed"], record["filed_month"]) == (
        "2026-06-08",
        "2026-06-08",
        "2026-06",
    )
    assert len(record["tag_counts"]) == 94


# ---------------------------------------------------------------- mutations


def test_mutate_changes_pct_of_articles_and_is_deterministic(tmp_path: Path) -> None:
    base = generate_site(200, seed=2)
    before = {k: (a.lastmod, a.url) for k, a in base.articles.items()}
    hashes = {url: r.get("content_hash") for url, r in base.expected_records().items()}
    report = mutate(base, 5, seed=2, when=WHEN)
    assert report.changed == 10
    assert report.removed and report.added and report.tag_deltas
    twin = generate_site(200, seed=2)
    assert mutate(twin, 5, seed=2, when=WHEN) == report
    changed = set(report.rereviewed) | set(report.retitled) | set(report.edited)
    after = base.expected_records()
    for key, (lastmod, url) in before.items():
        if key in report.removed:
            assert key not in base.articles
            continue
        article = base.articles[key]
        if key in changed:
            assert article.lastmod == WHEN
            assert after[article.url]["content_hash"] != hashes[url]
        else:
            assert (article.lastmod, article.url) == (lastmod, url)
            assert after[url]["content_hash"] == hashes[url]
    for key in report.rereviewed:
        assert base.articles[key].reviewed == WHEN.date()
    for old, new in report.moved.values():
        assert base.redirects[urls.path_of(old)] == (urls.path_of(new), 301)


def test_site_api_mutations_served(tmp_path: Path) -> None:
    site = small_site()
    site.write(tmp_path)
    old_url = site.article(INSOMNIA).url
    site.rereview(INSOMNIA, dt.date(2026, 9, 1), new_h00="159860001", when=WHEN)
    site.remove("cancerwise/what-is-white-coat-syndrome")
    site.remove("cancerwise/what-is-a-cytokine-storm", status=410)
    site.add(
        ArticleFacts(
            slug="a-new-article",
            h00="159860001",
            title="A new article",
            published=dt.date(2026, 9, 1),
            authors=["Roman Gokhman"],
            reviewed=dt.date(2026, 9, 1),
            reviewers=[Person("Pamela Schlembach, M.D.")],
            body=[("p", "Fresh text.")],
            tags=["diseases/breast-cancer"],
        )
    )
    site.bump_tag_counts({"diseases/breast-cancer": 2, "md-anderson:cancer-topics/treatment": -2})
    report = site.write(tmp_path)
    assert report.removed >= 3  # old insomnia URL and the two removed articles
    new_url = site.article(INSOMNIA).url
    with ReplayServer(tmp_path) as server:

        def on(url: str) -> str:
            return urls.on_root(url, server.url)

        request = urllib.request.Request(on(old_url), method="HEAD")
        opener = urllib.request.build_opener()
        with opener.open(request, timeout=10) as response:  # follows the 301
            assert response.url == on(new_url)
        assert (
            get(on(site_url("/cancerwise/what-is-white-coat-syndrome.h00-159857712.html")))[0]
            == 404
        )
        assert (
            get(on(site_url("/cancerwise/what-is-a-cytokine-storm.h00-159857712.html")))[0] == 410
        )
        status, body, headers = get(on(new_url))
        assert status == 200
        assert b"on\nSeptember 01, 2026" in body
        assert headers["Last-Modified"] == "Tue, 01 Sep 2026 08:30:00 GMT"
        _, facet, _ = get(on(urls.SITE + "/cancerwise.dir.html"))
        assert b"Breast Cancer (710)" in facet and b"Treatment (1770)" in facet
    records = site.expected_records()
    assert records[new_url]["reviewed"] == "2026-09-01"
    assert old_url not in records


def test_a_page_can_show_stale_counts() -> None:
    site = small_site()
    path = site.article(INSOMNIA).path
    stale = [
        replace(f, count=f.count + 2) if f.label == "Pancreatic Cancer" else f for f in site.facets
    ]
    site.page_facets[path] = stale
    records = site.expected_records()
    counts = {t["label"]: t["count"] for t in records[site_url(path)]["tag_counts"]}
    assert counts["Pancreatic Cancer"] == 128
    directory = records[site_url("/cancerwise.dir.html")]["tag_counts"]
    assert {t["label"]: t["count"] for t in directory}["Pancreatic Cancer"] == 126


def site_url(path: str) -> str:
    return urls.SITE + path


# ---------------------------------------------------------------- layout, serving


def test_layout_handles_directory_pages_queries_and_names() -> None:
    files = layout(
        [
            "/cancerwise.dir.html",
            "/cancerwise.dir.html?page=2",
            "/cancerwise.dir.html/category/content/cq:tags/md-anderson/diseases/breast-cancer",
            "/cancerwise.dir.html/category/content/cq:tags/md-anderson/diseases/breast-cancer"
            "?page=2",
            "/cancerwise.dir.html/author/Roman%20Gokhman",
        ]
    )
    assert list(files.values()) == [
        "cancerwise.dir.html/index.html",
        "cancerwise.dir.html@page=2",
        "cancerwise.dir.html/category/content/cq:tags/md-anderson/diseases/breast-cancer",
        "cancerwise.dir.html/category/content/cq:tags/md-anderson/diseases/breast-cancer@page=2",
        "cancerwise.dir.html/author/Roman Gokhman",
    ]


def test_every_page_is_served_at_its_url(tmp_path: Path) -> None:
    site = small_site()
    site.write(tmp_path)
    pages = list(site.pages())
    for page in pages:
        base, _, query = page.path.partition("?")
        file = file_for(tmp_path, base, query)
        assert file is not None and file.read_bytes() == page.body, page.path
    with ReplayServer(tmp_path) as server:
        for page in pages[:: max(1, len(pages) // 25)]:
            status, body, headers = get(server.url + page.path)
            assert (status, body) == (200, page.body), page.path
            lastmod = page.lastmod.strftime("%a, %d %b %Y %H:%M:%S GMT")
            assert headers["Last-Modified"] == lastmod, page.path
        status, robots, headers = get(server.url + "/robots.txt")
        assert headers["Content-Type"].startswith("text/plain")
        assert b"Disallow: /patient-education/" in robots
        declared = re.findall(rb"Sitemap: (\S+)", robots)
        assert len(declared) == 5
        for sitemap in declared:
            status, _, headers = get(urls.on_root(sitemap.decode(), server.url))
            assert (status, headers["Content-Type"]) == (200, "application/xml")


def test_the_bundled_site_is_what_the_generator_writes(tmp_path: Path) -> None:
    small_site().write(tmp_path)
    committed = REPO / "fixtures" / "site"
    assert {k: v[0] for k, v in tree_digest(tmp_path).items()} == {
        k: v[0] for k, v in tree_digest(committed).items()
    }, "fixtures/site is stale: run `cwarchive fixtures site`"
    lastmods = json.loads((committed / "_lastmod.json").read_text("utf-8"))
    assert len([a for a in small_site().articles.values()]) >= 25
    assert any(path.startswith("publications/cancer-frontline/") for path in lastmods)


def test_the_fixture_pages_are_what_the_cases_write(tmp_path: Path) -> None:
    from cwarchive.testing.sitegen.cases import write_cases

    write_cases(tmp_path)
    committed = REPO / "fixtures" / "pages"
    for file in tmp_path.iterdir():
        assert (committed / file.name).read_bytes() == file.read_bytes(), (
            f"fixtures/pages/{file.name} is stale: run `cwarchive fixtures pages`"
        )


def test_write_refuses_a_directory_that_is_not_a_site(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        Site().write(tmp_path)
    assert (tmp_path / "notes.txt").exists()


# ---------------------------------------------------------------- CLI


def test_cli_generate_and_mutate(tmp_path: Path) -> None:
    out = tmp_path / "site"
    runner = CliRunner()
    result = runner.invoke(main, ["fixtures", "generate", "--articles", "40", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["articles"] == 40 and summary["written"] == summary["files"]
    result = runner.invoke(
        main,
        ["fixtures", "generate", "--articles", "40", str(out), "--mutate", "10",
         "--now", "2026-09-01T08:30:00", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    mutated = json.loads(result.output)
    assert mutated["mutated"]["removed"] >= 1
    assert 0 < mutated["written"] < mutated["files"]
    result = runner.invoke(main, ["fixtures", "generate", str(tmp_path)])
    assert result.exit_code == 2 and "not a generated site" in result.output
