"""`search.performed`: one event per search, written through the outbox in batches.

A search must not wait for a database write: committing one outbox row per search serialises
every search behind SQLite's single writer (and behind the relay that empties the outbox), about
20-30 ms each. Searches therefore hand their event to this writer, which commits whatever has
accumulated every `interval` seconds (or at once when `max_batch` are waiting) in one
transaction. Nothing is dropped: a failed commit keeps the events for the next attempt, a full
buffer makes searches wait for the flush (back-pressure), and stopping flushes what is left.
The price is that a hard crash (power loss, SIGKILL) loses at most one interval's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from clearway.kit.bus import CloudEvent, publish
from clearway.kit.db import Database

log = logging.getLogger("clearway.rules")

SOURCE = "/clearway/rules"
SEARCH_PERFORMED = "search.performed"


class SearchEvents:
    def __init__(
        self,
        db: Database,
        *,
        interval: float = 0.05,
        max_batch: int = 500,
        max_pending: int = 20_000,
    ) -> None:
        self.db = db
        self.interval = interval
        self.max_batch = max_batch
        self.max_pending = max_pending
        self._pending: list[CloudEvent] = []
        self._lock = asyncio.Lock()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def emit(self, data: dict[str, Any]) -> None:
        self._pending.append(CloudEvent.new(SOURCE, SEARCH_PERFORMED, data))
        if len(self._pending) >= self.max_batch:
            self._wakeup.set()
        if len(self._pending) >= self.max_pending:
            await self.flush()  # the database is behind: slow searches down, lose nothing

    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="rules-search-events")

    async def stop(self) -> None:
        if self._task is not None:
            self._stopping = True
            self._wakeup.set()
            await self._task
            self._task = None
        await self.flush()

    async def flush(self) -> int:
        """Commit everything pending to the outbox; return how many events were written."""
        written = 0
        async with self._lock:
            while self._pending:
                batch = self._pending[: self.max_batch]
                async with self.db.transaction() as session:
                    for event in batch:
                        await publish(session, event)
                del self._pending[: len(batch)]
                written += len(batch)
        return written

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.interval)
            self._wakeup.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("writing search events failed; they are kept and retried")


def search_data(
    *, query: str | None, hs_code: str | None, category: str | None, market: str, role: str
) -> dict[str, Any]:
    """What monitor's search statistics need; deliberately nothing about who searched."""
    return {
        "query": query,
        "hs_code": hs_code,
        "hs_chapter": hs_code[:2] if hs_code else None,
        "hs_heading": hs_code[:4] if hs_code and len(hs_code) >= 4 else None,
        "category": category,
        "market": market,
        "role": role,
    }
