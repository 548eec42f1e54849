"""Telemetry events (request records, searches) published in batches, straight to the bus.

They are high-volume and owned by no table, so they skip the outbox: the hot path appends a
row to a list, a background task publishes every quarter second, and stop() publishes the rest.
Each publication sends one envelope per type and `MAX_BATCH` rows (`events.batch`), so the bus
stores, hands out and acknowledges one message where there were hundreds. A crash loses at most
the last interval; domain events, which must never be lost, always go through an outbox.

The hot path hands over values it already holds typed, not a validated model, and they become
a row: the time and the values in the order of the contract class's fields, no envelope, id or
dictionary per event (the consumer's `events.expand` makes the events). The class stays the one
definition of the payload: only a class whose fields are all JSON scalars (`SCALAR_FIELDS`),
which validation would write as they are, and with no subject, can be sent this way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from clearway.kit.bus.bus import Publisher
from clearway.kit.bus.contract import Event
from clearway.kit.bus.events import CloudEvent, batch

log = logging.getLogger("clearway.telemetry")

FLUSH_SECONDS = 0.25
MAX_BATCH = 500  # rows per envelope: what one consumer takes in one go
MAX_BUFFER = 100_000


class Telemetry:
    def __init__(self, bus: Publisher, name: str) -> None:
        self._bus = bus
        self._name = name
        # Rows by the contract class's source, type and fields (in order).
        self._buffer: dict[tuple[str, str, tuple[str, ...]], list[tuple[Any, ...]]] = {}
        # Envelopes made of rows and not yet published: sent again as they are, so that their
        # events keep their ids (a publication that failed half-way is then de-duplicated).
        self._unsent: list[CloudEvent] = []
        self._buffered = 0  # rows in both
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def add(self, kind: type[Event], values: Mapping[str, Any]) -> None:
        """One `kind` event of `values`, which must have its fields' types (not validated) and
        give every field (a missing one is a `KeyError`, not a shorter row)."""
        fields = kind.SCALAR_FIELDS
        if fields is None or kind.SUBJECT is not None:
            raise TypeError(f"{kind.__name__} is not made of JSON scalars without a subject")
        if self._buffered >= MAX_BUFFER:
            self.dropped += 1  # the bus is down for long: shed telemetry, not requests
            return
        row = (time.time(), *[values[name] for name in fields])
        if (rows := self._buffer.get(stream := (kind.SOURCE, kind.TYPE, fields))) is None:
            rows = self._buffer[stream] = []
        rows.append(row)
        self._buffered += 1

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
        while self._buffer or self._unsent:
            await self._publish_buffered()

    async def _publish_buffered(self) -> None:
        """Publish what is buffered now; what arrives meanwhile waits for the next one."""
        if not self._buffer and not self._unsent:
            return
        pending, self._buffer = self._buffer, {}
        envelopes = self._unsent = [
            *self._unsent,
            *(
                batch(source, kind, fields, rows[i : i + MAX_BATCH])
                for (source, kind, fields), rows in pending.items()
                for i in range(0, len(rows), MAX_BATCH)
            ),
        ]
        await self._bus.publish_many(envelopes)  # on failure they stay unsent, for the next one
        if self._unsent is envelopes:  # else a publication meanwhile took them on with its own
            self._unsent = []
            self._buffered -= sum(len(envelope.data["rows"]) for envelope in envelopes)

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
