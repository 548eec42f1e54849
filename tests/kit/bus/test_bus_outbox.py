from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from clearway.kit.bus import CloudEvent, OutboxRelay, publish
from clearway.kit.bus.outbox import outbox
from clearway.kit.db import Database

from .conftest import event, eventually


class Boom(Exception):
    pass


class RecordingBus:
    """Records what the relay publishes; fails on demand like an unreachable broker."""

    def __init__(self) -> None:
        self.batches: list[list[CloudEvent]] = []
        self.failures = 0

    async def publish_many(self, events: Sequence[CloudEvent]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker unreachable")
        self.batches.append(list(events))

    @property
    def published(self) -> list[CloudEvent]:
        return [e for batch in self.batches for e in batch]


async def outbox_size(db: Database) -> int:
    async with db.read() as session:
        return (await session.scalar(select(func.count()).select_from(outbox))) or 0


async def test_a_commit_wakes_the_relay(db: Database) -> None:
    bus = RecordingBus()
    # Polling alone would take an hour: anything sooner was the commit's wake-up.
    relay = OutboxRelay(db, bus, poll_seconds=3600)
    first = event()
    async with db.transaction() as session:
        await publish(session, first)
    relay.start()
    try:
        # Its first pass publishes `first`; then it has nothing left and waits.
        await eventually(lambda: bus.published == [first])
        async with db.transaction() as session:
            published = event()
            await publish(session, published)
        await eventually(lambda: bus.published == [first, published])
    finally:
        await relay.stop()


async def test_publishes_in_order_in_batches(db: Database) -> None:
    bus = RecordingBus()
    events = [event(n=n) for n in range(1200)]
    for start in range(0, 1200, 400):
        async with db.transaction() as session:
            for e in events[start : start + 400]:
                await publish(session, e)
    relay = OutboxRelay(db, bus)
    assert await relay.flush() == 1200
    assert bus.published == events
    assert [len(batch) for batch in bus.batches] == [500, 500, 200]


async def test_stop_flushes_everything(db: Database) -> None:
    bus = RecordingBus()
    relay = OutboxRelay(db, bus, poll_seconds=60)
    relay.start()
    events = [event(n=n) for n in range(1200)]
    async with db.transaction() as session:
        for e in events:
            await publish(session, e)
    await relay.stop()
    assert await outbox_size(db) == 0
    assert sorted(e.id for e in bus.published) == sorted(e.id for e in events)


async def test_keeps_events_while_the_bus_fails(db: Database) -> None:
    bus = RecordingBus()
    bus.failures = 2
    relay = OutboxRelay(db, bus, poll_seconds=0.05)
    relay.start()
    try:
        kept = event()
        async with db.transaction() as session:
            await publish(session, kept)
        await eventually(lambda: bus.published == [kept])
    finally:
        await relay.stop()
    assert bus.failures == 0
    assert await outbox_size(db) == 0
