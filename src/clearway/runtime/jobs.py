"""Scheduled jobs in the embedded runtime: each runs on its interval, or at once when triggered.

With several workers (`clearway up --workers N`) only the leader runs maintenance jobs, so
folds, clean-ups and rewraps never run twice at once; every worker runs `every_process` jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from clearway.kit.service import Job

log = logging.getLogger("clearway.jobs")


class JobRunner:
    def __init__(self, *, leader: bool = True) -> None:
        self.leader = leader
        self._jobs: dict[str, Job] = {}
        self._wakeups: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._last_run: dict[str, float] = {}
        self._born = time.monotonic()  # start-up did what the every-process jobs do

    def add(self, job: Job) -> None:
        if job.name in self._jobs:
            raise ValueError(f"job {job.name!r} is defined twice")
        self._jobs[job.name] = job
        self._wakeups[job.name] = asyncio.Event()

    def trigger(self, name: str) -> None:
        """Run the job now, if it runs here (in a follower a maintenance job is the leader's)."""
        self._wakeups[name].set()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(job), name=f"job-{job.name}")
            for job in self._jobs.values()
            if self.leader or job.every_process
        ]

    async def stop(self) -> None:
        """Stop the timers; a job already running finishes its turn first. Cancelling one in
        the middle of a database transaction (a rewrap, a fold) could leave its connection
        half-closed, and shutdown waiting on it."""
        self._stopping = True
        for wakeup in self._wakeups.values():
            wakeup.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._stopping = False

    async def _loop(self, job: Job) -> None:
        wakeup = self._wakeups[job.name]
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), job.interval_seconds)
            wakeup.clear()
            if self._stopping:
                return
            try:
                await job.run()
            except Exception:
                log.exception("job %s failed; it runs again at its next turn", job.name)

    @property
    def names(self) -> list[str]:
        return list(self._jobs)

    async def run(self, name: str) -> object:
        """Run one job now, in this task: a scheduler outside the process calls it by name (the
        jobs of a Lambda function run on EventBridge schedules). KeyError for an unknown name."""
        job = self._jobs[name]
        self._last_run[name] = time.monotonic()
        return await job.run()

    async def run_due(self) -> None:
        """Run the every-process jobs whose interval has passed since they last ran here.

        Where no timer runs between requests (a Lambda function is frozen in between), what a
        process holds in memory (signing keys, revocations, the rules snapshot) catches up at
        the start of the next request instead.
        """
        now = time.monotonic()
        for job in self._jobs.values():
            last = self._last_run.get(job.name, self._born)
            if job.every_process and now - last >= job.interval_seconds:
                self._last_run[job.name] = now
                try:
                    await job.run()
                except Exception:
                    log.exception("job %s failed; it runs again when next due", job.name)
