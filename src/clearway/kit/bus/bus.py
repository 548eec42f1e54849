"""What a message bus offers Clearway, whatever engine is behind it (embedded SQLite, NATS).

Topics fan out to one durable queue per subscribing service (SNS→SQS): every queue whose topics
match an event's type gets its own copy, retried and dead-lettered independently, so one slow or
broken consumer never holds back another.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, TypeVar

from clearway.kit.bus.events import CloudEvent

MAX_BACKOFF_SECONDS = 300.0
MAX_ERROR_CHARS = 2000
_UNSAFE = re.compile(r"[^A-Za-z0-9-]")
D = TypeVar("D")

Handler = Callable[[CloudEvent], Awaitable[None]]
"""Applies one event; raises to have it retried."""

BatchHandler = Callable[[Sequence[CloudEvent]], Awaitable[None]]
"""Applies a batch of events at once; raises to have the whole batch retried."""


class Undeliverable(Exception):
    """An event its consumer can never apply (its payload does not fit the contract): it goes
    to the dead letters at once, with this as the reason, instead of being retried."""


def gives_up(error: BaseException, attempts: int, max_attempts: int) -> bool:
    """Whether a failed delivery becomes a dead letter now rather than being retried."""
    return isinstance(error, Undeliverable) or attempts >= max_attempts


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that failed `max_attempts` times and waits for an operator to replay it."""

    id: int
    queue: str
    event: CloudEvent
    attempts: int
    last_error: str
    failed_at: datetime


class Publisher(Protocol):
    """The part of a bus the outbox relay (or a high-volume publisher like the gateway) needs."""

    async def publish_many(self, events: Sequence[CloudEvent]) -> None:
        """Durably queue a copy of each event for every subscribed queue, all or nothing."""


class Bus(Publisher, Protocol):
    """Durable queues fed by topics; adapters: `EmbeddedBus` (SQLite), `NatsBus` (JetStream).

    `async with` opens a bus for administration (dead letters, replay) without consuming.
    """

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def subscribe(self, queue: str, topics: Sequence[str], handler: Handler) -> None:
        """Consume `queue` one event at a time; `topics` are types or patterns ("order.*", "*")."""

    def subscribe_batch(
        self, queue: str, topics: Sequence[str], handler: BatchHandler, max_batch: int = 500
    ) -> None:
        """Consume `queue` in batches of up to `max_batch` events, for high-volume ingestion."""

    async def start(self) -> None:
        """Record the subscriptions durably, then start consuming."""

    async def stop(self) -> None:
        """Stop consuming and let in-flight handlers finish."""

    async def dead_letters(self, queue: str | None = None) -> list[DeadLetter]:
        """The dead letters of one queue, or of all queues, oldest first."""

    async def replay(self, ids: Sequence[int] | None, queue: str | None = None) -> int:
        """Put dead letters back (all when `ids` is None), with fresh attempts; return how many."""


def retry_delay(base_seconds: float, attempts: int) -> float:
    """Exponential back-off with jitter, so failed messages do not all return at once."""
    delay = min(base_seconds * 2.0 ** (attempts - 1), MAX_BACKOFF_SECONDS)
    return delay * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not a secret)


def describe_error(error: BaseException) -> str:
    """How a failure is shown on a dead letter."""
    return f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]


def check_topics(topics: Sequence[str]) -> tuple[str, ...]:
    """Reject a pattern that `matches` would silently never match, at subscription time."""
    if isinstance(topics, str) or not topics:
        raise ValueError("topics must be a non-empty sequence of event types or patterns")
    for topic in topics:
        stem = topic.removesuffix(".*")
        if topic != "*" and (not stem or "*" in stem):
            raise ValueError(f"invalid topic {topic!r}: use a type, 'prefix.*' or '*'")
    return tuple(topics)


