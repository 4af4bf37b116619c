"""`cwarchive report`: the static HTML report (docs/report.md), on SQLite and PostgreSQL.

The archive is built through `storage.Archive` with known changes over five runs, and
the report is checked against the views it reads: one table row per change of
`reviewed`, `title` and `reviewers` in the range (the `field_changes` rows), every
image a non-blank PNG, every linked article page present. A headless Chromium then
opens the report as a person would and checks that the charts show and that the page
fits a phone's width.

`CWARCHIVE_REPORT_SCREENSHOT=docs/report.png pytest tests/test_report.py -k screenshot`
also writes the documentation's screenshot.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import matplotlib.image
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from cwarchive.cli import main as cli
from cwarchive.report.diff import diff_rows
from cwarchive.report.pages import article_slug
from storage import Archive
from storage.db import make_engine
from tests.storage_records import article as article_record
from tests.storage_records import listing, raw_page

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
ARTICLES = 24
FIELDS = ("reviewed", "title", "reviewers")
# A title that is markup if the report forgot to escape it.
TRICKY_TITLE = 'Screening & you: <b>what</b> "changed"'
# (group, label, tag id, count in run 1); each run moves the counts a little.
TAGS = [
    ("Cancer Topics", "Treatment", "md-anderson:cancer-topics/treatment", 1770),
    ("Cancer Topics", "Prevention", "md-anderson:cancer-topics/prevention", 1040),
    ("Diseases", "Breast Cancer", "md-anderson:diseases/breast-cancer", 705),
    ("Cancer Topics", "Side Effects", "md-anderson:cancer-topics/side-effects", 650),
    ("Cancer Topics", "Clinical Trials", "md-anderson:cancer-topics/clinical-trials", 620),
    ("Cancer Topics", "Support", "md-anderson:cancer-topics/support", 430),
    ("Cancer Topics", "COVID-19", "md-anderson:cancer-topics/covid-19", 360),
    ("Cancer Topics", "Survivorship", "md-anderson:cancer-topics/survivorship", 330),
    ("Diseases", "Leukemia", "md-anderson:diseases/leukemia", 320),
    ("Diseases", "Skin Cancer", "md-anderson:diseases/skin-cancer", 300),
    ("Diseases", "Lung Cancer", "md-anderson:diseases/lung-cancer", 280),
    ("Diseases", "Uterine Cancer", "md-anderson:diseases/uterine-cancer", 78),
    ("Diseases", "Acoustic Neuroma", "md-anderson:diseases/acoustic-neuroma", 18),
]
RARE = "Acoustic Neuroma"
# The changes the fixture makes, as (article, field, run): the view must agree.
DESIGNED = {
    ("cancerwise/article-01", "reviewed", 2),
    ("cancerwise/article-02", "title", 2),
    ("cancerwise/article-03", "reviewers", 2),
    ("cancerwise/article-01", "title", 3),
    ("cancerwise/article-01", "reviewers", 3),
    ("cancerwise/article-02", "title", 4),
    ("cancerwise/article-09", "reviewed", 4),
    ("cancerwise/article-09", "reviewers", 4),
    ("cancerwise/article-10", "reviewed", 4),
    ("cancerwise/article-12", "reviewed", 4),
}


def key(i: int) -> str:
    return f"cancerwise/article-{i:02d}"


def sidebar(run: int) -> list[dict[str, Any]]:
    # Run 4 renames a tag (same id, new label): its line must continue.
    return [
        {
            "group": group,
            "label": "Uterine Cancers" if run >= 4 and label == "Uterine Cancer" else label,
            "tag_id": tag_id,
            "count": count + (run - 1) * ((index % 3) - 1) * 3,
        }
        for index, (group, label, tag_id, count) in enumerate(TAGS)
    ]


def reviewer(n: int) -> dict[str, Any]:
    return {"name": f"Reviewer {n}, M.D.", "url": f"https://faculty.mdanderson.org/r{n}.html"}


def first_fields(i: int) -> dict[str, Any]:
    """Article i as run 1 saw it: publication dates spread over years, most reviewed."""
    published = dt.date(2021, 1, 4) + dt.timedelta(days=41 * i)
    reviewed = None if i % 5 == 4 else published + dt.timedelta(days=(i * 67) % 700)
    return {
        "title": f"Article {i}: what to know",
        "published": published.isoformat(),
        "reviewed": reviewed and reviewed.isoformat(),
        "reviewers": [reviewer(i % 4)] if reviewed else [],
        "body_text": "\n\n".join(f"Paragraph {p} of article {i}." for p in range(1, 8)),
    }


class Site:
    """The articles' current content, and the archive the runs are written to."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.fields = {i: first_fields(i) for i in range(1, ARTICLES + 1)}
        self.removed: set[int] = set()

    def record(self, i: int, run: int) -> dict[str, Any]:
        return article_record(key(i), tag_counts=sidebar(run), **self.fields[i])

    def run(
        self,
        number: int,
        changes: dict[int, dict[str, Any]],
        *,
        gone: tuple[int, ...] = (),
        seen: tuple[int, ...] = (),
        mode: str = "full",
    ) -> None:
        archive = self.archive
        run = archive.start_run(mode, site_root="https://www.mdanderson.org", parser_version="1")
        assert run == number
        for i, fields in changes.items():
            self.fields.setdefault(i, first_fields(i)).update(fields)
        for i in sorted(self.fields):
            if i in gone or i in self.removed:
                continue
            record = self.record(i, run)
            if i in seen:
                archive.mark_seen(run, key(i), url=record["url"], http_status=304)
                continue
            archive.save_article(
                run,
                record,
                raw=raw_page(record),
                url=record["url"],
                http_status=200,
                fetched_at=T0 + dt.timedelta(days=7 * run, minutes=i),
            )
        for i in gone:
            archive.mark_gone(run, key(i), url=self.record(i, run)["url"], http_status=404)
            self.removed.add(i)
        archive.save_listing(run, listing(tag_counts=sidebar(run)), raw=None, url=f"f{run}")
        archive.finish_run(run, "completed")


