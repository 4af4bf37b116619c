"""Parse speed and field coverage: crawler.parsers beside trafilatura, same pages, same run.

    python benchmarks/parse.py [--rounds 7] [--repeat 5]

Parses every article page of fixtures/pages (plus the reference recreation when
present) `--repeat` times per round, and reports the median pages/second over
`--rounds` rounds for each extractor, their ratio, and which domain fields trafilatura
(`extract` with metadata, plus htmldate for the date) gets wrong or misses.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.parsers import PageError, parse_page  # noqa: E402
from tests.reference import INSOMNIA_PAGE  # noqa: E402

DOMAIN_FIELDS = (
    "title",
    "authors",
    "published",
    "reviewed",
    "reviewers",
    "read_minutes",
    "tag_counts",
)


def article_pages() -> list[tuple[str, bytes, dict]]:
    """(name, html, expected record) for every article fixture."""
    pages = []
    for expected_path in sorted((ROOT / "fixtures" / "pages").glob("*.json")):
        expected = json.loads(expected_path.read_text("utf-8"))
        if expected.get("page_type") != "article":
            continue
        html = expected_path.with_suffix(".html").read_bytes()
        pages.append((expected_path.stem, html, expected))
    if INSOMNIA_PAGE.exists():
        html = INSOMNIA_PAGE.read_bytes()
        pages.append(("reference-insomnia", html, parse_page(html)))
    return pages


def ours(html: bytes, url: str) -> dict:
    try:
        return parse_page(html, url)
    except PageError:
        return {}


def trafilatura_extract(html: bytes, url: str) -> dict:
    import trafilatura
    from htmldate import find_date

    text = html.decode("utf-8", "replace")
    result = trafilatura.extract(
        text, url=url, with_metadata=True, output_format="json", include_comments=False
    )
    data = json.loads(result) if result else {}
    data["htmldate"] = find_date(text, original_date=True)
    return data


def time_extractor(
    extract: Callable[[bytes, str], dict], pages: list[tuple[str, bytes, dict]], repeat: int
) -> float:
    """Pages per second for one round."""
    started = time.perf_counter()
    for _ in range(repeat):
        for _, html, expected in pages:
            extract(html, expected["url"])
    return repeat * len(pages) / (time.perf_counter() - started)


def trafilatura_coverage(pages: list[tuple[str, bytes, dict]]) -> dict[str, int]:
    """How many pages trafilatura gets each domain field right on."""
    right = dict.fromkeys(DOMAIN_FIELDS, 0)
    for _, html, expected in pages:
        got = trafilatura_extract(html, expected["url"])
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    pages = article_pages()
    if not pages:
        sys.exit("no article fixtures under fixtures/pages")
    # Warm up both (imports, caches) before timing.
    time_extractor(ours, pages, 1)
    time_extractor(trafilatura_extract, pages, 1)
    ours_rates, theirs_rates = [], []
    for _ in range(args.rounds):  # interleaved, so machine noise hits both alike
        ours_rates.append(time_extractor(ours, pages, args.repeat))
        theirs_rates.append(time_extractor(trafilatura_extract, pages, args.repeat))
    ours_median = statistics.median(ours_rates)
    theirs_median = statistics.median(theirs_rates)
    wrong = sum(
        1
        for _, html, expected in pages
        if any(ours(html, expected["url"]).get(f) != expected[f] for f in DOMAIN_FIELDS)
    )
    coverage = trafilatura_coverage(pages)
    size = statistics.median(len(html) for _, html, _ in pages)
    print(
        f"pages: {len(pages)} article pages (median {size / 1024:.0f} KiB), "
        f"{args.rounds} rounds x {args.repeat} passes"
    )
    print(f"crawler.parsers          median {ours_median:8.1f} pages/s")
    print(f"trafilatura + htmldate   median {theirs_median:8.1f} pages/s")
    print(f"ratio (ours / trafilatura): {ours_median / theirs_median:.1f}x")
    print(f"crawler.parsers domain fields wrong on {wrong} of {len(pages)} pages")
    print("trafilatura domain fields right (pages; it has no reviewed, reviewers, read time or")
    print("tag counts, so those count as right only on pages that have none):")
    for name, count in coverage.items():
        print(f"  {name:13s} {count:3d} / {len(pages)}")


if __name__ == "__main__":
    main()
