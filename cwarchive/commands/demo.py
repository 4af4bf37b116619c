"""`cwarchive demo`: what the archive is for, offline, in seconds.

Two crawls of a small generated copy of the site: the bundled site as it is
(`cwarchive fixtures site` writes the same bytes to `fixtures/site/`), then the same
site some weeks later (`cwarchive.testing.sitegen.later`: articles re-reviewed, one
retitled, one removed, one new, tag counts moved). Then what the archive says
changed: the second run's digest, the tag counts that moved, and the commands that
look further. The site is generated into a temporary directory and served by the
replay server on loopback, so the demo works from an installed wheel with no checkout.

Each crawl is `cwarchive crawl` in a child process: Twisted's reactor runs once per
process, and the demo needs two.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from cwarchive.crawling import EXIT_INTERRUPTED, CrawlFailed
from cwarchive.errors import CliError
from cwarchive.options import DEFAULT_DB, json_option
from cwarchive.output import emit
from storage.locations import normalize_url

if TYPE_CHECKING:
    from rich.console import Console

    from cwarchive.testing.sitegen import Site
    from cwarchive.testing.sitegen.generate import MutationReport
    from storage.changes import ChangeSet

# Both sections of the bundled site: Cancerwise and one Cancer Frontline article.
DEMO_SECTIONS = ("cancerwise", "publications/cancer-frontline")
# What SQLite keeps beside the archive's file (the archive runs in WAL mode).
_SQLITE_FILES = ("", "-wal", "-shm", "-journal")


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(demo_command)


@click.command("demo")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default=DEFAULT_DB,
    show_default=True,
    help="SQLite file to crawl into. An earlier demo's archive there is started over; "
    "any other archive is left alone (exit 2).",
)
@click.option(
    "--once",
    is_flag=True,
    help="Only the first crawl (the bundled site as it is): an archive of one run.",
)
@json_option
def demo_command(db_path: str, once: bool, as_json: bool) -> None:
    """Crawl a copy of the site, then the same site weeks later, and show what changed.

    Offline: a small copy of the site (29 articles and their listings) is generated
    and served on 127.0.0.1. Weeks later, articles were re-reviewed, one retitled,
    one removed, one added, and tag counts moved. The archive keeps both runs, so
    `diff`, `changes`, `report` and `browse` have something to show. `--json` prints
    {db, replaced, site_changes, crawls, changes, new_articles, tag_counts, next}.

    \b
    Examples:
      cwarchive demo && cwarchive diff --field reviewed
      cwarchive demo --db demo.sqlite --json
    """
    from cwarchive import digest
    from cwarchive.cli import start_up_done
    from cwarchive.testing.sitegen.cases import small_site

    start_up_done()  # `demo` is a long start-up (cli.LONG_START_UPS); its crawls are children
    site = small_site()
    replaced = start_over(db_path, site)
    if replaced and not as_json:
        click.echo(replaced)
    try:
        status, crawls, site_changes = crawl_site(site, db_path, as_json, later=not once)
    except KeyboardInterrupt:
        click.echo("demo interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if site_changes is None:  # --once, or the first crawl failed
        db = str(Path(db_path).resolve())
        emit(
            {"db": db, "replaced": replaced, "crawls": crawls},
            as_json,
            lambda out: out.print(f"The archive, with one run: {db}", highlight=False),
        )
        sys.exit(status)
    after = what_changed(db_path)
    runs = (crawls[0]["run_id"], crawls[1]["run_id"])
    follow_up = next_commands(db_path, runs, site_changes)
    document = {
        "db": str(Path(db_path).resolve()),
        "replaced": replaced,
        "site_changes": asdict(site_changes) if site_changes else None,
        "crawls": crawls,
        "changes": digest.entries(after.changes),
        "new_articles": after.added,
        "tag_counts": after.tag_counts,
        "next": follow_up,
    }

    def readable(out: Console) -> None:
        from rich.markdown import Markdown

        out.print()
        out.print(Markdown(digest.markdown(after.changes)))
        lines = [f"New in run {runs[1]}:"]
        lines += [f"  {article['title']} ({article['article_key']})" for article in after.added]
        lines += ["", f"Tag counts that moved in run {runs[1]}:"]
        lines += [f"  {move['label']}: {move['from']} -> {move['to']}" for move in after.tag_counts]
        lines += ["", f"The archive, with both runs: {document['db']}", "Next, try:"]
        width = max(len(step["command"]) for step in follow_up)
        lines += [f"  {step['command']:<{width}}  # {step['shows']}" for step in follow_up]
        out.print()
        out.print("\n".join(lines), highlight=False, markup=False)

    emit(document, as_json, readable)
    sys.exit(status)


def start_over(db_path: str, site: Site) -> str | None:
    """Make room for the demo at `db_path`; what was done, or None when nothing was there.

    An archive of nothing but the demo's articles is an earlier demo: removed, so the
    demo's runs are runs 1 and 2 again. Any other file is someone's: a usage error.
    """
    import storage
    from cwarchive.testing.sitegen.later import new_article
    from storage import queries

    path = Path(db_path)
    if not path.exists():
        return None
    leave_alone = "the demo leaves it alone: give it another file, e.g. --db demo.sqlite"
    try:
        reader = storage.open(normalize_url(db_path), mode="readonly")
    except Exception as error:  # not SQLite, not an archive, an older schema
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise CliError(
            f"{db_path} exists but cannot be read as an archive ({first}); {leave_alone}"
        ) from None
    try:
        with reader.connect() as conn:
            runs = len(queries.runs(conn))
            keys = {row["article_key"] for row in queries.articles(conn)}
    finally:
        reader.close()
    assert site.stamp is not None
    demo_keys = {*site.articles, new_article(site.stamp.date()).key}
    if not keys <= demo_keys:
        raise CliError(
            f"{db_path} holds an archive of other articles ({runs} runs, {len(keys)} "
            f"articles); {leave_alone}"
        )
    for suffix in _SQLITE_FILES:
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    return f"{db_path} held an earlier demo ({runs} run{'s' * (runs != 1)}): starting it over"


def crawl_site(
    site: Site, db_path: str, as_json: bool, *, later: bool = True
) -> tuple[int, list[dict[str, Any]], MutationReport | None]:
    """Crawl `site`, then (`later`) change it into the site weeks later and crawl again.

    The worse exit status of the crawls, their numbers, and what changed on the site
    (None when there was no second crawl).
    """
    from cwarchive.testing.replay import ReplayServer
    from cwarchive.testing.sitegen.later import WEEKS, weeks_later

    say = (lambda text: None) if as_json else click.echo
    assert site.stamp is not None
    with tempfile.TemporaryDirectory(prefix="cwarchive-demo-") as site_dir:
        site.write(Path(site_dir))
        with ReplayServer(site_dir) as server:
            say(
                f"replay server on {server.url}: the bundled site, {len(site.articles)} "
                f"articles as of {site.stamp.date()}"
            )
            status, first = crawl(server.url, db_path)
            say(f"crawl 1 (run {first.get('run_id')}): {crawl_line(first)}")
            if status != 0 or not later:
                return status, [first], None
            changes = weeks_later(site)
            site.write(Path(site_dir))
            say(f"the same site {WEEKS} weeks later: {change_line(changes)}")
            second_status, second = crawl(server.url, db_path)
            say(f"crawl 2 (run {second.get('run_id')}): {crawl_line(second)}")
    return max(status, second_status), [first, second], changes


def crawl(site_url: str, db_path: str) -> tuple[int, dict[str, Any]]:
    """`cwarchive crawl` of the replay server in a child process: its exit status and
    numbers (its warnings go to this process's stderr)."""
    command = [sys.executable, "-m", "cwarchive", "crawl", "--site", site_url]
    command += ["--db", db_path, "--log-level", "WARNING", "--json"]
    for section in DEMO_SECTIONS:
        command += ["--section", section]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    try:
        numbers = json.loads(done.stdout)
    except ValueError:
        message = f"the demo's crawl exited {done.returncode} without its numbers"
        raise CrawlFailed(message) from None
    return done.returncode, numbers


def crawl_line(numbers: dict[str, Any]) -> str:
    """A crawl's numbers as one sentence."""
    parts = [
        f"{numbers.get(key, 0)} {label}"
        for key, label in (
            ("new", "new"),
            ("changed", "changed"),
            ("gone", "gone"),
            ("skipped", "not fetched (sitemap lastmod unchanged)"),
            ("listings", "listing pages"),
            ("errors", "errors"),
        )
        if numbers.get(key) or key in ("new", "errors")
    ]
    return (
        f"{numbers.get('pages_fetched', 0)} pages in {numbers.get('elapsed_seconds', 0):.1f} s, "
        f"articles: {', '.join(parts)} ({numbers.get('status')})"
    )


def change_line(changes: MutationReport) -> str:
    """What `weeks_later` did, as one sentence."""
    counted = (
        (len(changes.rereviewed), "re-reviewed"),
        (len(changes.moved), "moved to a new URL"),
        (len(changes.retitled), "retitled"),
        (len(changes.edited), "rewritten"),
        (len(changes.removed), "removed"),
        (len(changes.added), "new"),
    )
    parts = [f"{count} {what}" for count, what in counted if count]
    return f"articles {', '.join(parts)}; {len(changes.tag_deltas)} tag counts moved"


class WhatChanged(NamedTuple):
    """What the archive says the demo's second run found."""

    changes: ChangeSet  # of the fields of `cwarchive changes`
    added: list[dict[str, Any]]  # {article_key, title} of the articles new in it
    tag_counts: list[dict[str, Any]]  # {tag_id, label, from, to} of the counts it moved


def what_changed(db_path: str) -> WhatChanged:
    """What the archive's last run changed, read back from the archive."""
    import storage
    from storage import queries
    from storage.changes import DEFAULT_FIELDS, changes, default_range

    with storage.open(normalize_url(db_path), mode="readonly") as reader, reader.connect() as conn:
        found = changes(conn, default_range(conn), DEFAULT_FIELDS)
        articles = queries.articles(conn)
        counts = queries.tags(conn)
    last = max(row["run"] for row in counts)
    added = [
        {"article_key": row["article_key"], "title": row["title"]}
        for row in articles
        if row["first_seen"] == last
    ]
    before = {row["tag_id"]: row["count"] for row in counts if row["run"] == last - 1}
    moves = [
        {"tag_id": row["tag_id"], "label": row["label"], "from": before[row["tag_id"]],
         "to": row["count"]}
        for row in counts
        if row["run"] == last and before.get(row["tag_id"], row["count"]) != row["count"]
    ]  # fmt: skip
    return WhatChanged(found, added, moves)


def next_commands(
    db_path: str, runs: tuple[int, int], changes: MutationReport | None
) -> list[dict[str, str]]:
    """The commands that look further into the demo's archive, and what each shows."""
    db = "" if db_path == DEFAULT_DB else f" --db {db_path}"
    first, second = runs
    retitled = changes.retitled[0] if changes and changes.retitled else "cancerwise/<slug>"
    steps = (
        (f"diff --field reviewed --from {first} --to {second}", "what was re-reviewed, by whom"),
        (f"history {retitled}", "every version of one article"),
        ("tags --tag 'Breast Cancer'", "a tag's count, run by run"),
        ('search "sleep"', "full-text search of the current versions"),
        ("report --out report/", "HTML with charts: open report/index.html"),
        ("browse", "the archive in Datasette, in your browser"),
    )
    return [{"command": f"cwarchive {step}{db}", "shows": shows} for step, shows in steps]
