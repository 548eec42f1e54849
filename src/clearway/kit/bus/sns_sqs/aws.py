"""The SNS and SQS calls every part of the AWS bus makes: names, clients, topic and queue
addresses, and the batched visibility changes and deletes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

from clearway.kit.bus.bus import queue_token
from clearway.kit.bus.sns_sqs.messages import RECEIVE_BATCH, Received

P = ParamSpec("P")
T = TypeVar("T")


async def call(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    # boto3 is blocking: its calls run on worker threads, never on the event loop.
    return await asyncio.to_thread(function, *args, **kwargs)


class Aws:
    """The bus's topic and queues under one name prefix, and the clients that reach them."""

    def __init__(self, prefix: str, client: Callable[[str], Any], topic_arn: str = "") -> None:
        if not prefix or queue_token(prefix) != prefix:
            raise ValueError(f"bus name prefix {prefix!r}: use letters, digits and '-'")
        self.prefix = prefix
        self._client = client
        self._sns: Any = None
        self._sqs: Any = None
        self.topic_arn = topic_arn
        self.queue_urls: dict[str, str] = {}

    # Names

    @property
    def topic_name(self) -> str:
        return f"{self.prefix}-events.fifo"

    def queue_name(self, queue: str) -> str:
        return f"{self.prefix}-{queue_token(queue)}.fifo"

    def dlq_name(self, queue: str) -> str:
        return f"{self.prefix}-{queue_token(queue)}-dlq.fifo"

    # Clients and addresses

    def sqs(self) -> Any:
        if self._sqs is None:
            self._sqs = self._client("sqs")
        return self._sqs

    def sns(self) -> Any:
        if self._sns is None:
            self._sns = self._client("sns")
        return self._sns

    async def topic(self) -> str:
        if not self.topic_arn:
            answer = await call(
                self.sns().create_topic,
                Name=self.topic_name,
                Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "false"},
            )
            self.topic_arn = answer["TopicArn"]
        return self.topic_arn

    async def queue_url(self, queue: str, *, dlq: bool = False) -> str:
        if not dlq and queue in self.queue_urls:
            return self.queue_urls[queue]
        url = await call(self.queue_url_sync, queue, dlq=dlq)
        assert url is not None
        return url

    def queue_url_sync(self, queue: str, *, dlq: bool = False, create: bool = True) -> str | None:
        name = self.dlq_name(queue) if dlq else self.queue_name(queue)
        sqs = self.sqs()
        try:
            url: str = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            if not create:
                return None
            raise
        if not dlq:
            self.queue_urls[queue] = url
        return url

    # Messages held by a consumer

    def change_visibility(self, url: str, messages: Sequence[Received], seconds: int) -> None:
        for start in range(0, len(messages), RECEIVE_BATCH):
            entries = [
                {"Id": str(n), "ReceiptHandle": m.receipt, "VisibilityTimeout": seconds}
                for n, m in enumerate(messages[start : start + RECEIVE_BATCH])
            ]
            self.sqs().change_message_visibility_batch(QueueUrl=url, Entries=entries)

    def delete(self, url: str, messages: Sequence[Received]) -> list[dict[str, Any]]:
        """Delete settled messages; the entries SQS could not delete."""
        failed: list[dict[str, Any]] = []
        for start in range(0, len(messages), RECEIVE_BATCH):
            entries = [
                {"Id": str(n), "ReceiptHandle": m.receipt}
                for n, m in enumerate(messages[start : start + RECEIVE_BATCH])
            ]
            answer = self.sqs().delete_message_batch(QueueUrl=url, Entries=entries)
            failed.extend(answer.get("Failed", []))
        return failed