def build(db_url: str) -> None:
    """Five runs: re-reviewed, retitled, reviewers changed, body changed, removed.

    run 1: articles 1-24
    run 2: 1 re-reviewed; 2 retitled (a title full of markup); 3 gains a reviewer;
           article 25 is new
    run 3: 1 retitled and reviewed by someone else; 5's body changes (not a listed
           field); 6 gone (removed); 7 not modified (304)
    run 4: 9 reviewed for the first time; 2 retitled again with a new body; 10's
           review date goes back; 12's review date disappears; a tag is renamed
    run 5: nothing changes
    """
    archive = Archive.open(db_url, batch_size=7)
    site = Site(archive)
    site.run(1, {})
    site.run(
        2,
        {
            1: {"reviewed": "2025-03-02"},
            2: {"title": TRICKY_TITLE},
            3: {"reviewers": [reviewer(3), reviewer(7)]},
            25: {},
        },
        mode="incremental",
    )
    body = site.fields[5]["body_text"].replace("Paragraph 4", "Paragraph four, rewritten,")
    site.run(
        3,
        {
            1: {"title": "Article 1: what to know now", "reviewers": [reviewer(9)]},
            5: {"body_text": body},
        },
        gone=(6,),
        seen=(7,),
    )
    new_body = site.fields[2]["body_text"].replace(
        "Paragraph 3 of article 2.", "Paragraph 3 of article 2, with <script>alert(1)</script>."
    )
    site.run(
        4,
        {
            2: {
                "title": "Screening and you: what changed",
                "body_text": new_body + "\n\nA new end.",
            },
            9: {"reviewed": "2025-06-01", "reviewers": [reviewer(2)]},
            10: {"reviewed": "2022-01-01"},
            12: {"reviewed": None},
        },
    )
    site.run(5, {}, mode="incremental")
    archive.close()


# -- reading a report ------------------------------------------------------------------


