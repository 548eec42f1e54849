from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from clearway.kit.bus import CloudEvent, DeadLetter, EmbeddedBus
from clearway.kit.bus.embedded import LEASE_EXPIRED
from clearway.settings import Settings

from .conftest import event, eventually, queued


async def dead_letters(
    bus: EmbeddedBus, queue: str | None = None, count: int = 1
) -> list[DeadLetter]:
    """Wait until `count` dead letters exist (the last failure is settled after the handler)."""
    deadline = time.monotonic() + 5
    while len(letters := await bus.dead_letters(queue)) < count:
        assert time.monotonic() < deadline, "no dead letter in time"
        await asyncio.sleep(0.02)
    return letters


async def test_fans_out_one_copy_per_subscribed_queue(bus: EmbeddedBus) -> None:
    billing: list[CloudEvent] = []
    mail: list[CloudEvent] = []
    audit: list[CloudEvent] = []

    async def to_billing(e: CloudEvent) -> None:
        billing.append(e)

    async def to_mail(e: CloudEvent) -> None:
        mail.append(e)

    async def to_audit(e: CloudEvent) -> None:
        audit.append(e)

    bus.subscribe("billing", ["order.created"], to_billing)
    bus.subscribe("mail", ["order.*", "user.registered"], to_mail)
    bus.subscribe("audit", ["*"], to_audit)
    await bus.start()
    created, paid, registered, other = (
        event("order.created"),
        event("order.paid"),
        event("user.registered"),
        event("rule.changed"),
    )
    await bus.publish_many([created, paid, registered, other])

    await eventually(lambda: len(audit) == 4 and len(mail) == 3 and len(billing) == 1)
    assert billing == [created]
    assert mail == [created, paid, registered]
    assert audit == [created, paid, registered, other]


async def test_subscription_outlives_the_subscriber(bus_path: Path) -> None:
    """Events published while the subscribing service is down wait in its queue."""
    subscriber = EmbeddedBus(bus_path, 3, 0.1, poll_seconds=0.1)
    received: list[CloudEvent] = []

    async def handle(e: CloudEvent) -> None:
        received.append(e)

    subscriber.subscribe("mail", ["user.*"], handle)
    await subscriber.start()
    await subscriber.stop()

    async with EmbeddedBus(bus_path, 3, 0.1) as publisher:
        registered = event("user.registered")
        await publisher.publish_many([registered])

    restarted = EmbeddedBus(bus_path, 3, 0.1, poll_seconds=0.1)
    restarted.subscribe("mail", ["user.*"], handle)
    await restarted.start()
    try:
        await eventually(lambda: received == [registered])
    finally:
        await restarted.stop()


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


async def test_failing_handler_retries_with_back_off_then_dead_letters_and_replays(
    bus: EmbeddedBus,
) -> None:
    attempts: list[float] = []
    applied: list[CloudEvent] = []
    broken = True

    async def handle(e: CloudEvent) -> None:
        attempts.append(time.monotonic())
        if broken:
            raise RuntimeError("warehouse unreachable")
        applied.append(e)

    bus.subscribe("stock", ["order.*"], handle)
    await bus.start()
    failing = event("order.created", order="o1")
    await bus.publish_many([failing])

    await eventually(lambda: len(attempts) == 3)
    # Base 0.1 s, doubling, jittered down to at most half: gaps of at least 0.05 s then 0.1 s.
    assert attempts[1] - attempts[0] >= 0.05
    assert attempts[2] - attempts[1] >= 0.1
    letters = await dead_letters(bus, "stock")
    assert len(letters) == 1
    letter = letters[0]
    assert (letter.queue, letter.event, letter.attempts) == ("stock", failing, 3)
    assert letter.last_error == "RuntimeError: warehouse unreachable"
    assert letter.failed_at.tzinfo is not None
    assert await bus.dead_letters("other") == []

    await asyncio.sleep(0.3)
    assert len(attempts) == 3, "a dead letter is not retried"

    broken = False
    assert await bus.replay([letter.id]) == 1
    await eventually(lambda: applied == [failing])
    assert await bus.dead_letters() == []
    assert await bus.replay(None) == 0


