"""The `clearway` command: run the platform and operate it."""

from __future__ import annotations

import click

from clearway.cli import audit, docs, events, hosting, jobs, keys, rules


@click.group()
def main() -> None:
    """Clearway: cross-border logistics compliance behind one API gateway."""


for command in (
    hosting.up,
    hosting.serve,
    hosting.openapi,
    events.events,
    keys.keys,
    jobs.orders,
    audit.audit,
    rules.rules_group,
    docs.docs_group,
):
    main.add_command(command)
