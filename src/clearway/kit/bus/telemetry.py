"""Telemetry events (request records, searches) published in batches, straight to the bus.

They are high-volume and owned by no table, so they skip the outbox: the hot path appends to
a list, a background task publishes a batch every quarter second (one queue transaction each),
and stop() publishes the rest. A crash loses at most the last interval; domain events, which
must never be lost, always go through an outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from clearway.kit.bus.bus import Publisher
from clearway.kit.bus.events import CloudEvent

log = logging.getLogger("clearway.telemetry")

FLUSH_SECONDS = 0.25
MAX_BATCH = 1000
MAX_BUFFER = 100_000


class Telemetry:
    def __init__(self, bus: Publisher, name: str) -> None:
        self._bus = bus
        self._name = name
        self._buffer: list[CloudEvent] = []
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def add(self, event: CloudEvent) -> None:
        if len(self._buffer) >= MAX_BUFFER:
            self.dropped += 1  # the bus is down for long: shed telemetry, not requests
            return
        self._buffer.append(event)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"telemetry-{self._name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def flush(self) -> None:
        while self._buffer:
            batch, self._buffer = self._buffer[:MAX_BATCH], self._buffer[MAX_BATCH:]
            try:
                await self._bus.publish_many(batch)
            except Exception:
                self._buffer[:0] = batch  # keep them for the next flush
                raise

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.flush()
            except Exception:
                log.exception("could not publish %s telemetry; will retry", self._name)
