"""A response leaves in one write: the writes of one loop turn are sent together, in order,
at once when large, and before the connection closes; through the real server, answers stay
whole and in order (pipelined, large, streamed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from clearway.runtime.coalescing import FLUSH_BYTES, CoalescingTransport
from clearway.runtime.server import server_config
from tests.conftest import test_settings
from tests.support import serving


class RecordingTransport:
    """What reached the socket: each write, and whether (and when) it was closed."""

    def __init__(self) -> None:
        self.calls: list[bytes | str] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        assert not self.closing, "written after close"
        self.calls.append(data)

    def close(self) -> None:
        self.closing = True
        self.calls.append("close")

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 8000) if name == "sockname" else default


def coalescing(recorded: RecordingTransport) -> CoalescingTransport:
    return CoalescingTransport(recorded, asyncio.get_running_loop())  # type: ignore[arg-type]


async def test_the_writes_of_one_turn_leave_together_in_order() -> None:
    recorded = RecordingTransport()
    transport = coalescing(recorded)
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(b"ok")
    assert recorded.calls == []  # kept until the turn ends
    await asyncio.sleep(0)
    assert recorded.calls == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    transport.write(b"next")
    await asyncio.sleep(0)
    assert recorded.calls[1:] == [b"next"]


async def test_a_large_body_is_not_held() -> None:
    recorded = RecordingTransport()
    transport = coalescing(recorded)
    transport.write(b"head")
    transport.write(b"x" * FLUSH_BYTES)
    assert recorded.calls == [b"head" + b"x" * FLUSH_BYTES]  # sent before the turn ends
    await asyncio.sleep(0)
    assert len(recorded.calls) == 1


async def test_closing_sends_what_was_kept_first() -> None:
    recorded = RecordingTransport()
    transport = coalescing(recorded)
    transport.write(b"HTTP/1.1 503 Service Unavailable\r\n\r\n")
    transport.close()
    assert recorded.calls == [b"HTTP/1.1 503 Service Unavailable\r\n\r\n", "close"]
    await asyncio.sleep(0)  # the scheduled flush finds nothing left to send
    assert recorded.calls[-1] == "close"


async def test_nothing_is_written_to_a_connection_already_closing() -> None:
    recorded = RecordingTransport()
    transport = coalescing(recorded)
    transport.write(b"late")
    recorded.closing = True  # the peer went away meanwhile
    await asyncio.sleep(0)
    assert recorded.calls == []


async def test_everything_else_is_the_transport_s() -> None:
    transport = coalescing(RecordingTransport())
    assert transport.get_extra_info("sockname") == ("127.0.0.1", 8000)
    assert transport.is_closing() is False


# Through the real server (uvicorn with `server_config`'s protocol), on a raw socket.

LARGE = bytes(range(256)) * (3 * FLUSH_BYTES // 256 + 7)  # several flushes' worth


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/stream":  # a body in pieces, with turns in between
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for piece in (b"one,", b"two,", b"three"):
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b""})
        return
    body = LARGE if path == "/large" else path.encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[int]:
    config = server_config(app, test_settings(tmp_path))
    config.lifespan = "off"
    async with serving(config) as port:
        yield port


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line)
    if b"content-length" in fields:
        return head, await reader.readexactly(int(fields[b"content-length"]))
    body = b""
    while (size := int((await reader.readuntil(b"\r\n")).strip(), 16)) > 0:
        body += await reader.readexactly(size)
        await reader.readexactly(2)
    await reader.readexactly(2)
    return head, body


async def test_pipelined_large_and_streamed_answers_arrive_whole_and_in_order(
    server: int,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    paths = ["/a", "/large", "/stream", "/b"]
    writer.write(b"".join(f"GET {p} HTTP/1.1\r\nhost: t\r\n\r\n".encode() for p in paths))
    answers = [await asyncio.wait_for(read_response(reader), 30) for _ in paths]
    writer.close()
    assert [head.split(b"\r\n")[0] for head, _ in answers] == [b"HTTP/1.1 200 OK"] * 4
    assert [body for _, body in answers] == [b"/a", LARGE, b"one,two,three", b"/b"]
