"""Cache invalidation messages reach every process of a service (Redis expected, as in CI)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from clearway.kit.cache_bus import LocalCacheBus, RedisCacheBus

REDIS_URL = "redis://127.0.0.1:6379/0"


async def test_in_process_delivery() -> None:
    bus = LocalCacheBus()
    heard: list[str] = []
    bus.subscribe("rules", heard.append)
    await bus.start()
    await bus.publish("rules", "snapshot")
    await bus.publish("identity", "profile:1")  # another service's channel
    assert heard == ["snapshot"]


async def test_every_process_hears_a_key_published_by_another() -> None:
    service = f"test-{uuid.uuid4().hex}"
    publisher, *listeners = (RedisCacheBus(REDIS_URL) for _ in range(3))
    heard: list[list[str]] = [[], []]
    arrived = [asyncio.Event(), asyncio.Event()]
    for listener, keys, event in zip(listeners, heard, arrived, strict=True):
        listener.subscribe(
            service, lambda key, keys=keys, event=event: (keys.append(key), event.set())
        )
        listener.subscribe(f"{service}-other", lambda key: pytest.fail(key))
    for bus in (publisher, *listeners):
        await bus.start()
    try:
        await publisher.publish(service, "profile:42")
        async with asyncio.timeout(5):
            for event in arrived:
                await event.wait()
        assert heard == [["profile:42"], ["profile:42"]]
    finally:
        for bus in (publisher, *listeners):
            await bus.stop()


async def test_an_unreachable_redis_fails_at_start() -> None:
    bus = RedisCacheBus("redis://127.0.0.1:1/0")
    with pytest.raises(RuntimeError, match="unreachable"):
        await bus.start()
    await bus.stop()
