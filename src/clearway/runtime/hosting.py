"""The pieces a Clearway process is built from, whichever services it hosts.

`Foundation` is what every process opens (key store, internal credentials, bus, jobs, cache
bus); a `ServiceHost` is one service on it (database, migrations, outbox relay, subscriptions,
jobs, its ASGI app behind the internal credential); a `GatewayHost` is the gateway with its
verifier, limiter, recorder, revocation poller and metrics listener. `Host` starts and stops
any mix of them in the right order: all of them for the embedded platform (`clearway up`), one
service or the gateway alone in processes mode (`clearway serve SERVICE`).
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Receive, Send

from clearway.contracts.common import KeyRotated
from clearway.contracts.identity import JWKS_ROUTE, Revocations, revocations_path
from clearway.gateway.app import Gateway, LocalEndpoints, Upstreams
from clearway.gateway.auth import RevocationList, TokenVerifier
from clearway.gateway.cors import ProblemCORSMiddleware
from clearway.gateway.docs import merge
from clearway.gateway.edge import EdgeLimits
from clearway.gateway.ratelimit import RateLimiter
from clearway.gateway.records import RequestRecorder
from clearway.gateway.routes import RouteTable
from clearway.gateway.webapp import WebApp
from clearway.kit.aws import aws_client
from clearway.kit.bus import (
    CloudEvent,
    OutboxRelay,
    Subscription,
    idempotent,
    open_bus,
    prune_inbox,
    subscribe,
)
from clearway.kit.bus.telemetry import Telemetry
from clearway.kit.cache_bus import cache_bus_from_settings
from clearway.kit.crypto import (
    BlindIndex,
    DataKeyCache,
    FieldCipher,
    KeyStore,
    LocalKeyStore,
    Sealer,
)
from clearway.kit.crypto.kms import KmsKeyStore
from clearway.kit.db import Database
from clearway.kit.files import FileStore, LocalFileStore
from clearway.kit.files_s3 import S3FileStore
from clearway.kit.internal_auth import InternalCredentials
from clearway.kit.migrations import migrate
from clearway.kit.owner_only import owner_only_directory
from clearway.kit.service import Job, Service, ServiceCalls, ServiceContext
from clearway.runtime.aws.invoke import lambda_decrypt
from clearway.runtime.jobs import JobRunner
from clearway.runtime.metrics import MetricsEndpoint, MetricsServer
from clearway.settings import Settings

log = logging.getLogger("clearway.platform")


def _imported_when_hosted(name: str) -> Callable[[ServiceContext], Service]:
    """A service's `create`, imported on first use: a process or a Lambda function that hosts
    one service loads only that one (a shorter cold start), and the gateway none."""

    def create(context: ServiceContext) -> Service:
        factory: Callable[[ServiceContext], Service] = importlib.import_module(
            f"clearway.services.{name}"
        ).create
        return factory(context)

    return create


SERVICE_FACTORIES: dict[str, Callable[[ServiceContext], Service]] = {
    name: _imported_when_hosted(name)
    for name in ("identity", "common", "orders", "monitor", "rules")
}
REVOCATION_POLL_SECONDS = 1.0
# On the cache bus, beside the services' own channels: "the master key was rotated".
KEYS_CHANNEL, ROTATED = "keys", "rotated"
REWRAP_INTERVAL_SECONDS = 3600.0
PRUNE_INTERVAL_SECONDS = 24 * 3600.0


def root_secret(settings: Settings) -> bytes:
    """The secret that opens the key store: from settings, else from its file (made once)."""
    if settings.root_secret is not None:
        return settings.root_secret.get_secret_value().encode()
    path = settings.resolved_root_secret_file
    legacy = settings.resolved_data_dir / "root.secret"
    if settings.root_secret_file is None and legacy.exists():
        log.warning(
            "the root secret is inside the data directory (%s), so a copy of the data carries "
            "its key: move it to %s (or set CLEARWAY_ROOT_SECRET_FILE)",
            legacy,
            path,
        )
        path = legacy
    elif not path.exists() and _create_secret_file(path):
        log.warning("generated a root secret in %s; keep it safe and backed up", path)
    return path.read_text().strip().encode()


def _create_secret_file(path: Path) -> bool:
    """Write a new secret to `path` unless it exists; whole or not at all, whoever races."""
    owner_only_directory(path.parent)
    fd, temp = tempfile.mkstemp(prefix=".root.secret.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
            out.flush()
            os.fsync(out.fileno())
        os.link(temp, path)  # fails if another process made one first: theirs stands
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(temp)


def open_keystore(settings: Settings) -> KeyStore:
    """The local key store (one file in the data directory, opened by every process on the
    machine); on AWS (`keys_backend` "kms") KMS and Secrets Manager take its place."""
    keystore: KeyStore
    if settings.keys_backend == "kms":
        keystore = KmsKeyStore(
            aws_client("kms", settings),
            aws_client("secretsmanager", settings),
            alias_prefix=settings.kms_alias_prefix,
            secrets_prefix=settings.secrets_prefix,
            decrypt=lambda_decrypt(settings) if settings.kms_unwrap_function else None,
        )
    else:
        keystore = LocalKeyStore(settings.resolved_data_dir / "keys.db", root_secret(settings))
    keystore.ensure()
    return keystore


def open_files(settings: Settings, service: str, sealer: Sealer) -> FileStore:
    """A service's file store: a directory under the data directory, or S3 on AWS."""
    if settings.files_backend == "s3":
        s3 = aws_client("s3", settings)
        return S3FileStore(s3, settings.files_bucket, service, sealer, settings.files_kms_key_id)
    return LocalFileStore(settings.resolved_data_dir / "files" / service, sealer)


