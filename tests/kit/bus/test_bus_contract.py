"""The bus contract: what every adapter (embedded SQLite, NATS JetStream) promises a service.

Each test runs once per adapter (`bus_factory`); buses made by one factory share their queues,
as the processes of one deployment do.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from clearway.kit.bus import (
    Bus,
    CloudEvent,
    DeadLetter,
    Handler,
    OutboxRelay,
    idempotent,
    publish,
)
from clearway.kit.db import Database

from .conftest import (
    PATIENCE,
    BusFactory,
    applied_ids,
    apply,
    event,
    eventually,
    stop_while_handling,
)


class Boom(Exception):
    pass


async def dead_letters(bus: Bus, queue: str | None = None, count: int = 1) -> list[DeadLetter]:
    """Wait until `count` dead letters exist (the last failure is settled after the handler)."""
    deadline = time.monotonic() + PATIENCE
    while len(letters := await bus.dead_letters(queue)) < count:
        assert time.monotonic() < deadline, "no dead letter in time"
        await asyncio.sleep(0.02)
    return letters


def recorder(into: list[CloudEvent]) -> Handler:
    async def handle(e: CloudEvent) -> None:
        into.append(e)

    return handle


async def settle(bus: Bus, topic: str, *received: list[CloudEvent]) -> CloudEvent:
    """Publish a marker each of the `received` lists gets, and wait until all have it: a queue
    delivers in order, so whatever the earlier events still had to bring has arrived by then."""
    marker = event(topic, marker=True)
    await bus.publish_many([marker])
    await eventually(lambda: all(marker in into for into in received))
    return marker


async def test_fans_out_one_copy_per_subscribed_queue(any_bus: Bus) -> None:
    billing: list[CloudEvent] = []
    mail: list[CloudEvent] = []
    audit: list[CloudEvent] = []
    any_bus.subscribe("billing", ["order.created"], recorder(billing))
    any_bus.subscribe("mail", ["order.*", "user.registered"], recorder(mail))
    any_bus.subscribe("audit", ["*"], recorder(audit))
    await any_bus.start()
    created, paid, registered, other = (
        event("order.created"),
        event("order.paid"),
        event("user.registered"),
        event("rule.changed"),
    )
    await any_bus.publish_many([created, paid, registered, other])

    await eventually(lambda: len(audit) == 4 and len(mail) == 3 and len(billing) == 1)
    marker = await settle(any_bus, "order.created", billing, mail, audit)  # and nothing more
    assert billing == [created, marker]
    assert mail == [created, paid, registered, marker]
    assert audit == [created, paid, registered, other, marker]


async def test_patterns_match_by_prefix_only(any_bus: Bus) -> None:
    orders: list[CloudEvent] = []
    any_bus.subscribe("orders", ["order.*", "order.created"], recorder(orders))
    await any_bus.start()
    wanted = [event("order.created"), event("order.line.added")]
    await any_bus.publish_many([event("orders.created"), event("order"), *wanted])
    await eventually(lambda: len(orders) == 2)
    marker = await settle(any_bus, "order.created", orders)
    assert orders == [*wanted, marker]


async def test_subscription_outlives_the_subscriber(bus_factory: BusFactory) -> None:
    """Events published while the subscribing service is down wait in its queue."""
    received: list[CloudEvent] = []
    subscriber = bus_factory()
    subscriber.subscribe("mail", ["user.*"], recorder(received))
    await subscriber.start()
    await subscriber.stop()

    async with bus_factory() as publisher:
        registered = event("user.registered")
        await publisher.publish_many([registered])

    restarted = bus_factory()
    restarted.subscribe("mail", ["user.*"], recorder(received))
    await restarted.start()
    await eventually(lambda: received == [registered])


async def test_a_republished_event_is_queued_once(bus_factory: BusFactory) -> None:
    """The relay publishes again after a crash between publishing and deleting its rows."""
    received: list[CloudEvent] = []
    subscriber = bus_factory()
    subscriber.subscribe("mail", ["*"], recorder(received))
    await subscriber.start()
    await subscriber.stop()  # the subscription stays; nobody consumes while both are published
    first, second = event(), event()
    async with bus_factory() as publisher:
        await publisher.publish_many([first])
        await publisher.publish_many([first, second])

    restarted = bus_factory()
    restarted.subscribe("mail", ["*"], recorder(received))
    await restarted.start()
    await eventually(lambda: len(received) == 2)
    marker = await settle(restarted, "order.created", received)
    assert received == [first, second, marker]


async def test_failing_handler_retries_with_back_off_then_dead_letters_and_replays(
    any_bus: Bus,
) -> None:
    attempts: list[float] = []
    applied_events: list[CloudEvent] = []
    broken = True

    async def handle(e: CloudEvent) -> None:
        attempts.append(time.monotonic())
        if broken:
            raise RuntimeError("warehouse unreachable")
        applied_events.append(e)

    any_bus.subscribe("stock", ["order.*"], handle)
    await any_bus.start()
    failing = event("order.created", order="o1")
    await any_bus.publish_many([failing])

    await eventually(lambda: len(attempts) == 3)
    # Base 0.1 s, doubling, jittered down to at most half: gaps of at least 0.05 s then 0.1 s.
    assert attempts[1] - attempts[0] >= 0.05
    assert attempts[2] - attempts[1] >= 0.1
    letters = await dead_letters(any_bus, "stock")
    assert len(letters) == 1
    letter = letters[0]
    assert (letter.queue, letter.event, letter.attempts) == ("stock", failing, 3)
    assert letter.last_error == "RuntimeError: warehouse unreachable"
    assert letter.failed_at.tzinfo is not None
    assert await any_bus.dead_letters("other") == []

    await asyncio.sleep(0.3)
    assert len(attempts) == 3, "a dead letter is not retried"

    broken = False
    assert await any_bus.replay([letter.id]) == 1
    await eventually(lambda: applied_events == [failing])
    assert await any_bus.dead_letters() == []
    assert await any_bus.replay(None) == 0


async def test_replay_reaches_only_the_queue_it_came_from(bus_factory: BusFactory) -> None:
    bus = bus_factory(max_attempts=1, retry_base_seconds=0.01)
    broken = True
    seen: list[str] = []
    other_calls: list[str] = []
    audited: list[CloudEvent] = []

    async def handle(e: CloudEvent) -> None:
        if broken:
            raise ValueError("bad")
        seen.append(e.id)

    async def other(e: CloudEvent) -> None:
        other_calls.append(e.id)
        raise ValueError("worse")

    bus.subscribe("a", ["x"], handle)
    bus.subscribe("b", ["x"], other)
    bus.subscribe("audit", ["*"], recorder(audited))
    await bus.start()
    events = [event("x"), event("x")]
    await bus.publish_many(events)
    await dead_letters(bus, count=4)
    broken = False
    assert await bus.replay(None, queue="a") == 2
    await eventually(lambda: sorted(seen) == sorted(e.id for e in events))
    # A marker through all three queues: a replay wrongly sent to b or audit would come first.
    marker = event("x")
    await bus.publish_many([marker])
    await eventually(lambda: marker.id in seen and marker.id in other_calls and marker in audited)
    assert sorted(seen) == sorted(e.id for e in [*events, marker])
    assert sorted(other_calls) == sorted(e.id for e in [*events, marker]), "b saw no replay"
    assert audited == [*events, marker], "the audit queue saw no replay"
    assert {letter.queue for letter in await bus.dead_letters()} == {"b"}


async def test_batch_subscription_receives_batches_in_order(any_bus: Bus) -> None:
    batches: list[Sequence[CloudEvent]] = []

    async def ingest(events: Sequence[CloudEvent]) -> None:
        batches.append(events)

    any_bus.subscribe_batch("monitor", ["gateway.request"], ingest, max_batch=500)
    await any_bus.start()
    events = [event("gateway.request", n=n) for n in range(1200)]
    for start in range(0, 1200, 300):
        await any_bus.publish_many(events[start : start + 300])

    await eventually(lambda: sum(map(len, batches)) == 1200)
    assert max(map(len, batches)) <= 500
    assert [e for batch in batches for e in batch] == events


async def test_a_poison_event_cannot_sink_its_batch(bus_factory: BusFactory) -> None:
    bus = bus_factory(max_attempts=2, retry_base_seconds=0.01)
    applied_events: list[CloudEvent] = []

    async def ingest(events: Sequence[CloudEvent]) -> None:
        if any(e.data.get("poison") for e in events):
            raise ValueError("cannot parse")
        applied_events.extend(events)

    bus.subscribe_batch("monitor", ["*"], ingest)
    await bus.start()
    events = [event(n=n, poison=n == 4) for n in range(10)]
    await bus.publish_many(events)
    await eventually(lambda: len(applied_events) == 9)
    letters = await dead_letters(bus)
    assert [letter.event for letter in letters] == [events[4]]


async def test_stop_lets_the_running_handler_finish(bus_factory: BusFactory) -> None:
    second, third = await stop_while_handling(bus_factory())

    # The messages it never started are handed back at once, for the next consumer.
    later: list[CloudEvent] = []
    restarted = bus_factory()
    restarted.subscribe("slow", ["*"], recorder(later))
    await restarted.start()
    await eventually(lambda: len(later) == 2)
    marker = await settle(restarted, "order.created", later)
    assert later == [second, third, marker]


async def test_subscriptions_are_checked(any_bus: Bus) -> None:
    async def handle(e: CloudEvent) -> None:
        pass

    with pytest.raises(ValueError, match="topic"):
        any_bus.subscribe("q", ["*.created"], handle)
    any_bus.subscribe("q", ["order.*"], handle)
    with pytest.raises(ValueError, match="already"):
        any_bus.subscribe("q", ["user.*"], handle)
    await any_bus.start()
    with pytest.raises(RuntimeError, match="before"):
        any_bus.subscribe("r", ["*"], handle)


async def test_a_large_burst_is_consumed_in_batches_without_loss(any_bus: Bus) -> None:
    """The monitor ingests thousands of gateway events a second in batches (its rate is
    measured by `python -m bench.monitor_ingest`, not here): every event arrives, once."""
    received: list[str] = []
    batch_sizes: list[int] = []

    async def ingest(events: Sequence[CloudEvent]) -> None:
        batch_sizes.append(len(events))
        received.extend(e.id for e in events)

    any_bus.subscribe_batch("monitor", ["gateway.request"], ingest)
    await any_bus.start()
    published = [event("gateway.request", path="/v1/x") for _ in range(10_000)]
    for start in range(0, len(published), 500):
        await any_bus.publish_many(published[start : start + 500])
    await eventually(lambda: len(received) >= 10_000, seconds=30)
    assert sorted(received) == sorted(e.id for e in published)
    assert max(batch_sizes) > 1  # consumed in batches, not one by one


async def test_an_admin_bus_lists_and_replays_without_consuming(bus_factory: BusFactory) -> None:
    service = bus_factory(max_attempts=1)

    async def broken(e: CloudEvent) -> None:
        raise KeyError("missing")

    service.subscribe("orders", ["*"], broken)
    await service.start()
    lost = event()
    await service.publish_many([lost])
    await dead_letters(service)
    await service.stop()

    async with bus_factory() as admin:
        [letter] = await admin.dead_letters()
        assert (letter.queue, letter.event, letter.last_error) == (
            "orders",
            lost,
            "KeyError: 'missing'",
        )
        assert await admin.replay([letter.id, 999]) == 1
        assert await admin.dead_letters() == []

    await admin.stop()  # stopping twice is harmless
    with pytest.raises(RuntimeError, match="stopped"):
        await admin.dead_letters()

    # The replayed event waits in the queue for the service's next start.
    received: list[CloudEvent] = []
    restarted = bus_factory()
    restarted.subscribe("orders", ["*"], recorder(received))
    await restarted.start()
    await eventually(lambda: received == [lost])


async def test_the_same_event_published_twice_is_applied_once(db: Database, any_bus: Bus) -> None:
    deliveries: list[str] = []
    handle = idempotent(db, "orders", apply)

    async def counted(e: CloudEvent) -> None:
        deliveries.append(e.id)
        await handle(e)

    any_bus.subscribe("orders", ["*"], counted)
    await any_bus.start()
    twice = event()
    await any_bus.publish_many([twice])
    await eventually(lambda: len(deliveries) == 1)
    # Published again: the embedded bus delivers it again, NATS (within its duplicate window)
    # drops it; either way it is applied once. A marker after it shows delivery got past it.
    marker = event()
    await any_bus.publish_many([twice])
    await any_bus.publish_many([marker])
    await eventually(lambda: marker.id in deliveries)
    assert deliveries in ([twice.id, marker.id], [twice.id, twice.id, marker.id])
    assert await applied_ids(db) == [twice.id, marker.id]


async def test_rolled_back_event_is_never_delivered_and_committed_one_is(
    db: Database, any_bus: Bus
) -> None:
    received: list[CloudEvent] = []
    any_bus.subscribe("orders", ["order.*"], recorder(received))
    await any_bus.start()
    relay = OutboxRelay(db, any_bus)
    relay.start()
    try:
        with pytest.raises(Boom):
            async with db.transaction() as session:
                await publish(session, event("order.created", order="lost"))
                raise Boom
        committed = event("order.created", order="kept")
        async with db.transaction() as session:
            await publish(session, committed)
        # The outbox relays in commit order: the marker comes after anything left before it.
        marker = event("order.created", marker=True)
        async with db.transaction() as session:
            await publish(session, marker)
        await eventually(lambda: marker in received)
    finally:
        await relay.stop()
    assert received == [committed, marker]
