"""Idempotent consumers: the bus delivers at least once, the inbox makes it apply once.

The inbox row and the handler's changes share one transaction, so either both are kept or
neither is (and the retry applies the event for real).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.bus.bus import BatchHandler, Handler
from clearway.kit.bus.events import CloudEvent
from clearway.kit.bus.inbox import record
from clearway.kit.db import Database

SessionHandler = Callable[[CloudEvent, AsyncSession], Awaitable[None]]
SessionBatchHandler = Callable[[Sequence[CloudEvent], AsyncSession], Awaitable[None]]


def idempotent(db: Database, consumer: str, handler: SessionHandler) -> Handler:
    """A bus handler that applies each event once, in a transaction on the consumer's database."""

    async def handle(event: CloudEvent) -> None:
        async with db.transaction() as session:
            if await record(session, consumer, [event.id]):
                await handler(event, session)

    return handle


def idempotent_batch(db: Database, consumer: str, handler: SessionBatchHandler) -> BatchHandler:
    """Like `idempotent` for `subscribe_batch`: the handler gets only the events not yet applied."""

    async def handle(events: Sequence[CloudEvent]) -> None:
        unique = {event.id: event for event in events}
        async with db.transaction() as session:
            new = await record(session, consumer, unique)
            if new:
                await handler([event for event in unique.values() if event.id in new], session)

    return handle
