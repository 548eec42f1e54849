"""The rate-limit store contract, against every backend: memory (one gateway) and Redis (many).

Redis is expected on 127.0.0.1:6379 (CI starts it): if it is unreachable these tests fail.

Time is a `ManualClock`: it stands still while a test runs and moves only when the test says,
so every wait is asserted to the millisecond whatever the machine's speed. Rates are slow (a
token every many seconds) because Redis still expires a key on its own clock, after twice the
time the bucket needs to fill again: far longer than any test takes.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from clearway.gateway.ratelimit import Limit, MemoryStore, RateLimiter, RateLimitStore, RedisStore
from tests.conftest import test_settings
from tests.gateway.clock import ManualClock

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=["memory", "redis"])
async def store(
    request: pytest.FixtureRequest, clock: ManualClock
) -> AsyncIterator[RateLimitStore]:
    store: RateLimitStore = (
        MemoryStore(clock) if request.param == "memory" else RedisStore(REDIS_URL, clock)
    )
    await store.start()
    try:
        yield store
    finally:
        await store.close()


def key() -> str:
    return f"test:{uuid.uuid4().hex}"


async def test_a_burst_passes_then_the_next_waits(store: RateLimitStore) -> None:
    rate = Limit(per_second=0.2, burst=5).rate()
    k = key()
    for _ in range(5):
        assert await store.take(k, rate) == 0
    assert await store.take(k, rate) == 5  # one token every 5 s


async def test_a_refusal_spends_nothing(store: RateLimitStore, clock: ManualClock) -> None:
    rate = Limit(per_second=0.05, burst=1).rate()
    k = key()
    assert await store.take(k, rate) == 0
    waits = []
    for _ in range(10):
        waits.append(await store.take(k, rate))
        clock.advance(1)
    # Each refusal waits for the same one token, never further out for the refusals before.
    assert waits == [20 - n for n in range(10)]
    clock.advance(10)
    assert await store.take(k, rate) == 0


async def test_keys_are_independent(store: RateLimitStore) -> None:
    rate = Limit(per_second=0.2, burst=1).rate()
    first, second = key(), key()
    assert await store.take(first, rate) == 0
    assert await store.take(first, rate) == 5
    assert await store.take(second, rate) == 0


async def test_the_bucket_refills_at_the_rate(store: RateLimitStore, clock: ManualClock) -> None:
    rate = Limit(per_second=0.01, burst=2).rate()  # a token every 100 s
    k = key()
    assert await store.take(k, rate) == 0
    assert await store.take(k, rate) == 0
    assert await store.take(k, rate) == 100  # empty: the next token is one interval away
    clock.advance(99.999)
    assert await store.take(k, rate) == 0.001  # not a millisecond early
    clock.advance(0.001)
    assert await store.take(k, rate) == 0  # and on time it came
    assert await store.take(k, rate) == 100  # one token, not more
    clock.advance(1000)  # long idle: the bucket holds its burst, no more
    assert await store.take(k, rate) == 0
    assert await store.take(k, rate) == 0
    assert await store.take(k, rate) == 100


async def test_the_limiter_answers_whole_seconds_per_class(
    store: RateLimitStore, clock: ManualClock
) -> None:
    settings = test_settings(
        Path("/nonexistent"),
        ratelimit_auth_per_second=0.01,
        ratelimit_auth_burst=1,
        ratelimit_address_per_second=0.02,
        ratelimit_address_burst=1,
        ratelimit_user_per_second=0.04,
        ratelimit_user_burst=2,
    )
    limiter = RateLimiter(settings, store)
    address, user = f"10.0.0.{uuid.uuid4().int % 250}-{key()}", key()
    assert await limiter.check("auth", address, None) == 0
    assert await limiter.check("auth", address, None) == 100  # Retry-After: 100 s at 0.01/s
    assert await limiter.check("default", address, None) == 0  # its own bucket
    assert await limiter.check("default", address, None) == 50
    assert await limiter.check("default", address, user) == 0  # signed in: per user
    assert await limiter.check("default", address, user) == 0
    assert await limiter.check("default", address, user) == 25
    clock.advance(24.5)
    assert await limiter.check("default", address, user) == 1  # half a second rounds up


async def test_redis_counters_are_shared_by_gateways(clock: ManualClock) -> None:
    gateways = [RedisStore(REDIS_URL, clock), RedisStore(REDIS_URL, clock)]
    for gateway in gateways:
        await gateway.start()
    try:
        rate = Limit(per_second=0.01, burst=4).rate()
        k = key()
        results = [await gateways[i % 2].take(k, rate) for i in range(6)]
        assert results == [0, 0, 0, 0, 100, 100]
    finally:
        for gateway in gateways:
            await gateway.close()


async def test_an_unreachable_redis_fails_at_start() -> None:
    store = RedisStore("redis://127.0.0.1:1/0")
    with pytest.raises(RuntimeError, match="unreachable"):
        await store.start()
    await store.close()
