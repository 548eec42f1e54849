"""Publishing to the AWS bus's topic: events in PublishBatch calls SNS accepts.

The deduplication id is the event id, so a batch the outbox relay publishes again within five
minutes adds no copy (past that, the consumer's inbox absorbs it); the group id is the event's
subject, else its id, so the events about one order or one user arrive in order and everything
else in parallel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clearway.kit.bus.events import CloudEvent, split
from clearway.kit.bus.sns_sqs.aws import Aws, call

# SNS takes at most 10 messages and 256 KiB in one PublishBatch, and 256 KiB per message.
PUBLISH_BATCH = 10
MAX_MESSAGE_BYTES = 256 * 1024


async def publish(aws: Aws, events: Sequence[CloudEvent]) -> None:
    """Publish in order; on any error raise, so the caller publishes the whole batch again
    (the topic drops the copies it already has, by event id)."""
    topic = await aws.topic()
    entries = [entry for event in events for entry in _entries(event)]
    for chunk in _chunks(entries):
        answer = await call(
            aws.sns().publish_batch, TopicArn=topic, PublishBatchRequestEntries=chunk
        )
        if answer.get("Failed"):
            failed = answer["Failed"][0]
            raise RuntimeError(f"SNS refused an event: {failed.get('Code')}")


def _entries(event: CloudEvent) -> list[dict[str, Any]]:
    body = event.to_json()
    if len(body) > MAX_MESSAGE_BYTES - 1024:
        # A telemetry envelope too large for one message travels as several.
        try:
            halves = split(event)
        except ValueError:
            raise ValueError(f"event {event.id} is larger than an SNS message can carry") from None
        return [entry for half in halves for entry in _entries(half)]
    return [
        {
            "Id": "0",
            "Message": body.decode(),
            "MessageGroupId": (event.subject or event.id)[:128],
            "MessageDeduplicationId": event.id[:128],
            "MessageAttributes": {"type": {"DataType": "String", "StringValue": event.type}},
        }
    ]


def _chunks(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Entries in PublishBatch calls: at most 10 and 256 KiB each, ids unique per call."""
    chunks: list[list[dict[str, Any]]] = []
    size = 0
    for entry in entries:
        length = len(entry["Message"].encode()) + 64
        if not chunks or len(chunks[-1]) == PUBLISH_BATCH or size + length > MAX_MESSAGE_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append({**entry, "Id": str(len(chunks[-1]))})
        size += length
    return chunks
