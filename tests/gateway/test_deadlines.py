"""The gateway's deadlines on one timer behave as `asyncio.timeout_at`, which they replace:
each case runs on both and must come out the same."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from clearway.gateway.deadlines import COMPACT_AFTER, Deadlines

Clock = Callable[[float], Any]


@pytest.fixture(params=["asyncio.timeout_at", "Deadlines"])
def deadline_at(request: pytest.FixtureRequest) -> Clock:
    if request.param == "Deadlines":
        return Deadlines().at
    return asyncio.timeout_at


async def turns(count: int = 3) -> None:
    """Let the loop run its ready callbacks (a timer already due among them) a few times."""
    for _ in range(count):
        await asyncio.sleep(0)


def now() -> float:
    return asyncio.get_running_loop().time()


async def test_a_block_still_running_at_its_deadline_times_out(deadline_at: Clock) -> None:
    with pytest.raises(TimeoutError):
        async with deadline_at(now() - 1):
            await asyncio.Event().wait()


async def test_a_block_that_ended_is_never_cancelled(deadline_at: Clock) -> None:
    async with deadline_at(now() - 1):
        pass
    await turns()  # the timer falls due, finds the block over
    # Still not cancelled: a later block with a later deadline runs to its end.
    async with deadline_at(now() + 60):
        await turns()


async def test_a_cancellation_from_outside_stays_a_cancellation(deadline_at: Clock) -> None:
    entered = asyncio.Event()

    async def guarded() -> None:
        async with deadline_at(now() + 60):
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(guarded())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_cancelled_from_outside_as_the_deadline_falls_is_a_cancellation(
    deadline_at: Clock,
) -> None:
    entered = asyncio.Event()

    async def guarded() -> None:
        async with deadline_at(now() - 1):  # due: falls in the loop's next turn
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(guarded())
    await entered.wait()
    task.cancel()  # in the same turn
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def test_a_deadline_moved_away_does_not_fall_at_the_first(deadline_at: Clock) -> None:
    async with deadline_at(now() - 1) as clock:
        clock.reschedule(now() + 60)
        await turns()


async def test_a_deadline_moved_forward_falls_at_the_new_time(deadline_at: Clock) -> None:
    with pytest.raises(TimeoutError):
        async with deadline_at(now() + 60) as clock:
            clock.reschedule(now() - 1)
            await asyncio.Event().wait()


async def test_a_deadline_cannot_move_once_its_block_has_ended(deadline_at: Clock) -> None:
    async with deadline_at(now() + 60) as clock:
        pass
    with pytest.raises(RuntimeError):
        clock.reschedule(now() + 120)


async def test_a_deadline_cannot_move_once_it_has_fallen(deadline_at: Clock) -> None:
    with pytest.raises(TimeoutError):
        async with deadline_at(now() - 1) as clock:
            await asyncio.Event().wait()
    with pytest.raises(RuntimeError):
        clock.reschedule(now() + 60)


async def test_blocks_fall_each_at_its_own_deadline() -> None:
    deadlines = Deadlines()
    outcomes: dict[str, str] = {}
    release, timed_out = asyncio.Event(), asyncio.Event()

    async def guarded(name: str, when: float) -> None:
        try:
            async with deadlines.at(when):
                await release.wait()
            outcomes[name] = "ended"
        except TimeoutError:
            outcomes[name] = "timed out"
            timed_out.set()

    tasks = [
        asyncio.create_task(guarded("late", now() + 60)),
        asyncio.create_task(guarded("due", now() - 1)),
        asyncio.create_task(guarded("later", now() + 120)),
    ]
    await timed_out.wait()
    assert outcomes == {"due": "timed out"}
    release.set()
    await asyncio.gather(*tasks)
    assert outcomes == {"due": "timed out", "late": "ended", "later": "ended"}


async def test_ended_deadlines_do_not_pile_up() -> None:
    deadlines = Deadlines()
    for _ in range(10 * COMPACT_AFTER):
        async with deadlines.at(now() + 60):
            pass
    assert len(deadlines._heap) <= 2 * COMPACT_AFTER + 2
