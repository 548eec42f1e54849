"""`clearway keys rotate`: a new master key version, made on the common service alone (the one
that declares key administration), and announced to the others through its outbox."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner

from clearway.cli import main
from clearway.settings import Settings
from tests.conftest import query_sql


async def test_rotating_makes_the_next_version_active_on_the_common_service_alone(
    hosted: list[str], fresh_settings: Settings
) -> None:
    runner = CliRunner()
    rotated = await asyncio.to_thread(runner.invoke, main, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert rotated.output == (
        "Master key version 2 is now active; rewrap runs in the background.\n"
    )
    assert hosted == ["common"]
    announced = query_sql(fresh_settings, "common", "SELECT type FROM outbox")
    assert [row[0] for row in announced] == ["key.rotated"]


async def test_listing_shows_every_version_and_its_state_on_the_common_service_alone(
    hosted: list[str],
) -> None:
    runner = CliRunner()
    rotated = await asyncio.to_thread(runner.invoke, main, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    listed = await asyncio.to_thread(runner.invoke, main, ["keys", "list"], env={"COLUMNS": "120"})
    assert listed.exit_code == 0, listed.output
    rows = [line.split("│")[1:3] for line in listed.output.splitlines() if line.startswith("│")]
    assert [(v.strip(), s.strip()) for v, s in rows] == [("1", "retired"), ("2", "active")]
    assert hosted == ["common", "common"]
