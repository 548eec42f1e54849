from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.bus import CloudEvent, EmbeddedBus, idempotent, idempotent_batch, prune_inbox
from clearway.kit.bus.inbox import inbox
from clearway.kit.db import Database

from .conftest import PATIENCE, applied_ids, apply, event, eventually


async def test_a_duplicate_delivery_is_applied_once(db: Database) -> None:
    handle = idempotent(db, "orders", apply)
    once = event()
    await handle(once)
    await handle(once)
    assert await applied_ids(db) == [once.id]


async def test_each_consumer_applies_an_event_once(db: Database) -> None:
    shared = event()
    await idempotent(db, "orders", apply)(shared)
    await idempotent(db, "billing", apply)(shared)
    assert await applied_ids(db) == [shared.id, shared.id]


async def test_a_failed_handler_leaves_no_inbox_row(db: Database) -> None:
    calls = 0

    async def flaky(e: CloudEvent, session: AsyncSession) -> None:
        nonlocal calls
        calls += 1
        await apply(e, session)
        if calls == 1:
            raise RuntimeError("first try fails")

    handle = idempotent(db, "orders", flaky)
    retried = event()
    with pytest.raises(RuntimeError):
        await handle(retried)
    await handle(retried)
    assert await applied_ids(db) == [retried.id]


async def test_a_redelivery_after_the_lease_is_applied_once(db: Database, bus_path: Path) -> None:
    stalled = EmbeddedBus(bus_path, 3, 0.1, lease_seconds=0.3, poll_seconds=0.05)
    # Only the stalled one holds a short lease; the one taking over holds it long enough for
    # any machine.
    healthy = EmbeddedBus(bus_path, 3, 0.1, lease_seconds=PATIENCE, poll_seconds=0.05)
    handle = idempotent(db, "orders", apply)
    started, release = asyncio.Event(), asyncio.Event()
    deliveries: list[str] = []

    async def slow(e: CloudEvent) -> None:
        deliveries.append(e.id)
        started.set()
        await release.wait()
        await handle(e)

    async def fast(e: CloudEvent) -> None:
        deliveries.append(e.id)
        await handle(e)

    stalled.subscribe("orders", ["*"], slow)
    healthy.subscribe("orders", ["*"], fast)
    await stalled.start()
    try:
        redelivered = event()
        await stalled.publish_many([redelivered])
        await asyncio.wait_for(started.wait(), PATIENCE)
        await healthy.start()
        await eventually(lambda: len(deliveries) == 2)
        release.set()
    finally:
        release.set()
        await stalled.stop()
        await healthy.stop()
    assert deliveries == [redelivered.id, redelivered.id]
    assert await applied_ids(db) == [redelivered.id]


async def test_a_batch_handler_sees_only_new_events(db: Database) -> None:
    seen: list[list[str]] = []

    async def ingest(events: Sequence[CloudEvent], session: AsyncSession) -> None:
        seen.append([e.id for e in events])
        for e in events:
            await apply(e, session)

    handle = idempotent_batch(db, "monitor", ingest)
    a, b, c = event(), event(), event()
    await handle([a, b])
    await handle([b, c, c])
    await handle([a, c])
    assert seen == [[a.id, b.id], [c.id]]
    assert sorted(await applied_ids(db)) == sorted([a.id, b.id, c.id])


async def test_prune_forgets_only_old_entries(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.transaction() as session:
        await session.execute(
            insert(inbox),
            [
                {"consumer": "c", "event_id": "old", "processed_at": now - timedelta(days=8)},
                {"consumer": "c", "event_id": "new", "processed_at": now - timedelta(hours=1)},
            ],
        )
    assert await prune_inbox(db, timedelta(days=7)) == 1
    async with db.read() as session:
        assert list(await session.scalars(select(inbox.c.event_id))) == ["new"]
        assert await session.scalar(select(func.count()).select_from(inbox)) == 1