class HostUpstreams(Upstreams, ServiceCalls, Protocol):
    """How this process reaches services: in-process ASGI calls or pooled HTTP."""

    async def close(self) -> None: ...


class Foundation:
    """What every process opens once, whichever services it hosts."""

    def __init__(self, settings: Settings, *, leader: bool = True) -> None:
        self.settings = settings
        self.keystore = open_keystore(settings)
        self.credentials = InternalCredentials(self.keystore.secret("internal-credential"))
        self.bus = open_bus(settings)
        self.cache = cache_bus_from_settings(settings)
        self.jobs = JobRunner(leader=leader)
        self.blind_index = BlindIndex(self.keystore.secret("blind-index"))
        self.sealer = Sealer(self.keystore)


class ServiceHost:
    """One service: its database, context, outbox relay, subscriptions and jobs."""

    def __init__(self, name: str, base: Foundation, calls: ServiceCalls) -> None:
        settings = base.settings
        self.name = name
        self.base = base
        db = Database(
            name,
            settings.database_url_for(name),
            statement_cache=settings.database_statement_cache,
        )
        cache = DataKeyCache(settings.data_key_cache_seconds, settings.data_key_cache_uses)
        self.telemetry = Telemetry(base.bus, name)
        self.context = ServiceContext(
            name=name,
            settings=settings,
            db=db,
            keys=base.keystore,
            cipher=FieldCipher(name, base.keystore, cache),
            blind_index=base.blind_index,
            sealer=base.sealer,
            credentials=base.credentials,
            calls=calls,
            files=open_files(settings, name, base.sealer),
            key_admin=base.keystore if name == "common" else None,
            dead_letters=base.bus if name == "common" else None,
            cache=base.cache,
            telemetry=self.telemetry,
        )
        self.service = SERVICE_FACTORIES[name](self.context)
        self.relay = OutboxRelay(db, base.bus)
        self.app = self.service.asgi(base.credentials)

    async def migrate(self) -> None:
        await migrate(self.context.db, self.service.migrations)

    def wire(self) -> None:
        """Its subscriptions on the bus and the cache bus, its jobs on the runner."""
        self._wire_events()
        self._wire_jobs()
        jobs, keystore, rewrap = self.base.jobs, self.base.keystore, f"{self.name}-rewrap-data-keys"

        def rotated(key: str) -> None:
            if key == ROTATED:  # from whichever process consumed key.rotated, this one too
                keystore.reload()
                jobs.trigger(rewrap)

        self.base.cache.subscribe(KEYS_CHANNEL, rotated)

    def _wire_events(self) -> None:
        """One durable queue per service; its handlers share one transaction per event."""
        name, base = self.name, self.base

        async def key_rotated(event: KeyRotated, session: AsyncSession) -> None:
            # The event reaches one process of the service (its queue's consumers compete);
            # every process must wrap new data keys under the new version from now on.
            await base.cache.publish(KEYS_CHANNEL, ROTATED)

        subscriptions: Sequence[Subscription] = [
            *self.service.subscriptions,
            subscribe(KeyRotated, key_rotated),
        ]

        async def dispatch(event: CloudEvent, session: AsyncSession) -> None:
            for subscription in subscriptions:
                if subscription.accepts(event.type):
                    await subscription.handle(event, session)

        topics = sorted({t for s in subscriptions for t in s.topics})
        base.bus.subscribe(name, topics, idempotent(self.context.db, name, dispatch))
        if not base.jobs.leader:
            # High-volume ingest writes one SQLite file: two workers taking turns at its write
            # lock starve each other, one writer keeps up. The leader consumes it alone.
            return
        for batch in self.service.batch_subscriptions:
            base.bus.subscribe_batch(f"{name}.batch", batch.topics, batch.handler, batch.max_batch)

    def _wire_jobs(self) -> None:
        context, settings = self.context, self.base.settings

        async def rewrap() -> int:
            return await context.cipher.rewrap_all(context.db)

        async def prune() -> int:
            return await prune_inbox(context.db, timedelta(days=settings.inbox_retention_days))

        self.base.jobs.add(Job(f"{self.name}-rewrap-data-keys", REWRAP_INTERVAL_SECONDS, rewrap))
        self.base.jobs.add(Job(f"{self.name}-prune-inbox", PRUNE_INTERVAL_SECONDS, prune))
        for job in self.service.jobs:
            self.base.jobs.add(job)

    async def check_database(self) -> str:
        started = time.perf_counter()
        try:
            async with self.context.db.read() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:
            return f"failing: {type(exc).__name__}"
        return f"ok ({(time.perf_counter() - started) * 1000:.1f} ms)"