async def test_replay_all_of_one_queue(bus_path: Path) -> None:
    bus = EmbeddedBus(bus_path, max_attempts=1, retry_base_seconds=0.01, poll_seconds=0.1)
    broken = True
    seen: list[str] = []

    async def handle(e: CloudEvent) -> None:
        if broken:
            raise ValueError("bad")
        seen.append(e.id)

    async def other(e: CloudEvent) -> None:
        raise ValueError("worse")

    bus.subscribe("a", ["x"], handle)
    bus.subscribe("b", ["x"], other)
    await bus.start()
    try:
        events = [event("x"), event("x")]
        await bus.publish_many(events)
        await dead_letters(bus, count=4)
        broken = False
        assert await bus.replay(None, queue="a") == 2
        await eventually(lambda: sorted(seen) == sorted(e.id for e in events))
        assert {letter.queue for letter in await bus.dead_letters()} == {"b"}
    finally:
        await bus.stop()


async def test_batch_subscription_receives_batches_in_order(bus: EmbeddedBus) -> None:
    batches: list[Sequence[CloudEvent]] = []

    async def ingest(events: Sequence[CloudEvent]) -> None:
        batches.append(events)

    bus.subscribe_batch("monitor", ["gateway.request"], ingest, max_batch=500)
    await bus.start()
    events = [event("gateway.request", n=n) for n in range(1200)]
    for start in range(0, 1200, 300):
        await bus.publish_many(events[start : start + 300])

    await eventually(lambda: sum(map(len, batches)) == 1200)
    assert max(map(len, batches)) <= 500
    assert [e for batch in batches for e in batch] == events


async def test_a_poison_event_cannot_sink_its_batch(bus_path: Path) -> None:
    bus = EmbeddedBus(bus_path, max_attempts=2, retry_base_seconds=0.01, poll_seconds=0.1)
    applied: list[CloudEvent] = []

    async def ingest(events: Sequence[CloudEvent]) -> None:
        if any(e.data.get("poison") for e in events):
            raise ValueError("cannot parse")
        applied.extend(events)

    bus.subscribe_batch("monitor", ["*"], ingest)
    await bus.start()
    try:
        events = [event(n=n, poison=n == 4) for n in range(10)]
        await bus.publish_many(events)
        await eventually(lambda: len(applied) == 9)
        letters = await dead_letters(bus)
        assert [letter.event for letter in letters] == [events[4]]
    finally:
        await bus.stop()


async def test_stop_lets_the_running_handler_finish(bus: EmbeddedBus, bus_path: Path) -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    finished: list[str] = []

    async def slow(e: CloudEvent) -> None:
        started.set()
        await release.wait()
        finished.append(e.id)

    bus.subscribe("slow", ["*"], slow)
    await bus.start()
    first, second, third = event(), event(), event()
    await bus.publish_many([first, second, third])
    await asyncio.wait_for(started.wait(), 5)

    stopping = asyncio.create_task(bus.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, 5)

    assert finished == [first.id]
    # The prefetched messages it never started are handed back untouched, not left leased.
    assert queued(bus_path, "slow") == [(second.id, 0, 0), (third.id, 0, 0)]


async def test_another_consumer_takes_over_after_the_lease(bus_path: Path) -> None:
    """A consumer that stalls (or crashed) loses its message to another process's consumer."""
    stalled = EmbeddedBus(bus_path, 3, 0.1, lease_seconds=0.3, poll_seconds=0.05)
    healthy = EmbeddedBus(bus_path, 3, 0.1, lease_seconds=0.3, poll_seconds=0.05)
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
        await asyncio.wait_for(started.wait(), 5)
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
    survivor = EmbeddedBus(bus_path, 1, 0.1, lease_seconds=0.2, poll_seconds=0.05)
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
        await asyncio.wait_for(started.wait(), 5)
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


async def test_subscriptions_are_checked(bus: EmbeddedBus) -> None:
    async def handle(e: CloudEvent) -> None:
        pass

    with pytest.raises(ValueError, match="topic"):
        bus.subscribe("q", ["*.created"], handle)
    bus.subscribe("q", ["order.*"], handle)
    with pytest.raises(ValueError, match="already"):
        bus.subscribe("q", ["user.*"], handle)
    await bus.start()
    with pytest.raises(RuntimeError, match="before"):
        bus.subscribe("r", ["*"], handle)


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


async def test_throughput_of_batched_publish_and_batch_consumption(bus: EmbeddedBus) -> None:
    """The monitor ingests 5,000 gateway events a second; the queue must not be the limit."""
    received = 0

    async def ingest(events: Sequence[CloudEvent]) -> None:
        nonlocal received
        received += len(events)

    bus.subscribe_batch("monitor", ["gateway.request"], ingest)
    await bus.start()
    began = time.monotonic()
    for _ in range(20):
        await bus.publish_many([event("gateway.request", path="/v1/x") for _ in range(500)])
    await eventually(lambda: received == 10_000, seconds=10)
    assert time.monotonic() - began < 2.0  # 5,000/s


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
