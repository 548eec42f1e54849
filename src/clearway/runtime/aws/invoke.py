"""Reaching a service that runs as a Lambda function: the third upstream transport.

Beside in-process ASGI calls and pooled HTTP, the gateway (and a service calling another)
can reach a service by Lambda Invoke. The request travels as an API Gateway HTTP API (v2)
event, the shape Mangum turns back into the same ASGI request inside the service function;
the answer comes back as that event's response. The internal credential travels among the
headers, so the service checks it as it does everywhere, and IAM lets only the gateway's and
the services' roles invoke a service function.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope, Send

from clearway.kit.aws import aws_client
from clearway.kit.caller import Caller
from clearway.kit.crypto.kms import Decrypt
from clearway.kit.internal_auth import InternalCredentials
from clearway.kit.problems import problem_bytes
from clearway.runtime.inprocess import get_json_through
from clearway.settings import SERVICES, Settings

log = logging.getLogger("clearway.upstreams")

Invoke = Callable[[str, bytes], bytes]
"""(function name or ARN, payload) → response payload; raises `FunctionFailed`."""


class FunctionFailed(Exception):
    """The invoked function raised (Lambda's `FunctionError`), or could not be invoked."""


def lambda_invoke(settings: Settings) -> Invoke:
    """Synchronous Lambda Invoke (RequestResponse) with the deployment's client."""
    client = aws_client("lambda", settings)

    def invoke(function: str, payload: bytes) -> bytes:
        answer = client.invoke(FunctionName=function, Payload=payload)
        body: bytes = answer["Payload"].read()
        if answer.get("FunctionError"):
            raise FunctionFailed(f"{function} failed: {body[:500]!r}")
        return body

    return invoke


def function_name(settings: Settings, part: str) -> str:
    """The function that runs `part` (a service, "keys"): from `lambda_functions`, else
    `clearway-<part>`."""
    return settings.lambda_functions.get(part, f"clearway-{part}")


def lambda_decrypt(settings: Settings, invoke: Invoke | None = None) -> Decrypt:
    """KMS Decrypt through the key service's function (`handlers.keys`): the one role that
    may decrypt. The binding to the context is checked by the caller, which knows it."""
    call = invoke or lambda_invoke(settings)

    def decrypt(key: str, ciphertext: bytes) -> bytes:
        request = {"key": key, "ciphertext": base64.b64encode(ciphertext).decode()}
        answer = orjson.loads(call(settings.kms_unwrap_function, orjson.dumps(request)))
        return base64.b64decode(answer["plaintext"])

    return decrypt


def request_event(scope: Scope, body: bytes) -> dict[str, Any]:
    """An ASGI request as an API Gateway HTTP API (payload format 2.0) event."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        else:
            headers[name] = f"{headers[name]},{value}" if name in headers else value
    client = scope.get("client") or ("127.0.0.1", 0)
    path = scope.get("raw_path") or scope["path"].encode()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path.decode("latin-1"),
        "rawQueryString": scope.get("query_string", b"").decode("latin-1"),
        "headers": headers,
        "requestContext": {
            "http": {
                "method": scope["method"],
                "path": path.decode("latin-1"),
                "protocol": "HTTP/1.1",
                "sourceIp": client[0],
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": int(time.time() * 1000),
        },
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }
    if cookies:
        event["cookies"] = cookies
    return event


def response_messages(answer: dict[str, Any]) -> tuple[Message, Message]:
    """The ASGI messages of an API Gateway (v2) response."""
    headers = [
        (name.lower().encode("latin-1"), str(value).encode("latin-1"))
        for name, value in (answer.get("headers") or {}).items()
    ]
    headers.extend((b"set-cookie", c.encode("latin-1")) for c in answer.get("cookies") or [])
    body = answer.get("body") or ""
    content = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()
    start = {"type": "http.response.start", "status": int(answer["statusCode"]), "headers": headers}
    return start, {"type": "http.response.body", "body": content, "more_body": False}


class LambdaUpstreams:
    """The gateway's `Upstreams` and the services' `ServiceCalls`, by Lambda Invoke."""

    def __init__(
        self, settings: Settings, credentials: InternalCredentials, invoke: Invoke
    ) -> None:
        self.credentials = credentials
        self.functions = {name: function_name(settings, name) for name in SERVICES}
        self._invoke = invoke

    async def get_json(self, service: str, path: str, caller: Caller | None = None) -> Any:
        return await get_json_through(self.forward, self.credentials, service, path, caller)

    async def close(self) -> None:
        pass

    async def forward(self, service: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Invoke the service's function with the whole request (bodies are bounded by the
        gateway's limit, and Lambda takes 6 MB) and send its answer back."""
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise ConnectionError("the client went away")
            body.extend(message.get("body", b""))
            if not message.get("more_body", False):
                break
        payload = orjson.dumps(request_event(scope, bytes(body)))
        try:
            raw = await asyncio.to_thread(self._invoke, self.functions[service], payload)
            start, end = response_messages(orjson.loads(raw))
        except (FunctionFailed, KeyError, ValueError):
            log.warning("invoking %s failed", self.functions[service], exc_info=True)
            problem = problem_bytes(502, detail="The service is unavailable; try again shortly.")
            headers = [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(problem)).encode()),
            ]
            start = {"type": "http.response.start", "status": 502, "headers": headers}
            end = {"type": "http.response.body", "body": problem, "more_body": False}
        await send(start)
        await send(end)
