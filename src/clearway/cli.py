"""The `clearway` command: run the platform and operate it."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

import click
import uvicorn
from rich.console import Console
from rich.table import Table

from clearway.settings import Settings

console = Console()


def _settings(**overrides: Any) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**values)


@click.group()
def main() -> None:
    """Clearway: cross-border logistics compliance behind one API gateway."""


@main.command()
@click.option("--host", default=None, help="Address to listen on (CLEARWAY_HOST).")
@click.option("--port", type=int, default=None, help="Port to listen on (CLEARWAY_PORT).")
@click.option("--demo", is_flag=True, default=None, help="Also seed a demo customer and provider.")
@click.option(
    "--processes",
    is_flag=True,
    help="The gateway and each service in its own process, over HTTP (CLEARWAY_SERVICE_URLS).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Run N identical processes of the whole platform on the port, one per core"
    " (CLEARWAY_WORKERS; default 1).",
)
def up(
    host: str | None, port: int | None, demo: bool | None, processes: bool, workers: int | None
) -> None:
    """Run the gateway and all services in one process (N workers, or one process each) on the
    embedded engines."""
    from clearway.kit.logging import configure_logging
    from clearway.runtime.platform import Platform
    from clearway.runtime.server import server_config

    settings = _settings(host=host, port=port, demo=demo, workers=workers)
    configure_logging(settings.log_level, json=settings.log_json)
    if processes and settings.workers > 1:
        raise click.UsageError("--workers applies to the one-process mode, not to --processes")
    if settings.workers > 1:
        from clearway.runtime.workers import Workers

        click.echo(f"Clearway: {settings.workers} workers (data in {settings.resolved_data_dir})")
        raise SystemExit(Workers(settings).run())
    if processes:
        from clearway.runtime.processes import Supervisor

        command = [sys.executable, "-c", "from clearway.cli import main; main()"]
        click.echo(f"Clearway: one process per service (data in {settings.resolved_data_dir})")
        raise SystemExit(Supervisor(settings, command).run())
    platform = Platform(settings)
    address = f"http://{settings.host}:{settings.port}"
    click.echo(f"Clearway on {address}  (data in {settings.resolved_data_dir})")
    # uvicorn re-raises SIGTERM once its graceful shutdown is over; by then every in-flight
    # request has finished and every outbox is flushed, so that is a clean exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.Server(server_config(platform, settings)).run()


@main.command()
@click.argument(
    "part", type=click.Choice(["gateway", "identity", "rules", "orders", "monitor", "common"])
)
@click.option("--host", default=None, help="Address to listen on (CLEARWAY_HOST).")
@click.option(
    "--port",
    type=int,
    default=None,
    help="Port (default: CLEARWAY_PORT for the "
    "gateway, the port of the service's URL in CLEARWAY_SERVICE_URLS for a service).",
)
def serve(part: str, host: str | None, port: int | None) -> None:
    """Run the gateway or one service alone, for a supervisor of your choice."""
    from clearway.kit.logging import configure_logging
    from clearway.runtime.processes import serve as serve_part

    settings = _settings(host=host)
    configure_logging(settings.log_level, json=settings.log_json)
    serve_part(settings, part, port)


@main.group()
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


@main.group()
def keys() -> None:
    """The platform master key."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Make a new master key version; services rewrap their data keys in the background."""
    from clearway.kit.db import Database
    from clearway.kit.migrations import migrate
    from clearway.runtime.platform import open_keystore
    from clearway.services.common import MIGRATIONS
    from clearway.services.common.keys import rotate_master_key

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
    from clearway.runtime.platform import open_keystore

    table = Table("version", "state", "created")
    for key in open_keystore(Settings()).versions():
        table.add_row(
            str(key.version), str(key.state), key.created_at.isoformat(timespec="seconds")
        )
    console.print(table)


ORDERS_JOBS = (
    "expire-unanswered",
    "remind-providers",
    "warn-expiring-reports",
    "revoke-expired-clearances",
)


@main.group()
def orders() -> None:
    """Orders' scheduled jobs, run once (the running platform also runs them on a timer)."""


@orders.command("run")
@click.argument("jobs", nargs=-1, type=click.Choice(ORDERS_JOBS))
def orders_run(jobs: tuple[str, ...]) -> None:
    """Run the named jobs (all when none is named). Their events wait in the orders outbox
    until the platform relays them (within a second when it is running)."""
    from clearway.kit.migrations import migrate
    from clearway.runtime.platform import Platform

    async def run() -> dict[str, object]:
        platform = Platform(Settings())
        hosted = platform.hosted["orders"]
        by_name = {job.name: job for job in hosted.service.jobs}
        try:
            await migrate(hosted.context.db, hosted.service.migrations)
            return {name: await by_name[f"orders-{name}"].run() for name in jobs or ORDERS_JOBS}
        finally:
            for each in platform.hosted.values():
                await each.context.db.dispose()

    for name, count in asyncio.run(run()).items():
        click.echo(f"{name}: {count}")


@main.group()
def audit() -> None:
    """The monitor's audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the hash chain; exits 1 and names the first broken entry if it was tampered with."""
    from clearway.kit.crypto import BlindIndex
    from clearway.kit.db import Database
    from clearway.kit.migrations import migrate
    from clearway.runtime.platform import open_keystore
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


@main.group("rules")
def rules_group() -> None:
    """The rule base: import and export rule files (schema in docs/rule-files.md)."""


