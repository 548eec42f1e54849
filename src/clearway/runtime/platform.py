"""The whole platform in one process: gateway and five services, in-process calls.

`Platform` is the ASGI app `clearway up` serves, composed from the same pieces processes mode
hosts one at a time (`clearway.runtime.hosting`). Start-up opens each service's database,
applies its migrations, wires its events and jobs; shutdown (after the server has let
in-flight requests finish) flushes request records and every outbox, so nothing is lost.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from clearway.runtime.hosting import SERVICE_FACTORIES as SERVICE_FACTORIES
from clearway.runtime.hosting import Foundation, GatewayHost, Host, ServiceHost
from clearway.runtime.hosting import open_keystore as open_keystore
from clearway.runtime.hosting import root_secret as root_secret
from clearway.runtime.inprocess import InProcessUpstreams
from clearway.settings import Settings


def host_services(base: Foundation) -> tuple[InProcessUpstreams, dict[str, ServiceHost]]:
    """All five services in this process, calling each other in-process."""
    apps: dict[str, ASGIApp] = {}
    upstreams = InProcessUpstreams(apps, base.credentials)
    hosted = {name: ServiceHost(name, base, upstreams) for name in SERVICE_FACTORIES}
    apps.update({name: host.app for name, host in hosted.items()})
    return upstreams, hosted


class Platform:
    def __init__(self, settings: Settings, *, leader: bool = True) -> None:
        self.settings = settings
        base = Foundation(settings, leader=leader)
        self.keystore = base.keystore
        self.credentials = base.credentials
        self.bus = base.bus
        self.jobs = base.jobs
        self.upstreams, self.hosted = host_services(base)
        self.gateway_host = GatewayHost(base, self.upstreams, self.readiness, self._documents)
        self.gateway = self.gateway_host.gateway
        self.recorder = self.gateway_host.recorder
        self.verifier = self.gateway_host.verifier
        self.revocations = self.gateway_host.revocations
        self.routes = self.gateway_host.routes
        self.app = self.gateway_host.app
        self.host = Host(base, self.hosted, self.gateway_host, self.upstreams)

    @property
    def started(self) -> bool:
        return self.host.started

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.host.lifespan(receive, send)
        elif scope["type"] == "http":
            await self.app(scope, receive, send)

    async def start(self) -> None:
        await self.host.start()

    async def stop(self) -> None:
        await self.host.stop()

    async def readiness(self) -> dict[str, Any]:
        checks = await self.host.database_checks()
        ready = self.started and all(v.startswith("ok") for v in checks.values())
        return {"ready": ready, "started": self.started, "databases": checks}

    def openapi(self) -> dict[str, Any]:
        return self.gateway_host.openapi()

    async def _documents(self) -> dict[str, dict[str, Any]]:
        return {name: h.service.api.openapi() for name, h in self.hosted.items()}
