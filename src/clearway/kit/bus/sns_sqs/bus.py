"""The AWS bus's consumers: polling each subscribed queue, or settling a batch Lambda's SQS
trigger hands over, with Clearway's own retries and dead letters.

A failed message becomes visible again after the back-off (visibility timeouts are whole
seconds); its last failure is copied to the dead-letter queue and then deleted. `settle` is the
same code for both consumers; a Lambda function reports its unsettled messages as partial batch
failures.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from typing import Any

from clearway.kit.aws import aws_client
from clearway.kit.bus.bus import (
    DeadLetter,
    QueueSubscription,
    Subscribing,
    delivery_groups,
    describe_error,
    gives_up,
    retry_delay,
)
from clearway.kit.bus.delivery import Refused, admit, hand_over
from clearway.kit.bus.events import CloudEvent
from clearway.kit.bus.sns_sqs.aws import Aws, call
from clearway.kit.bus.sns_sqs.dead_letters import DeadLetterQueues
from clearway.kit.bus.sns_sqs.messages import RECEIVE_BATCH, SCHEME, Received, Settled
from clearway.kit.bus.sns_sqs.provisioning import declare_queue
from clearway.kit.bus.sns_sqs.publishing import publish
from clearway.settings import Settings

log = logging.getLogger(__name__)

MAX_VISIBILITY_SECONDS = 43_200


@dataclass(slots=True)
class _Delivery:
    received: Received
    event: CloudEvent


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
        self.aws = Aws(prefix, client, topic_arn)
        self.letters = DeadLetterQueues(self.aws)
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.visibility_seconds = visibility_seconds
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds
        self.prefetch = RECEIVE_BATCH
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

    def queue_of(self, name: str) -> str | None:
        """The Clearway queue an SQS queue name or ARN belongs to (a subscribed one)."""
        name = name.rsplit(":", 1)[-1]
        for queue in self._subscriptions:
            if name == self.aws.queue_name(queue):
                return queue
        return None

    # Starting and stopping

    async def start(self) -> None:
        """Create what is missing (topic, queues, subscriptions), then consume."""
        self._refuse_restart()
        await self.declare()
        self._start_consumers()

    async def declare(self) -> None:
        """Create the topic and the subscribed queues if missing, and set each subscription's
        filter to what the code subscribes to, without consuming (the deploy step does this:
        on Lambda, SQS triggers consume)."""
        self._check_open()
        topic = await self.aws.topic()
        for subscription in self._subscriptions.values():
            await call(
                declare_queue,
                self.aws,
                topic,
                subscription,
                max_attempts=self.max_attempts,
                visibility_seconds=self.visibility_seconds,
            )

    async def stop(self) -> None:
        """Let in-flight handlers finish and hand back what they never started."""
        await self._stop_consumers()

    # Consuming

    async def _consume(self, subscription: QueueSubscription) -> None:
        url = self.aws.queue_urls[subscription.queue]
        while not self._stopping:
            try:
                received = await self._receive(url, subscription.limit)
                if not received:
                    if self.wait_seconds == 0:
                        await asyncio.sleep(self.poll_seconds)
                    continue
                settled = await self._settle_polled(subscription, url, received)
                failed = await call(self.aws.delete, url, settled)
                if failed:
                    log.warning("could not delete %d settled messages", len(failed))
            except Exception:
                log.exception("consumer of queue %s failed; retrying", subscription.queue)
                await asyncio.sleep(self.poll_seconds)

    async def _receive(self, url: str, limit: int) -> list[Received]:
        """Up to `limit` messages: one poll, then more short ones while they come full."""
        received: list[Received] = []
        wait = self.wait_seconds
        while len(received) < limit and not self._stopping:
            answer = await call(
                self.aws.sqs().receive_message,
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
            await call(self.aws.change_visibility, url, outcome.not_started, 0)
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
        url = url or await self.aws.queue_url(queue)
        outcome = Settled()
        deliveries: list[_Delivery] = []
        for message in received:
            admitted = admit(message.body, message.attempt, self.max_attempts)
            if isinstance(admitted, Refused):
                await self.letters.add(queue, message, admitted.attempts, admitted.error)
                outcome.done.append(message)
            else:
                deliveries.append(_Delivery(message, admitted))
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
                await call(self.aws.change_visibility, url, [message], blocked[message.group])
                outcome.failed.append(message)
            group = [d for d in group if d.received.group not in blocked]
            if not group:
                continue
            try:
                await hand_over(subscription, [d.event for d in group])
            except Exception as error:
                log.warning("handler of %s failed", queue, exc_info=True)
                for delivery in group:
                    await self._failed(queue, url, delivery.received, error, blocked, outcome)
            else:
                outcome.done.extend(d.received for d in group)
        return outcome

    async def _failed(
        self,
        queue: str,
        url: str,
        message: Received,
        error: BaseException,
        blocked: dict[str, int],
        outcome: Settled,
    ) -> None:
        """Dead-letter on the last attempt, else back after the back-off, its subject too."""
        if gives_up(error, message.attempt, self.max_attempts):
            await self.letters.add(queue, message, message.attempt, describe_error(error))
            outcome.done.append(message)
            return
        delay = retry_delay(self.retry_base_seconds, message.attempt)
        seconds = min(math.ceil(delay), MAX_VISIBILITY_SECONDS)
        blocked[message.group] = max(seconds, blocked.get(message.group, 0))
        await call(self.aws.change_visibility, url, [message], seconds)
        outcome.failed.append(message)

    async def _keep_alive(self, url: str, held: list[Received]) -> None:
        """Extend the visibility of held messages while their handler runs."""
        while True:
            await asyncio.sleep(self.visibility_seconds / 3)
            with suppress(Exception):
                await call(self.aws.change_visibility, url, held, self.visibility_seconds)

    # Publishing and administration

    async def publish_many(self, events: Sequence[CloudEvent]) -> None:
        """Publish in order, in batches SNS accepts (`publishing`)."""
        if not events:
            return
        self._check_open()
        await publish(self.aws, events)

    async def dead_letters(self, queue: str | None = None) -> list[DeadLetter]:
        self._check_open()
        return await self.letters.letters(queue)

    async def replay(self, ids: Sequence[int] | None, queue: str | None = None) -> int:
        self._check_open()
        return await self.letters.replay(ids, queue)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the bus is stopped")
