"""Jobs where no timer runs between requests (a frozen Lambda environment)."""

from __future__ import annotations

import pytest

from clearway.kit.service import Job
from clearway.runtime import jobs as jobs_module
from clearway.runtime.jobs import JobRunner


async def test_every_process_jobs_run_when_due_and_maintenance_only_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(jobs_module.time, "monotonic", lambda: now[0])
    ran: list[str] = []

    def job(name: str, interval: float, every_process: bool) -> Job:
        async def run() -> int:
            ran.append(name)
            return len(ran)

        return Job(name, interval, run, every_process=every_process)

    runner = JobRunner()
    runner.add(job("signing-keys", 5.0, True))
    runner.add(job("expire-orders", 900.0, False))

    await runner.run_due()
    assert ran == [], "start-up just did what the refreshes do"
    now[0] += 5.0
    await runner.run_due()
    await runner.run_due()
    assert ran == ["signing-keys"]
    now[0] += 1000.0
    await runner.run_due()
    assert ran == ["signing-keys", "signing-keys"], "maintenance waits for its schedule"
    assert await runner.run("expire-orders") == 3
    with pytest.raises(KeyError):
        await runner.run("no-such-job")
    assert sorted(runner.names) == ["expire-orders", "signing-keys"]
