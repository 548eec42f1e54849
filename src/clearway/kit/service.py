"""What a service is to the runtime: an ASGI app, a database, subscriptions and jobs.

A service package exposes `create(context) -> Service`; the runtime decides whether it runs in
the gateway's process or in its own, and the service cannot tell the difference. Its operator
commands (`commands.py`, a list of click commands in `COMMANDS`) reach it through `OpenService`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp

from clearway.kit.bus import Bus, CloudEvent
from clearway.kit.bus.contract import Event, Subscription
from clearway.kit.bus.events import BATCH_SUFFIX
from clearway.kit.bus.telemetry import Telemetry
from clearway.kit.cache_bus import CacheBus, LocalCacheBus
from clearway.kit.caller import Caller
from clearway.kit.crypto import BlindIndex, FieldCipher, KeyService, KeyStore, Sealer
from clearway.kit.db import Database
from clearway.kit.fast_routes import FastLane
from clearway.kit.files import FileStore
from clearway.kit.internal_auth import InternalCredentials, RequireInternalCredential
from clearway.kit.problems import install_problem_handlers
from clearway.settings import Settings

BatchHandler = Callable[[Sequence[CloudEvent]], Awaitable[None]]


@dataclass(frozen=True)
class BatchSubscription:
    """High-volume events of `events`, one by one or in telemetry envelopes, handed over raw
    in batches (the handler reads each record itself, so one bad record cannot sink the rest)."""

    events: tuple[type[Event], ...]
    handler: BatchHandler
    max_batch: int = 500

    @property
    def topics(self) -> tuple[str, ...]:
        types = tuple(event.TYPE for event in self.events)
        return (*types, *(kind + BATCH_SUFFIX for kind in types))


@dataclass(frozen=True)
class Job:
    """A scheduled job: runs every `interval_seconds` in the embedded runtime, or on demand.

    Maintenance (folding, retention, rewrapping) runs in one process of a host with several
    workers; `every_process` jobs refresh what each process holds in memory, so run in all.
    """

    name: str
    interval_seconds: float
    run: Callable[[], Awaitable[object]]
    every_process: bool = False


class ServiceCalls(Protocol):
    """Another service's internal API, reached with the platform's internal credential."""

    async def get_json(self, service: str, path: str, caller: Caller | None = None) -> Any:
        """GET `path` from `service`; raises `ServiceCallError` unless it answers 200."""


class ServiceCallError(Exception):
    def __init__(self, service: str, path: str, status: int) -> None:
        self.status = status
        super().__init__(f"{service} answered {status} to GET {path}")


class Capability(Enum):
    """What a service may need beyond its own data; its package declares them in `NEEDS`
    (`NEEDS = frozenset({Capability.DEAD_LETTERS})`), and only then does the host hand them."""

    KEY_ADMINISTRATION = "key administration"  # rotate the master key, list its versions
    DEAD_LETTERS = "dead letters"  # every queue's dead letters: list and replay


@dataclass
class ServiceContext:
    """Everything the platform hands a service; nothing in it reaches another service's data."""

    name: str
    settings: Settings
    db: Database
    keys: KeyService
    cipher: FieldCipher
    blind_index: BlindIndex
    sealer: Sealer
    credentials: InternalCredentials
    calls: ServiceCalls
    # The service's own file store (content encrypted at rest).
    files: FileStore
    # High-volume events (searches) published in batches, straight to the bus.
    telemetry: Telemetry
    # Only for a service that needs `Capability.KEY_ADMINISTRATION`.
    key_admin: KeyStore | None = None
    # Only for a service that needs `Capability.DEAD_LETTERS`.
    dead_letters: Bus | None = None
    # Invalidation messages to this service's other processes (`clearway.kit.cache_bus`).
    cache: CacheBus = field(default_factory=LocalCacheBus)


class OpenService(Protocol):
    """How a service's operator command reaches the service: `async with open_service("rules")
    as context:` is the service's context alone, its database migrated, nothing started.

    The `clearway` command hands one to every command as click's context object
    (`@click.pass_obj`), so a service's commands never import the runtime that hosts it.
    """

    def __call__(self, name: str) -> AbstractAsyncContextManager[ServiceContext]: ...


@dataclass
class Service:
    name: str
    api: FastAPI
    migrations: Path
    subscriptions: list[Subscription] = field(default_factory=list)
    batch_subscriptions: list[BatchSubscription] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    on_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def asgi(self, credentials: InternalCredentials) -> ASGIApp:
        return RequireInternalCredential(FastLane(self.api), credentials)


def service_api(name: str, title: str, description: str) -> FastAPI:
    """A FastAPI app with the platform's error shape; docs are served by the gateway only."""
    api = FastAPI(
        title=title,
        description=description,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    api.state.service = name
    install_problem_handlers(api)
    return api


def serve_routes(api: FastAPI, *routers: APIRouter) -> None:
    """Make the routers' routes the app's own routes.

    `FastAPI.include_router` keeps each router as a layer matched on every request before the
    route inside it is matched again: measured with `python -m bench.request_path`, that second
    pass was a quarter of a `/me`'s CPU time. A service's routers carry no prefix, dependencies
    or settings of their own, so their routes can stand on the app directly, unchanged.
    """
    for router in routers:
        api.router.routes.extend(router.routes)