class Page(HTMLParser):
    """What a report page holds: images, change rows, links, element ids."""

    def __init__(self, path: Path) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[dict[str, str | None]] = []
        self.rows: list[dict[str, str | None]] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.feed(path.read_text("utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append(tag)
        if found.get("id"):
            self.ids.add(found["id"] or "")
        if tag == "img":
            self.images.append(found)
        elif tag == "tr" and "data-article" in found:
            self.rows.append(found)
        elif tag == "a" and found.get("href"):
            self.links.append(found["href"] or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def report(*args: str) -> Result:
    return CliRunner().invoke(cli, ["report", *args], catch_exceptions=False)


def view_changes(db_url: str, where: str = "") -> list[tuple[str, str, int, int]]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT article_key, field, to_run, to_version FROM field_changes "
                    f"WHERE field IN ('reviewed', 'title', 'reviewers'){where}"
                )
            ).all()
    finally:
        engine.dispose()
    return sorted((r[0], r[1], r[2], r[3]) for r in rows)


def assert_not_blank(path: Path) -> None:
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100, path
    assert image.min() != image.max(), f"{path}: one colour only"
    assert (image[..., :3] < 0.9).mean() > 0.005, f"{path}: next to nothing drawn"


def check_report(out: Path, db_url: str, where: str = "") -> Page:
    """The report in `out` lists exactly the view's changes; its files are all there."""
    index = Page(out / "index.html")
    rows = sorted(
        (r["data-article"], r["data-field"], int(r["data-to-run"]), int(r["data-to-version"]))
        for r in index.rows
    )
    assert rows == view_changes(db_url, where)
    runs = [int(r["data-to-run"]) for r in index.rows]
    assert runs == sorted(runs, reverse=True), "changes are not newest first"

    assert len(index.images) == 4
    for image in index.images:
        src, alt = image["src"] or "", image["alt"] or ""
        assert not src.startswith(("http:", "https:", "//")), "the report must open offline"
        assert len(alt) > 40 and src not in alt, f"{src}: alt text says nothing: {alt!r}"
        assert_not_blank(out / src)

    pages = {link.split("#")[0] for link in index.links if link.startswith("articles/")}
    assert len(pages) == len({r[0] for r in rows})
    for link in index.links:
        if not link.startswith("articles/"):
            continue
        page, _, fragment = link.partition("#")
        assert re.fullmatch(r"articles/[a-z0-9-]+\.html", page), link
        target = Page(out / page)
        assert fragment in target.ids, f"{link}: no element #{fragment}"
        assert "../index.html" in target.links
    # Nothing but the report's own files.
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert files == {"index.html", *pages, *(i["src"] for i in index.images)}
    assert not any(tag == "script" for tag in index.tags)
    return index


# -- the report ------------------------------------------------------------------------


def test_the_report_lists_every_change_and_its_pages(archive_url: str, tmp_path: Path) -> None:
    build(archive_url)
    assert {(a, f, r) for a, f, r, _ in view_changes(archive_url)} == DESIGNED

    out = tmp_path / "report"
    # A tag asked for by a label it no longer shows: found, drawn under its new label.
    result = report(
        "--db", archive_url, "--out", str(out), "--tag", RARE, "--tag", "uterine cancer", "--json"
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["changes"] == len(DESIGNED) and summary["runs"] == 5
    index = check_report(out, archive_url)

    source = (out / "index.html").read_text("utf-8")
    assert "<b>" not in source and "&lt;b&gt;" in source
    shown = "".join(index.text)
    assert f"{RARE} (asked)" in shown and "Uterine Cancers (asked)" in shown
    assert "review date removed (not drawn)1" in shown
    assert 'name="viewport"' in source and "@media (max-width: 700px)" in source

    # Article 2: retitled twice, its body changed in run 4, shown word by word, escaped.
    page = out / "articles" / f"{article_slug('cancerwise/article-02')}.html"
    article = page.read_text("utf-8")
    assert "<script>" not in article and "&lt;script&gt;" in article
    assert article.count('class="diff"') == 1, "one body change, one diff table"
    assert "<ins>" in article and "A new end." in article
    assert {"v1", "v2", "v3", "diff-2", "diff-3"} <= Page(page).ids

    # A range: what runs 2 and 3 did (the rule of `cwarchive diff`).
    ranged = tmp_path / "ranged"
    result = report("--db", archive_url, "--out", str(ranged), "--from", "1", "--to", "3")
    assert result.exit_code == 0, result.output
    index = check_report(ranged, archive_url, " AND to_run > 1 AND to_run <= 3")
    assert {int(r["data-to-run"]) for r in index.rows} == {2, 3}

    # The same directory again: replaced, articles no longer listed gone with it.
    result = report("--db", archive_url, "--out", str(ranged), "--from", "3", "--to", "4")
    assert result.exit_code == 0, result.output
    check_report(ranged, archive_url, " AND to_run > 3 AND to_run <= 4")


def test_an_empty_range_and_an_empty_archive_still_render(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    build(db)
    out = tmp_path / "quiet"
    result = report("--db", db, "--out", str(out), "--from", "4", "--to", "5")
    assert result.exit_code == 0, result.output
    index = check_report(out, db, " AND to_run > 4 AND to_run <= 5")
    assert index.rows == []
    assert "No review date, title or reviewer list changed" in "".join(index.text)

    empty = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    Archive.open(empty).close()
    out = tmp_path / "empty"
    result = report("--db", empty, "--out", str(out))
    assert result.exit_code == 0, result.output
    index = check_report(out, empty)
    alts = " ".join(i["alt"] or "" for i in index.images)
    assert "no runs in this range" in alts and "no tag counts" in alts


def test_user_errors_are_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    Archive.open(db).close()
    cases = {
        ("--from", "3", "--to", "2"): "--from 3 is after --to 2",
        ("--tag", "No Such Tag"): "no tag 'No Such Tag'",
    }
    for args, message in cases.items():
        result = report("--db", db, "--out", str(tmp_path / "r"), *args)
        assert result.exit_code == 2 and message in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1

    # Nothing listens on port 1: refused at once, the password not repeated.
    down = report("--db", "postgresql://u:secret@127.0.0.1:1/x", "--out", str(tmp_path / "r"))
    assert down.exit_code == 2 and "cannot open the archive" in down.stderr
    assert "secret" not in down.stderr and down.stderr.count("\n") == 1

    missing = report("--db", str(tmp_path / "none.sqlite"), "--out", str(tmp_path / "r"))
    assert missing.exit_code == 2 and "no archive" in missing.stderr
    assert not (tmp_path / "none.sqlite").exists()

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    result = report("--db", db, "--out", str(busy))
    assert result.exit_code == 2 and "holds no earlier report" in result.stderr
    assert (busy / "notes.txt").read_text() == "mine"


def test_without_matplotlib_the_report_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes every `import matplotlib...` raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    Archive.open(db).close()
    result = report("--db", db, "--out", str(tmp_path / "r"))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "pip install 'cwarchive[report]'" in result.stderr
    assert not (tmp_path / "r").exists()


def test_article_slugs_are_file_names_and_unique() -> None:
    keys = [
        "cancerwise/what-is-the-blood-brain-barrier--and-how",
        "cancerwise/what-is-the-blood-brain-barrier-and-how",
        "cancerwise/What-Is",
        "cancerwise/what-is",
        "cancerwise/" + "x" * 300,
        "cancerwise/../../etc/passwd",
        "cancerwise/é",
    ]
    slugs = [article_slug(k) for k in keys]
    assert len(set(slugs)) == len(keys)
    for slug in slugs:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,99}", slug), slug
    assert article_slug(keys[0]) == article_slug(keys[0]), "stable across reports"


def test_the_body_diff_escapes_and_folds() -> None:
    old = "\n\n".join(f"Paragraph {n}." for n in range(10))
    new = old.replace("Paragraph 5.", "Paragraph <5> & more.")
    rows = "".join(diff_rows(old, new))
    assert "&lt;" in rows and "&amp;" in rows and "<5>" not in rows
    assert rows.count("unchanged paragraphs") == 2, "long unchanged stretches fold"
    assert diff_rows(old, old) == []


# -- in a browser ----------------------------------------------------------------------

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
# Where each chart ended up, written into the page's own DOM for --dump-dom to print.
PROBE = """<script>
addEventListener("load", () => {
  const boxes = [...document.querySelectorAll("figure.chart img")].map((img) => {
    const box = img.getBoundingClientRect();
    return {src: img.getAttribute("src"), x: box.left + scrollX, y: box.top + scrollY,
            w: box.width, h: box.height, natural: img.naturalWidth};
  });
  const root = document.documentElement;
  root.setAttribute("data-probe", JSON.stringify({boxes, inner: innerWidth,
    scroll: root.scrollWidth, height: root.scrollHeight}));
});
</script>"""


@pytest.fixture
def chromium() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
    )
    if found:
        return found
    reason = "headless Chromium not installed (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: on CI the browser test must run")
    print(reason)
    pytest.skip(reason)


