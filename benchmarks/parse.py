"""Parse speed and field coverage: crawler.parsers beside trafilatura, same pages, same run.

    .venv/bin/python benchmarks/parse.py                  # all three parts
    .venv/bin/python benchmarks/parse.py --rounds 5 --files 400 --cli-rounds 3

Three parts, each measuring both extractors in turns (interleaved, so a burst of load
on a shared machine hits both alike) and reporting medians:

  in process    the reference page (../shared/reference/pages/...): `parse_page` beside
                trafilatura's `extract(html, with_metadata=True, output_format="json")`
                (its date guess, htmldate's `find_date`, on a line of its own and not
                in its time), and the floor: lxml's `etree.fromstring` of the same
                bytes with the parser's HTMLParser, ms/page.
  through the   `cwarchive parse FILE... --json` over `--files` distinct copies of the
  command line  reference page (each with its own comment appended), beside one Python
                process running trafilatura over the same files and printing its JSON:
                start-up, reading and printing included in both, wall seconds and the
                CPU seconds of the process. Their ratio is the headline (goal 10x).
  coverage      which domain fields trafilatura (extract, plus htmldate for the date)
                gets right on the article fixtures, and that crawler.parsers gets all.

trafilatura needs `lxml_html_clean` with lxml >= 5.2 (`pip install lxml_html_clean`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bytecode import byte_compile  # noqa: E402
from crawler.parsers import PageError, parse_page  # noqa: E402
from tests.reference import INSOMNIA_PAGE  # noqa: E402

GOAL_RATIO = 10.0
DOMAIN_FIELDS = (
    "title",
    "authors",
    "published",
    "reviewed",
    "reviewers",
    "read_minutes",
    "tag_counts",
)
# What a user would write to run trafilatura over files, as `cwarchive parse` does:
# read each file, extract with metadata, one JSON object per line on stdout.
TRAFILATURA_SCRIPT = """\
import sys
from trafilatura import extract

for name in sys.argv[1:]:
    with open(name, "rb") as file:
        html = file.read().decode("utf-8", "replace")
    result = extract(html, with_metadata=True, output_format="json")
    sys.stdout.write((result or "{}").replace("\\n", " ") + "\\n")
"""
# The floor of the command line: a process that only reads and parses the files.
LXML_SCRIPT = """\
import sys
from lxml import etree

parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
for name in sys.argv[1:]:
    with open(name, "rb") as file:
        etree.fromstring(file.read(), parser)
"""


def article_pages() -> list[tuple[str, bytes, dict]]:
    """(name, html, expected record) for every article fixture."""
    pages = []
    for expected_path in sorted((ROOT / "fixtures" / "pages").glob("*.json")):
        expected = json.loads(expected_path.read_text("utf-8"))
        if expected.get("page_type") != "article":
            continue
        html = expected_path.with_suffix(".html").read_bytes()
        pages.append((expected_path.stem, html, expected))
    return pages


def ours(html: bytes, url: str | None) -> dict:
    try:
        return parse_page(html, url)
    except PageError:
        return {}


def trafilatura_alone(html: bytes) -> dict:
    import trafilatura

    result = trafilatura.extract(
        html.decode("utf-8", "replace"), with_metadata=True, output_format="json"
    )
    return json.loads(result) if result else {}


def htmldate_alone(html: bytes) -> str | None:
    from htmldate import find_date

    return find_date(html.decode("utf-8", "replace"), original_date=True)


def lxml_floor(html: bytes) -> None:
    from lxml import etree

    from crawler.parsers.page import _HTML_PARSER

    etree.fromstring(html, _HTML_PARSER)


def trafilatura_with_date(html: bytes, url: str) -> dict:
    import trafilatura

    text = html.decode("utf-8", "replace")
    result = trafilatura.extract(
        text, url=url, with_metadata=True, output_format="json", include_comments=False
    )
    data = json.loads(result) if result else {}
    data["htmldate"] = htmldate_alone(html)
    return data


def per_page_ms(work: Callable[[], object], repeat: int) -> float:
    """Milliseconds per call over one round of `repeat` calls."""
    started = time.perf_counter()
    for _ in range(repeat):
        work()
    return (time.perf_counter() - started) * 1000 / repeat


def in_process(html: bytes, rounds: int, repeat: int) -> dict[str, float]:
    """Median ms/page of each extractor on one page, rounds taken in turns."""
    slow = max(2, repeat // 10)  # trafilatura and htmldate: rounds of similar length
    extractors: dict[str, tuple[Callable[[], object], int]] = {
        "crawler.parsers parse_page": (lambda: parse_page(html), repeat),
        "trafilatura extract (metadata, json)": (lambda: trafilatura_alone(html), slow),
        "htmldate find_date (on its own)": (lambda: htmldate_alone(html), slow),
        "lxml etree.fromstring (floor)": (lambda: lxml_floor(html), repeat),
    }
    for work, _ in extractors.values():
        work()  # imports and caches: not what is measured
    times: dict[str, list[float]] = {name: [] for name in extractors}
    for _ in range(rounds):
        for name, (work, calls) in extractors.items():
            times[name].append(per_page_ms(work, calls))
    return {name: statistics.median(values) for name, values in times.items()}


def copies(page: bytes, directory: Path, count: int) -> list[str]:
    """`count` distinct files: the page with a comment of its own appended."""
    names = []
    for index in range(count):
        path = directory / f"page-{index:04d}.html"
        path.write_bytes(page + f"\n<!-- copy {index} -->\n".encode())
        names.append(str(path))
    return names


def run(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one command, its output discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def through_cli(
    page: bytes, files: int, rounds: int, script: str
) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each command over the same `files` files."""
    with tempfile.TemporaryDirectory(prefix="parse-bench-") as directory:
        names = copies(page, Path(directory), files)
        commands = {
            "cwarchive parse FILE... --json": [script, "parse", *names, "--json"],
            "python: trafilatura over the files": [
                sys.executable,
                "-c",
                TRAFILATURA_SCRIPT,
                *names,
            ],
            "python: lxml parse of the files (floor)": [sys.executable, "-c", LXML_SCRIPT, *names],
        }
        for command in commands.values():
            run(command[:3] + names[:2])  # warm .pyc files and the page cache
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, command in commands.items():
                times[name].append(run(command))
    return {
        name: (
            statistics.median(wall for wall, _ in values),
            statistics.median(cpu for _, cpu in values),
        )
        for name, values in times.items()
    }


