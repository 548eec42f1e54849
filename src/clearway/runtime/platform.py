"""The whole platform in one process: gateway and five services, in-process calls.

`Platform` is the ASGI app `clearway up` serves. Start-up opens each service's database,
applies its migrations, wires its events and jobs; shutdown (after the server has let
in-flight requests finish) flushes request records and every outbox, so nothing is lost.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from clearway.gateway.app import Gateway, LocalEndpoints
from clearway.gateway.auth import RevocationList, TokenVerifier
from clearway.gateway.docs import merge
from clearway.gateway.ratelimit import RateLimiter
from clearway.gateway.records import RequestRecorder
from clearway.gateway.routes import RouteTable
from clearway.kit.bus import (
    CloudEvent,
    EmbeddedBus,
    OutboxRelay,
    idempotent,
    matches,
    prune_inbox,
)
from clearway.kit.crypto import BlindIndex, DataKeyCache, FieldCipher, LocalKeyStore, Sealer
from clearway.kit.db import Database
from clearway.kit.files import LocalFileStore
from clearway.kit.internal_auth import InternalCredentials
from clearway.kit.migrations import migrate
from clearway.kit.service import Job, Service, ServiceContext, Subscription
from clearway.runtime.inprocess import InProcessUpstreams
from clearway.runtime.jobs import JobRunner
from clearway.runtime.metrics import MetricsEndpoint, MetricsServer
from clearway.services import common, identity, monitor, orders, rules
from clearway.settings import Settings

log = logging.getLogger("clearway.platform")

SERVICE_FACTORIES: dict[str, Callable[[ServiceContext], Service]] = {
    "identity": identity.create,
    "common": common.create,
    "orders": orders.create,
    "monitor": monitor.create,
    "rules": rules.create,
}
REVOCATION_POLL_SECONDS = 1.0
REWRAP_INTERVAL_SECONDS = 3600.0
PRUNE_INTERVAL_SECONDS = 24 * 3600.0


def root_secret(settings: Settings) -> bytes:
    """The secret that opens the key store: from settings, else generated once on disk."""
    if settings.root_secret is not None:
        return settings.root_secret.get_secret_value().encode()
    path = settings.resolved_data_dir / "root.secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
        log.warning("generated a root secret in %s; keep it safe and backed up", path)
    return path.read_text().strip().encode()


def open_keystore(settings: Settings) -> LocalKeyStore:
    keystore = LocalKeyStore(settings.resolved_data_dir / "keys.db", root_secret(settings))
    keystore.ensure()
    return keystore


@dataclass
class Hosted:
    service: Service
    context: ServiceContext
    relay: OutboxRelay


class Platform:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keystore = open_keystore(settings)
        self.credentials = InternalCredentials(self.keystore.secret("internal-credential"))
        self.bus = EmbeddedBus.from_settings(settings)
        self.jobs = JobRunner()
        blind_index = BlindIndex(self.keystore.secret("blind-index"))
        sealer = Sealer(self.keystore)
        self.hosted: dict[str, Hosted] = {}
        apps: dict[str, ASGIApp] = {}
        self.upstreams = InProcessUpstreams(apps, self.credentials)
        for name, factory in SERVICE_FACTORIES.items():
            db = Database(name, settings.database_url_for(name))
            cache = DataKeyCache(settings.data_key_cache_seconds, settings.data_key_cache_uses)
            context = ServiceContext(
                name=name,
                settings=settings,
                db=db,
                keys=self.keystore,
                cipher=FieldCipher(name, self.keystore, cache),
                blind_index=blind_index,
                sealer=sealer,
                credentials=self.credentials,
                calls=self.upstreams,
                files=LocalFileStore(settings.resolved_data_dir / "files" / name, sealer),
                key_admin=self.keystore if name == "common" else None,
            )
            service = factory(context)
            self.hosted[name] = Hosted(service, context, OutboxRelay(db, self.bus))
            apps[name] = service.asgi(self.credentials)
        self.routes = RouteTable()
        self.revocations = RevocationList()
        self.verifier = TokenVerifier(
            settings.jwt_issuer,
            settings.jwt_audience,
            lambda: self.upstreams.get_json("identity", "/.well-known/jwks.json"),
            self.revocations,
        )
        self.recorder = RequestRecorder(self.bus.publish_many)
        self.gateway = Gateway(
            routes=self.routes,
            verifier=self.verifier,
            limiter=RateLimiter(settings),
            recorder=self.recorder,
            upstreams=self.upstreams,
            credentials=self.credentials,
            local=LocalEndpoints(ready=self.readiness, openapi=self.openapi),
            body_limit=settings.body_limit_bytes,
            upstream_timeout=settings.upstream_timeout_seconds,
        )
        self.app: ASGIApp = self.gateway
        if settings.cors_origins:
            self.app = CORSMiddleware(
                self.gateway,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=["authorization", "content-type", "idempotency-key", "x-request-id"],
                expose_headers=["x-request-id", "retry-after", "location"],
                max_age=600,
            )
        self._openapi: dict[str, Any] | None = None
        self.metrics: MetricsServer | None = None
        self.started = False

    # --- ASGI ------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self.app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
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

    # --- start and stop --------------------------------------------------------------------

    async def start(self) -> None:
        for hosted in self.hosted.values():
            await migrate(hosted.context.db, hosted.service.migrations)
        for name, hosted in self.hosted.items():
            self._wire_events(name, hosted)
            self._wire_jobs(name, hosted)
        await self.bus.start()
        for hosted in self.hosted.values():
            hosted.relay.start()
        for hosted in self.hosted.values():
            for hook in hosted.service.on_start:
                await hook()
        await self.verifier.refresh_keys()
        await self._poll_revocations()
        self.jobs.add(Job("gateway-revocations", REVOCATION_POLL_SECONDS, self._poll_revocations))
        self.jobs.start()
        self.recorder.start()
        if self.settings.metrics_port is not None:
            self.metrics = MetricsServer(
                MetricsEndpoint(self.upstreams, self.credentials),
                self.settings.metrics_host,
                self.settings.metrics_port,
            )
            await self.metrics.start()
        self.started = True

    async def stop(self) -> None:
        self.started = False
        if self.metrics is not None:
            await self.metrics.stop()
        await self.jobs.stop()
        await self.recorder.stop()
        for hosted in self.hosted.values():
            for hook in hosted.service.on_stop:
                await hook()
        for hosted in self.hosted.values():
            await hosted.relay.stop()  # publishes whatever is still in the outbox
        await self.bus.stop()
        for hosted in self.hosted.values():
            await hosted.context.db.dispose()

    def _wire_events(self, name: str, hosted: Hosted) -> None:
        """One durable queue per service; its handlers share one transaction per event."""
        context = hosted.context

        async def key_rotated(event: CloudEvent, session: AsyncSession) -> None:
            # Another process (the CLI, another worker) may have rotated: read the new version.
            self.keystore.reload()
            self.jobs.trigger(f"{name}-rewrap-data-keys")

        subscriptions: Sequence[Subscription] = [
            *hosted.service.subscriptions,
            Subscription(("key.rotated",), key_rotated),
        ]

        async def dispatch(event: CloudEvent, session: AsyncSession) -> None:
            for subscription in subscriptions:
                if any(matches(topic, event.type) for topic in subscription.topics):
                    await subscription.handler(event, session)

        topics = sorted({t for s in subscriptions for t in s.topics})
        self.bus.subscribe(name, topics, idempotent(context.db, name, dispatch))
        for batch in hosted.service.batch_subscriptions:
            self.bus.subscribe_batch(f"{name}.batch", batch.topics, batch.handler, batch.max_batch)

    def _wire_jobs(self, name: str, hosted: Hosted) -> None:
        context = hosted.context

        async def rewrap() -> int:
            return await context.cipher.rewrap_all(context.db)

        async def prune() -> int:
            return await prune_inbox(context.db, timedelta(days=self.settings.inbox_retention_days))

        self.jobs.add(Job(f"{name}-rewrap-data-keys", REWRAP_INTERVAL_SECONDS, rewrap))
        self.jobs.add(Job(f"{name}-prune-inbox", PRUNE_INTERVAL_SECONDS, prune))
        for job in hosted.service.jobs:
            self.jobs.add(job)

    async def _poll_revocations(self) -> None:
        document = await self.upstreams.get_json(
            "identity", f"/internal/identity/revocations?after={self.revocations.cursor}"
        )
        for item in document["items"]:
            self.revocations.add(item["session_id"], item["until"])
        self.revocations.cursor = document["cursor"]

    # --- local endpoints -------------------------------------------------------------------

    async def readiness(self) -> dict[str, Any]:
        checks: dict[str, str] = {}
        for name, hosted in self.hosted.items():
            started = time.perf_counter()
            try:
                async with hosted.context.db.read() as session:
                    await session.execute(text("SELECT 1"))
                checks[name] = f"ok ({(time.perf_counter() - started) * 1000:.1f} ms)"
            except Exception as exc:
                checks[name] = f"failing: {type(exc).__name__}"
        ready = self.started and all(v.startswith("ok") for v in checks.values())
        return {"ready": ready, "started": self.started, "databases": checks}

    def openapi(self) -> dict[str, Any]:
        if self._openapi is None:
            documents = {name: h.service.api.openapi() for name, h in self.hosted.items()}
            self._openapi = merge(self.routes.routes, documents)
        return self._openapi
