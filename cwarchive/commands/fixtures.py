"""`cwarchive replay-server` and `cwarchive fixtures ...`: test sites, offline."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cwarchive.errors import CliError
from cwarchive.options import json_option
from cwarchive.output import emit

if TYPE_CHECKING:
    from rich.console import Console


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(replay_server)
    group.add_command(fixtures_group)


@click.command("replay-server")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", default=0, show_default=True, help="Port on 127.0.0.1 (0: any free).")
@click.option(
    "--log",
    "log_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append `METHOD<TAB>PATH<TAB>STATUS<TAB>FAULT` per request to this file.",
)
@click.option(
    "--faults",
    "faults_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Fail, throttle and lie as this JSON spec says: rates per fault kind, "
    "per-path overrides (docs/replay.md).",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    help="Seed of the fault draws: same seed, same faults for the same requests.",
)
@click.option(
    "--delay",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="Wait SECONDS before each answer, as a network's latency would (benchmarks).",
)
@click.option(
    "--log-times",
    is_flag=True,
    help="Add the time each request arrived (epoch seconds) as a 5th column of --log.",
)
@click.option(
    "--stop-on-stdin-eof",
    is_flag=True,
    hidden=True,
    help="Stop when stdin closes: a parent process's pipe, so the server ends with it.",
)
def replay_server(
    directory: Path,
    port: int,
    log_file: Path | None,
    faults_file: Path | None,
    seed: int,
    delay: float,
    log_times: bool,
    stop_on_stdin_eof: bool,
) -> None:
    """Serve DIRECTORY, laid out like the site, on http://127.0.0.1:PORT.

    Answers with Last-Modified and ETag, 304 to conditional requests, 404 for
    missing files, and the redirects, 410s and status overrides of DIRECTORY's
    `_rules.json` (see docs/replay.md). The first line printed names the URL.
    With --faults, also 5xx, 429, resets, stalls, truncated, garbled and
    mis-declared pages, gzip bombs, redirect loops and broken sitemaps.

    \b
    Examples:
      cwarchive replay-server fixtures/site --port 8080
      cwarchive crawl --site http://127.0.0.1:8080
      cwarchive replay-server /tmp/site --log requests.tsv
      cwarchive replay-server /tmp/site --faults faults.json --seed 7 --log requests.tsv
      cwarchive replay-server /tmp/site --delay 0.2 --log requests.tsv --log-times
    """
    from cwarchive.testing.faults import FaultSpec
    from cwarchive.testing.replay import ReplayServer, serve_until_stopped

    if not directory.is_dir():
        raise CliError(f"{directory}: no such directory (the replay site's root)")
    spec = None
    if faults_file is not None:
        try:
            spec = FaultSpec.load(faults_file)
        except (ValueError, TypeError) as error:
            raise CliError(f"{faults_file}: {error}") from None
    try:
        server = ReplayServer(
            directory,
            port=port,
            log=log_file,
            faults=spec,
            seed=seed,
            delay=delay,
            log_times=log_times,
        ).start()
    except OSError as error:
        raise CliError(f"cannot listen on 127.0.0.1:{port}: {error.strerror}") from error

    def announce() -> None:
        click.echo(f"serving {directory} on {server.url}")
        # The parent process (ReplayProcess) reads the URL from this line.
        click.get_text_stream("stdout").flush()

    serve_until_stopped(server, stop_on_stdin_eof=stop_on_stdin_eof, announce=announce)


@click.group("fixtures")
def fixtures_group() -> None:
    """Synthetic sites and fixture pages, in the source's markup (docs/sitegen.md)."""


