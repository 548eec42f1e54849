"""Prometheus metrics on their own listener, never through the public gateway.

A scrape of `GET /metrics` on this port is forwarded (in-process or over HTTP) to the
monitor's internal metrics route with the platform's internal credential.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from starlette.types import Receive, Scope, Send

from clearway.contracts.monitor import METRICS_ROUTE
from clearway.gateway.app import Upstreams
from clearway.kit.caller import Caller
from clearway.kit.internal_auth import CALLER_HEADER, InternalCredentials
from clearway.kit.problems import problem_bytes

_NOT_FOUND = problem_bytes(404, detail="Only /metrics is served here.")


class MetricsEndpoint:
    def __init__(self, upstreams: Upstreams, credentials: InternalCredentials) -> None:
        self.upstreams = upstreams
        self.credentials = credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] != "/metrics" or scope["method"] != "GET":
            headers = [(b"content-type", b"application/problem+json")]
            await send({"type": "http.response.start", "status": 404, "headers": headers})
            await send({"type": "http.response.body", "body": _NOT_FOUND})
            return
        inner = dict(scope)
        inner["path"] = METRICS_ROUTE
        inner["raw_path"] = METRICS_ROUTE.encode()
        inner["headers"] = [
            self.credentials.header(),
            (CALLER_HEADER, Caller("service").header().encode()),
        ]
        await self.upstreams.forward("monitor", inner, receive, send)


class _ServerWithoutSignals(uvicorn.Server):
    """The main server owns the process's signals; this one is stopped by the platform."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class MetricsServer:
    """A second, small HTTP listener in the same process (lifespan off, no access log)."""

    def __init__(self, app: MetricsEndpoint, host: str, port: int) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, lifespan="off", access_log=False, log_level="warning"
        )
        self._server = _ServerWithoutSignals(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen, and return once the socket is bound (or fail if it cannot be)."""
        self._task = asyncio.create_task(self._server.serve(), name="metrics-server")
        while not self._server.started:
            if self._task.done():
                raise RuntimeError("the metrics listener could not start (is the port free?)")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
