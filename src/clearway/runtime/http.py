"""Reaching services over HTTP: a small keep-alive pool on asyncio streams, parsed by httptools.

The gateway forwards every request through this, so it must not be the bottleneck. Measured
here against a hello-world upstream (`python -m bench.clients`, 2 cores): httpx managed
200-500 requests a second (and failed on connections the server had closed), aiohttp 3,400-8,600,
this pool 3,600-13,000, ahead of aiohttp in most runs, with no dependency beyond the httptools
the server already uses. It is HTTP/1.1 to our own services only: bodies stream both
ways, connections are reused while the server keeps them alive and dropped before the server's
own idle timeout, and a request whose body is in hand is retried once on a reused connection
that turns out to be closed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any
from urllib.parse import urlsplit

import httptools
from starlette.types import Message, Receive, Scope, Send

from clearway.kit.caller import Caller
from clearway.kit.internal_auth import InternalCredentials
from clearway.kit.problems import problem_bytes
from clearway.runtime.inprocess import get_json_through
from clearway.settings import SERVICES, Settings

log = logging.getLogger("clearway.upstreams")

# Dropped before the server's idle timeout (`clearway serve` keeps connections for 75 s,
# uvicorn's default is 5 s), so a reused connection is almost never one the server closed.
IDLE_SECONDS = 4.0
MAX_IDLE_PER_SERVICE = 256
READ_CHUNK = 65536
# Not forwarded: they describe one connection, not the request (RFC 9110, section 7.6.1).
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"content-length",
    }
)


class _Connection:
    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def close(self) -> None:
        self.writer.close()


class _Pool:
    """Idle keep-alive connections to one service, most recently used first."""

    def __init__(self, service: str, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{service}: the service URL must be http://host:port, not {url!r}")
        self.service = service
        self.host = parts.hostname
        self.port = parts.port or 80
        self.host_header = f"{self.host}:{self.port}".encode()
        self._idle: deque[_Connection] = deque()

    async def acquire(self) -> tuple[_Connection, bool]:
        """A connection, and whether it was reused (reused ones may turn out closed)."""
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if now - connection.idle_since < IDLE_SECONDS and not connection.reader.at_eof():
                return connection, True
            connection.close()
        reader, writer = await asyncio.open_connection(self.host, self.port, limit=READ_CHUNK)
        return _Connection(reader, writer), False

    def release(self, connection: _Connection) -> None:
        if len(self._idle) >= MAX_IDLE_PER_SERVICE:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        self._idle.append(connection)

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


class _Stale(Exception):
    """A reused connection was closed by the server before it answered."""


class _Response:
    """httptools callbacks: collects the head, queues body chunks as they are parsed."""

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.head_done = False
        self.done = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self.head_done = True

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.done = True


class HttpUpstreams:
    """The gateway's `Upstreams` and the services' `ServiceCalls`, over pooled HTTP/1.1."""

    def __init__(self, settings: Settings, credentials: InternalCredentials) -> None:
        self.credentials = credentials
        self.pools = {name: _Pool(name, settings.service_url(name)) for name in SERVICES}

    async def get_json(self, service: str, path: str, caller: Caller | None = None) -> Any:
        return await get_json_through(self.forward, self.credentials, service, path, caller)

    async def close(self) -> None:
        for pool in self.pools.values():
            pool.close()

    async def forward(self, service: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the ASGI request to `service` and stream its answer back through `send`.

        The caller bounds the time (the gateway answers 504); a service that cannot be reached
        is answered here with a 502 problem.
        """
        pool = self.pools[service]
        body, more = await _first_body(scope, receive)
        head = _request_head(scope, pool.host_header, body, more)
        for attempt in (1, 2):
            connection, reused = await self._connect(pool, send, scope)
            if connection is None:
                return
            try:
                await self._exchange(pool, connection, head, body, more, receive, scope, send)
            except _Stale:
                if attempt == 2 or more or not reused:
                    await _unreachable(send, scope, service, "closed the connection")
                    return
                continue
            except BaseException:
                connection.close()  # mid-exchange (cancelled by a timeout, reset): not reusable
                raise
            else:
                return

    async def _connect(
        self, pool: _Pool, send: Send, scope: Scope
    ) -> tuple[_Connection | None, bool]:
        try:
            return await pool.acquire()
        except OSError as exc:
            await _unreachable(send, scope, pool.service, f"is unreachable ({exc.strerror})")
            return None, False

    async def _exchange(
        self,
        pool: _Pool,
        connection: _Connection,
        head: bytes,
        body: bytes,
        more: bool,
        receive: Receive,
        scope: Scope,
        send: Send,
    ) -> None:
        writer, reader = connection.writer, connection.reader
        chunked = more
        writer.write(head)
        if chunked:
            await _write_chunk(writer, body)
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    raise ConnectionError("the client went away")
                more = message.get("more_body", False)
                await _write_chunk(writer, message.get("body", b""))
            writer.write(b"0\r\n\r\n")
        elif body:
            writer.write(body)
        try:
            await writer.drain()
        except ConnectionError as exc:
            raise _Stale from exc
        response = _Response()
        parser = httptools.HttpResponseParser(response)
        started = False
        head_only = scope["method"] == "HEAD"
        while True:
            try:
                data = await reader.read(READ_CHUNK)
            except ConnectionError as exc:
                if not started and not response.headers:
                    raise _Stale from exc
                raise
            if not data:
                if not started and not response.headers:
                    raise _Stale
                raise ConnectionError("the service closed the connection mid-answer")
            parser.feed_data(data)
            if response.head_done and not started:
                status = parser.get_status_code()
                if status < 200:  # 1xx: an interim answer; the real one follows
                    response = _Response()
                    parser = httptools.HttpResponseParser(response)
                    continue
                started = True
                headers = [(k, v) for k, v in response.headers if k not in _RESPONSE_HOP]
                await send({"type": "http.response.start", "status": status, "headers": headers})
                if head_only:
                    response.done = True
            if response.chunks and not response.done:
                chunks, response.chunks = response.chunks, []
                await send(
                    {"type": "http.response.body", "body": b"".join(chunks), "more_body": True}
                )
            if response.done:
                keep = parser.should_keep_alive()
                body_out = b"".join(response.chunks)
                if keep and not head_only:
                    pool.release(connection)
                else:
                    connection.close()
                await send({"type": "http.response.body", "body": body_out, "more_body": False})
                return


