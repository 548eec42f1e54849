"""Processes mode: the gateway and each service in its own process, talking pooled HTTP.

`clearway serve SERVICE` runs one of them (under any supervisor: systemd, a container
runtime, Kubernetes); `clearway up --processes` is a small supervisor that does the first-start
steps once, starts every service and then the gateway as child processes, forwards SIGTERM and
stops them in order. Each process opens the same local key store file, which is right for one
machine; across machines a key service process or a KMS takes its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

import httpx
import orjson
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from clearway.kit.internal_auth import InternalCredentials, RequireInternalCredential
from clearway.runtime.hosting import (
    Foundation,
    GatewayHost,
    Host,
    HostUpstreams,
    ServiceHost,
    open_keystore,
)
from clearway.runtime.http import HttpUpstreams
from clearway.runtime.server import connectable, server_config
from clearway.settings import SERVICES, Settings

log = logging.getLogger("clearway.processes")

READY_PATH = "/_clearway/ready"
OPENAPI_PATH = "/_clearway/openapi.json"
# Services start in waves: a service's subscriptions are recorded on the bus when it starts, so
# the consumers of first-start events (the administrator, demo accounts, the shipped rule base)
# start before the services that publish them.
WAVES: tuple[tuple[str, ...], ...] = (("monitor", "common", "orders"), ("rules", "identity"))
START_SECONDS = 120.0
STOP_SECONDS = 40.0
# Services keep idle connections longer than the gateway's pool does (it drops them at 4 s).
KEEP_ALIVE_SECONDS = 75

Connect = Callable[[Settings, InternalCredentials], HostUpstreams]
"""How a part reaches the others: pooled HTTP here, Lambda Invoke on AWS."""


def _json(status: int, body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    content = orjson.dumps(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(content))]
    start = {"type": "http.response.start", "status": status, "headers": headers}
    return start, {"type": "http.response.body", "body": content}


class _ServiceEndpoints:
    """What a service process answers itself, for the gateway (behind the credential)."""

    def __init__(self, host: Host, service: ServiceHost) -> None:
        self.host = host
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == READY_PATH:
            checks = await self.host.database_checks()
            ready = self.host.started and all(v.startswith("ok") for v in checks.values())
            body: Any = {"ready": ready, "databases": checks}
        elif scope["path"] == OPENAPI_PATH:
            body = self.service.service.api.openapi()
        else:
            await self.service.app(scope, receive, send)
            return
        for message in _json(200, body):
            await send(message)


class ServiceProcess:
    """The ASGI app of `clearway serve SERVICE`: one service, reached over HTTP."""

    def __init__(self, settings: Settings, name: str, connect: Connect = HttpUpstreams) -> None:
        base = Foundation(settings)
        self.upstreams = connect(settings, base.credentials)
        self.service = ServiceHost(name, base, self.upstreams)
        self.host = Host(base, {name: self.service}, None, self.upstreams)
        self.app: ASGIApp = RequireInternalCredential(
            _ServiceEndpoints(self.host, self.service), base.credentials
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.host.lifespan(receive, send)
        elif scope["type"] == "http":
            if scope["path"] == "/healthz":  # liveness for supervisors; says nothing else
                for message in _json(200, {"status": "ok"}):
                    await send(message)
                return
            if scope["path"] == "/readyz":  # readiness (Kubernetes, Knative): started, databases
                checks = await self.host.database_checks()
                ready = self.host.started and all(v.startswith("ok") for v in checks.values())
                for message in _json(200 if ready else 503, {"ready": ready}):
                    await send(message)
                return
            await self.app(scope, receive, send)


class GatewayProcess:
    """The ASGI app of `clearway serve gateway`: the gateway in front of services over HTTP."""

    def __init__(self, settings: Settings, connect: Connect = HttpUpstreams) -> None:
        base = Foundation(settings)
        self.upstreams = connect(settings, base.credentials)
        self.gateway = GatewayHost(base, self.upstreams, self.readiness, self._documents)
        self.host = Host(base, {}, self.gateway, self.upstreams)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.host.lifespan(receive, send)
        elif scope["type"] == "http":
            await self.gateway.app(scope, receive, send)

    async def readiness(self) -> dict[str, Any]:
        checks: dict[str, str] = {}
        for name in SERVICES:
            try:
                report = await self.upstreams.get_json(name, READY_PATH)
                checks.update(report["databases"])
                if not report["ready"]:
                    checks[name] = "starting"
            except Exception as exc:
                checks[name] = f"failing: {type(exc).__name__}"
        ready = self.host.started and all(v.startswith("ok") for v in checks.values())
        return {"ready": ready, "started": self.host.started, "databases": checks}

    async def _documents(self) -> dict[str, dict[str, Any]]:
        """The services' OpenAPI documents; waits (bounded) for services still starting."""
        deadline = time.monotonic() + START_SECONDS
        documents: dict[str, dict[str, Any]] = {}
        for name in SERVICES:
            while True:
                try:
                    documents[name] = await self.upstreams.get_json(name, OPENAPI_PATH)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.5)
        return documents


