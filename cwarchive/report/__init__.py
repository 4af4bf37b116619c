"""`cwarchive report`: a static HTML report of the archive (docs/report.md).

`write_report(data, out_dir)` turns what `storage.report_data.load` read into
`index.html`, its charts (`images/*.png`) and one page per article in the change table
(`articles/<slug>.html`). Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cwarchive.report import charts, pages
from cwarchive.report.charts import MissingMatplotlib, require
from cwarchive.report.markup import GENERATOR
from storage.report_data import ReportData

__all__ = ["MissingMatplotlib", "ReportError", "Written", "require", "write_report"]


class ReportError(Exception):
    """The report cannot be written where asked; str() is one line."""


@dataclass(frozen=True)
class Written:
    index: Path
    images: tuple[Path, ...]
    articles: tuple[Path, ...]


def _is_report(index: Path) -> bool:
    try:
        with index.open(encoding="utf-8", errors="replace") as file:
            head = file.read(4096)
    except OSError:
        return False
    return f'name="generator" content="{GENERATOR}"' in head


def prepare(out_dir: Path) -> None:
    """Make `out_dir` ready: create it, or clear an earlier report's own files from it.

    A directory holding anything but an earlier report is refused, so a mistyped
    `--out` never mixes the report into (or deletes from) someone's files.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"{out_dir} exists and is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not _is_report(out_dir / "index.html"):
            raise ReportError(
                f"{out_dir} is not empty and holds no earlier report: give a new or empty directory"
            )
        # Pages of articles no longer in the change table must not linger.
        for folder, pattern in (("images", "*.png"), ("articles", "*.html")):
            for stale in (out_dir / folder).glob(pattern):
                stale.unlink()
    (out_dir / "articles").mkdir(parents=True, exist_ok=True)


def _write(path: Path, text: str) -> None:
    # Written beside and renamed: a browser open on the old report never reads half a page.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def write_report(
    data: ReportData, out_dir: Path, *, generated: dt.datetime | None = None
) -> Written:
    """Write the report into `out_dir`; raises `MissingMatplotlib`, `ReportError`."""
    require()
    generated = generated or dt.datetime.now(dt.UTC)
    try:
        prepare(out_dir)
        drawn = charts.draw(data, out_dir)
        articles = []
        for key, history in data.articles.items():
            path = out_dir / pages.article_href(key)
            _write(path, pages.article_page(history, data, generated))
            articles.append(path)
        index = out_dir / "index.html"
        # The index last: it links everything above, and marks the directory a report.
        _write(index, pages.index_page(data, drawn, generated))
    except OSError as error:
        raise ReportError(
            f"cannot write the report in {out_dir}: {error.strerror or error}"
        ) from None
    return Written(
        index=index,
        images=tuple(out_dir / chart.path for chart in drawn),
        articles=tuple(articles),
    )
