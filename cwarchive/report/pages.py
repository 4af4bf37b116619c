"""The report's HTML: `index.html` and one page per article in the change table.

The pages work from a file system, offline: no script, no web font, no CDN; the
style sheet is in each page and the charts are PNG files beside it. They read on a
phone: a viewport meta tag, one column under 700 px, and wide tables scroll
sideways inside their own box instead of widening the page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import statistics
from collections.abc import Sequence
from typing import Any

from cwarchive.report.charts import HEIGHT, WIDTH, Chart
from cwarchive.report.diff import diff_table, word_diff
from cwarchive.report.markup import Child, Markup, document, element, join
from storage.report_data import ArticleHistory, Change, ReportData, VersionText

STYLE = """
:root { --fg: #1a1a1a; --muted: #555; --line: #d8d8d8; --link: #0b57a4; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 24px; background: #fff; color: var(--fg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
main { max-width: 1240px; margin: 0 auto; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 .3rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .6rem; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 .4rem; }
a { color: var(--link); }
.meta, figcaption, .note { color: var(--muted); font-size: .92rem; }
.meta { margin: 0 0 1rem; }
.charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 24px 32px; }
figure.chart { margin: 0; min-width: 0; }
figure.chart img { display: block; width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { margin-top: .4rem; }
figcaption strong { color: var(--fg); }
details { margin-top: .4rem; font-size: .92rem; }
summary { cursor: pointer; color: var(--link); }
.scroll { overflow-x: auto; max-width: 100%; border: 1px solid var(--line); }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; vertical-align: top; padding: 6px 10px;
  border-bottom: 1px solid var(--line); }
