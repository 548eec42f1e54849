"""The monitor's operator command: `clearway audit verify`, on the hash-chained audit trail."""

from __future__ import annotations

import asyncio

import click

from clearway.kit.service import OpenService
from clearway.services.monitor.audit import AuditTrail, audit_mac
from clearway.services.monitor.domain.audit_chain import Verdict


@click.group()
def audit() -> None:
    """The monitor's audit trail."""


@audit.command("verify")
@click.pass_obj
def audit_verify(open_service: OpenService) -> None:
    """Check the hash chain; exits 1 and names the first broken entry if it was tampered with."""

    async def run() -> Verdict:
        async with open_service("monitor") as context:
            return await AuditTrail(context.db, audit_mac(context.blind_index)).verify()

    verdict = asyncio.run(run())
    if verdict.ok:
        click.echo(f"OK: {verdict.checked} audit entries, chain intact.")
        return
    click.echo(
        f"BROKEN at seq {verdict.seq}: {verdict.kind} ({verdict.detail});"
        f" {verdict.checked} entries before it are intact.",
        err=True,
    )
    raise SystemExit(1)


COMMANDS: list[click.Command] = [audit]
