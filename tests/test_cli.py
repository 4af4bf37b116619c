"""The command table of `cwarchive.cli` (commands imported by name, on first use)."""

from __future__ import annotations

import importlib
import pkgutil

import click

import cwarchive.commands
from cwarchive.cli import COMMAND_MODULES, main


def test_the_table_names_every_command_of_every_module() -> None:
    registered: dict[str, str] = {}
    for module_info in pkgutil.iter_modules(cwarchive.commands.__path__):
        module = importlib.import_module(f"cwarchive.commands.{module_info.name}")
        if not hasattr(module, "register"):
            continue
        group = click.Group()
        module.register(group)
        registered |= dict.fromkeys(group.commands, module_info.name)
    assert registered == COMMAND_MODULES


def test_every_listed_command_loads() -> None:
    context = click.Context(main)
    names = main.list_commands(context)
    assert names == sorted(COMMAND_MODULES)
    for name in names:
        command = main.get_command(context, name)
        assert command is not None and command.name == name
    assert main.get_command(context, "no-such-command") is None
