"""Reaching a service that lives in the same process: a direct ASGI call, no sockets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearway.kit.caller import Caller
from clearway.kit.internal_auth import CALLER_HEADER, InternalCredentials
from clearway.kit.service import ServiceCallError

Forward = Callable[[str, Scope, Receive, Send], Awaitable[None]]


class InProcessUpstreams:
    def __init__(self, apps: dict[str, ASGIApp], credentials: InternalCredentials) -> None:
        self.apps = apps
        self.credentials = credentials

    async def forward(self, service: str, scope: Scope, receive: Receive, send: Send) -> None:
        await self.apps[service](scope, receive, send)

    async def close(self) -> None:
        pass

    async def get_json(self, service: str, path: str, caller: Caller | None = None) -> Any:
        """An internal GET from the platform itself (JWKS, revocations); raises on non-200."""
        return await get_json_through(self.forward, self.credentials, service, path, caller)


async def get_json_through(
    forward: Forward,
    credentials: InternalCredentials,
    service: str,
    path: str,
    caller: Caller | None = None,
) -> Any:
    """GET `path` as an ASGI request through `forward` (in-process or HTTP); raises on non-200."""
    route, _, query = path.partition("?")
    headers = [
        credentials.header(),
        (CALLER_HEADER, (caller or Caller("service")).header().encode()),
    ]
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 0),
        "server": ("clearway.internal", 80),
    }
    status = 0
    body = bytearray()

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await forward(service, scope, receive, send)
    if status != 200:
        raise ServiceCallError(service, route, status)
    return orjson.loads(body)
