"""`clearway rules`: import, export and coverage of the rule base."""

from __future__ import annotations

import asyncio
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from clearway.settings import Settings

console = Console()


@click.group("rules")
def rules_group() -> None:
    """The rule base: import and export rule files (schema in docs/rule-files.md)."""


def _rules_store(settings: Settings) -> Any:
    from clearway.kit.db import Database
    from clearway.services.rules.parts import assemble

    return assemble(Database("rules", settings.database_url_for("rules")))


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
    from clearway.services.rules.domain.file_model import RuleFileInvalid
    from clearway.services.rules.domain.files import (
        MAX_FILE_BYTES,
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
            await store.snapshot.reload()
            parsed = read_rule_files(sources, store.snapshot.catalogs)
            with Progress(console=console) as progress:
                task = progress.add_task(
                    "Checking" if dry_run else "Importing",
                    total=sum(len(f.rules) for f in parsed),
                )
                return list(
                    await store.files.import_files(
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

    store = _rules_store(Settings())
    # Progress goes to stderr: stdout carries the file (`--format csv > rules.csv`).
    progress_console = Console(stderr=True)

    async def run() -> str:
        try:
            await migrate(store.db, MIGRATIONS)
            await store.snapshot.reload()
            with Progress(console=progress_console, transient=True) as progress:
                task = progress.add_task("Exporting", total=2)
                rules = await store.files.export(market.upper() if market else None)
                progress.advance(task)
                text: str = store.files.dump(fmt, rules)
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


@rules_group.command("coverage")
@click.option("--markdown", is_flag=True, required=True, help="As docs/coverage.md shows it.")
def rules_coverage(markdown: bool) -> None:
    """The markets x categories coverage of the shipped rule base (docs/coverage.md)."""
    from clearway.services.rules.shipped import coverage_markdown

    click.echo(coverage_markdown(), nl=False)
