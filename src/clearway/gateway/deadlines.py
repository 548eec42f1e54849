"""The deadlines of the requests in flight to the services, kept on one timer.

`asyncio.timeout_at` per request costs a `Timeout`, a timer handle scheduled and cancelled,
and their bookkeeping: a few microseconds on every request, nearly all of which end long
before their deadline. Here a request costs a heap entry; the one timer is moved only when a
deadline earlier than the one it waits for comes in, and when it fires it cancels the requests
that are past theirs. A `Deadline` behaves as `asyncio.timeout_at` does: the body it guards
is cancelled at the deadline and its `CancelledError` becomes a `TimeoutError`, unless the task
was also cancelled from outside, and `reschedule` moves the deadline.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from types import TracebackType

# Ended requests leave their entry in the heap until it is rebuilt: once they are the most of
# it, and there are more than this many.
COMPACT_AFTER = 256


class Deadlines:
    def __init__(self) -> None:
        # (when, order, deadline): the order breaks ties, so deadlines are never compared.
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._dead = 0  # entries of deadlines ended or moved since
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self._loop: asyncio.AbstractEventLoop | None = None

    def at(self, when: float) -> Deadline:
        """A deadline at `when` (the loop's clock) for the `async with` block it guards."""
        return Deadline(self, when)

    def _add(self, when: float, deadline: Deadline) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # A gateway serves one loop at a time: what was left on an earlier one is over.
            self._heap, self._dead, self._timer_at, self._loop = [], 0, math.inf, loop
        heapq.heappush(self._heap, (when, next(self._order), deadline))
        if when < self._timer_at:
            self._arm(when, loop)

    def _drop(self) -> None:
        self._dead += 1
        if self._dead > COMPACT_AFTER and self._dead * 2 > len(self._heap):
            self._heap = [entry for entry in self._heap if entry[2].when == entry[0]]
            heapq.heapify(self._heap)
            self._dead = 0

    def _arm(self, when: float, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(when, self._fire)
        self._timer_at = when

    def _fire(self) -> None:
        self._timer, self._timer_at = None, math.inf
        loop = asyncio.get_running_loop()
        now = loop.time()
        heap = self._heap
        while heap and heap[0][0] <= now:
            when, _, deadline = heapq.heappop(heap)
            if deadline.when == when:
                deadline._expire()
            else:
                self._dead -= 1
        # The earliest entry may be one that ended: waking for it costs one early return.
        if heap:
            self._arm(heap[0][0], loop)


class Deadline:
    __slots__ = ("_cancelling", "_deadlines", "_expired", "_task", "when")

    def __init__(self, deadlines: Deadlines, when: float) -> None:
        self._deadlines = deadlines
        self.when = when
        """When it falls, or NaN once it has ended (matches no heap entry)."""
        self._task: asyncio.Task[object] | None = None
        self._cancelling = 0
        self._expired = False

    async def __aenter__(self) -> Deadline:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a deadline guards a task's code")
        self._task = task
        self._cancelling = task.cancelling()
        self._deadlines._add(self.when, self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self._expired:
            self._end()
            return
        assert self._task is not None
        if self._task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
            raise TimeoutError from exc

    def reschedule(self, when: float) -> None:
        """Move the deadline; an error once it has fallen or its block has ended."""
        if self._task is None or self._expired or math.isnan(self.when):
            raise RuntimeError("the deadline has fallen or its block has ended")
        if when == self.when:
            return
        self._deadlines._drop()
        self.when = when
        self._deadlines._add(when, self)

    def _end(self) -> None:
        self.when = math.nan
        self._deadlines._drop()

    def _expire(self) -> None:
        assert self._task is not None
        self._expired = True
        self.when = math.nan
        self._task.cancel()
