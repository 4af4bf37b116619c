"""The `cwarchive` command: a thin shell over crawler, parsers and storage."""

from __future__ import annotations

import gc
import importlib
from typing import Any

import click

# Each command's module under `cwarchive.commands`, imported when the command runs (or
# is listed by `--help`): `cwarchive parse FILE` then loads neither the storage layer
# nor the other commands' modules, a third of its start-up. A module's `register`
# adds its commands; `tests/test_cli.py` checks this table against them.
COMMAND_MODULES = {
    "parse": "parse",
    **dict.fromkeys(("runs", "articles", "history", "diff", "tags"), "archive"),
    **dict.fromkeys(("reparse", "ingest", "db"), "maintenance"),
    "accept": "health",
    "query": "research",
    "export": "research",
    "search": "search",
    "changes": "changes",
    "browse": "browse",
    "report": "report",
    "crawl": "crawl",
    "worker": "worker",
    "demo": "demo",
    "replay-server": "fixtures",
    "fixtures": "fixtures",
}
# Commands whose start-up goes on inside them: a crawl imports Scrapy and reads the
# archive before its reactor starts, and calls `start_up_done` there itself.
LONG_START_UPS = frozenset({"crawl", "demo"})

# Whether `run` paused the garbage collector for the start-up (`start_up_done` ends it).
_collection_paused = False


def start_up_done() -> None:
    """End the start-up: collect garbage again, but never again over what it built.

    Start-up builds hundreds of thousands of objects that live until exit (modules,
    classes, the archive's state); the collector would walk them all several times
    while they are made (0.1 s of an unchanged re-crawl) and in every full collection
    after. Frozen, they are left out of collections. A no-op outside `run` (tests
    call `main`, and keep their collector as it is).
    """
    global _collection_paused
    if _collection_paused:
        _collection_paused = False
        gc.freeze()
        gc.enable()


class LazyGroup(click.Group):
    """A group whose commands are imported by name, on first use."""

    def __init__(self, *args: Any, modules: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.modules = modules

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.modules})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.modules:
            module = importlib.import_module(f"cwarchive.commands.{self.modules[cmd_name]}")
            module.register(self)
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name not in LONG_START_UPS:
            start_up_done()  # the command's module is imported: its work starts
        return name, command, rest


@click.group(
    cls=LazyGroup,
    modules=COMMAND_MODULES,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="cwarchive")
def main() -> None:
    """Crawl, parse and archive MD Anderson's Cancerwise articles.

    \b
    Examples:
      cwarchive demo                    # offline: crawl the bundled replay site
      cwarchive parse page.html --json  # parse one saved page
      cwarchive diff --field reviewed   # which articles were re-reviewed
    """


def run() -> None:
    """The `cwarchive` script: `main` with no garbage collection during its start-up
    (until `start_up_done`), then a quick exit.

    When the command is done, the interpreter's teardown would still run the garbage
    collector over every object a crawl or a report loaded (Scrapy, Twisted,
    SQLAlchemy: 0.1-0.25 s of a crawl's exit, 15% of an unchanged re-crawl). Frozen
    objects are left alone; the process ends right after. Files and streams close as
    usual. (Tests call `main` through click's runner, and keep their collector.)
    """
    global _collection_paused
    gc.disable()
    _collection_paused = True
    try:
        main(prog_name="cwarchive")
    finally:
        gc.freeze()


if __name__ == "__main__":
    run()
