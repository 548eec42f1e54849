"""Telemetry publishes once per interval, however fast events arrive.

Under load, events keep arriving while a batch is being stored. The periodic publication must
take what was buffered at its turn and leave the rest for the next one: publishing again at once
turned the quarter-second batches into a stream of small stores (30 a second per worker under
`make bench`, each a trip to the bus's thread and an fsync). `stop` still publishes everything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from clearway.contracts.gateway import GatewayRequest
from clearway.kit.bus import CloudEvent
from clearway.kit.bus import telemetry as telemetry_module
from clearway.kit.bus.events import expand
from clearway.kit.bus.telemetry import Telemetry


def record(request_id: str) -> dict[str, Any]:
    return {
        "route": "/api/identity/me",
        "method": "GET",
        "status": 200,
        "latency_ms": 0.4,
        "role": "customer",
        "user_id": "u1",
        "client": "127.0.0.1",
        "request_id": request_id,
    }


class SlowBus:
    """Each store takes a while, and a request arrives during each of the first three (as
    under load)."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.telemetry: Telemetry | None = None
        self.stored = 0
        self.third = asyncio.Event()

    async def publish_many(self, events: Sequence[CloudEvent]) -> None:
        ids = [e.data["request_id"] for envelope in events for e in expand(envelope)]
        self.log.append("store " + ",".join(ids))
        self.stored += 1
        assert self.telemetry is not None
        if self.stored <= 3:
            self.telemetry.add(GatewayRequest, record(f"during-{self.stored}"))
        if self.stored == 3:
            self.third.set()
        await asyncio.sleep(0)


class Ticks:
    """`asyncio` as the telemetry module sees it, with its interval's sleeps written down."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def sleep(self, seconds: float) -> None:
        self.log.append("tick")
        await asyncio.sleep(0)

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)


async def test_events_arriving_during_a_store_wait_for_the_next_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log: list[str] = []
    monkeypatch.setattr(telemetry_module, "asyncio", Ticks(log))
    bus = SlowBus(log)
    telemetry = bus.telemetry = Telemetry(bus, "test")
    telemetry.add(GatewayRequest, record("first"))
    telemetry.start()
    await bus.third.wait()
    await telemetry.stop()

    assert log[:6] == [
        "tick",
        "store first",
        "tick",
        "store during-1",
        "tick",
        "store during-2",
    ], "one store per interval"
    # Stopping publishes what is left, including what arrived during the last store. That
    # store was cancelled by the stop and may or may not have landed: it is sent again, its
    # events under the same ids (see the test of a failed publication below).
    assert log[-1] == "store during-2,during-3"
    assert sum("during-3" in line for line in log) == 1


async def test_stop_publishes_everything_buffered_and_what_arrives_meanwhile() -> None:
    stored: list[str] = []

    class Bus:
        async def publish_many(self, events: Sequence[CloudEvent]) -> None:
            first = not stored
            stored.extend(e.data["request_id"] for envelope in events for e in expand(envelope))
            if first:  # a request answered while the last records are being stored
                telemetry.add(GatewayRequest, record("late"))
            await asyncio.sleep(0)

    telemetry = Telemetry(Bus(), "test")
    telemetry.start()
    for n in range(1200):  # more than two envelopes' worth
        telemetry.add(GatewayRequest, record(f"r{n}"))
    await telemetry.stop()
    assert stored == [f"r{n}" for n in range(1200)] + ["late"]


async def test_a_failed_publication_is_sent_again_with_the_same_ids() -> None:
    """A bus may fail after storing part of a publication: sent again, its events keep their
    ids, so the monitor counts each once."""
    attempts: list[list[str]] = []

    class HalfWay:
        async def publish_many(self, events: Sequence[CloudEvent]) -> None:
            attempts.append([e.id for envelope in events for e in expand(envelope)])
            if len(attempts) == 1:
                raise ConnectionError("the bus went away after storing the first envelope")

    telemetry = Telemetry(HalfWay(), "test")
    for n in range(700):  # two envelopes
        telemetry.add(GatewayRequest, record(f"r{n}"))
    with pytest.raises(ConnectionError):
        await telemetry.flush()
    telemetry.add(GatewayRequest, record("later"))
    await telemetry.flush()
    first, second = attempts
    assert second[:700] == first, "the same events, under the same ids"
    assert len(set(second)) == 701


async def test_while_the_bus_is_down_the_buffer_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(telemetry_module, "MAX_BUFFER", 10)

    class Down:
        async def publish_many(self, events: Sequence[CloudEvent]) -> None:
            raise ConnectionError("down")

    telemetry = Telemetry(Down(), "test")
    for n in range(8):
        telemetry.add(GatewayRequest, record(f"r{n}"))
    with pytest.raises(ConnectionError):
        await telemetry.flush()
    for n in range(5):  # the eight unsent count: two more fit
        telemetry.add(GatewayRequest, record(f"s{n}"))
    assert telemetry.dropped == 3
