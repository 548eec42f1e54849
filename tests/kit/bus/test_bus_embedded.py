from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from clearway.kit.bus import CloudEvent, DeadLetter, EmbeddedBus
from clearway.kit.bus.embedded import LEASE_EXPIRED, LEASED_INDEX, SCHEMA
from clearway.settings import Settings

from .conftest import PATIENCE, event, eventually, queued, stop_while_handling


async def dead_letters(
    bus: EmbeddedBus, queue: str | None = None, count: int = 1
) -> list[DeadLetter]:
    """Wait until `count` dead letters exist (the last failure is settled after the handler)."""
    deadline = time.monotonic() + PATIENCE
    while len(letters := await bus.dead_letters(queue)) < count:
        assert time.monotonic() < deadline, "no dead letter in time"
        await asyncio.sleep(0.02)
    return letters


async def test_a_republished_event_is_queued_once(bus: EmbeddedBus, bus_path: Path) -> None:
    """The relay publishes again after a crash between publishing and deleting its rows."""

    async def handle(e: CloudEvent) -> None:
        pass

    bus.subscribe("mail", ["*"], handle)
    await bus.start()
    await bus.stop()  # the subscription stays; nobody consumes, so the queue can be inspected
    first, second = event(), event()
    async with EmbeddedBus(bus_path, 3, 0.1) as publisher:
        await publisher.publish_many([first])
        await publisher.publish_many([first, second])
    assert queued(bus_path, "mail") == [(first.id, 0, 0), (second.id, 0, 0)]


async def test_stop_lets_the_running_handler_finish(bus: EmbeddedBus, bus_path: Path) -> None:
    second, third = await stop_while_handling(bus)
    # The prefetched messages it never started are handed back untouched, not left leased.
    assert queued(bus_path, "slow") == [(second.id, 0, 0), (third.id, 0, 0)]


async def test_another_consumer_takes_over_after_the_lease(bus_path: Path) -> None:
    """A consumer that stalls (or crashed) loses its message to another process's consumer."""
    stalled = EmbeddedBus(bus_path, 3, 0.1, lease_seconds=0.3, poll_seconds=0.05)
    # Only the stalled one holds a short lease; the one taking over holds it long enough for
    # any machine.
    healthy = EmbeddedBus(bus_path, 3, 0.1, lease_seconds=PATIENCE, poll_seconds=0.05)
    started, release = asyncio.Event(), asyncio.Event()
    delivered: list[str] = []

    async def stall(e: CloudEvent) -> None:
        started.set()
        await release.wait()

    async def handle(e: CloudEvent) -> None:
        delivered.append(e.id)

    stalled.subscribe("q", ["*"], stall)
    healthy.subscribe("q", ["*"], handle)
    await stalled.start()
    try:
        only = event()
        await stalled.publish_many([only])
        await asyncio.wait_for(started.wait(), PATIENCE)
        await healthy.start()
        # Settled (deleted) by the consumer that took over, before the stalled one wakes up.
        await eventually(lambda: delivered == [only.id] and queued(bus_path, "q") == [])
    finally:
        release.set()
        await stalled.stop()
        await healthy.stop()


async def test_a_message_whose_consumer_keeps_dying_becomes_a_dead_letter(
    bus_path: Path,
) -> None:
    crashing = EmbeddedBus(bus_path, 1, 0.1, lease_seconds=0.2, poll_seconds=0.05)
    survivor = EmbeddedBus(bus_path, 1, 0.1, lease_seconds=PATIENCE, poll_seconds=0.05)
    started, release = asyncio.Event(), asyncio.Event()
    delivered: list[str] = []

    async def crash(e: CloudEvent) -> None:
        started.set()
        await release.wait()
        raise RuntimeError("never comes back")

    async def handle(e: CloudEvent) -> None:
        delivered.append(e.id)

    crashing.subscribe("q", ["*"], crash)
    survivor.subscribe("q", ["*"], handle)
    await crashing.start()
    try:
        await crashing.publish_many([event()])
        await asyncio.wait_for(started.wait(), PATIENCE)
        await survivor.start()
        await eventually(lambda: queued(bus_path, "q")[0][2] == 1)
        letters = await survivor.dead_letters()
        assert [letter.last_error for letter in letters] == [LEASE_EXPIRED]
        assert delivered == []
    finally:
        release.set()
        await crashing.stop()
        await survivor.stop()
    assert queued(bus_path, "q")[0][2] == 1, "the late failure leaves the dead letter alone"


async def test_concurrent_publishers_share_transactions(
    bus: EmbeddedBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many small concurrent publishes are committed in a few transactions, none lost."""
    transactions: list[int] = []
    insert = bus._insert

    def counted(rows: list[tuple[str, str, bytes]]) -> set[str]:
        transactions.append(len(rows))
        return insert(rows)

    monkeypatch.setattr(bus, "_insert", counted)
    received: list[str] = []

    async def handle(events: Sequence[CloudEvent]) -> None:
        received.extend(e.id for e in events)

    bus.subscribe_batch("monitor", ["*"], handle)
    await bus.start()
    events = [event(n=n) for n in range(200)]
    await asyncio.gather(*(bus.publish_many([e]) for e in events))

    assert sum(transactions) == 200
    assert len(transactions) < 20
    await eventually(lambda: sorted(received) == sorted(e.id for e in events))


async def test_an_admin_command_lists_and_replays_without_consuming(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    service = EmbeddedBus.from_settings(settings)
    service.max_attempts, service.poll_seconds = 1, 0.05

    async def broken(e: CloudEvent) -> None:
        raise KeyError("missing")

    service.subscribe("orders", ["*"], broken)
    await service.start()
    lost = event()
    await service.publish_many([lost])
    await dead_letters(service)
    await service.stop()

    async with EmbeddedBus.from_settings(settings) as admin:
        [letter] = await admin.dead_letters()
        assert (letter.queue, letter.event, letter.last_error) == (
            "orders",
            lost,
            "KeyError: 'missing'",
        )
        assert await admin.replay([letter.id, 999]) == 1
    assert queued(tmp_path / "bus.db", "orders") == [(lost.id, 0, 0)]

    await admin.stop()  # stopping twice is harmless
    with pytest.raises(RuntimeError, match="stopped"):
        await admin.dead_letters()


async def test_a_version_1_file_gets_the_lease_index_and_keeps_its_messages(
    bus_path: Path,
) -> None:
    """Files written before the lease index existed are upgraded in place when opened."""
    with sqlite3.connect(bus_path) as conn:
        for statement in SCHEMA.replace(LEASED_INDEX + ";", "").split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT INTO subscriptions VALUES ('mail', '*')")
        conn.execute(
            "INSERT INTO messages (queue, event_id, type, payload, available_at)"
            " VALUES ('mail', 'e1', 't', ?, 0)",
            (event().to_json(),),
        )
        conn.execute("PRAGMA user_version=1")
    conn.close()
    async with EmbeddedBus(bus_path, 3, 0.1) as bus:
        assert len(await bus.dead_letters()) == 0  # opens (and upgrades) the file
    with sqlite3.connect(bus_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (2,)
        plan = conn.execute(
            "EXPLAIN QUERY PLAN UPDATE messages SET dead = 1"
            " WHERE queue = 'mail' AND dead = 0 AND leased_until < 1 AND attempts >= 3"
        ).fetchall()
        assert "messages_leased" in str(plan)
        assert conn.execute("SELECT event_id FROM messages").fetchall() == [("e1",)]
    conn.close()
