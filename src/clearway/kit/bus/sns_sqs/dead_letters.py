"""The AWS bus's dead letters: one FIFO queue per queue (`<prefix>-<queue>-dlq.fifo`).

A message's last failure is copied there with attempts, error and time as message attributes.
Listing holds every letter invisible while it is read, then releases it; a replay sends the
event straight back to the queue it came from, so no other queue sees it twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from clearway.kit.bus.bus import MAX_ERROR_CHARS, DeadLetter
from clearway.kit.bus.delivery import NOT_SETTLED
from clearway.kit.bus.events import CloudEvent
from clearway.kit.bus.sns_sqs.aws import Aws, call
from clearway.kit.bus.sns_sqs.messages import RECEIVE_BATCH, Received

SOURCE, UNREADABLE = "/clearway/bus", "clearway.bus.unreadable"
ATTEMPTS, ERROR, FAILED_AT = "clearway_attempts", "clearway_error", "clearway_failed_at"
Held = tuple[DeadLetter, str, dict[str, Any]]


def letter_id(message_id: str) -> int:
    """A dead letter's number, as operators type it: 60 bits of its SQS message id (a UUID)."""
    return int(uuid.UUID(message_id).hex[:15], 16)


class DeadLetterQueues:
    def __init__(self, aws: Aws) -> None:
        self.aws = aws

    async def add(self, queue: str, message: Received, attempts: int, error: str) -> None:
        """Copy to the queue's DLQ; its deduplication id makes a repeated copy a no-op."""
        dlq = await self.aws.queue_url(queue, dlq=True)
        await call(
            self.aws.sqs().send_message,
            QueueUrl=dlq,
            MessageBody=message.body,
            MessageGroupId=message.message_id,
            MessageDeduplicationId=message.message_id,
            MessageAttributes={
                ATTEMPTS: {"DataType": "Number", "StringValue": str(attempts)},
                ERROR: {"DataType": "String", "StringValue": error or "-"},
                FAILED_AT: {"DataType": "String", "StringValue": datetime.now(UTC).isoformat()},
            },
        )

    async def letters(self, queue: str | None) -> list[DeadLetter]:
        letters = [letter for letter, _, _ in await call(self._held, queue, True)]
        return sorted(letters, key=lambda letter: letter.failed_at)

    async def replay(self, ids: Sequence[int] | None, queue: str | None) -> int:
        """Send each letter back to the queue it came from, then delete it from the DLQ.

        A crash in between replays it twice, which the queue's inbox absorbs.
        """
        return await call(self._replay, ids, queue)

    def _replay(self, ids: Sequence[int] | None, queue: str | None) -> int:
        held = self._held(queue, False)
        wanted = None if ids is None else set(ids)
        chosen = [h for h in held if wanted is None or h[0].id in wanted]
        sqs = self.aws.sqs()
        for letter, dlq_url, message in chosen:
            sqs.send_message(
                QueueUrl=self.aws.queue_url_sync(letter.queue),
                MessageBody=letter.event.to_json().decode(),
                MessageGroupId=message.get("Attributes", {}).get(
                    "MessageGroupId", message["MessageId"]
                ),
                MessageDeduplicationId=f"replay-{message['MessageId']}",
            )
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
        self._release([h for h in held if h not in chosen])
        return len(chosen)

    def _held(self, queue: str | None, release: bool) -> list[Held]:
        """Every letter of one DLQ or all, each held (invisible) until released or deleted."""
        sqs = self.aws.sqs()
        if queue is not None:
            urls = {queue: self.aws.queue_url_sync(queue, dlq=True, create=False)}
        else:
            urls = self._queues()
        held: list[Held] = []
        for name, url in urls.items():
            if url is None:
                continue
            while True:
                answer = sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=RECEIVE_BATCH,
                    VisibilityTimeout=60,
                    WaitTimeSeconds=0,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
                messages = answer.get("Messages", [])
                if not messages:
                    break
                held.extend((_letter(name, m), url, m) for m in messages)
        if release:
            self._release(held)
        return held

    def _release(self, held: Sequence[Held]) -> None:
        sqs = self.aws.sqs()
        for _, url, message in held:
            with suppress(Exception):
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )

    def _queues(self) -> dict[str, str | None]:
        """Every DLQ of this bus, by the Clearway queue it belongs to."""
        found: dict[str, str | None] = {}
        start, end = f"{self.aws.prefix}-", "-dlq.fifo"
        for page in self.aws.sqs().get_paginator("list_queues").paginate(QueueNamePrefix=start):
            for url in page.get("QueueUrls", []):
                name = url.rsplit("/", 1)[-1]
                if name.startswith(start) and name.endswith(end):
                    found[_queue_from_token(name[len(start) : -len(end)])] = url
        return found


def _letter(queue: str, message: dict[str, Any]) -> DeadLetter:
    attributes = message.get("MessageAttributes", {})
    system = message.get("Attributes", {})

    def text(name: str) -> str | None:
        value = attributes.get(name)
        return None if value is None else str(value["StringValue"])

    failed_at = text(FAILED_AT)
    sent = datetime.fromtimestamp(int(system.get("SentTimestamp", "0")) / 1000, UTC)
    try:
        event = CloudEvent.from_json(message["Body"])
    except ValueError:
        # Not an event at all: shown to the operator as what it is, in an envelope.
        event = CloudEvent(
            id=message["MessageId"],
            source=SOURCE,
            type=UNREADABLE,
            time=sent,
            data={"body": message["Body"][:MAX_ERROR_CHARS]},
        )
    return DeadLetter(
        id=letter_id(message["MessageId"]),
        queue=queue,
        event=event,
        attempts=int(text(ATTEMPTS) or system.get("ApproximateReceiveCount", 0)),
        last_error=text(ERROR) or NOT_SETTLED,
        failed_at=datetime.fromisoformat(failed_at) if failed_at else sent,
    )


def _queue_from_token(token: str) -> str:
    """The inverse of `queue_token`: `_2e` back to `.`."""
    out = bytearray()
    index = 0
    while index < len(token):
        if token[index] == "_":
            out.append(int(token[index + 1 : index + 3], 16))
            index += 3
        else:
            out.extend(token[index].encode())
            index += 1
    return out.decode()
