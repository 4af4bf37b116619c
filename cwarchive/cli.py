"""The `cwarchive` command: a thin shell over crawler, parsers and storage."""

from __future__ import annotations

import click

from cwarchive.commands import (
    archive,
    browse,
    changes,
    crawl,
    demo,
    fixtures,
    parse,
    report,
    research,
    search,
    worker,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cwarchive")
def main() -> None:
    """Crawl, parse and archive MD Anderson's Cancerwise articles.

    \b
    Examples:
      cwarchive demo                    # offline: crawl the bundled replay site
      cwarchive parse page.html --json  # parse one saved page
      cwarchive diff --field reviewed   # which articles were re-reviewed
    """


for module in (
    parse,
    archive,
    research,
    search,
    changes,
    browse,
    report,
    crawl,
    worker,
    demo,
    fixtures,
):
    module.register(main)


if __name__ == "__main__":
    main()