def _rules_store(settings: Settings) -> Any:
    from clearway.kit.db import Database
    from clearway.services.rules.store import RuleStore

    return RuleStore(Database("rules", settings.database_url_for("rules")))


@rules_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Only show what would change.")
def rules_import(files: tuple[str, ...], dry_run: bool) -> None:
    """Import rule files (YAML or CSV) all or nothing; a running Clearway picks them up."""
    from pathlib import Path

    from rich.progress import Progress

    from clearway.kit.errors import DomainError
    from clearway.kit.migrations import migrate
    from clearway.services.rules import MIGRATIONS
    from clearway.services.rules.domain.files import (
        MAX_FILE_BYTES,
        RuleFileInvalid,
        detect_format,
        read_rule_files,
    )

    sources = []
    for name in files:
        path = Path(name)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise click.ClickException(f"{name}: larger than {MAX_FILE_BYTES} bytes")
        sources.append((path.name, path.read_bytes(), detect_format(path.name)))
    store = _rules_store(Settings())

    async def run() -> list[Any]:
        try:
            await migrate(store.db, MIGRATIONS)
            await store.reload()
            parsed = read_rule_files(sources, store.catalogs)
            with Progress(console=console) as progress:
                task = progress.add_task(
                    "Checking" if dry_run else "Importing",
                    total=sum(len(f.rules) for f in parsed),
                )
                return list(
                    await store.import_files(
                        "cli",
                        parsed,
                        dry_run=dry_run,
                        progress=lambda _: progress.advance(task),
                    )
                )
        finally:
            await store.db.dispose()

    try:
        plan = asyncio.run(run())
    except RuleFileInvalid as exc:
        for error in exc.errors:
            console.print(f"[red]{error.file}:{error.line}[/red] {error.message}")
        raise SystemExit(1) from None
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    table = Table("rule", "action", "version", "changed fields", "source")
    for item in plan:
        if item.action != "unchanged":
            table.add_row(
                item.code,
                item.action,
                str(item.version),
                ", ".join(item.changes),
                f"{item.file}:{item.line}",
            )
    console.print(table)
    changed = sum(1 for item in plan if item.action != "unchanged")
    verb = "would change" if dry_run else "changed"
    console.print(f"{len(plan)} rules read, {changed} {verb}.")


@rules_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["yaml", "csv"]), default="yaml")
@click.option("--market", default=None, help="Only this market (EU, US, ...).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="File.")
def rules_export(fmt: str, market: str | None, output: str | None) -> None:
    """Export the newest version of every rule; importing it back changes nothing."""
    from rich.progress import Progress

    from clearway.kit.migrations import migrate
    from clearway.services.rules import MIGRATIONS
    from clearway.services.rules.domain.files import dump_csv, dump_yaml

    store = _rules_store(Settings())
    # Progress goes to stderr: stdout carries the file (`--format csv > rules.csv`).
    progress_console = Console(stderr=True)

    async def run() -> str:
        try:
            await migrate(store.db, MIGRATIONS)
            await store.reload()
            with Progress(console=progress_console, transient=True) as progress:
                task = progress.add_task("Exporting", total=2)
                rules = await store.export(market.upper() if market else None)
                progress.advance(task)
                text: str = dump_yaml(rules, store.questions) if fmt == "yaml" else dump_csv(rules)
                progress.advance(task)
            return text
        finally:
            await store.db.dispose()

    text = asyncio.run(run())
    if output:
        with open(output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        click.echo(text, nl=False)


@main.group("docs")
def docs_group() -> None:
    """Documentation generated from the code."""


@docs_group.command("events")
@click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("."),
    help="The repository to write into (default: the current directory).",
)
@click.option("--check", is_flag=True, help="Only say whether the files are current.")
def docs_events(root: Path, check: bool) -> None:
    """Write docs/events.md and the event-flow picture in docs/architecture.md from the
    contracts (the same catalogue is served at /api/asyncapi.json)."""
    from clearway.contracts.catalogue import documents

    def current(name: str) -> str:
        path = root / name
        return path.read_text(encoding="utf-8") if path.exists() else ""

    wanted = documents(current)
    stale = [name for name, text in wanted.items() if current(name) != text]
    if check:
        if stale:
            raise click.ClickException(f"stale: {', '.join(stale)}; run `clearway docs events`")
        console.print("The event documents are current.")
        return
    for name in stale:
        (root / name).write_text(wanted[name], encoding="utf-8")
    console.print(f"Wrote {', '.join(stale)}." if stale else "Nothing to write; all current.")


@rules_group.command("coverage")
@click.option("--markdown", is_flag=True, required=True, help="As docs/coverage.md shows it.")
def rules_coverage(markdown: bool) -> None:
    """The markets x categories coverage of the shipped rule base (docs/coverage.md)."""
    from clearway.services.rules.shipped import coverage_markdown

    click.echo(coverage_markdown(), nl=False)


@main.command()
def openapi() -> None:
    """Print the gateway's OpenAPI document (what /api/openapi.json serves), without a server.

    The web app's API client is generated from it: `clearway openapi > web/openapi.json`.
    """
    import json
    import tempfile

    from clearway.gateway.docs import merge
    from clearway.runtime.platform import Platform

    with tempfile.TemporaryDirectory() as scratch:
        platform = Platform(_settings(data_dir=scratch))
        documents = {name: host.service.api.openapi() for name, host in platform.hosted.items()}
        click.echo(json.dumps(merge(platform.routes.routes, documents), indent=2, sort_keys=True))
