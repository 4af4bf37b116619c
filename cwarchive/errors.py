"""The one error type every command turns into a clean `error: ...` line."""

from __future__ import annotations

import click


class CliError(click.ClickException):
    """A user-facing error: printed as one `error: <message>` line, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)
