"""Creating what the AWS bus needs when it is missing: the topic, each subscribed queue with
its dead-letter queue and redrive policy, and the subscription filtered on the queue's topics.

In a deployment the template declares all of it; this creates what is missing (tests, a first
run against a stand-in) and changes nothing that exists but the filter policies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from clearway.kit.bus.bus import QueueSubscription, matches
from clearway.kit.bus.sns_sqs.aws import Aws

# A consumer that died mid-handling leaves the receive count climbing: SQS itself moves the
# message to the dead-letter queue after this many receives beyond Clearway's own attempts.
REDRIVE_MARGIN = 2
RETENTION_SECONDS = 1_209_600  # fourteen days, the most SQS keeps


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


def declare_queue(
    aws: Aws,
    topic: str,
    subscription: QueueSubscription,
    *,
    max_attempts: int,
    visibility_seconds: int,
) -> None:
    """The queue, its DLQ and its subscription to `topic`, filtered as the code subscribes."""
    sns = aws.sns()
    dlq_url = _ensure_queue(aws, aws.dlq_name(subscription.queue), {})
    redrive = {
        "deadLetterTargetArn": _queue_arn(aws, dlq_url),
        "maxReceiveCount": max_attempts + REDRIVE_MARGIN,
    }
    url = _ensure_queue(
        aws,
        aws.queue_name(subscription.queue),
        {
            "VisibilityTimeout": str(visibility_seconds),
            "RedrivePolicy": orjson.dumps(redrive).decode(),
        },
    )
    queue_arn = _queue_arn(aws, url)
    aws.queue_urls[subscription.queue] = url
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


def _ensure_queue(aws: Aws, name: str, attributes: dict[str, str]) -> str:
    sqs = aws.sqs()
    try:
        url: str = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return url
    except sqs.exceptions.QueueDoesNotExist:
        pass
    created = sqs.create_queue(
        QueueName=name,
        Attributes={
            "FifoQueue": "true",
            "MessageRetentionPeriod": str(RETENTION_SECONDS),
            **attributes,
        },
    )
    url = created["QueueUrl"]
    return url


def _queue_arn(aws: Aws, url: str) -> str:
    attributes = aws.sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    arn: str = attributes["Attributes"]["QueueArn"]
    return arn
