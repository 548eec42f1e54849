"""The NATS JetStream bus: the same durable queues as the embedded bus, on a NATS server.

Layout, for a stream named `CLEARWAY` (subjects use its lower-case name as prefix):

- stream `CLEARWAY`, subjects `clearway.events.>`: every event, on `clearway.events.<type>`,
  file storage, kept for `max_age_seconds` (retention *limits*: each consumer tracks what it has
  acknowledged), de-duplicated by `Nats-Msg-Id` = event id within the duplicate window. Not
  *interest* retention, which drops a message no consumer is registered for at that instant:
  nats-server 2.9 acknowledged and then dropped events published while it shut down;
- one durable pull consumer per queue, filtered on the subjects of its topics (`order.*` →
  `clearway.events.order.>`, `*` → `clearway.events.>`), created with deliver policy *new*, so,
  as on the embedded bus, a queue receives what is published after it first subscribed;
- stream `CLEARWAY_DLQ`, subjects `clearway.dlq.<queue>`: dead letters (event, attempts, last
  error), kept until replayed.

Retries and dead-lettering are the consumer's: a failed delivery is nak'ed with a back-off delay;
the last one is copied to the DLQ stream and then acknowledged. The server's own `max_deliver`
is left unlimited because a message it gives up on is skipped silently, visible to no operator;
instead a delivery that arrives after `max_attempts` (the consumer died while
handling it) is dead-lettered without running the handler again.

A replay republishes the event on its original subject with a fresh message id and a
`Clearway-Queue` header naming the dead letter's queue; other queues subscribed to that type get
the copy too and acknowledge it unhandled, so only the queue the letter came from applies it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nats
import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, NotFoundError

from clearway.kit.bus.bus import (
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
from clearway.kit.bus.delivery import Refused, admit, hand_over
from clearway.kit.bus.events import CloudEvent
from clearway.kit.bus.nats_subjects import Subjects
from clearway.settings import Settings

log = logging.getLogger(__name__)

MSG_ID = "Nats-Msg-Id"
QUEUE_HEADER = "Clearway-Queue"
_NAME = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(slots=True)
class _Delivery:
    msg: Msg
    attempt: int
    event: CloudEvent


class NatsBus(Subscribing):
    """A `Bus` on NATS JetStream.

    `ack_wait_seconds` is how long a consumer that stopped answering keeps its messages before
    they go to another process; a live consumer extends it while its handler runs, so a handler
    may take longer. `duplicate_window_seconds` is how long the server remembers event ids: an
    outbox relay that publishes a batch again within it (after an error) adds no copy, and past
    it the copy is absorbed by the consumers' inboxes.
    """

    def __init__(
        self,
        url: str,
        *,
        stream: str = "CLEARWAY",
        max_attempts: int,
        retry_base_seconds: float,
        ack_wait_seconds: float = 30.0,
        duplicate_window_seconds: float = 120.0,
        max_age_seconds: float = 72 * 3600.0,
        prefetch: int = 32,
        poll_seconds: float = 1.0,
        request_timeout_seconds: float = 5.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not _NAME.fullmatch(stream):
            raise ValueError(f"stream name {stream!r}: use letters, digits, '_' and '-'")
        self.url = url
        self.stream = stream
        self.dlq_stream = f"{stream}_DLQ"
        self.subjects = Subjects(stream)
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.ack_wait_seconds = ack_wait_seconds
        self.duplicate_window_seconds = duplicate_window_seconds
        self.max_age_seconds = max_age_seconds
        self.prefetch = prefetch
        self.poll_seconds = poll_seconds
        self.request_timeout_seconds = request_timeout_seconds
        self._subscriptions: dict[str, QueueSubscription] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._closed = False
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._connecting = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> NatsBus:
        return cls(
            settings.bus_url,
            stream=settings.bus_stream,
            max_attempts=settings.bus_max_attempts,
            retry_base_seconds=settings.bus_retry_base_seconds,
            duplicate_window_seconds=settings.bus_duplicate_window_seconds,
            max_age_seconds=settings.bus_max_age_hours * 3600,
        )

    # Subscribing and consuming

    def _check(self, subscription: QueueSubscription) -> None:
        for topic in subscription.topics:
            self.subjects.matching(topic)  # one that cannot be a subject is refused now

    async def start(self) -> None:
        """Create or update each queue's durable consumer, then consume."""
        self._refuse_restart()
        js = await self._jetstream()
        for subscription in self._subscriptions.values():
            await js.add_consumer(self.stream, self._consumer_config(subscription))
        self._start_consumers()

    def _consumer_config(self, subscription: QueueSubscription) -> ConsumerConfig:
        config = ConsumerConfig(
            durable_name=queue_token(subscription.queue),
            description=f"clearway queue {subscription.queue}",
            deliver_policy=DeliverPolicy.NEW,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait_seconds,
            max_deliver=-1,
            max_ack_pending=max(1000, 2 * subscription.limit),
        )
        assert self._nc is not None
        version = self._nc.connected_server_version
        # Before 2.10 a consumer has one filter: a wider one, narrowed in `_accept`.
        several = (version.major, version.minor) >= (2, 10)
        subjects = self.subjects.filters(subscription.topics, several=several)
        if len(subjects) > 1:
            config.filter_subjects = subjects
        else:
            config.filter_subject = subjects[0]
        return config

    async def stop(self) -> None:
        """Let in-flight handlers finish, hand back unstarted messages, disconnect for good."""
        if not await self._stop_consumers():
            return
        if self._nc is not None:
            with suppress(Exception):
                await self._nc.flush(max(1, int(self.request_timeout_seconds)))  # the last acks
            await self._nc.close()

    async def _consume(self, subscription: QueueSubscription) -> None:
        pull: JetStreamContext.PullSubscription | None = None
        while not self._stopping:
            try:
                if pull is None:
                    js = await self._jetstream()
                    pull = await js.pull_subscribe_bind(
                        durable=queue_token(subscription.queue), stream=self.stream
                    )
                try:
                    msgs = await pull.fetch(subscription.limit, timeout=self.poll_seconds)
                except TimeoutError:
                    continue
                # A fetch also returns what arrived late for the one before it, so it can
                # bring more than asked: a handler never gets more than its batch size.
                for start in range(0, len(msgs), subscription.limit):
                    await self._deliver(subscription, msgs[start : start + subscription.limit])
            except Exception:
                # Typically the server restarting: the client reconnects by itself, and what
                # was not acknowledged is delivered again (the inbox makes that harmless).
                log.exception("consumer of queue %s failed; retrying", subscription.queue)
                await asyncio.sleep(self.poll_seconds)
        if pull is not None:
            with suppress(Exception):
                await pull.unsubscribe()

    async def _deliver(self, subscription: QueueSubscription, msgs: list[Msg]) -> None:
        unsettled = {id(msg): msg for msg in msgs}  # a Msg is not hashable
        keepalive = asyncio.create_task(self._keep_alive(unsettled))
        try:
            deliveries = []
            for msg in msgs:
                delivery = await self._accept(subscription, msg)
                if delivery is None:
                    del unsettled[id(msg)]
                else:
                    deliveries.append(delivery)
            for group in delivery_groups(
                deliveries, lambda d: d.attempt, subscription.batch_handler is not None
            ):
                if self._stopping:
                    break
                try:
                    await hand_over(subscription, [d.event for d in group])
                except Exception as error:
                    log.warning("handler of %s failed", subscription.queue, exc_info=True)
                    for delivery in group:
                        await self._failed(subscription.queue, delivery, error)
                else:
                    for delivery in group:
                        await delivery.msg.ack()
                for delivery in group:
                    del unsettled[id(delivery.msg)]
            for msg in unsettled.values():
                await msg.nak()  # stopping: another consumer of the queue may take them now
            unsettled.clear()
        finally:
            keepalive.cancel()

    async def _accept(self, subscription: QueueSubscription, msg: Msg) -> _Delivery | None:
        """The delivery to hand to the handler, or None once it is settled here."""
        target = (msg.headers or {}).get(QUEUE_HEADER)
        event_type = msg.subject.removeprefix(self.subjects.events)
        if (target is not None and target != subscription.queue) or not any(
            matches(topic, event_type) for topic in subscription.topics
        ):
            await msg.ack()  # a replay for another queue, or outside a wider-than-asked filter
            return None
        attempt = msg.metadata.num_delivered
        admitted = admit(msg.data, attempt, self.max_attempts)
        if isinstance(admitted, Refused):
            await self._dead_letter(subscription.queue, msg, admitted.attempts, admitted.error)
            return None
        return _Delivery(msg, attempt, admitted)

    async def _failed(self, queue: str, delivery: _Delivery, error: BaseException) -> None:
        if gives_up(error, delivery.attempt, self.max_attempts):
            await self._dead_letter(queue, delivery.msg, delivery.attempt, describe_error(error))
        else:
            await delivery.msg.nak(delay=retry_delay(self.retry_base_seconds, delivery.attempt))

    async def _dead_letter(self, queue: str, msg: Msg, attempts: int, error: str) -> None:
        """Copy to the DLQ stream, then acknowledge; the id makes a repeated copy a no-op."""
        letter = {
            "queue": queue,
            "attempts": attempts,
            "last_error": error,
            "failed_at": datetime.now(UTC),
            "event": msg.data.decode(errors="replace"),
        }
        js = await self._jetstream()
        await js.publish(
            self.subjects.dlq + queue_token(queue),
            orjson.dumps(letter, option=orjson.OPT_UTC_Z),
            timeout=self.request_timeout_seconds,
            stream=self.dlq_stream,
            headers={MSG_ID: f"{queue}:{msg.metadata.sequence.stream}"},
        )
        await msg.ack()

    async def _keep_alive(self, unsettled: dict[int, Msg]) -> None:
        """Tell the server the held messages are being worked on, so none is redelivered while
        a long handler runs (or while earlier messages of the same fetch are handled)."""
        while True:
            await asyncio.sleep(self.ack_wait_seconds / 3)
            for msg in list(unsettled.values()):
                with suppress(Exception):
                    await msg.in_progress()

    # Publishing and administration

    async def publish_many(self, events: Sequence[CloudEvent]) -> None:
        """Publish in order and wait for every acknowledgement; on any error, raise, so the
        caller publishes the whole batch again (the server drops the copies it already has)."""
        if not events:
            return
        subjects = [self.subjects.of(event.type) for event in events]
        js = await self._jetstream()
        futures: list[asyncio.Future[Any]] = []
        try:
            async with asyncio.timeout(self.request_timeout_seconds):
                for event, subject in zip(events, subjects, strict=True):
                    future = await js.publish_async(
                        subject,
                        event.to_json(),
                        stream=self.stream,
                        headers={MSG_ID: event.id},
                    )
                    futures.append(future)
                await asyncio.gather(*futures)
        finally:
            for future in futures:
                future.cancel()  # an answer lost in a reconnect would hold a slot forever

    async def dead_letters(self, queue: str | None = None) -> list[DeadLetter]:
        js = await self._jetstream()
        subject = self.subjects.dlq + (queue_token(queue) if queue else ">")
        letters: list[DeadLetter] = []
        sequence = 1
        while True:
            try:
                raw = await js.get_msg(self.dlq_stream, seq=sequence, subject=subject, next=True)
            except NotFoundError:
                return letters
            assert raw.seq is not None and raw.data is not None
            letter = orjson.loads(raw.data)
            letters.append(
                DeadLetter(
                    id=raw.seq,
                    queue=letter["queue"],
                    event=CloudEvent.from_json(letter["event"]),
                    attempts=letter["attempts"],
                    last_error=letter["last_error"],
                    failed_at=datetime.fromisoformat(letter["failed_at"]),
                )
            )
            sequence = raw.seq + 1

    async def replay(self, ids: Sequence[int] | None, queue: str | None = None) -> int:
        """Publish each letter again for its own queue only, then delete it from the DLQ.

        A crash in between replays it twice, which the queue's inbox absorbs.
        """
        letters = await self.dead_letters(queue)
        if ids is not None:
            wanted = set(ids)
            letters = [letter for letter in letters if letter.id in wanted]
        js = await self._jetstream()
        for letter in letters:
            await js.publish(
                self.subjects.of(letter.event.type),
                letter.event.to_json(),
                timeout=self.request_timeout_seconds,
                stream=self.stream,
                headers={
                    MSG_ID: f"replay:{self.dlq_stream}:{letter.id}",
                    QUEUE_HEADER: letter.queue,
                },
            )
            await js.delete_msg(self.dlq_stream, letter.id)
        return len(letters)

    # Connection and streams

    async def _jetstream(self) -> JetStreamContext:
        if self._closed:
            raise RuntimeError("the bus is stopped")
        async with self._connecting:
            if self._js is None:
                self._nc = await nats.connect(
                    self.url,
                    name="clearway",
                    connect_timeout=int(self.request_timeout_seconds),
                    reconnect_time_wait=0.5,  # seconds
                    max_reconnect_attempts=-1,  # a broker restart must not end the service
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
                js = self._nc.jetstream(timeout=self.request_timeout_seconds)
                await self._ensure_streams(js)
                self._js = js
        return self._js

    async def _ensure_streams(self, js: JetStreamContext) -> None:
        for config in (
            StreamConfig(
                name=self.stream,
                description="Clearway events; each queue is a durable consumer of this stream",
                subjects=[self.subjects.events + ">"],
                retention=RetentionPolicy.LIMITS,
                max_age=self.max_age_seconds,
                storage=StorageType.FILE,
                duplicate_window=self.duplicate_window_seconds,
            ),
            StreamConfig(
                name=self.dlq_stream,
                description="Clearway dead letters, kept until replayed",
                subjects=[self.subjects.dlq + ">"],
                retention=RetentionPolicy.LIMITS,
                storage=StorageType.FILE,
                duplicate_window=self.duplicate_window_seconds,
            ),
        ):
            try:
                await js.add_stream(config)
            except BadRequestError:
                await js.update_stream(config)  # exists with other settings (a new window)

    async def _on_error(self, error: Exception) -> None:
        log.warning("NATS connection error: %s", error)

    async def _on_disconnected(self) -> None:
        if not self._closed:
            log.warning("disconnected from NATS at %s; reconnecting", self.url)

    async def _on_reconnected(self) -> None:
        log.info("reconnected to NATS at %s", self.url)
