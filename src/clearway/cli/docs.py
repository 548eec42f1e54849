"""`clearway docs`: documentation generated from the code."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

console = Console()


@click.group("docs")
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