def serve(settings: Settings, name: str, port: int | None = None) -> None:
    """Run one service or the gateway until SIGTERM."""
    if name == "gateway":
        app: ASGIApp = GatewayProcess(settings)
        port = port or settings.port
        keep_alive = 5
    else:
        service = ServiceProcess(settings, name)
        # The gateway must be up-to-date on where we are: our port comes from our URL.
        port = port or httpx.URL(settings.service_url(name)).port or 80
        app = service
        keep_alive = KEEP_ALIVE_SECONDS
    config = server_config(
        app, settings, port=port, keep_alive=keep_alive, behind_gateway=name != "gateway"
    )
    uvicorn.Server(config).run()


class Supervisor:
    """`clearway up --processes`: first start once, then one child process per part."""

    def __init__(self, settings: Settings, command: Sequence[str]) -> None:
        self.settings = settings
        self.command = list(command)
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def environment(self) -> dict[str, str]:
        urls = {name: self.settings.service_url(name) for name in SERVICES}
        return {
            **os.environ,
            "CLEARWAY_DATA_DIR": str(self.settings.resolved_data_dir),
            "CLEARWAY_SERVICE_URLS": orjson.dumps(urls).decode(),
            "CLEARWAY_HOST": self.settings.host,
            "CLEARWAY_PORT": str(self.settings.port),
        }

    def run(self) -> int:
        # First-start steps that every child would otherwise race to do: the root secret and
        # the master key (the administrator is made by the one identity process).
        open_keystore(self.settings)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per health check
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            for wave in WAVES:
                for name in wave:
                    self._spawn(name)
                for name in wave:
                    self._wait_healthy(name, f"{self.settings.service_url(name)}/healthz")
            self._spawn("gateway")
            gateway = f"http://{connectable(self.settings.host)}:{self.settings.port}"
            self._wait_healthy("gateway", f"{gateway}/healthz")
            print(f"Clearway (processes) on {gateway}", flush=True)
            return self._watch()
        except _Stop as stop:
            return stop.code
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _spawn(self, name: str) -> None:
        if self.stopping:
            raise _Stop(0)
        command = [*self.command, "serve", name]  # our own executable, our own arguments
        self.children[name] = subprocess.Popen(command, env=self.environment())  # noqa: S603

    def _wait_healthy(self, name: str, url: str) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.stopping:
                raise _Stop(0)
            if self.children[name].poll() is not None:
                log.error("%s exited during start-up", name)
                raise _Stop(1)
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        log.error("%s did not start within %.0f s", name, START_SECONDS)
        raise _Stop(1)

    def _watch(self) -> int:
        while not self.stopping:
            for name, child in self.children.items():
                if child.poll() is not None:
                    log.error("%s exited with %s; stopping the others", name, child.returncode)
                    return 1
            time.sleep(0.2)
        return 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _stop_all(self) -> None:
        """The gateway first (its last request records reach the bus), then the services that
        call others (their handlers finish their calls), then the ones they call."""
        for group in (("gateway",), *WAVES):
            running = [self.children[n] for n in group if n in self.children]
            for child in running:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in running:
                try:
                    child.wait(timeout=STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()


class _Stop(Exception):
    def __init__(self, code: int) -> None:
        self.code = code
