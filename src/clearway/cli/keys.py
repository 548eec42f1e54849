"""`clearway keys`: the platform master key."""

from __future__ import annotations

import asyncio

import click
from rich.console import Console
from rich.table import Table

from clearway.settings import Settings

console = Console()


@click.group()
def keys() -> None:
    """The platform master key."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Make a new master key version; services rewrap their data keys in the background."""
    from clearway.runtime.service_host import open_service
    from clearway.services.common.keys import rotate_master_key

    async def run() -> int:
        async with open_service(Settings(), "common") as common:
            assert common.context.key_admin is not None  # common declares key administration
            return await rotate_master_key(common.context.key_admin, common.context.db, by=None)

    click.echo(
        f"Master key version {asyncio.run(run())} is now active; rewrap runs in the background."
    )


@keys.command("list")
def keys_list() -> None:
    """Master key versions (never key material)."""
    from clearway.runtime.foundation import open_keystore

    table = Table("version", "state", "created")
    for key in open_keystore(Settings()).versions():
        table.add_row(
            str(key.version), str(key.state), key.created_at.isoformat(timespec="seconds")
        )
    console.print(table)
