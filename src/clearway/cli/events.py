"""`clearway events`: the event bus's dead letters."""

from __future__ import annotations

import asyncio

import click
from rich.console import Console
from rich.table import Table

from clearway.settings import Settings

console = Console()


@click.group()
def events() -> None:
    """The event bus."""


@events.group()
def dlq() -> None:
    """Dead letters: events a consumer failed on too often."""


@dlq.command("list")
@click.option("--queue", default=None, help="Only this queue (a service name).")
def dlq_list(queue: str | None) -> None:
    """List dead letters, oldest first."""
    from clearway.kit.bus import open_bus

    async def run() -> None:
        async with open_bus(Settings()) as bus:
            letters = await bus.dead_letters(queue)
        table = Table("id", "queue", "event", "attempts", "failed at", "last error")
        for letter in letters:
            table.add_row(
                str(letter.id),
                letter.queue,
                f"{letter.event.type} {letter.event.id}",
                str(letter.attempts),
                letter.failed_at.isoformat(timespec="seconds"),
                letter.last_error,
            )
        console.print(table if letters else "No dead letters.")

    asyncio.run(run())


@dlq.command("replay")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "everything", is_flag=True, help="Replay every dead letter.")
@click.option("--queue", default=None, help="Only this queue (a service name).")
def dlq_replay(ids: tuple[int, ...], everything: bool, queue: str | None) -> None:
    """Put dead letters back on their queues with fresh attempts."""
    from clearway.kit.bus import open_bus

    if not ids and not everything:
        raise click.UsageError("name the ids to replay, or pass --all")

    async def run() -> int:
        async with open_bus(Settings()) as bus:
            return await bus.replay(None if everything else list(ids), queue)

    click.echo(f"Replayed {asyncio.run(run())} dead letter(s).")
