"""The `clearway` command: run the platform and operate it.

Its own commands run the platform; each service's operator commands are the service's own (in
its package's `commands` module), found through the runtime, and given the runtime's way of
opening their service as click's context object.
"""

from __future__ import annotations

import click

from clearway.cli import docs, events, hosting, jobs
from clearway.runtime.commands import open_alone, service_commands


class Commands(click.Group):
    """The command's own commands, then the services': those are imported only when named or
    listed, so `clearway serve rules` loads the rules service and no other."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *service_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or service_commands().get(cmd_name)


@click.group(cls=Commands, context_settings={"obj": open_alone})
def main() -> None:
    """Clearway: cross-border logistics compliance behind one API gateway."""


for command in (
    hosting.up,
    hosting.serve,
    hosting.openapi,
    events.events,
    jobs.orders,
    docs.docs_group,
):
    main.add_command(command)
