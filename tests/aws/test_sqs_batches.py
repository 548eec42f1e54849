"""How a batch from SQS is settled, as the Lambda SQS handler does it (moto)."""

from __future__ import annotations

import asyncio
from typing import ClassVar

import boto3
import pytest

from clearway.kit.bus import CloudEvent, Event
from clearway.kit.bus.events import batch, expand
from clearway.kit.bus.sns_sqs import Received, SnsSqsBus

from .conftest import REGION

pytestmark = pytest.mark.usefixtures("aws_stand_in")


def order_event(name: str, subject: str) -> CloudEvent:
    return CloudEvent.new("/clearway/orders", "order.changed", {"name": name}, subject=subject)


async def receive(bus: SnsSqsBus, queue: str, count: int) -> list[Received]:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=bus.aws.queue_name(queue))["QueueUrl"]
    found: list[Received] = []
    for _ in range(300):  # at least 30 s
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
        found.extend(Received.from_poll(m) for m in answer.get("Messages", []))
        if len(found) >= count:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"{len(found)} of {count} messages arrived")


async def test_a_failed_event_holds_back_the_later_events_about_its_subject() -> None:
    bus = SnsSqsBus(
        "cw-batches",
        lambda service: boto3.client(service, region_name=REGION),
        max_attempts=3,
        retry_base_seconds=0.05,
    )
    applied: list[str] = []
    calls: list[str] = []
    failing = {"a"}

    async def apply(event: CloudEvent) -> None:
        calls.append(event.data["name"])
        if event.data["name"] in failing:
            raise RuntimeError("not yet")
        applied.append(event.data["name"])

    bus.subscribe("orders", ["order.*"], apply)
    await bus.declare()
    await bus.publish_many(
        [order_event("a", "order-1"), order_event("b", "order-1"), order_event("c", "order-2")]
    )

    first = await bus.settle("orders", await receive(bus, "orders", 3))
    # c is about another order: applied. b waits behind a without being tried, and both come
    # back after a's back-off.
    assert calls == ["a", "c"]
    assert applied == ["c"]
    assert [m.attempt for m in first.failed] == [1, 1]
    assert len(first.done) == 1 and not first.not_started

    failing.clear()
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=bus.aws.queue_name("orders"))["QueueUrl"]
    settled = first.done
    # As Lambda does: delete what was settled, take the next batch. (moto's FIFO queue may hand
    # the two back one at a time.)
    for _ in range(20):
        for message in settled:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message.receipt)
        if len(applied) == 3:
            break
        outcome = await bus.settle("orders", await receive(bus, "orders", 1))
        assert not outcome.failed
        settled = outcome.done
    assert sorted(applied) == ["a", "b", "c"]


class Weighed(Event):
    TYPE: ClassVar[str] = "parcel.weighed"
    SOURCE: ClassVar[str] = "/clearway/test"
    grams: int


async def test_a_payload_that_does_not_fit_its_contract_is_dead_lettered_at_once() -> None:
    bus = SnsSqsBus(
        "cw-contract",
        lambda service: boto3.client(service, region_name=REGION),
        max_attempts=5,
        retry_base_seconds=0.05,
    )
    applied: list[int] = []

    async def weigh(event: CloudEvent) -> None:
        applied.append(Weighed.decode(event).grams)  # Undeliverable if it does not fit

    bus.subscribe("scales", [Weighed.TYPE], weigh)
    await bus.declare()
    bad = CloudEvent.new(Weighed.SOURCE, Weighed.TYPE, {"grams": "heavy"})
    await bus.publish_many([bad, Weighed(grams=1200).to_cloudevent()])

    outcome = await bus.settle("scales", await receive(bus, "scales", 2))
    # Not retried (attempt 1 of 5): a payload that does not fit never will.
    assert len(outcome.done) == 2 and not outcome.failed
    assert applied == [1200]
    (letter,) = await bus.dead_letters("scales")
    assert (letter.event.id, letter.attempts) == (bad.id, 1)
    assert "parcel.weighed v1" in letter.last_error


async def test_a_telemetry_batch_too_large_for_one_message_arrives_whole() -> None:
    """SNS carries 256 KiB a message: a larger batch travels as halves whose events keep the
    ids they have in the whole (what the monitor de-duplicates on)."""
    bus = SnsSqsBus(
        "cw-large",
        lambda service: boto3.client(service, region_name=REGION),
        max_attempts=3,
        retry_base_seconds=0.05,
    )

    async def ignore(event: CloudEvent) -> None:
        return None

    bus.subscribe("monitor", ["gateway.request.batch"], ignore)
    await bus.declare()
    rows = [(1_700_000_000.0 + n, "/api/" + "x" * 200, n) for n in range(2000)]  # ~440 KB
    envelope = batch("/clearway/gateway", "gateway.request", ("route", "n"), rows)
    assert len(envelope.to_json()) > 256 * 1024
    await bus.publish_many([envelope])
    messages = await receive(bus, "monitor", 2)
    assert all(len(m.body.encode()) <= 256 * 1024 for m in messages)
    received = [e for m in messages for e in expand(CloudEvent.from_json(m.body))]
    assert sorted(received, key=lambda e: e.data["n"]) == expand(envelope)
