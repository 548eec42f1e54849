"""`clearway orders run`: the orders service's jobs, run once on the orders service alone."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner, Result

from clearway.cli import main

JOBS = (
    "expire-unanswered",
    "remind-providers",
    "warn-expiring-reports",
    "revoke-expired-clearances",
)


async def orders_run(*jobs: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, main, ["orders", "run", *jobs])


async def test_a_named_job_runs_on_the_orders_service_alone(hosted: list[str]) -> None:
    result = await orders_run("expire-unanswered")
    assert result.exit_code == 0, result.output
    assert result.output == "expire-unanswered: 0\n"
    assert hosted == ["orders"]


async def test_without_a_name_every_orders_job_runs(hosted: list[str]) -> None:
    result = await orders_run()
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"{job}: 0" for job in JOBS]
    assert hosted == ["orders"]


async def test_an_unknown_job_is_a_usage_error_naming_the_jobs(hosted: list[str]) -> None:
    result = await orders_run("expire-unanswered", "fold-stats")
    assert result.exit_code == 2
    assert "fold-stats" in result.output
    assert all(job in result.output for job in JOBS)
