"""Admission: how many requests the services work on at once in this process; the rest wait
their turn, in arrival order.

One process serves every request on one event loop. Let every request in at once and each turn
of the loop has them all to step through: a request's every database call then waits that long
twice, and a write transaction, which holds SQLite's single writer across its calls, holds it
for as many turns. Under load that queued order placements for seconds, past the upstream
deadline (docs/performance.md). With a few requests in at a time the turns stay short, and the
rest wait in a queue that costs nothing.

A request takes its turn once its whole body is in (at once, without a body), so a client
sending its body slowly holds no turn; and gives it back when its response starts, so a client
reading its response slowly holds none either. A request whose client goes away while it waits
leaves the queue: an overloaded server does not spend its turns on answers nobody reads (a
burst of 10,000 users leaves up to 30 s of queued requests behind).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from clearway.kit.problems import Problem

# What the busy answer asks the client to wait, in seconds.
BUSY_RETRY_AFTER = "1"


def busy() -> Problem:
    return Problem(
        503,
        detail="The server is busy; try again shortly.",
        headers={"retry-after": BUSY_RETRY_AFTER},
    )


def client_gone() -> Problem:
    """A queued request whose client went away: never served, recorded as 499 (the status
    proxies record for a client that closed its request)."""
    return Problem(
        499,
        "Client Closed Request",
        detail="The client went away while the request waited for its turn.",
    )


# Returns once the client has gone away (`edge.RequestBody.disconnected`).
Gone = Callable[[], Awaitable[None]]


class Admission:
    def __init__(self, limit: int, queue_timeout: float) -> None:
        self.limit = limit
        self.queue_timeout = queue_timeout
        self._turns = asyncio.Semaphore(limit)
        self.waiting = 0  # requests queued for a turn

    @property
    def full(self) -> bool:
        """Every turn is taken (or promised to one already waiting)."""
        return self._turns.locked()

    def turn(self) -> Turn:
        return Turn(self)

    async def _acquire(self, gone: Gone | None) -> None:
        if not self._turns.locked():
            await self._turns.acquire()
            return
        self.waiting += 1
        try:
            async with asyncio.timeout(self.queue_timeout):
                if gone is None:
                    await self._turns.acquire()
                else:
                    await self._acquire_unless(gone)
        except TimeoutError:
            raise busy() from None
        finally:
            self.waiting -= 1

    async def _acquire_unless(self, gone: Gone) -> None:
        """A turn, unless the client goes away first (then `client_gone` is raised)."""
        acquiring = asyncio.ensure_future(self._turns.acquire())
        watching = asyncio.ensure_future(gone())
        try:
            await asyncio.wait((acquiring, watching), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # past the queue timeout: both are given up
            watching.cancel()
            if acquiring.done() and not acquiring.cancelled():
                self._release()  # granted in the same turn: the next one gets it
            acquiring.cancel()
            raise
        watching.cancel()
        acquiring.cancel()  # a turn granted meanwhile is passed on by the semaphore
        left = watching.done() and not watching.cancelled()
        if left:
            watching.exception()  # retrieved: a watch that failed counts as a client gone
        if acquiring.done() and not acquiring.cancelled():
            if not left:
                return
            self._release()  # the turn came as the client left: the next one gets it
        raise client_gone()

    def _release(self) -> None:
        self._turns.release()


class Turn:
    """One request's turn: taken at most once, ended at most once (ending one never taken is
    nothing), so the response's start and the request's end can both end it."""

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self._state = "new"  # new → held → ended

    async def take(self, gone: Gone | None = None) -> None:
        """Wait for the turn; past the queue timeout, a 503 problem is raised, and if `gone`
        returns first (the client went away), a 499."""
        if self._state != "new":
            return
        await self._admission._acquire(gone)
        if self._state == "new":
            self._state = "held"
        else:  # ended while waiting (the request was answered meanwhile): give it back
            self._admission._release()

    def end(self) -> None:
        if self._state == "held":
            self._admission._release()
        self._state = "ended"
