"""An administrator's change is audited before the service sees it, or it is not made."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from starlette.types import Receive, Scope, Send

from clearway.contracts.gateway import AdminRequest
from clearway.kit.bus import CloudEvent
from tests.conftest import Api, bearer
from tests.support import assert_problem


async def test_the_audit_event_is_durably_queued_before_the_change_is_made(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await api.admin_token()
    queued: list[CloudEvent] = []
    seen_first: list[list[str]] = []
    publish, forward = api.platform.bus.publish_many, api.platform.upstreams.forward

    async def recording(events: Sequence[CloudEvent]) -> None:
        await publish(events)
        queued.extend(e for e in events if e.type == AdminRequest.TYPE)

    async def service(name: str, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/api/common/keys/rotate":
            seen_first.append([e.data["route"] for e in queued])
        await forward(name, scope, receive, send)

    monkeypatch.setattr(api.platform.bus, "publish_many", recording)
    monkeypatch.setattr(api.platform.upstreams, "forward", service)
    response = await api.client.post("/api/common/keys/rotate", headers=bearer(admin))
    assert response.status_code == 200, response.text
    assert seen_first == [["/api/common/keys/rotate"]]  # queued before the service was called
    (event,) = queued
    assert event.data["method"] == "POST"
    assert event.data["by"] == await api.user_id("admin@clearway.example")
    assert event.data["request_id"] == response.headers["x-request-id"]


async def test_a_change_that_cannot_be_audited_is_not_made(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await api.admin_token()
    called: list[str] = []
    publish, forward = api.platform.bus.publish_many, api.platform.upstreams.forward

    async def broken(events: Sequence[CloudEvent]) -> None:
        if any(e.type == AdminRequest.TYPE for e in events):
            raise OSError("the bus is down")
        await publish(events)

    async def service(name: str, scope: Scope, receive: Receive, send: Send) -> None:
        called.append(scope["path"])
        await forward(name, scope, receive, send)

    monkeypatch.setattr(api.platform.bus, "publish_many", broken)
    monkeypatch.setattr(api.platform.upstreams, "forward", service)
    response = await api.client.post("/api/common/keys/rotate", headers=bearer(admin))
    assert_problem(response, 503)
    assert "/api/common/keys/rotate" not in called
    # Reads are not changes: they pass without an audit event.
    assert (await api.client.get("/api/common/keys", headers=bearer(admin))).status_code == 200
