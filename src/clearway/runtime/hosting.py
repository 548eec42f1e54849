"""Starting and stopping what a Clearway process hosts, and the ASGI app every mode serves.

A process is built from a `Foundation` (`clearway.runtime.foundation`), the services it hosts
(`ServiceHost`, `clearway.runtime.service_host`) and perhaps the gateway (`GatewayHost`,
`clearway.runtime.gateway_host`). `Host` starts and stops any mix of them in the right order:
all of them for the embedded platform (`clearway up`, each worker and the background process
of `--workers`), one service or the gateway alone in processes mode (`clearway serve PART`).
`HostApp` is the ASGI app around a host: its lifespan, its health and readiness, its requests.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearway.runtime.foundation import Foundation, HostUpstreams
from clearway.runtime.gateway_host import GatewayHost
from clearway.runtime.service_host import ServiceHost

log = logging.getLogger("clearway.platform")


def json_messages(status: int, body: Any) -> tuple[Message, Message]:
    """A whole JSON answer as its two ASGI messages."""
    content = orjson.dumps(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(content))]
    start = {"type": "http.response.start", "status": status, "headers": headers}
    return start, {"type": "http.response.body", "body": content}


class Host:
    """Any mix of services and the gateway in one process, started and stopped in order.

    Start: migrations, subscriptions and jobs, bus, relays, services' start hooks, then the
    gateway, then the job timers. Stop (after the server has let in-flight requests finish):
    the reverse, flushing request records and every outbox so nothing is lost.
    """

    def __init__(
        self,
        base: Foundation,
        services: dict[str, ServiceHost],
        gateway: GatewayHost | None,
        upstreams: HostUpstreams,
    ) -> None:
        self.base = base
        self.services = services
        self.gateway = gateway
        self.upstreams = upstreams
        self.started = False

    async def start(self) -> None:
        for service in self.services.values():
            await service.migrate()
        for service in self.services.values():
            service.wire()
        await self.base.cache.start()
        await self.base.bus.start()
        for service in self.services.values():
            service.relay.start()
            service.telemetry.start()
        for service in self.services.values():
            for hook in service.service.on_start:
                await hook()
        if self.gateway is not None:
            await self.gateway.start()
        self.base.jobs.start()
        # Start-up leaves a quarter of a million long-lived objects (HS nomenclature, rule
        # snapshot, apps); a full collection scanning them pauses every request for ~100 ms.
        # Frozen, they are never scanned again, and collections cost microseconds.
        gc.collect()
        gc.freeze()
        self.started = True

    async def stop(self) -> None:
        self.started = False
        if self.gateway is not None:
            await self.gateway.stop_listeners()
        await self.base.jobs.stop()
        if self.gateway is not None:
            await self.gateway.stop()
        for service in self.services.values():
            for hook in service.service.on_stop:
                await hook()
        for service in self.services.values():
            await service.telemetry.stop()
            await service.relay.stop()  # publishes whatever is still in the outbox
        await self.base.bus.stop()
        await self.base.cache.stop()
        await self.upstreams.close()
        for service in self.services.values():
            await service.context.db.dispose()

    async def database_checks(self) -> dict[str, str]:
        return {name: await s.check_database() for name, s in self.services.items()}

    async def readiness(self) -> dict[str, Any]:
        """Started, and every database of its services answering."""
        checks = await self.database_checks()
        ready = self.started and all(v.startswith("ok") for v in checks.values())
        return {"ready": ready, "started": self.started, "databases": checks}

    async def lifespan(self, receive: Receive, send: Send) -> None:
        """ASGI lifespan for whichever app serves this host."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as exc:
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


class HostApp:
    """The ASGI app of every hosting mode: the host's lifespan, then `app` for requests.

    Where the gateway is hosted it answers `/healthz` and `/readyz` (with the services'
    databases); a process without it (a service alone) answers them here, before the internal
    credential is asked for: liveness for supervisors, readiness for Kubernetes and Knative.
    """

    def __init__(self, host: Host, app: ASGIApp) -> None:
        self.host = host
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.host.lifespan(receive, send)
        elif scope["type"] == "http":
            if self.host.gateway is None and scope["path"] in ("/healthz", "/readyz"):
                await self._health(scope["path"], send)
                return
            await self.app(scope, receive, send)

    async def _health(self, path: str, send: Send) -> None:
        if path == "/healthz":  # alive; says nothing else
            messages = json_messages(200, {"status": "ok"})
        else:
            ready = (await self.host.readiness())["ready"]
            messages = json_messages(200 if ready else 503, {"ready": ready})
        for message in messages:
            await send(message)
