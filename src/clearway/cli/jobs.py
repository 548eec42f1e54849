"""`clearway orders run`: a service's scheduled jobs, run once."""

from __future__ import annotations

import asyncio

import click

from clearway.settings import Settings


@click.group()
def orders() -> None:
    """Orders' scheduled jobs, run once (the running platform also runs them on a timer)."""


@orders.command("run")
@click.argument("jobs", nargs=-1)
def orders_run(jobs: tuple[str, ...]) -> None:
    """Run the named jobs (all when none is named). Their events wait in the orders outbox
    until the platform relays them (within a second when it is running)."""
    click.echo(
        "\n".join(f"{name}: {count}" for name, count in asyncio.run(_run("orders", jobs)).items())
    )


async def _run(service: str, names: tuple[str, ...]) -> dict[str, object]:
    """The service's jobs named (without the service's prefix), on the service alone."""
    from clearway.runtime.service_host import open_service

    async with open_service(Settings(), service) as hosted:
        prefix = f"{service}-"
        known = {job.name.removeprefix(prefix): job for job in hosted.service.jobs}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise click.BadParameter(
                f"{', '.join(unknown)}; the jobs are {', '.join(known)}", param_hint="JOBS"
            )
        return {name: await known[name].run() for name in names or tuple(known)}
