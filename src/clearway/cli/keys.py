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
    from clearway.kit.db import Database
    from clearway.kit.migrations import migrate
    from clearway.runtime.foundation import open_keystore
    from clearway.services.common import MIGRATIONS
    from clearway.services.common.api import rotate_master_key

    settings = Settings()

    async def run() -> int:
        db = Database("common", settings.database_url_for("common"))
        try:
            await migrate(db, MIGRATIONS)
            return await rotate_master_key(open_keystore(settings), db, by=None)
        finally:
            await db.dispose()

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
