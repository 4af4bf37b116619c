"""The report's charts: PNG files drawn by matplotlib's Agg renderer.

matplotlib is the optional extra `report`: it is imported inside the functions that
draw, never at module level, so the rest of the CLI runs without it (`require` says
how to install it). Figures are `matplotlib.figure.Figure` objects on an Agg canvas,
not pyplot: no global figure state, nothing to close, no display backend to pick.

Every chart has the same size, and one with no data draws its title and a sentence
saying so instead of empty axes. Each function returns the chart's alt text, a
sentence of what the data shows, for the page to put beside the image.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.report_data import ReportData, RunCounts, TagSeries

# matplotlib's Figure and Axes, named for the annotations only: the dependency test
# counts even an import under `if TYPE_CHECKING` as a module-level import of the extra.
Figure = Any
Axes = Any

INSTALL = "pip install 'cwarchive[report]'"

# Inches and dots per inch: 960 x 540 pixels, shown about 580 px wide two to a row
# (and full width on a phone), so they stay sharp on a high-density screen; the
# small size in inches keeps the text large beside the plot.
SIZE = (6.4, 3.6)
DPI = 150
WIDTH, HEIGHT = round(SIZE[0] * DPI), round(SIZE[1] * DPI)

# The Okabe-Ito palette: distinguishable with the common colour-vision deficiencies.
NEW, CHANGED, UNCHANGED, REMOVED = "#0072B2", "#E69F00", "#BBBBBB", "#D55E00"
BAR = "#0072B2"
LINES = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9",
    "#D55E00", "#F0E442", "#000000", "#999999", "#882255",
)  # fmt: skip
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")
MAX_BINS = 30


class MissingMatplotlib(RuntimeError):
    """The `report` extra is not installed."""


def require() -> None:
    """Raise `MissingMatplotlib`, with the install line, when matplotlib is absent."""
    try:
        import matplotlib  # noqa: F401
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    except ImportError:
        raise MissingMatplotlib(f"the report's charts need matplotlib: {INSTALL}") from None


@dataclass(frozen=True)
class Chart:
    """One drawn chart: its file (relative to the report), title and alt text."""

    name: str
    path: str
    title: str
    alt: str


def _figure(title: str) -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # the Agg renderer, whatever backend matplotlib defaults to
    axes = figure.add_subplot()
    axes.set_title(title, loc="left", fontsize=12, fontweight="bold")
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=9)
    return figure, axes


def _empty(axes: Axes, message: str) -> None:
    axes.set_axis_off()
    axes.text(
        0.5, 0.5, message, ha="center", va="center", fontsize=13, color="#555555",
        transform=axes.transAxes,
    )  # fmt: skip


def _save(figure: Figure, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    # No "Software" entry: the same data gives the same bytes with any matplotlib.
    figure.savefig(out, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})


def _integer_axis(axes: Axes, which: str = "both") -> None:
    from matplotlib.ticker import MaxNLocator

    if which in ("x", "both"):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=12))
    if which in ("y", "both"):
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def _span(runs: Sequence[int]) -> str:
    if not runs:
        return "no runs"
    return f"run {runs[0]}" if len(runs) == 1 else f"runs {runs[0]} to {runs[-1]}"


def runs_chart(runs: Sequence[RunCounts], out: Path) -> str:
    """Stacked bars per run: new, changed, unchanged (or seen), removed articles."""
    figure, axes = _figure("Articles per run")
    ids = [r.run for r in runs]
    if not runs:
        _empty(axes, "No runs in this range")
        _save(figure, out)
        return "Articles per run: there are no runs in this range."
    layers = (
        ("new", NEW, [r.new for r in runs]),
        ("changed", CHANGED, [r.changed for r in runs]),
        ("unchanged or not modified", UNCHANGED, [r.unchanged + r.seen for r in runs]),
        ("removed", REMOVED, [r.removed for r in runs]),
    )
    bottom = [0] * len(runs)
    width = 0.8 if len(runs) < 60 else 1.0
    for label, color, values in layers:
        axes.bar(ids, values, width, bottom=bottom, label=label, color=color)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_xlabel("run", fontsize=10)
    axes.set_ylabel("articles", fontsize=10)
    _integer_axis(axes)
    if len(runs) == 1:
        axes.set_xlim(ids[0] - 2, ids[0] + 2)
    axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _save(figure, out)
    totals = {label: sum(values) for label, _, values in layers}
    busiest = max(runs, key=lambda r: (r.changed + r.new + r.removed, -r.run))
    return (
        f"Stacked bar chart of the articles each run found, {_span(ids)}: "
        f"{totals['new']} new, {totals['changed']} changed, "
        f"{totals['unchanged or not modified']} unchanged or not modified and "
        f"{totals['removed']} removed in all; the most new, changed or removed articles "
        f"were in run {busiest.run} ({busiest.new} new, {busiest.changed} changed, "
        f"{busiest.removed} removed)."
    )


def _months_between(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def review_months_chart(counts: Sequence[tuple[str, int]], dropped: int, out: Path) -> str:
    """Bars: re-reviews per month of the new review date, months without any at zero."""
    figure, axes = _figure("Re-reviews per month")
    if not counts:
        _empty(axes, "No new review date in this range")
        _save(figure, out)
        return "Re-reviews per month: no article got a new review date in this range" + (
            f" ({dropped} review dates were removed)." if dropped else "."
        )
    by_month = dict(counts)
    months = _months_between(counts[0][0], counts[-1][0])
    values = [by_month.get(m, 0) for m in months]
    axes.bar(range(len(months)), values, 0.8, color=BAR)
    step = max(1, math.ceil(len(months) / 12))
    axes.set_xticks(range(0, len(months), step), months[::step], rotation=45, ha="right")
    if len(months) == 1:
        axes.set_xlim(-2, 2)
    axes.set_xlabel("month of the new review date", fontsize=10)
    axes.set_ylabel("articles re-reviewed", fontsize=10)
    _integer_axis(axes, "y")
    _save(figure, out)
    busiest = max(counts, key=lambda item: (item[1], item[0]))
    return (
        f"Bar chart of articles re-reviewed per month of their new review date, "
        f"{months[0]} to {months[-1]}: {sum(values)} re-reviews; the busiest month was "
        f"{busiest[0]} with {busiest[1]}"
        + (f"; {dropped} review dates removed are not counted." if dropped else ".")
    )


def review_age_chart(days: Sequence[int], unreviewed: int, out: Path) -> str:
    """Histogram: days from publication to the current review date, active articles."""
    figure, axes = _figure("Days from publication to last review")
    if not days:
        _empty(axes, "No active article has both dates")
        _save(figure, out)
        return (
            "Histogram of days from publication to last review: no active article has "
            f"both a publication and a review date ({unreviewed} without)."
        )
    # Twice the square root of the count, within bounds: enough bars to show a shape
    # for a few dozen articles, few enough to keep each bar a few pixels wide.
    bins = min(MAX_BINS, max(5, 2 * math.ceil(math.sqrt(len(days)))))
    axes.hist(days, bins=bins, color=BAR, edgecolor="white", linewidth=0.5)
    median = statistics.median(days)
    axes.axvline(median, color=REMOVED, linewidth=1.5, linestyle="--")
    axes.annotate(
        f"median {median:g} days", (median, 1), xycoords=("data", "axes fraction"),
        xytext=(4, -4), textcoords="offset points", va="top", fontsize=9, color=REMOVED,
        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none"},
    )  # fmt: skip
    axes.set_xlabel(
        f"days ({len(days)} active articles; {unreviewed} without a review date not shown)",
        fontsize=10,
    )
    axes.set_ylabel("articles", fontsize=10)
    _integer_axis(axes, "y")
    _save(figure, out)
    return (
        f"Histogram of the days between publication and last review over {len(days)} "
        f"active articles: median {median:g} days, from {min(days)} to {max(days)} days; "
        f"{unreviewed} active articles have no review date and are not shown."
    )


def _legend_label(series: TagSeries) -> str:
    label = series.label if len(series.label) <= 24 else series.label[:23] + "…"
    count = "no count" if series.latest is None else f"{series.latest}"
    return f"{label} ({count})" + (" *" if series.asked else "")


def tags_chart(series: Sequence[TagSeries], latest_run: int | None, out: Path) -> str:
    """Lines: each chosen tag's consolidated count per run."""
    figure, axes = _figure("Tag counts per run")
    drawn = [s for s in series if any(count is not None for _, count in s.counts)]
    if not drawn:
        _empty(axes, "No tag counts in these runs")
        _save(figure, out)
        missing = ", ".join(s.label for s in series)
        return "Tag counts per run: no tag counts in these runs" + (
            f" (asked for: {missing})." if missing else "."
        )
    for index, tag in enumerate(series):
        runs = [run for run, _ in tag.counts]
        values: list[Any] = [math.nan if count is None else count for _, count in tag.counts]
        axes.plot(
            runs, values, label=_legend_label(tag), color=LINES[index % len(LINES)],
            marker=MARKERS[index % len(MARKERS)], markersize=4,
            # Dashed: an asked-for tag stands apart even where the colours repeat.
            linestyle="--" if tag.asked else "-", linewidth=2.0 if tag.asked else 1.4,
        )  # fmt: skip
    axes.set_xlabel("run", fontsize=10)
    axes.set_ylabel("articles tagged (as the site shows)", fontsize=10)
    _integer_axis(axes)
    all_runs = sorted({run for tag in series for run, _ in tag.counts})
    if len(all_runs) == 1:
        axes.set_xlim(all_runs[0] - 2, all_runs[0] + 2)
    axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _save(figure, out)
    ranked = [s for s in series if s.latest is not None][:3]
    leaders = ", ".join(f"{s.label} {s.latest}" for s in ranked)
    asked = [s.label for s in series if s.asked]
    return (
        f"Line chart of the article count the site shows per tag, {_span(all_runs)}, for "
        f"{len(series)} tags; largest in run {latest_run}: {leaders}"
        + (f"; asked for: {', '.join(asked)}" if asked else "")
        + "."
    )


def draw(data: ReportData, out_dir: Path) -> list[Chart]:
    """Every chart of the report, written under `out_dir/images/`."""
    require()
    images = out_dir / "images"
    charts = [
        ("runs", "Articles per run", lambda p: runs_chart(data.runs, p)),
        (
            "reviews",
            "Re-reviews per month",
            lambda p: review_months_chart(data.review_months, data.reviews_dropped, p),
        ),
        (
            "review-age",
            "Days from publication to last review",
            lambda p: review_age_chart(data.review_ages, data.unreviewed, p),
        ),
        ("tags", "Tag counts per run", lambda p: tags_chart(data.tags, data.tags_run, p)),
    ]
    drawn = []
    for name, title, function in charts:
        alt = function(images / f"{name}.png")
        drawn.append(Chart(name=name, path=f"images/{name}.png", title=title, alt=alt))
    return drawn