def matches(pattern: str, event_type: str) -> bool:
    """`*` matches every type, `order.*` every type below `order.`, anything else itself."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def queue_token(queue: str) -> str:
    """A queue name as an engine's name token (NATS consumer, SQS queue): [A-Za-z0-9_-] only,
    one-to-one, so two queues never share a name."""
    return _UNSAFE.sub(lambda m: "".join(f"_{b:02x}" for b in m.group().encode()), queue)


def delivery_groups(
    deliveries: Sequence[D], attempt: Callable[[D], int], batch: bool
) -> list[list[D]]:
    """How a consumer hands deliveries to its handler: one event per call; or, for a batch
    handler, runs of first deliveries, a failed-before event alone, so one poison event cannot
    sink a whole batch again and again."""
    if not batch:
        return [[delivery] for delivery in deliveries]
    groups: list[list[D]] = []
    for delivery in deliveries:
        if attempt(delivery) == 1 and groups and attempt(groups[-1][-1]) == 1:
            groups[-1].append(delivery)
        else:
            groups.append([delivery])
    return groups


def matching_queues(subscriptions: Iterable[tuple[str, str]], event_type: str) -> set[str]:
    """The queues, among (queue, pattern) pairs, that receive an event of `event_type`."""
    return {queue for queue, pattern in subscriptions if matches(pattern, event_type)}


@dataclass(slots=True)
class QueueSubscription:
    """A queue this process consumes: a per-event or a batch handler, and how many at a time."""

    queue: str
    topics: tuple[str, ...]
    handler: Handler | None
    batch_handler: BatchHandler | None
    limit: int
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)


class Subscribing:
    """Subscribing and consuming, shared by the adapters: topics checked, one handler per queue,
    before start; one consumer task per queue, stopped after its in-flight handler; and
    `async with`, which stops the bus on the way out.

    An adapter sets `prefetch`, `_subscriptions`, `_tasks`, `_stopping` and `_closed` in its
    constructor, defines `_consume` (one queue, until `_stopping`) and `stop`, and may refine
    `_check` (NATS refuses a topic that cannot become a subject).
    """

    prefetch: int
    _subscriptions: dict[str, QueueSubscription]
    _tasks: list[asyncio.Task[None]]
    _stopping: bool
    _closed: bool

    async def _consume(self, subscription: QueueSubscription) -> None:
        raise NotImplementedError

    def _refuse_restart(self) -> None:
        if self._tasks:
            raise RuntimeError("the bus is already started")

    def _start_consumers(self) -> None:
        self._stopping = False
        self._tasks = [
            asyncio.create_task(self._consume(s), name=f"bus-consumer-{s.queue}")
            for s in self._subscriptions.values()
        ]

    async def _stop_consumers(self) -> bool:
        """Let in-flight handlers finish; false if the bus was stopped before."""
        if self._closed:
            return False
        self._stopping = True
        for subscription in self._subscriptions.values():
            subscription.wakeup.set()
        await asyncio.gather(*self._tasks)
        self._tasks = []
        self._closed = True
        return True

    async def stop(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def subscribe(self, queue: str, topics: Sequence[str], handler: Handler) -> None:
        self._add(QueueSubscription(queue, check_topics(topics), handler, None, self.prefetch))

    def subscribe_batch(
        self, queue: str, topics: Sequence[str], handler: BatchHandler, max_batch: int = 500
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._add(QueueSubscription(queue, check_topics(topics), None, handler, max_batch))

    def _add(self, subscription: QueueSubscription) -> None:
        if self._tasks:
            raise RuntimeError("subscribe before the bus starts")
        if subscription.queue in self._subscriptions:
            # One handler per queue keeps retries and dead letters about one piece of code.
            raise ValueError(f"queue {subscription.queue!r} already has a handler")
        self._check(subscription)
        self._subscriptions[subscription.queue] = subscription

    def _check(self, subscription: QueueSubscription) -> None:
        """Refuse a subscription this engine cannot serve, now rather than at start."""
