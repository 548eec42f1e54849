"""The whole platform in one process: gateway and five services, in-process calls.

`Platform` is the ASGI app `clearway up` serves (and each worker of `--workers`), composed from
the same pieces processes mode hosts one at a time (`clearway.runtime.hosting`).
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp

from clearway.runtime.foundation import Foundation
from clearway.runtime.gateway_host import GatewayHost
from clearway.runtime.hosting import Host, HostApp
from clearway.runtime.inprocess import InProcessUpstreams
from clearway.runtime.service_host import ServiceHost
from clearway.settings import SERVICES, Settings


def host_services(base: Foundation) -> tuple[InProcessUpstreams, dict[str, ServiceHost]]:
    """All five services in this process, calling each other in-process."""
    apps: dict[str, ASGIApp] = {}
    upstreams = InProcessUpstreams(apps, base.credentials)
    hosted = {name: ServiceHost(name, base, upstreams) for name in SERVICES}
    apps.update({name: host.app for name, host in hosted.items()})
    return upstreams, hosted


class Platform(HostApp):
    def __init__(self, settings: Settings, *, leader: bool = True) -> None:
        self.settings = settings
        base = Foundation(settings, leader=leader)
        self.keystore = base.keystore
        self.credentials = base.credentials
        self.bus = base.bus
        self.jobs = base.jobs
        self.upstreams, self.hosted = host_services(base)
        self.gateway_host = GatewayHost(base, self.upstreams, self.readiness, self.documents)
        self.gateway = self.gateway_host.gateway
        self.routes = self.gateway_host.routes
        super().__init__(
            Host(base, self.hosted, self.gateway_host, self.upstreams), self.gateway_host.app
        )

    @property
    def started(self) -> bool:
        return self.host.started

    async def start(self) -> None:
        await self.host.start()

    async def stop(self) -> None:
        await self.host.stop()

    async def readiness(self) -> dict[str, Any]:
        return await self.host.readiness()

    async def documents(self) -> dict[str, dict[str, Any]]:
        """The OpenAPI document of each service hosted here."""
        return {name: h.service.api.openapi() for name, h in self.hosted.items()}
