"""A local Lambda: the functions of `deploy/aws/template.yaml`, wired as AWS wires them.

API event → gateway function → service functions (by an Invoke stand-in) → SNS → SQS → worker
functions, on moto. What Lambda does between them is done here the same way:

- each function gets execution environments on demand, one thread each, built on the first
  invocation and reused; a call that finds them all busy gets a new one (a cold start);
- every payload crosses as JSON text, in and out, as Invoke serialises it; an exception in a
  handler comes back as a function error;
- an event source mapping per queue polls SQS, hands batches of up to 10 records in the SQS
  event shape to the worker function, and deletes what the function did not report as a
  partial batch failure.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx

from clearway.kit.bus.sns_sqs import SnsSqsBus
from clearway.runtime.aws import handlers
from clearway.runtime.aws.invoke import FunctionFailed, request_event, response_messages
from clearway.settings import SERVICES, Settings
from tests.conftest import test_settings

from .conftest import REGION

PREFIX = "cw-journey"
BUCKET = "clearway-files-journey"
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """The parts of Lambda's context object that Mangum and our handlers read."""

    function_name: str
    aws_request_id: str = "local"
    memory_limit_in_mb: int = 512

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def journey_settings(data_dir: Path, part: str = "") -> Settings:
    return test_settings(
        data_dir,
        lambda_part=part,
        aws_region=REGION,
        bus_url=f"sns-sqs://{PREFIX}",
        bus_max_attempts=2,
        bus_retry_base_seconds=0.05,
        keys_backend="kms",
        files_backend="s3",
        files_bucket=BUCKET,
    )


@dataclass
class _Environment:
    executor: ThreadPoolExecutor


@dataclass
class LocalFunction:
    """One function: a handler and the settings its environments are built from."""

    name: str
    handler: Handler
    settings: Settings
    harness: Harness
    _idle: list[_Environment] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    cold_starts: int = 0
    invocations: int = 0

    def invoke(self, payload: bytes) -> bytes:
        with self._lock:
            self.invocations += 1
            environment = self._idle.pop() if self._idle else None
            if environment is None:
                self.cold_starts += 1
                environment = _Environment(ThreadPoolExecutor(1, thread_name_prefix=self.name))
        try:
            event = json.loads(payload)
            answer = environment.executor.submit(self._run, event).result()
            return json.dumps(answer).encode()
        except Exception as error:
            raise FunctionFailed(f"{self.name}: {error!r}") from error
        finally:
            with self._lock:
                self._idle.append(environment)

    def _run(self, event: dict[str, Any]) -> Any:
        # This thread is one execution environment of this function: its settings, and our
        # Invoke for the calls it makes.
        handlers.configure(self.settings, self.harness.invoke)
        return self.handler(event, LambdaContext(self.name))

    def close(self) -> None:
        for environment in self._idle:
            environment.executor.shutdown(wait=True)


class Harness:
    """Every function of the deployment, the Invoke stand-in and the SQS triggers."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.functions: dict[str, LocalFunction] = {}
        self.mappings: dict[str, str] = {}  # queue URL → worker function
        self._stopping = threading.Event()
        self._poller: threading.Thread | None = None
        self.sqs = boto3.client("sqs", region_name=REGION)

    def add(self, name: str, handler: Handler, part: str = "") -> None:
        settings = journey_settings(self.data_dir, part)
        self.functions[name] = LocalFunction(name, handler, settings, self)

    def invoke(self, function: str, payload: bytes) -> bytes:
        """Lambda Invoke (RequestResponse), by function name."""
        return self.functions[function].invoke(payload)

    def deploy(self) -> None:
        """What `sam deploy` and the deploy step do: bucket, functions, migrate, triggers."""
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        self.add("clearway-gateway", handlers.gateway, "gateway")
        for service in SERVICES:
            self.add(f"clearway-{service}", handlers.service, service)
            self.add(f"clearway-{service}-worker", handlers.worker, service)
        self.add("clearway-migrate", handlers.migrate)
        answer = json.loads(self.invoke("clearway-migrate", b"{}"))
        assert answer["migrated"] == sorted(SERVICES)
        bus = SnsSqsBus(PREFIX, lambda s: None, max_attempts=1, retry_base_seconds=1)
        for service in SERVICES:
            queues = [service, f"{service}.batch"]
            for queue in queues:
                try:
                    url = self.sqs.get_queue_url(QueueName=bus.aws.queue_name(queue))["QueueUrl"]
                except self.sqs.exceptions.QueueDoesNotExist:
                    continue
                self.mappings[url] = f"clearway-{service}-worker"
        self._poller = threading.Thread(target=self._poll, name="sqs-triggers", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        """Lambda's SQS event source mappings: batches of up to 10, partial failures kept."""
        while not self._stopping.is_set():
            busy = False
            for url, function in self.mappings.items():
                answer = self.sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=10,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
                messages = answer.get("Messages", [])
                if not messages:
                    continue
                busy = True
                found = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
                arn = found["Attributes"]["QueueArn"]
                event = {"Records": [sqs_record(m, arn) for m in messages]}
                try:
                    result = json.loads(self.invoke(function, json.dumps(event).encode()))
                    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
                except FunctionFailed:
                    failed = {m["MessageId"] for m in messages}  # the whole batch returns
                done = [m for m in messages if m["MessageId"] not in failed]
                if done:
                    self.sqs.delete_message_batch(
                        QueueUrl=url,
                        Entries=[
                            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                            for n, m in enumerate(done)
                        ],
                    )
            if not busy:
                self._stopping.wait(0.05)

    def close(self) -> None:
        self._stopping.set()
        if self._poller is not None:
            self._poller.join(timeout=30)
        for function in self.functions.values():
            function.close()


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda's SQS event carries it."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": attributes.get("SenderId", "AIDAEXAMPLE"),
            "ApproximateFirstReceiveTimestamp": attributes.get(
                "ApproximateFirstReceiveTimestamp", "0"
            ),
            "MessageGroupId": attributes.get("MessageGroupId", message["MessageId"]),
            "MessageDeduplicationId": attributes.get("MessageDeduplicationId", ""),
            "SequenceNumber": attributes.get("SequenceNumber", "0"),
        },
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "dataType": value["DataType"],
                "stringListValues": [],
                "binaryListValues": [],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


class ApiGatewayTransport(httpx.AsyncBaseTransport):
    """An HTTP API in front of the gateway function: each request an API Gateway v2 event."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        scope = {
            "method": request.method,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "client": ("203.0.113.7", 0),
        }
        payload = json.dumps(request_event(scope, body)).encode()
        raw = await asyncio.to_thread(self.harness.invoke, "clearway-gateway", payload)
        start, end = response_messages(json.loads(raw))
        return httpx.Response(start["status"], headers=start["headers"], content=end["body"])
