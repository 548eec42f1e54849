"""Every request through the gateway becomes a `gateway.request` event for the monitor.

Records are buffered and published in batches (one queue transaction per batch), so
recording costs the request path an append to a list.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from clearway.kit.bus import CloudEvent

log = logging.getLogger("clearway.gateway.records")

SOURCE = "/clearway/gateway"
FLUSH_SECONDS = 0.25
MAX_BATCH = 1000
MAX_BUFFER = 100_000

Publish = Callable[[Sequence[CloudEvent]], Awaitable[None]]


class RequestRecorder:
    def __init__(self, publish: Publish) -> None:
        self._publish = publish
        self._buffer: list[CloudEvent] = []
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def record(self, data: dict[str, Any]) -> None:
        if len(self._buffer) >= MAX_BUFFER:
            self.dropped += 1  # the bus is down for long: shed telemetry, not requests
            return
        self._buffer.append(CloudEvent.new(SOURCE, "gateway.request", data))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway-records")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def flush(self) -> None:
        while self._buffer:
            batch, self._buffer = self._buffer[:MAX_BATCH], self._buffer[MAX_BATCH:]
            try:
                await self._publish(batch)
            except Exception:
                self._buffer[:0] = batch  # keep them for the next flush
                raise

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.flush()
            except Exception:
                log.exception("could not publish request records; will retry")
