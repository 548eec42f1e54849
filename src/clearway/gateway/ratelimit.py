"""Token-bucket rate limits per user and per client address, per route class.

The algorithm is pyrate-limiter's `TokenBucket` (GCRA: one number of state per key, the wait
in closed form). This module only keeps that state: in memory for one gateway process; in
Redis (the same GCRA step as pyrate-limiter's Lua script, atomic on the server) when several
gateways share the counters. Both read the time from a pyrate-limiter clock (the wall clock
unless told otherwise), so a test can move time itself.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from pyrate_limiter import Rate, TokenBucket, WallClock
from pyrate_limiter.abstracts.algorithm import State
from redis.asyncio import Redis
from redis.exceptions import RedisError

from clearway.settings import Settings

log = logging.getLogger("clearway.ratelimit")

MAX_KEYS = 100_000
REDIS_PREFIX = "clearway:ratelimit:"


@dataclass(frozen=True)
class Limit:
    per_second: float
    burst: int

    def rate(self) -> Rate:
        # pyrate-limiter counts whole units per interval: express n/s as 1 per 1000/n ms.
        interval_ms = max(1, round(1000 / self.per_second))
        return Rate(1, interval_ms, burst=self.burst)


class Clock(Protocol):
    """Milliseconds now, as pyrate-limiter's synchronous clocks (`WallClock`) tell it."""

    def now(self) -> int: ...


class RateLimitStore(Protocol):
    async def take(self, key: str, rate: Rate) -> float:
        """Spend one token; return 0 when allowed, else the seconds to wait."""

    async def start(self) -> None:
        """Reach the backing store; raise if it cannot be reached."""

    async def close(self) -> None: ...


class MemoryStore:
    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or WallClock()
        self._algorithm = TokenBucket()
        self._state: dict[str, State] = {}

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def take(self, key: str, rate: Rate) -> float:
        rates = [rate]
        state = self._state.get(key)
        if state is None:
            if len(self._state) >= MAX_KEYS:
                self._forget_idle()
            state = self._algorithm.initial(rates)
        new_state, decision = self._algorithm.step(rates, state, self._clock.now(), 1)
        if decision.allowed:
            self._state[key] = new_state
            return 0.0
        return max(0.001, (decision.retry_after_ms or 1000) / 1000)

    def _forget_idle(self) -> None:
        # A bucket whose theoretical arrival time has passed is full again: nothing to keep.
        now_us = self._clock.now() * 1000
        self._state = {k: s for k, s in self._state.items() if s[0] > now_us}


class RedisStore:
    """Counters shared by every gateway process: one small Redis hash per key, with a TTL.

    If Redis fails mid-flight the request passes (logged): the limits protect capacity, and a
    gateway that refused all traffic while Redis restarts would do more harm than they prevent.
    """

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        self.url = url
        # Every gateway sends its own time with each step: a wall clock, which they share.
        self._clock = clock or WallClock()
        self.redis: Redis = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=2.0)
        algorithm = TokenBucket()
        script = algorithm.redis_script()
        assert script is not None
        self._redis_args = algorithm.redis_args
        # pyrate-limiter's GCRA step in Lua (what its RedisStateStore runs), atomic in Redis.
        self._script = self.redis.register_script(script)
        self._warned_at = 0.0

    async def start(self) -> None:
        try:
            await self.redis.ping()
        except (RedisError, OSError) as exc:
            raise RuntimeError(f"rate-limit backend {self.url} is unreachable: {exc}") from exc

    async def close(self) -> None:
        await self.redis.aclose()

    async def take(self, key: str, rate: Rate) -> float:
        # The store's layout: now (ms), weight, TTL (ms, until the bucket is surely full
        # again), number of rates, then the algorithm's own arguments.
        ttl_ms = math.ceil(2 * rate.burst * rate.interval / rate.limit)
        args = [self._clock.now(), 1, ttl_ms, 1, *self._redis_args([rate])]
        try:
            reply = await self._script(keys=[REDIS_PREFIX + key], args=args)
        except (RedisError, OSError):
            now = time.monotonic()
            if now - self._warned_at > 10:
                self._warned_at = now
                log.warning("rate-limit backend %s failed; letting requests pass", self.url)
            return 0.0
        index, retry_after_ms = int(reply[0]), int(reply[1])
        if index < 0:
            return 0.0
        return max(0.001, (retry_after_ms if retry_after_ms > 0 else 1000) / 1000)


def store_from_settings(settings: Settings) -> RateLimitStore:
    backend = settings.ratelimit_backend
    if backend == "memory":
        return MemoryStore()
    if backend.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(backend)
    raise ValueError(f"CLEARWAY_RATELIMIT_BACKEND must be 'memory' or a redis:// URL: {backend!r}")


class RateLimiter:
    def __init__(self, settings: Settings, store: RateLimitStore | None = None) -> None:
        self.store = store or store_from_settings(settings)
        self._user = Limit(settings.ratelimit_user_per_second, settings.ratelimit_user_burst).rate()
        self._address = Limit(
            settings.ratelimit_address_per_second, settings.ratelimit_address_burst
        ).rate()
        self._auth = Limit(settings.ratelimit_auth_per_second, settings.ratelimit_auth_burst).rate()

    async def check(self, limit_class: str, address: str, user_id: str | None) -> int:
        """0 when the request may pass, else whole seconds for `Retry-After`."""
        if limit_class == "auth":
            wait = await self.store.take(f"auth:{address}", self._auth)
        elif user_id is not None:
            wait = await self.store.take(f"user:{user_id}", self._user)
        else:
            wait = await self.store.take(f"addr:{address}", self._address)
        return math.ceil(wait) if wait else 0