class GatewayHost:
    """The gateway and what it needs besides the services: keys, revocations, limits, records."""

    def __init__(
        self,
        base: Foundation,
        upstreams: HostUpstreams,
        ready: Callable[[], Awaitable[dict[str, Any]]],
        documents: Callable[[], Awaitable[dict[str, dict[str, Any]]]],
    ) -> None:
        settings = base.settings
        self.base = base
        self.upstreams = upstreams
        self._documents = documents
        self.routes = RouteTable()
        self.revocations = RevocationList()
        self.verifier = TokenVerifier(
            settings.jwt_issuer,
            settings.jwt_audience,
            lambda: upstreams.get_json("identity", JWKS_ROUTE),
            self.revocations,
        )
        self.recorder = RequestRecorder(base.bus)
        self.limiter = RateLimiter(settings)
        self.gateway = Gateway(
            routes=self.routes,
            verifier=self.verifier,
            limiter=self.limiter,
            recorder=self.recorder,
            upstreams=upstreams,
            credentials=base.credentials,
            local=LocalEndpoints(ready=ready, openapi=self.openapi),
            body_limit=settings.body_limit_bytes,
            body_limits={"upload": settings.body_limit_upload_bytes},
            upstream_timeout=settings.upstream_timeout_seconds,
            edge=EdgeLimits.from_settings(settings),
            webapp=WebApp.packaged(),
        )
        self.app: ASGIApp = self.gateway
        if settings.cors_origins:
            self.app = ProblemCORSMiddleware(
                self.gateway,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=[
                    "authorization",
                    "content-type",
                    "idempotency-key",
                    "x-request-id",
                    "x-clearway-client",
                ],
                # The browser app's refresh cookie (identity checks Origin and the header).
                allow_credentials=True,
                expose_headers=["x-request-id", "retry-after", "location"],
                max_age=600,
            )
        self._openapi: dict[str, Any] | None = None
        self._service_documents: dict[str, dict[str, Any]] = {}
        self.metrics: MetricsServer | None = None

    async def start(self, *, background: bool = True) -> None:
        """After the services it reaches are up: keys, revocations, records, metrics.

        Without `background` (a Lambda function, frozen between requests) records are not
        published by a timer but flushed after each request, and there is no metrics listener.
        """
        settings = self.base.settings
        await self.limiter.store.start()
        await self.verifier.refresh_keys()
        await self.poll_revocations()
        self._service_documents = await self._documents()
        poll = Job(
            "gateway-revocations",
            REVOCATION_POLL_SECONDS,
            self.poll_revocations,
            every_process=True,
        )
        self.base.jobs.add(poll)
        if not background:
            return
        self.recorder.start()
        if settings.metrics_port is not None:
            self.metrics = MetricsServer(
                MetricsEndpoint(self.upstreams, self.base.credentials),
                settings.metrics_host,
                settings.metrics_port,
            )
            await self.metrics.start()

    async def stop_listeners(self) -> None:
        if self.metrics is not None:
            await self.metrics.stop()

    async def stop(self) -> None:
        """Flush request records (to the bus, still open) and close the limiter's store."""
        await self.recorder.stop()
        await self.limiter.store.close()

    async def poll_revocations(self) -> None:
        document = Revocations.model_validate(
            await self.upstreams.get_json("identity", revocations_path(self.revocations.cursor))
        )
        for item in document.items:
            self.revocations.add(item.session_id, item.until)
        self.revocations.cursor = document.cursor

    def openapi(self) -> dict[str, Any]:
        if self._openapi is None:
            self._openapi = merge(self.routes.routes, self._service_documents)
        return self._openapi


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
