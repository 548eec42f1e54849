"""One service on a process's foundation: its database, context, outbox relay, subscriptions
and jobs, and its ASGI app behind the internal credential.

A service's package is imported only when a process hosts it, so a process or a Lambda function
that hosts one service loads only that one, and the gateway none. What the service gets beyond
its own context (key administration, the dead letters) is what its package declares it needs.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts.common import KeyRotated
from clearway.kit.bus import (
    CloudEvent,
    OutboxRelay,
    Subscription,
    idempotent,
    prune_inbox,
    subscribe,
)
from clearway.kit.bus.telemetry import Telemetry
from clearway.kit.caller import Caller
from clearway.kit.crypto import DataKeyCache, FieldCipher
from clearway.kit.db import Database
from clearway.kit.migrations import migrate
from clearway.kit.service import (
    Capability,
    Job,
    Service,
    ServiceCallError,
    ServiceCalls,
    ServiceContext,
)
from clearway.runtime.foundation import Foundation, open_files
from clearway.settings import SERVICES, Settings

# On the cache bus, beside the services' own channels: "the master key was rotated".
KEYS_CHANNEL, ROTATED = "keys", "rotated"
REWRAP_INTERVAL_SECONDS = 3600.0
PRUNE_INTERVAL_SECONDS = 24 * 3600.0


def registration(name: str) -> tuple[Callable[[ServiceContext], Service], frozenset[Capability]]:
    """The service's `create` and the capabilities its package declares in `NEEDS`."""
    if name not in SERVICES:
        raise ValueError(f"no service {name!r}; the services are {', '.join(SERVICES)}")
    package = importlib.import_module(f"clearway.services.{name}")
    create: Callable[[ServiceContext], Service] = package.create
    needs: frozenset[Capability] = frozenset(getattr(package, "NEEDS", ()))
    return create, needs


class ServiceHost:
    """One service: its database, context, outbox relay, subscriptions and jobs."""

    def __init__(self, name: str, base: Foundation, calls: ServiceCalls) -> None:
        settings = base.settings
        create, needs = registration(name)
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
            key_admin=base.keystore if Capability.KEY_ADMINISTRATION in needs else None,
            dead_letters=base.bus if Capability.DEAD_LETTERS in needs else None,
            cache=base.cache,
            telemetry=self.telemetry,
        )
        self.service = create(self.context)
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


class Alone:
    """The calls of a service opened by itself (a command run once): no other service is
    hosted, so a call to one is refused as unavailable."""

    async def get_json(self, service: str, path: str, caller: Caller | None = None) -> Any:
        raise ServiceCallError(service, path, 503)


@asynccontextmanager
async def open_service(settings: Settings, name: str) -> AsyncIterator[ServiceHost]:
    """One service alone, its database migrated, nothing started: no bus consumers, no timers,
    no other service. For commands that act on one service's data once."""
    host = ServiceHost(name, Foundation(settings), Alone())
    try:
        await host.migrate()
        yield host
    finally:
        await host.context.db.dispose()
