"""`clearway audit verify`: the monitor's hash-chained audit trail."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from clearway.settings import Settings


@click.group()
def audit() -> None:
    """The monitor's audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the hash chain; exits 1 and names the first broken entry if it was tampered with."""
    from clearway.runtime.service_host import open_service
    from clearway.services.monitor.audit import AuditTrail, audit_mac

    async def run() -> Any:
        async with open_service(Settings(), "monitor") as monitor:
            context = monitor.context
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
