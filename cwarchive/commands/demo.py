"""`cwarchive demo`: the crawl, offline, against a small generated copy of the site.

The site is the bundled small site (`cwarchive fixtures site` writes the same bytes
to `fixtures/site/`), generated into a temporary directory and served by the replay
server on loopback, so the demo works from an installed wheel with no checkout.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from cwarchive.commands.crawl import crawl_and_report, crawl_overrides
from cwarchive.options import DEFAULT_DB, json_option
from storage.locations import normalize_url

# Both sections of the bundled site: Cancerwise and one Cancer Frontline article.
DEMO_SECTIONS = ("cancerwise", "publications/cancer-frontline")


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
    help="SQLite file to crawl into.",
)
@json_option
def demo_command(db_path: str, as_json: bool) -> None:
    """Crawl a small generated copy of the site (30 articles) into a SQLite file, offline.

    \b
    Example:
      cwarchive demo && cwarchive runs
    """
    from cwarchive.testing.replay import ReplayServer
    from cwarchive.testing.sitegen.cases import small_site

    db_url = normalize_url(db_path)
    with tempfile.TemporaryDirectory(prefix="cwarchive-demo-") as site_dir:
        small_site().write(Path(site_dir))
        with ReplayServer(site_dir) as server:
            if not as_json:
                click.echo(f"replay server on {server.url} serving the bundled site", err=True)
            overrides = crawl_overrides(
                site=server.url, db_url=db_url, sections=DEMO_SECTIONS, log_level="WARNING"
            )
            status = crawl_and_report(
                overrides, as_json=as_json, max_error_rate=0.05, title="demo crawl", show_db=False
            )
    if not as_json:
        click.echo(f"archive written to {Path(db_path).resolve()}")
        click.echo(f"look inside: cwarchive runs --db {db_path}; cwarchive articles --db {db_path}")
    sys.exit(status)