@fixtures_group.command("generate")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--articles",
    type=click.IntRange(min=1),
    help="Articles (default 3400; with --urls, at most this many).",
)
@click.option(
    "--urls",
    "urls_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A real URL inventory (one URL a line): its article and archive URLs are used.",
)
@click.option(
    "--mutate",
    "mutate_pct",
    type=click.FloatRange(0, 100),
    help="Then change PCT% of the articles and remove some.",
)
@click.option("--seed", default=0, show_default=True, help="Same seed, same site (byte for byte).")
@click.option(
    "--redesign",
    "redesign_pct",
    type=click.FloatRange(0, 100),
    default=0,
    help="Serve PCT% of the articles in the class-free redesigned markup.",
)
@click.option("--page-size", default=10, show_default=True, help="Cards per listing page.")
@click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    help="Time of the --mutate changes (their lastmod; default: the wall clock).",
)
@json_option
def generate(
    out: Path,
    articles: int | None,
    urls_file: Path | None,
    mutate_pct: float | None,
    seed: int,
    redesign_pct: float,
    page_size: int,
    now: dt.datetime | None,
    as_json: bool,
) -> None:
    """Write a full-scale synthetic site into OUT, in the replay layout.

    URLs of the real shapes (shared h00 numbers, slugs with a leading `-` and `--`,
    year and month archives), ~100 KB pages with the fixtures' variants, robots.txt
    and sitemaps. Writing again into the same OUT rewrites only changed pages and
    deletes pages no longer in the site; file mtimes are the pages' lastmods.

    \b
    Examples:
      cwarchive fixtures generate --articles 3400 /tmp/site
      cwarchive fixtures generate /tmp/site --urls ../shared/reference/urls/cancerwise.txt
      cwarchive fixtures generate --articles 3400 /tmp/site --mutate 5 --seed 0
      cwarchive replay-server /tmp/site
    """
    from cwarchive.testing.sitegen.generate import (
        generate_site,
        mutate,
        read_inventory,
        site_from_inventory,
    )

    started = time.perf_counter()
    if urls_file is not None:
        site = site_from_inventory(
            read_inventory(urls_file),
            seed=seed,
            limit=articles,
            page_size=page_size,
            redesign_pct=redesign_pct,
        )
    else:
        site = generate_site(
            articles or 3400, seed=seed, page_size=page_size, redesign_pct=redesign_pct
        )
    report = None
    if mutate_pct is not None:
        when = now.replace(tzinfo=dt.UTC) if now else None
        report = mutate(site, mutate_pct, seed=seed, when=when)
    try:
        written = site.write(out)
    except FileExistsError as error:
        raise CliError(f"{error}; pass an empty or new directory") from error
    seconds = time.perf_counter() - started
    summary = {
        "out": str(out),
        "articles": len(site.articles),
        "files": written.files,
        "bytes": written.bytes,
        "written": written.written,
        "removed": written.removed,
        "seconds": round(seconds, 2),
    }
    if report is not None:
        summary["mutated"] = {
            "rereviewed": len(report.rereviewed),
            "moved": len(report.moved),
            "retitled": len(report.retitled),
            "edited": len(report.edited),
            "removed": len(report.removed),
            "added": len(report.added),
            "tags_changed": len(report.tag_deltas),
        }

    def readable(console: Console) -> None:
        console.print(
            f"{out}: {summary['articles']} articles, {written.files} files,"
            f" {written.bytes / 1e6:.1f} MB ({written.written} written,"
            f" {written.removed} removed) in {seconds:.1f} s",
            highlight=False,
        )
        if report is not None:
            mutated = summary["mutated"]
            console.print(
                "mutated: " + ", ".join(f"{k} {v}" for k, v in mutated.items()), highlight=False
            )

    emit(summary, as_json, readable)


@fixtures_group.command("pages")
@click.argument(
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default="fixtures/pages",
    required=False,
)
def pages(out: Path) -> None:
    """Write the fixture pages (`<case>.html` + expected `<case>.json`) into OUT.

    \b
    Examples:
      cwarchive fixtures pages              # fixtures/pages
      cwarchive fixtures pages /tmp/pages
    """
    from cwarchive.testing.sitegen.cases import write_cases

    names = write_cases(out)
    click.echo(f"{out}: {len(names)} cases")


@fixtures_group.command("site")
@click.argument(
    "out", type=click.Path(file_okay=False, path_type=Path), default="fixtures/site", required=False
)
def bundled_site(out: Path) -> None:
    """Write the small bundled site (what `cwarchive demo` crawls) into OUT.

    \b
    Examples:
      cwarchive fixtures site               # fixtures/site
    """
    from cwarchive.testing.sitegen.cases import small_site

    try:
        written = small_site().write(out)
    except FileExistsError as error:
        raise CliError(f"{error}; pass an empty or new directory") from error
    click.echo(
        f"{out}: {written.files} files ({written.written} written, {written.removed} removed)"
    )


@fixtures_group.command("record")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("name")
@click.option("--url", help="The page's URL, when the file does not carry it.")
@click.option(
    "--dir",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default="fixtures/recorded",
    show_default=True,
    help="Where recorded cases live (tests/test_fixtures.py reads it).",
)
def record(file: Path, name: str, url: str | None, out: Path) -> None:
    """Record a saved page as a new fixture case NAME: the page, its URL and the
    parser's current reading of it as the expected record.

    Read the JSON before committing it: it becomes the expectation, so a wrong field
    recorded now is a wrong field kept. Generated cases (`fixtures pages`) have an
    oracle of their own; recorded ones are for real pages that the generator lacks.

    \b
    Examples:
      cwarchive fixtures record saved.html new-layout --url https://www.mdanderson.org/cancerwise/x.h00-1.html
      .venv/bin/pytest tests/test_fixtures.py -k new-layout
    """
    from crawler.parsers import PageError, parse_page

    if not name.replace("-", "").replace("_", "").isalnum():
        raise CliError(f"case name {name!r}: use letters, digits, '-' and '_'")
    html = file.read_bytes()
    try:
        expected = parse_page(html, url)
    except PageError as error:
        expected = {"error": error.reason}
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.html").write_bytes(html)
    (out / f"{name}.json").write_text(
        json.dumps(expected, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    page_url = url or expected.get("url")
    if page_url:
        (out / f"{name}.url").write_text(page_url + "\n", encoding="utf-8")
    kind = expected.get("page_type") or f"error: {expected['error']}"
    click.echo(f"{out / name}.{{html,json}}: {kind}; review the JSON, then commit")
