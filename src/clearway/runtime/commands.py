"""The services' operator commands, for the `clearway` command.

A service owns its commands as it owns its routes: `clearway.services.<name>.commands` lists
them in `COMMANDS`. They are found the way the services themselves are, by name and imported
dynamically, so the command line imports no service code of its own, and a command reaches its
service through `open_alone`, handed to it as click's context object.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from importlib import resources

import click

from clearway.kit.service import ServiceContext
from clearway.settings import SERVICES, Settings


@cache
def service_commands() -> dict[str, click.Command]:
    """Every service's commands by name (a service without a `commands` module has none)."""
    commands: dict[str, click.Command] = {}
    packages = resources.files("clearway.services")
    for name in SERVICES:
        # Looked for before importing: a service without commands is not loaded at all.
        if not packages.joinpath(name, "commands.py").is_file():
            continue
        module = importlib.import_module(f"clearway.services.{name}.commands")
        for command in module.COMMANDS:
            if command.name in commands:
                raise RuntimeError(f"two services name a command {command.name!r}")
            commands[str(command.name)] = command
    return commands


@asynccontextmanager
async def open_alone(name: str) -> AsyncIterator[ServiceContext]:
    """`OpenService` on the environment's settings: the service alone, migrated, nothing
    started (`open_service`)."""
    # Here, not at the top: `clearway up --help` need not load a service's host.
    from clearway.runtime.service_host import open_service

    async with open_service(Settings(), name) as host:
        yield host.context
