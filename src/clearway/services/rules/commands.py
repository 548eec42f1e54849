"""The rules service's operator commands: `clearway rules import/export/coverage`, the rule base
as files (schema in docs/rule-files.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from clearway.kit.errors import DomainError
from clearway.kit.service import OpenService
from clearway.services.rules.domain.file_model import RuleFileInvalid
from clearway.services.rules.domain.files import (
    MAX_FILE_BYTES,
    Format,
    detect_format,
    read_rule_files,
)
from clearway.services.rules.parts import assemble
from clearway.services.rules.rule_files import Planned
from clearway.services.rules.shipped import coverage_markdown

console = Console()


@click.group("rules")
def rules_group() -> None:
    """The rule base: import and export rule files (schema in docs/rule-files.md)."""


@rules_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Only show what would change.")
@click.pass_obj
def rules_import(open_service: OpenService, files: tuple[str, ...], dry_run: bool) -> None:
    """Import rule files (YAML or CSV) all or nothing; a running Clearway picks them up."""
    sources = []
    for name in files:
        path = Path(name)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise click.ClickException(f"{name}: larger than {MAX_FILE_BYTES} bytes")
        sources.append((path.name, path.read_bytes(), detect_format(path.name)))

    async def run() -> list[Planned]:
        async with open_service("rules") as context:
            parts = assemble(context.db)
            await parts.snapshot.reload()
            parsed = read_rule_files(sources, parts.snapshot.catalogs)
            with Progress(console=console) as progress:
                task = progress.add_task(
                    "Checking" if dry_run else "Importing",
                    total=sum(len(f.rules) for f in parsed),
                )
                return await parts.files.import_files(
                    "cli",
                    parsed,
                    dry_run=dry_run,
                    progress=lambda _: progress.advance(task),
                )

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
@click.pass_obj
def rules_export(
    open_service: OpenService, fmt: Format, market: str | None, output: str | None
) -> None:
    """Export the newest version of every rule; importing it back changes nothing."""
    # Progress goes to stderr: stdout carries the file (`--format csv > rules.csv`).
    progress_console = Console(stderr=True)

    async def run() -> str:
        async with open_service("rules") as context:
            parts = assemble(context.db)
            await parts.snapshot.reload()
            with Progress(console=progress_console, transient=True) as progress:
                task = progress.add_task("Exporting", total=2)
                rules = await parts.files.export(market.upper() if market else None)
                progress.advance(task)
                text = parts.files.dump(fmt, rules)
                progress.advance(task)
            return text

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
    click.echo(coverage_markdown(), nl=False)


COMMANDS: list[click.Command] = [rules_group]
