"""The AWS bus: one SNS FIFO topic fanned out to an SQS FIFO queue per subscribing service.

Layout for the name prefix `clearway` (`bus_url` `sns-sqs://clearway`):

- topic `clearway-events.fifo`: every event, its type in the message attribute `type` (what
  subscriptions filter on). The deduplication id is the event id, so a batch the outbox relay
  publishes again within five minutes adds no copy (past that, the consumer's inbox absorbs
  it); the group id is the event's subject, else its id, so the events about one order or one
  user arrive in order and everything else in parallel;
- queue `clearway-<queue>.fifo` per subscribing queue, subscribed with raw delivery (the body
  is the CloudEvent) and a filter policy made from its topics (`order.*` is the prefix
  `order.`, `*` no filter); its dead-letter queue `clearway-<queue>-dlq.fifo`, with a redrive
  policy after `max_attempts + 2` receives: a net for a consumer that died while handling.

Retries and dead letters are Clearway's, as on the other buses: a failed message becomes visible
again after the back-off (visibility timeouts are whole seconds), and its last failure is copied
to the dead-letter queue with attempts, error and time as message attributes, then deleted. The
same code settles a batch that Lambda's SQS trigger hands to a function (`settle`), which then
reports the failed ones as partial batch failures. A replay sends the event straight back to the
queue it came from, so no other queue sees it twice.

In a deployment the template declares topic, queues, subscriptions and policies; `start` creates
what is missing (tests, a first run against a stand-in) and changes nothing that exists but the
filter policies.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, ParamSpec, TypeVar

import orjson

from clearway.kit.aws import aws_client
from clearway.kit.bus.bus import (
    MAX_ERROR_CHARS,
    DeadLetter,
    QueueSubscription,
    Subscribing,
    delivery_groups,
    describe_error,
    gives_up,
    matches,
    queue_token,
    retry_delay,
)
from clearway.kit.bus.events import BATCH_SUFFIX, CloudEvent, batch, expand
from clearway.settings import Settings

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

SCHEME = "sns-sqs://"
# SNS takes at most 10 messages and 256 KiB in one PublishBatch, and 256 KiB per message.
PUBLISH_BATCH = 10
MAX_MESSAGE_BYTES = 256 * 1024
RECEIVE_BATCH = 10
MAX_VISIBILITY_SECONDS = 43_200
# A consumer that died mid-handling leaves the receive count climbing: SQS itself moves the
# message to the dead-letter queue after this many receives beyond Clearway's own attempts.
REDRIVE_MARGIN = 2
NOT_SETTLED = "received again after the last attempt (did the consumer crash?)"
SOURCE, UNREADABLE = "/clearway/bus", "clearway.bus.unreadable"
ATTEMPTS, ERROR, FAILED_AT = "clearway_attempts", "clearway_error", "clearway_failed_at"


def filter_policy(topics: Sequence[str]) -> dict[str, Any] | None:
    """The SNS filter policy that passes exactly the event types `topics` match (None: all)."""
    if "*" in topics:
        return None
    patterns = [t for t in topics if t.endswith(".*")]
    values: list[Any] = []
    for topic in dict.fromkeys(topics):
        if topic.endswith(".*"):
            values.append({"prefix": topic[:-1]})
        elif not any(matches(pattern, topic) for pattern in patterns):
            values.append(topic)  # an exact type a prefix already passes adds nothing
    return {"type": values}


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


@dataclass(slots=True)
class _Delivery:
    received: Received
    event: CloudEvent


def letter_id(message_id: str) -> int:
    """A dead letter's number, as operators type it: 60 bits of its SQS message id (a UUID)."""
    return int(uuid.UUID(message_id).hex[:15], 16)


