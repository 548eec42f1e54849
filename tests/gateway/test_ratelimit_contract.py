"""The rate-limit store contract, against every backend: memory (one gateway) and Redis (many).

Redis is expected on 127.0.0.1:6379 (CI starts it): if it is unreachable these tests fail.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pyrate_limiter import Rate

from clearway.gateway.ratelimit import Limit, MemoryStore, RateLimiter, RateLimitStore, RedisStore
from tests.conftest import test_settings

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[RateLimitStore]:
    store: RateLimitStore = MemoryStore() if request.param == "memory" else RedisStore(REDIS_URL)
    await store.start()
    try:
        yield store
    finally:
        await store.close()


def key() -> str:
    return f"test:{uuid.uuid4().hex}"


# Rates here are slow enough that no token comes back while a loaded machine runs the loop:
# what is asserted is the bucket's arithmetic, never how fast the test runs.


async def test_a_burst_passes_then_the_next_waits(store: RateLimitStore) -> None:
    rate = Limit(per_second=0.2, burst=5).rate()
    k = key()
    for _ in range(5):
        assert await store.take(k, rate) == 0
    wait = await store.take(k, rate)
    assert 0 < wait <= 5 + 0.05  # one token every 5 s


async def test_a_refusal_spends_nothing(store: RateLimitStore) -> None:
    rate = Limit(per_second=0.5, burst=1).rate()
    k = key()
    assert await store.take(k, rate) == 0
    waits = [await store.take(k, rate) for _ in range(10)]
    assert all(0 < wait <= 2 + 0.05 for wait in waits)  # never further out than one token
    await asyncio.sleep(waits[-1])  # one token's worth, however many refusals came before
    assert await store.take(k, rate) == 0


async def test_keys_are_independent(store: RateLimitStore) -> None:
    rate = Limit(per_second=0.2, burst=1).rate()
    first, second = key(), key()
    assert await store.take(first, rate) == 0
    assert await store.take(first, rate) > 0
    assert await store.take(second, rate) == 0


async def test_the_bucket_refills_at_the_rate(store: RateLimitStore) -> None:
    rate = Limit(per_second=1, burst=2).rate()
    k = key()
    assert await store.take(k, rate) == 0
    assert await store.take(k, rate) == 0
    wait = await store.take(k, rate)
    assert 0 < wait <= 1 + 0.005  # the next token is due within one interval at 1/s
    await asyncio.sleep(wait)
    assert await store.take(k, rate) == 0  # and it came


async def test_the_limiter_answers_whole_seconds_per_class(store: RateLimitStore) -> None:
    settings = test_settings(
        Path("/nonexistent"),
        ratelimit_auth_per_second=0.5,
        ratelimit_auth_burst=1,
        ratelimit_address_per_second=1,
        ratelimit_address_burst=1,
        ratelimit_user_per_second=1,
        ratelimit_user_burst=2,
    )
    limiter = RateLimiter(settings, store)
    address, user = f"10.0.0.{uuid.uuid4().int % 250}-{key()}", key()
    assert await limiter.check("auth", address, None) == 0
    assert await limiter.check("auth", address, None) == 2  # Retry-After: 2 s at 0.5/s
    assert await limiter.check("default", address, None) == 0  # its own bucket
    assert await limiter.check("default", address, None) == 1
    assert await limiter.check("default", address, user) == 0  # signed in: per user
    assert await limiter.check("default", address, user) == 0
    assert await limiter.check("default", address, user) == 1


async def test_redis_counters_are_shared_by_gateways() -> None:
    gateways = [RedisStore(REDIS_URL), RedisStore(REDIS_URL)]
    for gateway in gateways:
        await gateway.start()
    try:
        rate = Rate(1, 1000, burst=4)
        k = key()
        results = [await gateways[i % 2].take(k, rate) for i in range(6)]
        assert [r == 0 for r in results] == [True] * 4 + [False] * 2
    finally:
        for gateway in gateways:
            await gateway.close()


async def test_an_unreachable_redis_fails_at_start() -> None:
    store = RedisStore("redis://127.0.0.1:1/0")
    with pytest.raises(RuntimeError, match="unreachable"):
        await store.start()
    await store.close()
