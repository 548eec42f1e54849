"""The `clearway` command imports no service code: a service's operator commands are its own,
found by the runtime and opened through it (`clearway.runtime.commands`)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from click.testing import CliRunner

import clearway.cli
from clearway.cli import main
from clearway.runtime.commands import service_commands

CLI = Path(clearway.cli.__file__).parent


def imported_modules(source: str) -> Iterator[str]:
    """Every module an import names, at the top of the module or inside a function."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_the_scan_sees_imports_inside_functions() -> None:
    source = "def run():\n    from clearway import services\n"
    assert "clearway.services" in set(imported_modules(source))


def test_the_command_line_imports_no_service_code() -> None:
    offenders = [
        f"{path.relative_to(CLI)}: {module}"
        for path in sorted(CLI.rglob("*.py"))
        for module in imported_modules(path.read_text())
        if module == "clearway.services" or module.startswith("clearway.services.")
    ]
    assert offenders == []


def test_the_services_commands_are_the_commands_own_beside_its_own() -> None:
    found = service_commands()
    assert set(found) == {"audit", "keys", "rules"}
    assert {name: sorted(getattr(command, "commands", {})) for name, command in found.items()} == {
        "audit": ["verify"],
        "keys": ["list", "rotate"],
        "rules": ["coverage", "export", "import"],
    }
    own = set(main.commands)
    assert own.isdisjoint(found), "a service's command would hide behind the command's own"
    listed = main.list_commands(click.Context(main))
    assert listed == sorted(own | set(found))
    helped = CliRunner().invoke(main, ["--help"])
    assert helped.exit_code == 0, helped.output
    assert all(f"  {name} " in helped.output for name in listed)


def test_running_a_part_loads_no_service_it_does_not_host() -> None:
    """`clearway serve gateway` (here its help) finds its command without a service's package."""
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from clearway.cli import main\n"
        "result = CliRunner().invoke(main, ['serve', '--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in sys.modules if m.startswith('clearway.services.')))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
