"""The gateway holds the edge limits itself, whatever server runs it (here: none, plain ASGI)."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import orjson
import pytest
from starlette.types import Message

from clearway.gateway.edge import EdgeLimits
from tests.conftest import Api
from tests.support import assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="package")


@pytest.fixture
def small(shared_api: Api, monkeypatch: pytest.MonkeyPatch) -> EdgeLimits:
    gateway = shared_api.platform.gateway
    limits = dataclasses.replace(
        gateway.edge, max_header_bytes=4096, max_headers=20, body_timeout=0.3
    )
    monkeypatch.setattr(gateway, "edge", limits)
    return limits


async def test_too_many_headers_are_a_431(shared_api: Api, small: EdgeLimits) -> None:
    headers = {f"x-extra-{n}": "1" for n in range(small.max_headers)}
    response = await shared_api.client.get("/api/rules/markets", headers=headers)
    assert "header lines" in assert_problem(response, 431)["detail"]


async def test_a_head_over_the_size_limit_is_a_431(shared_api: Api, small: EdgeLimits) -> None:
    response = await shared_api.client.get(
        "/api/rules/markets", headers={"x-big": "a" * small.max_header_bytes}
    )
    assert_problem(response, 431)


@pytest.mark.parametrize(
    "framing",
    [(b"content-length", b"1000"), (b"transfer-encoding", b"chunked")],
    ids=["length-declared", "chunked"],
)
@pytest.mark.parametrize("stalled", [False, True], ids=["loop-on-time", "loop-stalled"])
async def test_a_body_that_stops_arriving_is_a_408(
    shared_api: Api,
    small: EdgeLimits,
    framing: tuple[bytes, bytes],
    stalled: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The service's clock starts once the body is in: a slow client is a 408, not a 504.
    monkeypatch.setattr(shared_api.platform.gateway, "upstream_timeout", small.body_timeout / 10)
    never = asyncio.Event()
    sent: list[Message] = []
    first = True

    async def receive() -> Message:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b'{"email": "', "more_body": True}
        if stalled:
            # The event loop is held up (a busy machine) until both the body's deadline and
            # the service's, just after it, have passed: they expire in the same turn.
            stall = small.body_timeout + 2 * shared_api.platform.gateway.upstream_timeout
            asyncio.get_running_loop().call_soon(time.sleep, stall)
        await never.wait()  # the client never sends the rest
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/identity/login",
        "raw_path": b"/api/identity/login",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), framing],
        "client": ("192.0.2.80", 40000),
        "server": ("testserver", 80),
    }
    await shared_api.platform(scope, receive, send)
    start, body = sent[0], sent[1]
    assert start["status"] == 408
    headers = dict(start["headers"])
    assert headers[b"content-type"] == b"application/problem+json"
    assert headers[b"connection"] == b"close"
    problem = orjson.loads(body["body"])
    assert problem["status"] == 408
    assert problem["instance"] == "/api/identity/login"
    assert len(sent) == 2  # nothing the service said got through