def trafilatura_coverage(pages: list[tuple[str, bytes, dict]]) -> dict[str, int]:
    """How many pages trafilatura gets each domain field right on."""
    right = dict.fromkeys(DOMAIN_FIELDS, 0)
    for _, html, expected in pages:
        got = trafilatura_with_date(html, expected["url"])
        author = got.get("author") or ""
        right["title"] += got.get("title") == expected["title"]
        right["authors"] += bool(expected["authors"]) and all(
            a in author for a in expected["authors"]
        )
        right["authors"] += not expected["authors"] and not author
        right["published"] += (
            got.get("htmldate") == expected["published"] or got.get("date") == expected["published"]
        )
        # trafilatura has no notion of these: counted right only when there is nothing to find.
        right["reviewed"] += expected["reviewed"] is None
        right["reviewers"] += not expected["reviewers"]
        right["read_minutes"] += expected["read_minutes"] is None
        right["tag_counts"] += not expected["tag_counts"]
    return right


def report_in_process(page: bytes, rounds: int, repeat: int) -> None:
    medians = in_process(page, rounds, repeat)
    ours_ms = medians["crawler.parsers parse_page"]
    theirs_ms = medians["trafilatura extract (metadata, json)"]
    print(
        f"in process: the reference page ({len(page) / 1024:.0f} KiB), "
        f"median of {rounds} rounds, ms/page"
    )
    for name, ms in medians.items():
        print(f"  {name:40s} {ms:8.2f}")
    print(f"  ratio (trafilatura / parse_page)         {theirs_ms / ours_ms:8.1f}x")


def report_cli(page: bytes, files: int, rounds: int, script: str) -> None:
    medians = through_cli(page, files, rounds, script)
    ours_wall, ours_cpu = medians["cwarchive parse FILE... --json"]
    theirs_wall, theirs_cpu = medians["python: trafilatura over the files"]
    print(
        f"through the command line: {files} distinct copies of the reference page, "
        f"median of {rounds} runs, start-up included"
    )
    print(f"  {'':40s} {'wall s':>8s} {'CPU s':>8s}")
    for name, (wall, cpu) in medians.items():
        print(f"  {name:40s} {wall:8.2f} {cpu:8.2f}")
    ratio = theirs_wall / ours_wall
    print(
        f"  ratio (trafilatura / cwarchive parse)    {ratio:7.1f}x {theirs_cpu / ours_cpu:7.1f}x"
        f"   goal {GOAL_RATIO:.0f}x (wall): {'met' if ratio >= GOAL_RATIO else 'NOT met'}"
    )


def report_coverage(pages: list[tuple[str, bytes, dict]]) -> None:
    wrong = sum(
        1
        for _, html, expected in pages
        if any(ours(html, expected["url"]).get(f) != expected[f] for f in DOMAIN_FIELDS)
    )
    coverage = trafilatura_coverage(pages)
    print(f"coverage: {len(pages)} article fixtures")
    print(f"  crawler.parsers domain fields wrong on {wrong} of {len(pages)} pages")
    print("  trafilatura domain fields right (pages; it has no reviewed, reviewers, read time")
    print("  or tag counts, so those count as right only on pages that have none):")
    for name, count in coverage.items():
        print(f"    {name:13s} {count:3d} / {len(pages)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="in-process rounds")
    parser.add_argument("--repeat", type=int, default=50, help="parse_page calls per round")
    parser.add_argument("--files", type=int, default=400, help="files on the command line")
    parser.add_argument("--cli-rounds", type=int, default=3, help="runs of each command")
    parser.add_argument(
        "--cwarchive",
        default=str(Path(sys.executable).with_name("cwarchive")),
        help="the command to time (default: the console script beside this Python)",
    )
    parser.add_argument("--part", choices=("all", "in-process", "cli", "coverage"), default="all")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if not INSOMNIA_PAGE.exists() and args.part in ("all", "in-process", "cli"):
        sys.exit(f"the reference page is not at {INSOMNIA_PAGE} (set CWARCHIVE_REFERENCE)")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    if args.part in ("all", "in-process"):
        report_in_process(INSOMNIA_PAGE.read_bytes(), args.rounds, args.repeat)
    if args.part in ("all", "cli"):
        byte_compile()
        report_cli(INSOMNIA_PAGE.read_bytes(), args.files, args.cli_rounds, args.cwarchive)
    if args.part in ("all", "coverage"):
        pages = article_pages()
        if not pages:
            sys.exit("no article fixtures under fixtures/pages")
        report_coverage(pages)


if __name__ == "__main__":
    main()
