"""`cwarchive replay-server` and `cwarchive fixtures ...`: test sites, offline."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from cwarchive.errors import CliError


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(replay_server)


@click.command("replay-server")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", default=0, show_default=True, help="Port on 127.0.0.1 (0: any free).")
@click.option(
    "--log",
    "log_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append `METHOD<TAB>PATH<TAB>STATUS` per request to this file.",
)
def replay_server(directory: Path, port: int, log_file: Path | None) -> None:
    """Serve DIRECTORY, laid out like the site, on http://127.0.0.1:PORT.

    Answers with Last-Modified and ETag, 304 to conditional requests, 404 for
    missing files, and the redirects, 410s and status overrides of DIRECTORY's
    `_rules.json` (see docs/replay.md). The first line printed names the URL.

    \b
    Examples:
      cwarchive replay-server fixtures/site --port 8080
      cwarchive crawl --site http://127.0.0.1:8080
      cwarchive replay-server /tmp/site --log requests.tsv
    """
    from cwarchive.replay import ReplayServer

    if not directory.is_dir():
        raise CliError(f"{directory}: no such directory (the replay site's root)")
    try:
        server = ReplayServer(directory, port=port, log=log_file).start()
    except OSError as error:
        raise CliError(f"cannot listen on 127.0.0.1:{port}: {error.strerror}") from error
    click.echo(f"serving {directory} on {server.url}")
    # The parent process (ReplayProcess) reads the URL from this line.
    click.get_text_stream("stdout").flush()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the way to stop it
        server.wait()
