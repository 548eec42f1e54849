"""The HTTP server every way of running Clearway uses: uvicorn on uvloop and httptools."""

from __future__ import annotations

import uvicorn
from starlette.types import ASGIApp

from clearway.settings import Settings


def server_config(
    app: ASGIApp, settings: Settings, *, port: int | None = None, keep_alive: int = 5
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port if port is None else port,
        lifespan="on",
        log_level=settings.log_level,
        access_log=False,
        loop="uvloop",
        http="httptools",
        # In-flight requests get this long to finish on SIGTERM; then the outboxes are flushed.
        timeout_graceful_shutdown=30,
        timeout_keep_alive=keep_alive,
        server_header=False,
        backlog=settings.backlog,
    )


def connectable(host: str) -> str:
    """An address to reach a server listening on `host` (a wildcard is reached on loopback)."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
