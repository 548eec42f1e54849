"""Telemetry events (request records, searches) published in batches, straight to the bus.

They are high-volume and owned by no table, so they skip the outbox: the hot path appends to
a list, a background task publishes every quarter second, and stop() publishes the rest. Each
flush sends one envelope per type and `MAX_BATCH` events (`events.batch`), so the bus stores,
hands out and acknowledges one message where there were hundreds. A crash loses at most the
last interval; domain events, which must never be lost, always go through an outbox.

The hot path hands over values it already holds typed, not a validated model: each event is
built with `Event.unvalidated_cloudevent`, the same envelope for a fraction of the cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from clearway.kit.bus.bus import Publisher
from clearway.kit.bus.contract import Event
from clearway.kit.bus.events import CloudEvent, batch

log = logging.getLogger("clearway.telemetry")

SOURCE = "/clearway/telemetry"
FLUSH_SECONDS = 0.25
MAX_BATCH = 500  # events per envelope: what one consumer takes in one go
MAX_BUFFER = 100_000


class Telemetry:
    def __init__(self, bus: Publisher, name: str) -> None:
        self._bus = bus
        self._name = name
        self._buffer: list[CloudEvent] = []
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def add(self, kind: type[Event], values: Mapping[str, Any]) -> None:
        """One `kind` event of `values`, which must have its fields' types (not validated)."""
        if len(self._buffer) >= MAX_BUFFER:
            self.dropped += 1  # the bus is down for long: shed telemetry, not requests
            return
        self._buffer.append(kind.unvalidated_cloudevent(values))

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
        """Publish everything buffered, including what arrives while publishing."""
        while self._buffer:
            await self._publish_buffered()

    async def _publish_buffered(self) -> None:
        """Publish what is buffered now; what arrives meanwhile waits for the next one."""
        if not self._buffer:
            return
        pending, self._buffer = self._buffer, []
        by_type: dict[str, list[CloudEvent]] = {}
        for event in pending:
            by_type.setdefault(event.type, []).append(event)
        envelopes = [
            batch(SOURCE, events[i : i + MAX_BATCH])
            for events in by_type.values()
            for i in range(0, len(events), MAX_BATCH)
        ]
        try:
            await self._bus.publish_many(envelopes)
        except Exception:
            self._buffer[:0] = pending  # keep them for the next flush
            raise

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                # One publication per interval, not `flush`'s loop: under load, records arrive
                # while one is stored, and the loop would store them at once, again and again
                # (under `make bench`, 30 small stores a second per worker, not 4).
                await self._publish_buffered()
            except Exception:
                log.exception("could not publish %s telemetry; will retry", self._name)
