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
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import orjson
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from clearway.kit.internal_auth import InternalCredentials, RequireInternalCredential
from clearway.runtime.foundation import Foundation, HostUpstreams, open_keystore
from clearway.runtime.gateway_host import GatewayHost
from clearway.runtime.hosting import Host, HostApp, json_messages
from clearway.runtime.http import HttpUpstreams
from clearway.runtime.server import connectable, server_config
from clearway.runtime.service_host import ServiceHost
from clearway.runtime.supervision import START_SECONDS, Child, Command, Supervisor
from clearway.settings import SERVICES, Settings

log = logging.getLogger("clearway.processes")

READY_PATH = "/_clearway/ready"
OPENAPI_PATH = "/_clearway/openapi.json"
# Services start in waves: a service's subscriptions are recorded on the bus when it starts, so
# the consumers of first-start events start before the services that publish them (the
# administrator, demo accounts, the shipped rule base), which start last.
PUBLISH_AT_FIRST_START = ("rules", "identity")
WAVES: tuple[tuple[str, ...], ...] = (
    tuple(name for name in SERVICES if name not in PUBLISH_AT_FIRST_START),
    PUBLISH_AT_FIRST_START,
)
# Services keep idle connections longer than the gateway's pool does (it drops them at 4 s).
KEEP_ALIVE_SECONDS = 75

Connect = Callable[[Settings, InternalCredentials], HostUpstreams]
"""How a part reaches the others: pooled HTTP here, Lambda Invoke on AWS."""


class _ServiceEndpoints:
    """What a service process answers itself, for the gateway (behind the credential)."""

    def __init__(self, host: Host, service: ServiceHost) -> None:
        self.host = host
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == READY_PATH:
            body: Any = await self.host.readiness()
        elif scope["path"] == OPENAPI_PATH:
            body = self.service.service.api.openapi()
        else:
            await self.service.app(scope, receive, send)
            return
        for message in json_messages(200, body):
            await send(message)


class ServiceProcess(HostApp):
    """The ASGI app of `clearway serve SERVICE`: one service, reached over HTTP."""

    def __init__(self, settings: Settings, name: str, connect: Connect = HttpUpstreams) -> None:
        base = Foundation(settings)
        self.upstreams = connect(settings, base.credentials)
        self.service = ServiceHost(name, base, self.upstreams)
        host = Host(base, {name: self.service}, None, self.upstreams)
        endpoints = _ServiceEndpoints(host, self.service)
        super().__init__(host, RequireInternalCredential(endpoints, base.credentials))


class GatewayProcess(HostApp):
    """The ASGI app of `clearway serve gateway`: the gateway in front of services over HTTP."""

    def __init__(self, settings: Settings, connect: Connect = HttpUpstreams) -> None:
        base = Foundation(settings)
        self.upstreams = connect(settings, base.credentials)
        self.gateway = GatewayHost(base, self.upstreams, self.readiness, self._documents)
        super().__init__(Host(base, {}, self.gateway, self.upstreams), self.gateway.app)

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


class Processes(Supervisor):
    """`clearway up --processes`: first start once, then one child process per part; one
    that exits stops them all."""

    def __init__(self, settings: Settings, command: Sequence[str]) -> None:
        super().__init__()
        self.settings = settings
        self.command = list(command)

    def environment(self) -> dict[str, str]:
        urls = {name: self.settings.service_url(name) for name in SERVICES}
        return {
            **os.environ,
            "CLEARWAY_DATA_DIR": str(self.settings.resolved_data_dir),
            "CLEARWAY_SERVICE_URLS": orjson.dumps(urls).decode(),
            "CLEARWAY_HOST": self.settings.host,
            "CLEARWAY_PORT": str(self.settings.port),
        }

    def supervise(self) -> int:
        # First-start steps that every child would otherwise race to do: the root secret and
        # the master key (the administrator is made by the one identity process).
        open_keystore(self.settings)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per health check
        gateway = f"http://{connectable(self.settings.host)}:{self.settings.port}"
        urls = {name: self.settings.service_url(name) for name in SERVICES} | {"gateway": gateway}
        for wave in (*WAVES, ("gateway",)):
            if self.stopping:
                return 0
            for name in wave:
                self._spawn(name)
            if not self.wait_started(wave, lambda name: _healthy(f"{urls[name]}/healthz")):
                return 0 if self.stopping else 1
        print(f"Clearway (processes) on {gateway}", flush=True)
        return self.watch(self._exited)

    def stop(self) -> None:
        """The gateway first (its last request records reach the bus), then the services that
        call others (their handlers finish their calls), then the ones they call."""
        for group in (("gateway",), *WAVES):
            self.stop_children(group)

    def _spawn(self, name: str) -> None:
        command = [*self.command, "serve", name]  # our own executable, our own arguments
        process = subprocess.Popen(command, env=self.environment())  # noqa: S603
        self.children[name] = Command(name, process)

    def _exited(self, name: str, child: Child) -> bool:
        log.error("%s exited with %s; stopping the others", name, child.exitcode)
        return False


def _healthy(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url, timeout=2).status_code == 200
    return False
