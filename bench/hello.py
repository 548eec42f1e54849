"""The baseline: a bare ASGI hello-world on the same server stack as `clearway up`."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

BODY = b'{"hello":"world"}'


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": BODY})
