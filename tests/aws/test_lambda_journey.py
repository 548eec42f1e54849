"""A journey through the Lambda functions on moto: API Gateway events → gateway function →
service functions by Invoke → SNS → SQS → worker functions; then a poisoned message → DLQ →
replay."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from clearway.kit.bus.sns_sqs import SnsSqsBus
from clearway.kit.bus.sns_sqs.dead_letters import UNREADABLE
from clearway.runtime.aws.invoke import FunctionFailed
from clearway.runtime.service_host import ServiceHost
from clearway.services.common.events import Notifier
from tests.conftest import Api, bearer
from tests.orders import rules_fixture
from tests.orders.conftest import _user, eventually, list_provider
from tests.support import mails

from .conftest import REGION
from .harness import PREFIX, ApiGatewayTransport, Harness

pytestmark = pytest.mark.usefixtures("aws_stand_in")


@pytest.fixture
async def deployed(tmp_path: Path) -> AsyncIterator[tuple[Harness, Api]]:
    harness = Harness(tmp_path / "data")
    try:
        await asyncio.to_thread(harness.deploy)
        transport = ApiGatewayTransport(harness)
        async with httpx.AsyncClient(transport=transport, base_url="https://api.test") as client:
            yield harness, Api(client, None)  # type: ignore[arg-type]
    finally:
        await asyncio.to_thread(harness.close)


# An HTTP API (payload format 2.0) event as API Gateway sends it, fields as AWS documents them.
API_GATEWAY_V2_EVENT: dict[str, Any] = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/api/identity/me",
    "rawQueryString": "verbose=1&verbose=2",
    "cookies": ["theme=dark", "lang=en"],
    "headers": {
        "accept": "application/json",
        "content-length": "0",
        "host": "abc123.execute-api.eu-central-1.amazonaws.com",
        "user-agent": "curl/8.5.0",
        "x-amzn-trace-id": "Root=1-67891233-abcdef012345678912345678",
        "x-forwarded-for": "203.0.113.9",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    },
    "queryStringParameters": {"verbose": "1,2"},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "abc123",
        "domainName": "abc123.execute-api.eu-central-1.amazonaws.com",
        "domainPrefix": "abc123",
        "http": {
            "method": "GET",
            "path": "/api/identity/me",
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.9",
            "userAgent": "curl/8.5.0",
        },
        "requestId": "JKJaXmPLvHcESHA=",
        "routeKey": "$default",
        "stage": "$default",
        "time": "10/Mar/2025:13:40:52 +0000",
        "timeEpoch": 1741614052000,
    },
    "isBase64Encoded": False,
}


def admin_bus() -> SnsSqsBus:
    """What `clearway events dlq list|replay` opens against the deployment."""
    return SnsSqsBus(
        PREFIX,
        lambda service: boto3.client(service, region_name=REGION),
        max_attempts=2,
        retry_base_seconds=0.05,
    )


async def notified(api: Api, token: str, event_type: str) -> bool:
    response = await api.client.get("/api/common/notifications", headers=bearer(token))
    assert response.status_code == 200, response.text
    return any(n["type"] == event_type for n in response.json()["items"])


async def test_a_journey_through_the_functions(
    deployed: tuple[Harness, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    harness, api = deployed

    async def forbidden(self: ServiceHost) -> None:
        raise AssertionError(f"{self.name} migrated on a cold start")

    monkeypatch.setattr(ServiceHost, "migrate", forbidden)  # the deploy step did, only it

    # As API Gateway calls the gateway function: a request without a token is refused there.
    event = json.dumps(API_GATEWAY_V2_EVENT).encode()
    answer = json.loads(harness.invoke("clearway-gateway", event))
    assert answer["statusCode"] == 401
    assert answer["headers"]["content-type"] == "application/problem+json"
    # A service function answers nobody without the internal credential, the gateway's Invoke
    # or not: the event straight to identity's function.
    direct = json.loads(harness.invoke("clearway-identity", event))
    assert direct["statusCode"] == 401

    # Register → identity's outbox → SNS → common's queue → common's worker → the mailbox.
    assert (await api.register("first@example.com")).status_code == 201
    [welcome] = await mails(api, "first@example.com", "welcome", within=30)
    assert welcome["recipient"] == "first@example.com"
    assert (await api.client.get("/readyz")).status_code == 200

    # Order → orders' outbox → common's worker → the provider is notified and mailed.
    customer = await _user(api, "customer@example.com", "customer")
    lab = await _user(api, "lab@example.com", "provider")
    covers = await rules_fixture.applicable(
        api, lab.token, await rules_fixture.save_checklist(api, lab.token, radio=False)
    )
    profile: dict[str, Any] = {
        "display_name": "Lambda Lab",
        "requirement_codes": covers,
        "markets": ["EU"],
        "turnaround_days": 10,
    }
    await list_provider(api, lab, profile)
    checklist = await rules_fixture.save_checklist(api, customer.token, radio=False)
    created = await api.client.post(
        "/api/orders/orders",
        json={"provider_id": lab.id, "checklist_id": checklist},
        headers={**customer.headers, "idempotency-key": rules_fixture.new_key()},
    )
    assert created.status_code == 201, created.text

    async def lab_notified() -> bool:
        return await notified(api, lab.token, "order.created")

    await eventually(lab_notified, within=30)
    [mailed] = await mails(api, "lab@example.com", "order_update", within=30)
    assert created.json()["id"][:8] in mailed["subject"]

    # Every service ran in functions of its own, reached by Invoke; the consumers of account
    # events (orders), of mail (common) and of request records (monitor) by their SQS triggers.
    for service in ("identity", "rules", "orders", "common"):
        assert harness.functions[f"clearway-{service}"].cold_starts >= 1
    for service in ("orders", "common", "monitor"):
        assert harness.functions[f"clearway-{service}-worker"].cold_starts >= 1
    # Built once per execution environment: one gateway environment served every request.
    gateway = harness.functions["clearway-gateway"]
    assert (gateway.cold_starts, gateway.invocations > 20) == (1, True)

    # A poisoned message: common's mail delivery fails on every attempt → the DLQ.
    relay = {"down": True}
    deliver = Notifier.deliver

    async def flaky(self: Notifier, *args: Any, **kwargs: Any) -> None:
        if relay["down"]:
            raise RuntimeError("mail relay down")
        await deliver(self, *args, **kwargs)

    monkeypatch.setattr(Notifier, "deliver", flaky)
    assert (await api.register("poisoned@example.com")).status_code == 201
    async with admin_bus() as bus:

        async def dead_lettered() -> bool:
            return any(letter.queue == "common" for letter in await bus.dead_letters())

        await eventually(dead_lettered, within=30)
        [letter] = [letter for letter in await bus.dead_letters() if letter.queue == "common"]
        assert letter.event.type == "user.registered"
        assert letter.attempts == 2
        assert letter.last_error == "RuntimeError: mail relay down"

        # A message no consumer can read goes to the DLQ at once, without the handler.
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.get_queue_url(QueueName=bus.aws.queue_name("orders"))["QueueUrl"]
        sqs.send_message(
            QueueUrl=url, MessageBody="not json", MessageGroupId="g", MessageDeduplicationId="d"
        )

        async def unreadable_dead_lettered() -> bool:
            return len(await bus.dead_letters("orders")) == 1

        await eventually(unreadable_dead_lettered, within=30)
        [unreadable] = await bus.dead_letters("orders")
        assert unreadable.last_error.startswith("JSONDecodeError")
        assert (unreadable.event.type, unreadable.event.data) == (UNREADABLE, {"body": "not json"})

        # The relay is back: replaying the letter delivers the welcome mail after all.
        relay["down"] = False
        assert await bus.replay([letter.id], queue="common") == 1
        [replayed] = await mails(api, "poisoned@example.com", "welcome", within=30)
        assert replayed["recipient"] == "poisoned@example.com"
        assert [x.queue for x in await bus.dead_letters()] == ["orders"]
    # EventBridge Scheduler's input names the job; an unknown one is a function error.
    swept = json.loads(harness.invoke("clearway-common-worker", b'{"job": "common-outbox-sweep"}'))
    assert swept == {"job": "common-outbox-sweep", "result": 0}
    with pytest.raises(FunctionFailed, match="no job"):
        harness.invoke("clearway-common-worker", b'{"job": "no-such-job"}')
