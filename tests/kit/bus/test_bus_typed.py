"""Typed events on the bus: published and received as contract classes, on every adapter.

A payload that does not fit its class is dead-lettered at once with the validation error as
the reason, and the consumer goes on with the next event; a consumer of a newer schema version
reads an older payload, and the other way round.
"""

from __future__ import annotations

from typing import ClassVar

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.bus import Bus, CloudEvent, Event, OutboxRelay, idempotent, publish, subscribe
from clearway.kit.bus.contract import Subscription
from clearway.kit.db import Database

from .conftest import eventually
from .test_bus_contract import dead_letters


class ParcelWeighedV1(Event):
    TYPE: ClassVar[str] = "parcel.weighed"
    SOURCE: ClassVar[str] = "/clearway/test"
    SUBJECT: ClassVar[str | None] = "parcel_id"
    parcel_id: str
    grams: int


class ParcelWeighedV2(ParcelWeighedV1):
    """Version 2 adds an optional field: not a breaking change."""

    VERSION: ClassVar[int] = 2
    scale: str | None = None


def consume(bus: Bus, db: Database, queue: str, subscription: Subscription) -> None:
    """What the runtime does with a service's subscription."""
    bus.subscribe(queue, subscription.topics, idempotent(db, queue, subscription.handle))


async def test_published_by_class_and_received_typed(db: Database, any_bus: Bus) -> None:
    received: list[ParcelWeighedV1] = []

    async def weighed(event: ParcelWeighedV1, session: AsyncSession) -> None:
        received.append(event)

    consume(any_bus, db, "scales", subscribe(ParcelWeighedV1, weighed))
    await any_bus.start()
    relay = OutboxRelay(db, any_bus)
    relay.start()
    try:
        async with db.transaction() as session:
            await publish(session, ParcelWeighedV1(parcel_id="p1", grams=1200))
        await eventually(lambda: len(received) == 1)
    finally:
        await relay.stop()

    event = received[0]
    assert (type(event), event.parcel_id, event.grams) == (ParcelWeighedV1, "p1", 1200)
    envelope = event.envelope
    assert (envelope.type, envelope.source, envelope.subject) == (
        "parcel.weighed",
        "/clearway/test",
        "p1",
    )
    assert envelope.data == {"parcel_id": "p1", "grams": 1200}


async def test_an_invalid_payload_is_dead_lettered_with_the_reason_and_the_next_one_applied(
    db: Database, any_bus: Bus
) -> None:
    received: list[str] = []

    async def weighed(event: ParcelWeighedV1, session: AsyncSession) -> None:
        received.append(event.parcel_id)

    consume(any_bus, db, "scales", subscribe(ParcelWeighedV1, weighed))
    await any_bus.start()
    broken = CloudEvent.new("/clearway/test", "parcel.weighed", {"parcel_id": "p1", "grams": "a"})
    fine = ParcelWeighedV1(parcel_id="p2", grams=5).to_cloudevent()
    await any_bus.publish_many([broken, fine])

    letters = await dead_letters(any_bus, "scales")
    await eventually(lambda: received == ["p2"])
    assert len(letters) == 1
    letter = letters[0]
    assert letter.event.id == broken.id
    assert letter.attempts == 1, "a payload that cannot fit is not retried"
    assert letter.last_error.startswith("Undeliverable: parcel.weighed v1: 1 validation error")
    assert "grams" in letter.last_error


async def test_a_version_2_consumer_reads_a_version_1_payload(db: Database, any_bus: Bus) -> None:
    received: list[ParcelWeighedV2] = []

    async def weighed(event: ParcelWeighedV2, session: AsyncSession) -> None:
        received.append(event)

    consume(any_bus, db, "scales", subscribe(ParcelWeighedV2, weighed))
    await any_bus.start()
    await any_bus.publish_many([ParcelWeighedV1(parcel_id="p1", grams=7).to_cloudevent()])

    await eventually(lambda: len(received) == 1)
    event = received[0]
    assert isinstance(event, ParcelWeighedV2)
    assert (event.parcel_id, event.grams, event.scale) == ("p1", 7, None)


def test_a_version_1_consumer_reads_a_version_2_payload() -> None:
    newer = ParcelWeighedV2(parcel_id="p1", grams=7, scale="dock-3").to_cloudevent()
    assert newer.data["scale"] == "dock-3"
    older = ParcelWeighedV1.decode(newer)
    assert older.model_dump() == {"parcel_id": "p1", "grams": 7}


def test_optional_fields_left_out_stay_off_the_wire() -> None:
    assert ParcelWeighedV2(parcel_id="p1", grams=7).payload() == {"parcel_id": "p1", "grams": 7}


def test_a_publisher_cannot_build_an_invalid_event() -> None:
    with pytest.raises(ValidationError, match="grams"):
        ParcelWeighedV1(parcel_id="p1", grams="heavy")
