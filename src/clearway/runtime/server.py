"""The HTTP server every way of running Clearway uses: uvicorn on uvloop and httptools, bounded.

uvicorn's httptools protocol reads a request head of any size and any number of headers, waits
for it forever, and takes any number of connections. `BoundedHttpTools` adds the edge limits
(`clearway.gateway.edge`): a head is refused with 431 as soon as it is too large (while it is
being read, not once a 64 MiB header has been buffered), a head that does not arrive within
the header timeout gets a 408, and a connection beyond the cap a 503. Slow bodies are the
gateway's to refuse (it holds the per-request body deadline, whatever the server). And each
response leaves in one write, not two (`runtime.coalescing`).
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from pathlib import Path
from typing import Any, ClassVar, cast

import orjson
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from clearway.gateway.edge import EdgeLimits, header_problem, slow_head_problem
from clearway.kit.problems import PROBLEM_JSON, Problem
from clearway.runtime.coalescing import CoalescingTransport
from clearway.settings import Settings

RETRY_AFTER_FULL = 5
# Linux silently caps every listen backlog at this.
SOMAXCONN = Path("/proc/sys/net/core/somaxconn")

log = logging.getLogger(__name__)


class BoundedHttpTools(HttpToolsProtocol):
    limits: ClassVar[EdgeLimits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._unparsed_head = 0  # bytes of a head the parser holds but has not handed over
        self._head_size = 0
        self._header_lines = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Each response's head and body leave in one write (`runtime.coalescing`).
        coalescing = CoalescingTransport(cast(asyncio.Transport, transport), self.loop)
        super().connection_made(cast(asyncio.Transport, coalescing))
        if len(self.connections) > self.limits.max_connections:
            self._refuse(
                Problem(
                    503,
                    detail="The server is at its connection limit; try again shortly.",
                    headers={"retry-after": str(RETRY_AFTER_FULL)},
                )
            )
            return
        self._arm_head_timer()  # a connection that never sends a head is a slow head too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        in_head = self._in_head
        super().data_received(data)
        if in_head and self._in_head and not self._refused:
            # Still inside one head after these bytes: the parser buffers an unfinished header
            # line whole, so count the bytes here rather than wait for it to end.
            self._unparsed_head += len(data)
            if self._unparsed_head > self.limits.max_header_bytes:
                self._refuse(header_problem(self._too_large()))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._unparsed_head = self._head_size = self._header_lines = 0
        if self._head_timer is None:
            self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        self._head_size += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._refused:
            return
        self._header_lines += 1
        self._head_size += len(name) + len(value) + 4
        if self._header_lines > self.limits.max_headers:
            self._refuse(header_problem(f"More than {self.limits.max_headers} header lines."))
        elif self._head_size > self.limits.max_header_bytes:
            self._refuse(header_problem(self._too_large()))
        else:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm_head_timer()
        if not self._refused:
            super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def _too_large(self) -> str:
        return f"The request head is larger than {self.limits.max_header_bytes} bytes."

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_too_slow)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._answering():
            self._arm_head_timer()  # a pipelined head waits on us, not we on it
            return
        self._refuse(slow_head_problem())

    def _answering(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _refuse(self, problem: Problem) -> None:
        """Answer with the problem (unless an answer is under way) and close the connection."""
        self._refused = True
        self._disarm_head_timer()
        if self.transport.is_closing():
            return
        if not self._answering():
            self.transport.write(_raw_problem(problem))
        self.transport.close()


def _raw_problem(problem: Problem) -> bytes:
    body = orjson.dumps(problem.body())
    headers = {
        **problem.headers,
        "content-type": PROBLEM_JSON,
        "content-length": str(len(body)),
        "connection": "close",
    }
    head = f"HTTP/1.1 {problem.status} {HTTPStatus(problem.status).phrase}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return head.encode("latin-1") + b"\r\n" + body


def bounded_protocol(limits: EdgeLimits) -> type[BoundedHttpTools]:
    return type("BoundedHttpTools", (BoundedHttpTools,), {"limits": limits})


def server_config(
    app: ASGIApp,
    settings: Settings,
    *,
    port: int | None = None,
    keep_alive: int = 5,
    behind_gateway: bool = False,
) -> uvicorn.Config:
    limits = EdgeLimits.from_settings(settings)
    if behind_gateway:
        limits = limits.behind_gateway()
    trusted = [p.strip() for p in settings.forwarded_allow_ips.split(",") if p.strip()]
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port if port is None else port,
        lifespan="on",
        log_level=settings.log_level,
        access_log=False,
        loop="uvloop",
        http=bounded_protocol(limits),
        # The client address is the connection's peer unless a trusted proxy says otherwise:
        # an X-Forwarded-For from anywhere else must not choose the address rate limits count.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,
        # In-flight requests get this long to finish on SIGTERM; then the outboxes are flushed.
        timeout_graceful_shutdown=30,
        timeout_keep_alive=keep_alive,
        server_header=False,
        backlog=settings.backlog,
    )


def warn_if_backlog_capped(settings: Settings, somaxconn: Path = SOMAXCONN) -> None:
    """Say so when the kernel will give the listener less backlog than `CLEARWAY_BACKLOG`: a
    burst of new connections beyond the cap is dropped, and each client retries its handshake
    seconds later, which looks like a slow server rather than a full queue."""
    try:
        cap = int(somaxconn.read_text())
    except (OSError, ValueError):
        return  # not Linux: no cap to read
    if cap < settings.backlog:
        log.warning(
            "CLEARWAY_BACKLOG is %d but net.core.somaxconn caps it at %d; raise it"
            " (sysctl -w net.core.somaxconn=%d) for bursts of new connections",
            settings.backlog,
            cap,
            settings.backlog,
        )


def connectable(host: str) -> str:
    """An address to reach a server listening on `host` (a wildcard is reached on loopback)."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
