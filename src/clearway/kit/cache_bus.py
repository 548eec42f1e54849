"""Cache invalidation messages: "drop what you hold for this key", to every process of a service.

A service that caches in memory (the rules snapshot, identity's profiles) publishes a key when
the cached thing changes; every process of that service, this one included, hears it and drops
its copy at once. One process: delivered in-process. Several: over a Redis pub/sub channel per
service (`clearway.cache.<service>`). Messages are hints, not data: a process that misses one
(Redis restarting) still has its caches' own expiry and checks to fall back on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from clearway.settings import Settings

log = logging.getLogger("clearway.cache_bus")

CHANNEL_PREFIX = "clearway.cache."
Handler = Callable[[str], None]


class CacheBus(Protocol):
    async def publish(self, service: str, key: str) -> None:
        """Tell every process of `service` to drop what it caches under `key`."""

    def subscribe(self, service: str, handler: Handler) -> None:
        """Call `handler(key)` for every key published for `service` (before `start`)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class LocalCacheBus:
    """Everything in one process: publishing calls the handlers directly."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def subscribe(self, service: str, handler: Handler) -> None:
        self._handlers.setdefault(service, []).append(handler)

    async def publish(self, service: str, key: str) -> None:
        _dispatch(self._handlers.get(service, ()), key)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


class RedisCacheBus:
    """Redis pub/sub: one connection listens to the channels of the services hosted here."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.redis: Redis = Redis.from_url(url, socket_connect_timeout=2.0)
        self._handlers: dict[str, list[Handler]] = {}
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, service: str, handler: Handler) -> None:
        self._handlers.setdefault(service, []).append(handler)

    async def publish(self, service: str, key: str) -> None:
        try:
            await self.redis.publish(CHANNEL_PREFIX + service, key)
        except (RedisError, OSError):
            log.warning("could not publish a cache invalidation for %s on %s", service, self.url)

    async def start(self) -> None:
        try:
            await self.redis.ping()
        except (RedisError, OSError) as exc:
            raise RuntimeError(f"cache backend {self.url} is unreachable: {exc}") from exc
        if self._handlers:
            ready = asyncio.Event()
            self._task = asyncio.create_task(self._listen(ready), name="cache-bus")
            await ready.wait()  # subscribed before start returns: no change slips past

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.redis.aclose()

    async def _listen(self, ready: asyncio.Event) -> None:
        channels = [CHANNEL_PREFIX + service for service in self._handlers]
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(*channels)
                    ready.set()
                    async for message in pubsub.listen():
                        if message["type"] != "message":
                            continue
                        service = message["channel"].decode()[len(CHANNEL_PREFIX) :]
                        _dispatch(self._handlers.get(service, ()), message["data"].decode())
            except (RedisError, OSError):
                ready.set()
                log.warning("cache invalidations from %s interrupted; reconnecting", self.url)
                await asyncio.sleep(1.0)


def _dispatch(handlers: Iterable[Handler], key: str) -> None:
    for handler in handlers:
        try:
            handler(key)
        except Exception:
            log.exception("a cache invalidation handler failed for key %r", key)


def cache_bus_from_settings(settings: Settings) -> CacheBus:
    backend = settings.cache_backend
    if backend == "memory":
        return LocalCacheBus()
    if backend.startswith(("redis://", "rediss://", "unix://")):
        return RedisCacheBus(backend)
    raise ValueError(f"CLEARWAY_CACHE_BACKEND must be 'memory' or a redis:// URL: {backend!r}")
