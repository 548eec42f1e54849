"""`clearway rules import` on the rules service alone, migrated by the runtime: a file with
errors names each error's file and line, exits 1 and changes nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner, Result

from clearway.cli import main
from clearway.settings import Settings
from tests.conftest import query_sql

INVALID = "format: clearway-rules/2\nrules:\n  - code: T-BAD\n    market: NOWHERE\n"


async def rules_import(*args: str) -> Result:
    return await asyncio.to_thread(
        CliRunner().invoke, main, ["rules", "import", *args], env={"COLUMNS": "200"}
    )


async def test_an_invalid_file_names_file_and_line_and_changes_nothing(
    hosted: list[str], fresh_settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(INVALID)
    result = await rules_import(str(path))
    assert result.exit_code == 1, result.output
    assert "bad.yaml:3" in result.output
    assert hosted == ["rules"]
    assert query_sql(fresh_settings, "rules", "SELECT code FROM rule_versions") == []
