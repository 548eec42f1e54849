"""What one request may cost: the limits on its head and on how long its body may take.

The server Clearway runs on enforces them while it reads a connection
(`clearway.runtime.server`); the gateway enforces them again on what reaches it, so they hold
under whatever server runs the ASGI app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from starlette.types import Message, Receive

from clearway.kit.problems import Problem
from clearway.settings import Settings


@dataclass(frozen=True)
class EdgeLimits:
    max_header_bytes: int
    max_headers: int
    header_timeout: float
    body_timeout: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> EdgeLimits:
        return cls(
            max_header_bytes=settings.edge_max_header_bytes,
            max_headers=settings.edge_max_headers,
            header_timeout=settings.edge_header_timeout_seconds,
            body_timeout=settings.edge_body_timeout_seconds,
            max_connections=settings.edge_max_connections,
        )

    def behind_gateway(self) -> EdgeLimits:
        """A service's limits in processes mode: room for the headers the gateway adds to a
        request it let through (credentials, caller, request id)."""
        return replace(
            self, max_header_bytes=self.max_header_bytes + 8192, max_headers=self.max_headers + 8
        )

    def head_problem(self, target_bytes: int, headers: list[tuple[bytes, bytes]]) -> Problem | None:
        """A 431 for a head with too many header lines or too many bytes, else None."""
        if len(headers) > self.max_headers:
            return header_problem(f"More than {self.max_headers} header lines.")
        size = target_bytes + sum(len(name) + len(value) + 4 for name, value in headers)
        if size > self.max_header_bytes:
            return header_problem(f"The request head is larger than {self.max_header_bytes} bytes.")
        return None


def header_problem(detail: str) -> Problem:
    return Problem(431, detail=detail, headers={"connection": "close"})


def slow_head_problem() -> Problem:
    return Problem(408, detail="The request head took too long to arrive.")


class BodyTimeout(Problem):
    """The client did not finish sending the body within the body timeout: a 408 that closes
    the connection. Raised as a problem, so a service whose read of the body it breaks off
    answers it (to no one: the gateway answers) rather than logging a failure of its own."""

    def __init__(self) -> None:
        super().__init__(
            408,
            detail="The request body took too long to arrive.",
            headers={"connection": "close"},
        )


class RequestBody:
    """The request's body as the app reads it, with one deadline for all of it (not per read:
    a byte a second is slow). Past it, `on_timeout` runs and the read raises `BodyTimeout`,
    wherever it was awaited. Once the last part has arrived, `on_arrived` runs, `on_complete`
    is awaited (the request's admission turn, which may raise a problem) and then `on_done`
    runs, before the last part is handed on."""

    def __init__(
        self, receive: Receive, seconds: float, on_timeout: Callable[[], None], *, empty: bool
    ) -> None:
        self._receive = receive
        self._on_timeout = on_timeout
        self.deadline = asyncio.get_running_loop().time() + seconds
        self.done = empty
        self.on_arrived: Callable[[], None] | None = None
        self.on_complete: Callable[[], Awaitable[None]] | None = None
        self.on_done: Callable[[], None] | None = None
        self._kept: list[Message] = []  # read by `disconnected`, for the app's next read

    async def receive(self) -> Message:
        if self._kept:
            return self._kept.pop(0)
        if self.done:
            return await self._receive()  # after the body: only a disconnect is left to wait for
        try:
            async with asyncio.timeout_at(self.deadline):
                message = await self._receive()
        except TimeoutError as exc:
            self._on_timeout()
            raise BodyTimeout from exc
        except asyncio.CancelledError:
            # Cancelled from outside in the same turn of the loop as the deadline passed (the
            # service's own deadline, due just after, when the loop was late): the body was
            # still late, and that stays the answer.
            if asyncio.get_running_loop().time() >= self.deadline:
                self._on_timeout()
            raise
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.done = True
            if self.on_arrived is not None:
                self.on_arrived()
            if self.on_complete is not None:
                await self.on_complete()
            if self.on_done is not None:
                self.on_done()
        return message

    async def disconnected(self) -> None:
        """Return once the client has gone away. Only once the body is in (the turn's wait):
        a body-less request's one empty part, read here, is kept for the app's first read."""
        while True:
            message = await self._receive()
            self._kept.append(message)
            if message["type"] == "http.disconnect":
                return


def has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a request comes with a body (HTTP/1.1 framing: a length or chunked)."""
    for name, value in headers:
        if name == b"transfer-encoding":
            return True
        if name == b"content-length":
            return value.strip() != b"0"
    return False