class Browser:
    def __init__(self, binary: str, scratch: Path) -> None:
        self.binary = binary
        self.scratch = scratch
        self.calls = 0

    def _run(self, url: str, width: int, height: int, *extra: str) -> str:
        # A fresh profile per call: a shared one caches the page and its layout.
        self.calls += 1
        profile = self.scratch / f"profile-{self.calls}"
        result = subprocess.run(
            [
                self.binary,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                *extra,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    def screenshot(self, page: Path, width: int, height: int) -> Any:
        shot = self.scratch / f"shot-{self.calls + 1}.png"
        self._run(page.as_uri(), width, height, f"--screenshot={shot}")
        return matplotlib.image.imread(shot), shot

    def probe(self, page: Path, width: int, height: int) -> dict[str, Any]:
        """Layout facts of `page` at this window size, from a copy carrying PROBE."""
        copy = page.with_name(f"probe-{page.name}")
        copy.write_text(page.read_text("utf-8").replace("</body>", PROBE + "</body>"), "utf-8")
        try:
            dom = self._run(copy.as_uri(), width, height, "--dump-dom")
        finally:
            copy.unlink()
        found = re.search(r'data-probe="([^"]*)"', dom)
        assert found, "the page did not finish loading"
        return json.loads(html.unescape(found.group(1)))


@pytest.fixture
def browser(chromium: str, tmp_path: Path) -> Iterator[Browser]:
    yield Browser(chromium, tmp_path / "browser")


def blank(region: Any) -> bool:
    return region.size == 0 or region.min() == region.max() or (region < 0.9).mean() < 0.005


def test_screenshot_shows_every_chart_and_fits_a_phone(browser: Browser, tmp_path: Path) -> None:
    """The charts' boxes come from the page itself: a copy of index.html with a script
    that writes every chart image's box (and whether it decoded) into the DOM, printed
    by --dump-dom at the same window size as the screenshot. Headless Chromium lays the
    same page out the same way at the same size, so the boxes are where the screenshot
    shows the charts, whatever the fonts make of the text above them."""
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    build(db)
    out = tmp_path / "report"
    assert report("--db", db, "--out", str(out), "--tag", RARE).exit_code == 0
    index = out / "index.html"

    layout = browser.probe(index, 1200, 3000)
    assert len(layout["boxes"]) == 4
    image, shot = browser.screenshot(index, 1200, 3000)
    for box in layout["boxes"]:
        assert box["natural"] > 0, f"{box['src']} did not load"
        x, y, w, h = (round(box[k]) for k in ("x", "y", "w", "h"))
        assert w > 300 and h > 150, box
        assert y + h <= image.shape[0], f"{box['src']} is below the screenshot"
        assert not blank(image[y + 2 : y + h - 2, x + 2 : x + w - 2, :3]), box["src"]
    # Two charts a row on a wide screen.
    assert len({round(b["x"]) for b in layout["boxes"]}) == 2

    # A phone: one column, nothing wider than the screen. Headless Chromium's window is
    # at least 500 px wide when it lays out for --dump-dom, so the probe runs at 500;
    # the screenshot, at 400, must show nothing cut at its right edge.
    for page in (index, out / "articles" / f"{article_slug('cancerwise/article-02')}.html"):
        phone = browser.probe(page, 500, 2000)
        assert phone["scroll"] <= phone["inner"], f"{page.name} overflows at 500 px"
        assert len({round(b["x"]) for b in phone["boxes"]}) <= 1, "not one column"
        image, _ = browser.screenshot(page, 400, min(phone["height"] + 50, 8000))
        assert image.shape[1] == 400
        edge = image[:, -8:, :3]
        assert (edge > 0.98).all(), f"{page.name}: content cut at the right edge at 400 px"

    target = os.environ.get("CWARCHIVE_REPORT_SCREENSHOT")
    if target:
        write_doc_screenshot(browser, index, Path(target))


def write_doc_screenshot(browser: Browser, index: Path, target: Path) -> None:
    """The documentation's picture: the top of the page at 1200 px, halved, in 16 levels
    per channel (text and charts stay legible; the file is a third of the size)."""
    image, _ = browser.screenshot(index, 1200, 1600)
    rgb = image[..., :3]
    height, width = rgb.shape[0] // 2 * 2, rgb.shape[1] // 2 * 2
    half = rgb[:height, :width].reshape(height // 2, 2, width // 2, 2, 3).mean(axis=(1, 3))
    matplotlib.image.imsave(target, (half * 15).round() / 15, pil_kwargs={"optimize": True})
    assert target.stat().st_size < 150_000, f"{target}: too large to commit"
