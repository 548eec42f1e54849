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
    from clearway.kit.crypto import BlindIndex
    from clearway.kit.db import Database
    from clearway.kit.migrations import migrate
    from clearway.runtime.foundation import open_keystore
    from clearway.services.monitor import MIGRATIONS as MONITOR_MIGRATIONS
    from clearway.services.monitor.audit import AuditTrail, audit_mac

    settings = Settings()
    blind_index = BlindIndex(open_keystore(settings).secret("blind-index"))

    async def run() -> Any:
        db = Database("monitor", settings.database_url_for("monitor"))
        try:
            await migrate(db, MONITOR_MIGRATIONS)
            return await AuditTrail(db, audit_mac(blind_index)).verify()
        finally:
            await db.dispose()

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