class SnsSqsBus(Subscribing):
    """A `Bus` on SNS and SQS (FIFO). `visibility_seconds` is how long a consumer that stopped
    answering keeps its messages; a live one extends it while its handler runs. `wait_seconds`
    is the long poll (0: short polls `poll_seconds` apart, for tests on a stand-in)."""

    def __init__(
        self,
        prefix: str,
        client: Callable[[str], Any],
        *,
        max_attempts: int,
        retry_base_seconds: float,
        topic_arn: str = "",
        visibility_seconds: int = 60,
        wait_seconds: int = 20,
        poll_seconds: float = 1.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not prefix or queue_token(prefix) != prefix:
            raise ValueError(f"bus name prefix {prefix!r}: use letters, digits and '-'")
        self.prefix = prefix
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.visibility_seconds = visibility_seconds
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds
        self.prefetch = RECEIVE_BATCH
        self._client = client
        self._sns: Any = None
        self._sqs: Any = None
        self._topic_arn = topic_arn
        self._queue_urls: dict[str, str] = {}
        self._subscriptions: dict[str, QueueSubscription] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings) -> SnsSqsBus:
        return cls(
            settings.bus_url.removeprefix(SCHEME).strip("/"),
            partial(aws_client, settings=settings),
            max_attempts=settings.bus_max_attempts,
            retry_base_seconds=settings.bus_retry_base_seconds,
            topic_arn=settings.bus_topic_arn,
            visibility_seconds=settings.bus_visibility_seconds,
        )

    # Names

    @property
    def topic_name(self) -> str:
        return f"{self.prefix}-events.fifo"

    def queue_name(self, queue: str) -> str:
        return f"{self.prefix}-{queue_token(queue)}.fifo"

    def dlq_name(self, queue: str) -> str:
        return f"{self.prefix}-{queue_token(queue)}-dlq.fifo"

    def queue_of(self, name: str) -> str | None:
        """The Clearway queue an SQS queue name or ARN belongs to (a subscribed one)."""
        name = name.rsplit(":", 1)[-1]
        for queue in self._subscriptions:
            if name == self.queue_name(queue):
                return queue
        return None

    # Subscribing and consuming

    async def start(self) -> None:
        """Create what is missing (topic, queues, subscriptions), then consume."""
        if self._tasks:
            raise RuntimeError("the bus is already started")
        await self.declare()
        self._stopping = False
        self._tasks = [
            asyncio.create_task(self._consume(s), name=f"bus-consumer-{s.queue}")
            for s in self._subscriptions.values()
        ]

    async def declare(self) -> None:
        """Create the topic and the subscribed queues if missing, and set each subscription's
        filter to what the code subscribes to, without consuming (the deploy step does this:
        on Lambda, SQS triggers consume)."""
        self._check_open()
        topic = await self._topic()
        for subscription in self._subscriptions.values():
            await self._call(self._declare, topic, subscription)

    def _declare(self, topic: str, subscription: QueueSubscription) -> None:
        sns = self._sns_client()
        dlq_url = self._ensure_queue(self.dlq_name(subscription.queue), {})
        dlq_arn = self._queue_arn(dlq_url)
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": self.max_attempts + 2}
        url = self._ensure_queue(
            self.queue_name(subscription.queue),
            {
                "VisibilityTimeout": str(self.visibility_seconds),
                "RedrivePolicy": orjson.dumps(redrive).decode(),
            },
        )
        queue_arn = self._queue_arn(url)
        self._queue_urls[subscription.queue] = url
        policy = filter_policy(subscription.topics)
        existing = [
            s["SubscriptionArn"]
            for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic)
            for s in page["Subscriptions"]
            if s["Endpoint"] == queue_arn
        ]
        if existing:
            # Topics may change between releases: the filter follows the code.
            sns.set_subscription_attributes(
                SubscriptionArn=existing[0],
                AttributeName="FilterPolicy",
                AttributeValue=orjson.dumps(policy or {}).decode(),
            )
            return
        attributes = {"RawMessageDelivery": "true"}
        if policy is not None:
            attributes["FilterPolicy"] = orjson.dumps(policy).decode()
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes)

    def _ensure_queue(self, name: str, attributes: dict[str, str]) -> str:
        sqs = self._sqs_client()
        try:
            url: str = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            return url
        except sqs.exceptions.QueueDoesNotExist:
            pass
        created = sqs.create_queue(
            QueueName=name,
            Attributes={"FifoQueue": "true", "MessageRetentionPeriod": "1209600", **attributes},
        )
        url = created["QueueUrl"]
        return url

    def _queue_arn(self, url: str) -> str:
        sqs = self._sqs_client()
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        arn: str = attributes["Attributes"]["QueueArn"]
        return arn

    async def stop(self) -> None:
        """Let in-flight handlers finish and hand back what they never started."""
        if self._closed:
            return
        self._stopping = True
        await asyncio.gather(*self._tasks)
        self._tasks = []
        self._closed = True

    async def _consume(self, subscription: QueueSubscription) -> None:
        url = self._queue_urls[subscription.queue]
        while not self._stopping:
            try:
                received = await self._receive(url, subscription.limit)
                if not received:
                    if self.wait_seconds == 0:
                        await asyncio.sleep(self.poll_seconds)
                    continue
                settled = await self._settle_polled(subscription, url, received)
                await self._call(self._delete, url, settled)
            except Exception:
                log.exception("consumer of queue %s failed; retrying", subscription.queue)
                await asyncio.sleep(self.poll_seconds)

    async def _receive(self, url: str, limit: int) -> list[Received]:
        """Up to `limit` messages: one poll, then more short ones while they come full."""
        received: list[Received] = []
        wait = self.wait_seconds
        while len(received) < limit and not self._stopping:
            answer = await self._call(
                self._sqs_client().receive_message,
                QueueUrl=url,
                MaxNumberOfMessages=min(RECEIVE_BATCH, limit - len(received)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
            )
            messages = answer.get("Messages", [])
            received.extend(Received.from_poll(m) for m in messages)
            if len(messages) < RECEIVE_BATCH:
                break
            wait = 0
        return received

    async def _settle_polled(
        self, subscription: QueueSubscription, url: str, received: list[Received]
    ) -> list[Received]:
        """Settle a poll's messages; those never started (stopping) go back at once."""
        keepalive = asyncio.create_task(self._keep_alive(url, received))
        try:
            outcome = await self.settle(subscription.queue, received, url=url)
        finally:
            keepalive.cancel()
        if outcome.not_started:
            await self._call(self._change_visibility, url, outcome.not_started, 0)
        return outcome.done

    async def settle(
        self, queue: str, received: Sequence[Received], *, url: str | None = None
    ) -> Settled:
        """Apply a batch of `queue`'s messages, and say what became of each.

        Failures are made visible again after their back-off, or on the last attempt copied to
        the dead-letter queue (and then counted settled). Used by the polling consumer and by
        the Lambda SQS handler, which reports the unsettled ones as partial batch failures.
        """
        subscription = self._subscriptions[queue]
        url = url or await self._queue_url(queue)
        outcome = Settled()
        deliveries: list[_Delivery] = []
        for message in received:
            try:
                event = CloudEvent.from_json(message.body)
            except ValueError as error:
                await self._dead_letter(queue, message, message.attempt, describe_error(error))
                outcome.done.append(message)
                continue
            if message.attempt > self.max_attempts:
                await self._dead_letter(queue, message, message.attempt - 1, NOT_SETTLED)
                outcome.done.append(message)
                continue
            deliveries.append(_Delivery(message, event))
        groups = delivery_groups(
            deliveries, lambda d: d.received.attempt, subscription.batch_handler is not None
        )
        # A subject whose event failed: its later events wait behind it (FIFO order), as long.
        blocked: dict[str, int] = {}
        for group in groups:
            if self._stopping:
                outcome.not_started.extend(d.received for d in group)
                continue
            waiting = [d.received for d in group if d.received.group in blocked]
            for message in waiting:
                await self._call(self._change_visibility, url, [message], blocked[message.group])
                outcome.failed.append(message)
            group = [d for d in group if d.received.group not in blocked]
            if not group:
                continue
            try:
                if subscription.batch_handler is not None:
                    await subscription.batch_handler([d.event for d in group])
                else:
                    assert subscription.handler is not None
                    await subscription.handler(group[0].event)
            except Exception as error:
                log.warning("handler of %s failed", queue, exc_info=True)
                for delivery in group:
                    message = delivery.received
                    if gives_up(error, message.attempt, self.max_attempts):
                        await self._dead_letter(
                            queue, message, message.attempt, describe_error(error)
                        )
                        outcome.done.append(message)
                    else:
                        delay = retry_delay(self.retry_base_seconds, message.attempt)
                        seconds = min(math.ceil(delay), MAX_VISIBILITY_SECONDS)
                        blocked[message.group] = max(seconds, blocked.get(message.group, 0))
                        await self._call(self._change_visibility, url, [message], seconds)
                        outcome.failed.append(message)
            else:
                outcome.done.extend(d.received for d in group)
        return outcome

    async def _dead_letter(self, queue: str, message: Received, attempts: int, error: str) -> None:
        """Copy to the queue's DLQ; its deduplication id makes a repeated copy a no-op."""
        dlq = await self._queue_url(queue, dlq=True)
        await self._call(
            self._sqs_client().send_message,
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

    async def _keep_alive(self, url: str, held: list[Received]) -> None:
        """Extend the visibility of held messages while their handler runs."""
        while True:
            await asyncio.sleep(self.visibility_seconds / 3)
            with suppress(Exception):
                await self._call(self._change_visibility, url, held, self.visibility_seconds)

    def _change_visibility(self, url: str, messages: Sequence[Received], seconds: int) -> None:
        for start in range(0, len(messages), RECEIVE_BATCH):
            entries = [
                {"Id": str(n), "ReceiptHandle": m.receipt, "VisibilityTimeout": seconds}
                for n, m in enumerate(messages[start : start + RECEIVE_BATCH])
            ]
            self._sqs_client().change_message_visibility_batch(QueueUrl=url, Entries=entries)

    def _delete(self, url: str, messages: Sequence[Received]) -> None:
        for start in range(0, len(messages), RECEIVE_BATCH):
            entries = [
                {"Id": str(n), "ReceiptHandle": m.receipt}
                for n, m in enumerate(messages[start : start + RECEIVE_BATCH])
            ]
            answer = self._sqs_client().delete_message_batch(QueueUrl=url, Entries=entries)
            if answer.get("Failed"):
                log.warning("could not delete %d settled messages", len(answer["Failed"]))

    # Publishing

    async def publish_many(self, events: Sequence[CloudEvent]) -> None:
        """Publish in order, in batches SNS accepts; on any error raise, so the caller publishes
        the whole batch again (the topic drops the copies it already has, by event id)."""
        if not events:
            return
        self._check_open()
        topic = await self._topic()
        entries = [entry for event in events for entry in self._entries(event)]
        for chunk in _chunks(entries):
            answer = await self._call(
                self._sns_client().publish_batch, TopicArn=topic, PublishBatchRequestEntries=chunk
            )
            if answer.get("Failed"):
                failed = answer["Failed"][0]
                raise RuntimeError(f"SNS refused an event: {failed.get('Code')}")

    def _entries(self, event: CloudEvent) -> list[dict[str, Any]]:
        body = event.to_json()
        if len(body) > MAX_MESSAGE_BYTES - 1024:
            # A telemetry envelope too large for one message travels as several.
            inner = expand(event) if event.type.endswith(BATCH_SUFFIX) else []
            if len(inner) < 2:
                raise ValueError(f"event {event.id} is larger than an SNS message can carry")
            half = len(inner) // 2
            return [
                *self._entries(batch(event.source, inner[:half])),
                *self._entries(batch(event.source, inner[half:])),
            ]
        return [
            {
                "Id": "0",
                "Message": body.decode(),
                "MessageGroupId": (event.subject or event.id)[:128],
                "MessageDeduplicationId": event.id[:128],
                "MessageAttributes": {"type": {"DataType": "String", "StringValue": event.type}},
            }
        ]

    # Administration

    async def dead_letters(self, queue: str | None = None) -> list[DeadLetter]:
        self._check_open()
        letters = [letter for letter, _, _ in await self._call(self._held_letters, queue, True)]
        return sorted(letters, key=lambda letter: letter.failed_at)

    async def replay(self, ids: Sequence[int] | None, queue: str | None = None) -> int:
        """Send each letter back to the queue it came from, then delete it from the DLQ.

        A crash in between replays it twice, which the queue's inbox absorbs.
        """
        self._check_open()
        return await self._call(self._replay, ids, queue)

    def _replay(self, ids: Sequence[int] | None, queue: str | None) -> int:
        held = self._held_letters(queue, False)
        wanted = None if ids is None else set(ids)
        chosen = [h for h in held if wanted is None or h[0].id in wanted]
        sqs = self._sqs_client()
        for letter, dlq_url, message in chosen:
            sqs.send_message(
                QueueUrl=self._queue_url_sync(letter.queue),
                MessageBody=letter.event.to_json().decode(),
                MessageGroupId=message.get("Attributes", {}).get(
                    "MessageGroupId", message["MessageId"]
                ),
                MessageDeduplicationId=f"replay-{message['MessageId']}",
            )
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
        self._release([h for h in held if h not in chosen])
        return len(chosen)

    def _held_letters(
        self, queue: str | None, release: bool
    ) -> list[tuple[DeadLetter, str, dict[str, Any]]]:
        """Every letter of one DLQ or all, each held (invisible) until released or deleted."""
        sqs = self._sqs_client()
        if queue is not None:
            urls = {queue: self._queue_url_sync(queue, dlq=True, create=False)}
        else:
            urls = self._dead_letter_queues()
        held: list[tuple[DeadLetter, str, dict[str, Any]]] = []
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
                held.extend((self._letter(name, m), url, m) for m in messages)
        if release:
            self._release(held)
        return held

    def _letter(self, queue: str, message: dict[str, Any]) -> DeadLetter:
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

    def _release(self, held: Sequence[tuple[DeadLetter, str, dict[str, Any]]]) -> None:
        sqs = self._sqs_client()
        for _, url, message in held:
            with suppress(Exception):
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )

    def _dead_letter_queues(self) -> dict[str, str | None]:
        """Every DLQ of this bus, by the Clearway queue it belongs to."""
        sqs = self._sqs_client()
        found: dict[str, str | None] = {}
        start, end = f"{self.prefix}-", "-dlq.fifo"
        for page in sqs.get_paginator("list_queues").paginate(QueueNamePrefix=start):
            for url in page.get("QueueUrls", []):
                name = url.rsplit("/", 1)[-1]
                if name.startswith(start) and name.endswith(end):
                    token = name[len(start) : -len(end)]
                    found[_queue_from_token(token)] = url
        return found

    # Connections and names

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the bus is stopped")

    def _sqs_client(self) -> Any:
        if self._sqs is None:
            self._sqs = self._client("sqs")
        return self._sqs

    def _sns_client(self) -> Any:
        if self._sns is None:
            self._sns = self._client("sns")
        return self._sns

    async def _topic(self) -> str:
        if not self._topic_arn:
            answer = await self._call(
                self._sns_client().create_topic,
                Name=self.topic_name,
                Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "false"},
            )
            self._topic_arn = answer["TopicArn"]
        return self._topic_arn

    async def _queue_url(self, queue: str, *, dlq: bool = False) -> str:
        if not dlq and queue in self._queue_urls:
            return self._queue_urls[queue]
        url = await self._call(self._queue_url_sync, queue, dlq=dlq)
        assert url is not None
        return url

    def _queue_url_sync(self, queue: str, *, dlq: bool = False, create: bool = True) -> str | None:
        name = self.dlq_name(queue) if dlq else self.queue_name(queue)
        sqs = self._sqs_client()
        try:
            url: str = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            if not create:
                return None
            raise
        if not dlq:
            self._queue_urls[queue] = url
        return url

    @staticmethod
    async def _call(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        # boto3 is blocking: its calls run on worker threads, never on the event loop.
        return await asyncio.to_thread(function, *args, **kwargs)


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
