"""SQS messages as the AWS bus's consumers see them, and what became of a batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEME = "sns-sqs://"
RECEIVE_BATCH = 10


@dataclass(frozen=True, slots=True)
class Received:
    """One SQS message as a poll or a Lambda SQS event hands it over."""

    message_id: str
    receipt: str
    body: str
    attempt: int
    group: str

    @classmethod
    def from_poll(cls, message: dict[str, Any]) -> Received:
        attributes = message.get("Attributes", {})
        return cls(
            message["MessageId"],
            message["ReceiptHandle"],
            message["Body"],
            int(attributes.get("ApproximateReceiveCount", 1)),
            attributes.get("MessageGroupId", message["MessageId"]),
        )

    @classmethod
    def from_lambda(cls, record: dict[str, Any]) -> Received:
        attributes = record.get("attributes", {})
        return cls(
            record["messageId"],
            record["receiptHandle"],
            record["body"],
            int(attributes.get("ApproximateReceiveCount", 1)),
            attributes.get("MessageGroupId", record["messageId"]),
        )


@dataclass(slots=True)
class Settled:
    """What became of a batch: deleted (applied or dead-lettered), failed (back after their
    back-off), never started (the consumer is stopping: hand them back now)."""

    done: list[Received] = field(default_factory=list)
    failed: list[Received] = field(default_factory=list)
    not_started: list[Received] = field(default_factory=list)
