"""Scheduled jobs with several workers: maintenance in the leader only, refreshers everywhere."""

from __future__ import annotations

import asyncio

from clearway.kit.service import Job
from clearway.runtime.jobs import JobRunner


async def run_for_a_while(leader: bool) -> dict[str, int]:
    """Until the refresher has run three times (and, in the leader, the fold once): a moment
    in which a fold meant for this process would have run too, however slow the machine."""
    runs = {"fold": 0, "refresh": 0}
    enough = asyncio.Event()

    def counting(name: str) -> Job:
        async def run() -> None:
            runs[name] += 1
            if runs["refresh"] >= 3 and (runs["fold"] > 0 or not leader):
                enough.set()

        return Job(name, 0.01, run, every_process=name == "refresh")

    runner = JobRunner(leader=leader)
    runner.add(counting("fold"))
    runner.add(counting("refresh"))
    runner.start()
    runner.trigger("fold")  # in a follower: the leader's job, nothing happens here
    async with asyncio.timeout(60):
        await enough.wait()
    await runner.stop()
    return runs


async def test_the_leader_runs_every_job() -> None:
    runs = await run_for_a_while(leader=True)
    assert runs["fold"] > 0 and runs["refresh"] > 0


async def test_a_follower_runs_only_the_jobs_meant_for_every_process() -> None:
    runs = await run_for_a_while(leader=False)
    assert runs["fold"] == 0
    assert runs["refresh"] > 0
