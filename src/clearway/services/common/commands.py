"""Common's operator commands: `clearway keys`, the key administration it declares it needs."""

from __future__ import annotations

import asyncio

import click
from rich.console import Console
from rich.table import Table

from clearway.kit.crypto import KeyStore, MasterKey
from clearway.kit.service import OpenService, ServiceContext
from clearway.services.common.keys import master_key_versions, rotate_master_key

console = Console()


@click.group()
def keys() -> None:
    """The platform master key."""


@keys.command("rotate")
@click.pass_obj
def keys_rotate(open_service: OpenService) -> None:
    """Make a new master key version; services rewrap their data keys in the background."""

    async def run() -> int:
        async with open_service("common") as context:
            return await rotate_master_key(_key_admin(context), context.db, by=None)

    click.echo(
        f"Master key version {asyncio.run(run())} is now active; rewrap runs in the background."
    )


@keys.command("list")
@click.pass_obj
def keys_list(open_service: OpenService) -> None:
    """Master key versions (never key material)."""

    async def run() -> tuple[MasterKey, ...]:
        async with open_service("common") as context:
            return master_key_versions(_key_admin(context))

    table = Table("version", "state", "created")
    for key in asyncio.run(run()):
        table.add_row(
            str(key.version), str(key.state), key.created_at.isoformat(timespec="seconds")
        )
    console.print(table)


def _key_admin(context: ServiceContext) -> KeyStore:
    if context.key_admin is None:  # common declares key administration in NEEDS
        raise RuntimeError("the common service administers the keys and needs their store")
    return context.key_admin


COMMANDS: list[click.Command] = [keys]