th { background: #f3f5f7; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.changes { min-width: 820px; }
table.changes td:nth-child(4) { min-width: 18rem; }
table.versions { min-width: 820px; }
table.diff { table-layout: fixed; min-width: 600px; }
table.diff td { width: 50%; overflow-wrap: anywhere; }
td.removed, td.changed.before { background: #fff4f4; }
td.added, td.changed.after { background: #f1fbf1; }
td.empty { background: #f6f6f6; }
td.fold { text-align: center; color: var(--muted); font-style: italic; }
del { background: #ffd6d6; text-decoration: line-through; }
ins { background: #c9f0c9; text-decoration: none; }
.old { color: #7a1f1f; }
.arrow { color: var(--muted); padding: 0 .3em; }
.badge { display: inline-block; font-size: .78rem; padding: 0 .4em; border-radius: 3px;
  background: #eee; color: #444; margin-left: .3em; }
tr.in-range td:first-child { border-left: 3px solid #E69F00; }
footer { margin-top: 2.5rem; color: var(--muted); font-size: .85rem; }
@media (max-width: 700px) {
  body { padding: 12px; }
  .charts { grid-template-columns: 1fr; }
  h1 { font-size: 1.3rem; }
}
"""

FIELD_NAMES = {"reviewed": "review date", "title": "title", "reviewers": "reviewers"}


def article_slug(article_key: str) -> str:
    """A file name for an article's page: readable, and unique per key.

    The readable part keeps only lowercase letters, digits and dashes (safe on every
    file system and in a URL); the hash of the whole key keeps two keys that differ
    only in what was dropped (case, punctuation, length) apart.
    """
    readable = re.sub(r"[^a-z0-9]+", "-", article_key.lower()).strip("-")[:80].rstrip("-")
    digest = hashlib.sha256(article_key.encode("utf-8")).hexdigest()[:10]
    return f"{readable or 'article'}-{digest}"


def article_href(article_key: str) -> str:
    return f"articles/{article_slug(article_key)}.html"


def _range_text(data: ReportData) -> str:
    runs = data.run_ids
    found = "no runs" if not runs else f"runs {runs[0]} to {runs[-1]}"
    if len(runs) == 1:
        found = f"run {runs[0]}"
    if data.from_run is None and data.to_run is None:
        return f"All runs: {found}"
    bounds = []
    if data.from_run is not None:
        bounds.append(f"after run {data.from_run}")
    if data.to_run is not None:
        bounds.append(f"up to run {data.to_run}")
    return f"Runs {' and '.join(bounds)}: {found}"


def _value(field: str, value: Any) -> str:
    if value is None or value == []:
        return "none"
    if field == "reviewers":
        return "; ".join(str(r.get("name") or "(unnamed)") for r in value)
    return str(value)


def _old_new(change: Change) -> Markup:
    old, new = _value(change.field, change.old), _value(change.field, change.new)
    if change.field == "title" and change.old is not None and change.new is not None:
        # A retitle is often a few words: show which.
        words = word_diff(old, new)
        assert words is not None  # no threshold: always a diff
        before, after = words
        return join([element("span", before, class_="old"), _arrow(), element("span", after)])
    return join([element("span", old, class_="old"), _arrow(), element("span", new)])


def _arrow() -> Markup:
    return element("span", "→", class_="arrow", aria_hidden="true")


def _change_row(change: Change) -> Markup:
    title = change.title or change.article_key
    article: list[Child] = [
        element("a", title, href=change.url) if change.url else title,
        element("span", "removed", class_="badge") if change.status == "removed" else None,
    ]
    history = element(
        "a",
        f"v{change.from_version} → v{change.to_version}",
        href=f"{article_href(change.article_key)}#diff-{change.to_version}",
        aria_label=f"versions {change.from_version} and {change.to_version} of {title}",
    )
    return element(
        "tr",
        element(
            "td",
            f"{change.from_run} → {change.to_run}",
            class_="num",
            title=f"last seen with the old value in run {change.from_run}, "
            f"with the new one from run {change.to_run}",
        ),
        element("td", article),
        element("td", FIELD_NAMES[change.field]),
        element("td", _old_new(change)),
        element("td", history),
        data_article=change.article_key,
        data_field=change.field,
        data_to_run=change.to_run,
        data_to_version=change.to_version,
    )


def _table(headings: Sequence[str], rows: Sequence[Sequence[Child]], **attrs: object) -> Markup:
    numeric = [
        all(isinstance(row[i], int) for row in rows) and bool(rows) for i in range(len(headings))
    ]
    return element(
        "div",
        element(
            "table",
            element(
                "thead",
                element(
                    "tr",
                    [
                        element("th", h, class_="num" if numeric[i] else None, scope="col")
                        for i, h in enumerate(headings)
                    ],
                ),
            ),
            element(
                "tbody",
                [
                    element(
                        "tr",
                        [
                            element("td", cell, class_="num" if numeric[i] else None)
                            for i, cell in enumerate(row)
                        ],
                    )
                    for row in rows
                ],
            ),
            **attrs,
        ),
        class_="scroll",
    )


def _chart_data(name: str, data: ReportData) -> Markup | None:
    """The numbers behind a chart, as a table under it (for screen readers and copying)."""
    if name == "runs" and data.runs:
        return _table(
            (
                "run",
                "started (UTC)",
                "mode",
                "status",
                "new",
                "changed",
                "unchanged",
                "seen",
                "removed",
            ),  # fmt: skip
            [
                (
                    r.run,
                    r.started,
                    r.mode,
                    r.status,
                    r.new,
                    r.changed,
                    r.unchanged,
                    r.seen,
                    r.removed,
                )  # fmt: skip
                for r in data.runs
            ],
        )
    if name == "reviews" and (data.review_months or data.reviews_dropped):
        rows: list[tuple[str, int]] = list(data.review_months)
        if data.reviews_dropped:
            rows.append(("review date removed (not drawn)", data.reviews_dropped))
        return _table(("month", "re-reviews"), rows)
    if name == "review-age" and data.review_ages:
        days = data.review_ages
        quartiles = statistics.quantiles(days, n=4) if len(days) > 1 else [days[0]] * 3
        return _table(
            (
                "active articles",
                "without a review date",
                "shortest",
                "lower quartile",
                "median",
                "upper quartile",
                "longest",
            ),  # fmt: skip
            [
                (
                    len(days),
                    data.unreviewed,
                    min(days),
                    f"{quartiles[0]:g}",
                    f"{quartiles[1]:g}",
                    f"{quartiles[2]:g}",
                    max(days),
                )  # fmt: skip
            ],
        )
    if name == "tags" and data.tags:
        return _table(
            ("tag", "group", "tag id", "runs with a count", "first count", "latest count"),
            [
                (
                    t.label + (" (asked)" if t.asked else ""),
                    t.group or "",
                    t.tag_id or "(none)",
                    str(sum(1 for _, c in t.counts if c is not None)),
                    next((f"{c} (run {r})" for r, c in t.counts if c is not None), "none"),
                    "none" if t.latest is None else f"{t.latest} (run {data.tags_run})",
                )
                for t in data.tags
            ],
        )
    return None


# How to read each chart, and the view it comes from (docs/report.md says more).
READING = {
    "runs": "One bar per run, stacked: articles new to the archive, changed since their "
    "last version, unchanged (fetched, or not modified and not fetched again) and removed "
    "(404/410 in a completed run). Source: the runs table.",
    "reviews": "Articles whose review date changed in a run of the range, counted by the "
    "month of the new review date. Source: reviewed_changes (new_reviewed).",
    "review-age": "For every active article, the days from its publication date to its "
    "current review date; the dashed line is the median. This is the archive now, "
    "whatever the range. Source: current_articles.",
    "tags": "The article count the site's sidebar shows for a tag, run by run: the ten "
    "largest in the range's latest run, and any asked for with --tag (marked *). "
    "Source: tag_count_series.",
}


def _figure(chart: Chart, data: ReportData) -> Markup:
    table = _chart_data(chart.name, data)
    return element(
        "figure",
        element("img", src=chart.path, alt=chart.alt, width=WIDTH, height=HEIGHT),
        element("figcaption", element("strong", chart.title + ". "), READING[chart.name]),
        element("details", element("summary", "The numbers"), table) if table else None,
        class_="chart",
        id=f"chart-{chart.name}",
    )


def index_page(data: ReportData, charts: Sequence[Chart], generated: dt.datetime) -> str:
    changes = data.changes
    if changes:
        change_table: Markup = element(
            "div",
            element(
                "table",
                element(
                    "thead",
                    element(
                        "tr",
                        [
                            element("th", h, scope="col")
                            for h in ("Runs", "Article", "Field", "Old → new", "History")
                        ],
                    ),
                ),
                element("tbody", [_change_row(c) for c in changes]),
                class_="changes",
            ),
            class_="scroll",
        )
    else:
        change_table = element(
            "p", "No review date, title or reviewer list changed in this range.", class_="note"
        )
    counts = {field: sum(1 for c in changes if c.field == field) for field in FIELD_NAMES}
    body = element(
        "main",
        element(
            "header",
            element("h1", "Cancerwise archive report"),
            element(
                "p",
                f"{_range_text(data)}. {len(changes)} changes listed. Generated "
                f"{generated:%Y-%m-%d %H:%M} UTC by cwarchive report.",
                class_="meta",
            ),
        ),
        element(
            "section",
            element("h2", "Charts"),
            element("div", [_figure(chart, data) for chart in charts], class_="charts"),
            id="charts",
        ),
        element(
            "section",
            element("h2", "Changes of review date, title and reviewers"),
            element(
                "p",
                f"Newest first: {counts['reviewed']} review dates, {counts['title']} titles "
                f"and {counts['reviewers']} reviewer lists changed. A change happened "
                "between the two runs shown (the last run with the old value, the first "
                "with the new). The title links to the live page; the versions link to "
                "the article's history and body text diff. Source: field_changes.",
                class_="note",
            ),
            change_table,
            id="changes",
        ),
        element(
            "footer",
            "Written by cwarchive report from the archive's research views "
            "(docs/research.md); how to read it: docs/report.md.",
        ),
    )
    return document("Cancerwise archive report", [element("style", Markup(STYLE))], [body])


def _version_row(version: VersionText, in_range: bool) -> Markup:
    return element(
        "tr",
        element("td", version.version, class_="num"),
        element("td", version.title or ""),
        element("td", version.published or "none"),
        element("td", version.reviewed or "none"),
        element("td", "; ".join(version.reviewers) or "none"),
        element("td", f"{version.first_run} to {version.last_run}"),
        element("td", version.parser_version),
        element("td", ", ".join(version.changed) or ("first" if version.version == 1 else "")),
        id=f"v{version.version}",
        class_="in-range" if in_range else None,
    )


def article_page(history: ArticleHistory, data: ReportData, generated: dt.datetime) -> str:
    """One article: its versions, and its body text diffed between consecutive versions."""
    title = history.title or history.article_key

    def in_range(version: VersionText) -> bool:
        return (data.from_run is None or version.first_run > data.from_run) and (
            data.to_run is None or version.first_run <= data.to_run
        )

    versions = history.versions
    steps: list[Markup] = []
    for old, new in zip(versions, versions[1:], strict=False):
        table = diff_table(
            old.body_text,
            new.body_text,
            f"Version {old.version} (runs {old.first_run} to {old.last_run})",
            f"Version {new.version} (runs {new.first_run} to {new.last_run})",
        )
        steps.append(
            element(
                "section",
                element("h3", f"Version {old.version} → {new.version}", id=f"diff-{new.version}"),
                element(
                    "p",
                    f"First seen in run {new.first_run}. Fields that changed: "
                    f"{', '.join(new.changed) or 'none (a new version of the same content)'}.",
                    class_="note",
                ),
                table
                if table is not None
                else element("p", "The body text did not change.", class_="note"),
            )
        )
    live: list[Child] = [element("a", "live page", href=history.url), " · "] if history.url else []
    body = element(
        "main",
        element("p", element("a", "← report", href="../index.html")),
        element("h1", title),
        element(
            "p",
            live,
            f"{history.article_key} · {history.status} · {len(versions)} versions. "
            f"Generated {generated:%Y-%m-%d %H:%M} UTC.",
            class_="meta",
        ),
        element("h2", "Versions"),
        element(
            "p",
            "Oldest first; runs are the first and last run the version was seen in. A "
            "marked row first appeared in the report's range. Source: article_versions.",
            class_="note",
        ),
        element(
            "div",
            element(
                "table",
                element(
                    "thead",
                    element(
                        "tr",
                        [
                            element("th", h, scope="col")
                            for h in (
                                "Version",
                                "Title",
                                "Published",
                                "Reviewed",
                                "Reviewers",
                                "Runs",
                                "Parser",
                                "Changed",
                            )  # fmt: skip
                        ],
                    ),
                ),
                element("tbody", [_version_row(v, in_range(v)) for v in versions]),
                class_="versions",
            ),
            class_="scroll",
        ),
        element("h2", "Body text, version by version"),
        steps or element("p", "Only one version.", class_="note"),
    )
    return document(f"{title}: versions", [element("style", Markup(STYLE))], [body])