_RESPONSE_HOP = HOP_BY_HOP - {b"host", b"content-length"}


def _content_length(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    for name, value in headers:
        if name == b"content-length":
            return value
    return None


async def _first_body(scope: Scope, receive: Receive) -> tuple[bytes, bool]:
    """The request body's first part, and whether more follows (then it is streamed)."""
    if scope["method"] in ("GET", "HEAD", "OPTIONS") and _content_length(scope["headers"]) in (
        None,
        b"0",
    ):
        return b"", False
    chunks: list[bytes] = []
    while True:
        message: Message = await receive()
        if message["type"] != "http.request":
            raise ConnectionError("the client went away")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False
        if sum(map(len, chunks)) >= READ_CHUNK:
            return b"".join(chunks), True


def _request_head(scope: Scope, host: bytes, body: bytes, more: bool) -> bytes:
    target = scope.get("raw_path") or scope["path"].encode()
    if scope.get("query_string"):
        target += b"?" + scope["query_string"]
    lines = [scope["method"].encode() + b" " + target + b" HTTP/1.1", b"host: " + host]
    for name, value in scope["headers"]:
        if name not in HOP_BY_HOP:
            lines.append(name + b": " + value)
    if more:
        lines.append(b"transfer-encoding: chunked")
    elif body or scope["method"] not in ("GET", "HEAD", "OPTIONS", "DELETE"):
        lines.append(b"content-length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n"


async def _write_chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
    if data:
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        await writer.drain()


async def _unreachable(send: Send, scope: Scope, service: str, why: str) -> None:
    log.warning("%s %s", service, why)
    body = problem_bytes(502, detail="The service is unavailable; try again shortly.")
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 502, "headers": headers})
    await send({"type": "http.response.body", "body": body})
