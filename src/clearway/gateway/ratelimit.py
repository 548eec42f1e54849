"""Token-bucket rate limits per user and per client address, per route class.

The algorithm is pyrate-limiter's `TokenBucket` (GCRA: one number of state per key, the wait
in closed form). This module only keeps that state: in memory for one gateway process; a
shared store (Redis) takes its place when several gateways run.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

from pyrate_limiter import Rate, TokenBucket
from pyrate_limiter.abstracts.algorithm import State

from clearway.settings import Settings

MAX_KEYS = 100_000


@dataclass(frozen=True)
class Limit:
    per_second: float
    burst: int

    def rate(self) -> Rate:
        # pyrate-limiter counts whole units per interval: express n/s as 1 per 1000/n ms.
        interval_ms = max(1, round(1000 / self.per_second))
        return Rate(1, interval_ms, burst=self.burst)


class RateLimitStore(Protocol):
    def take(self, key: str, rate: Rate) -> float:
        """Spend one token; return 0 when allowed, else the seconds to wait."""


class MemoryStore:
    def __init__(self) -> None:
        self._algorithm = TokenBucket()
        self._state: dict[str, State] = {}

    def take(self, key: str, rate: Rate) -> float:
        rates = [rate]
        state = self._state.get(key)
        if state is None:
            if len(self._state) >= MAX_KEYS:
                self._forget_idle()
            state = self._algorithm.initial(rates)
        now_ms = int(time.time() * 1000)
        new_state, decision = self._algorithm.step(rates, state, now_ms, 1)
        if decision.allowed:
            self._state[key] = new_state
            return 0.0
        return max(0.001, (decision.retry_after_ms or 1000) / 1000)

    def _forget_idle(self) -> None:
        # A bucket whose theoretical arrival time has passed is full again: nothing to keep.
        now_us = time.time() * 1_000_000
        self._state = {k: s for k, s in self._state.items() if s[0] > now_us}


class RateLimiter:
    def __init__(self, settings: Settings, store: RateLimitStore | None = None) -> None:
        self.store = store or MemoryStore()
        self._user = Limit(settings.ratelimit_user_per_second, settings.ratelimit_user_burst).rate()
        self._address = Limit(
            settings.ratelimit_address_per_second, settings.ratelimit_address_burst
        ).rate()
        self._auth = Limit(settings.ratelimit_auth_per_second, settings.ratelimit_auth_burst).rate()

    def check(self, limit_class: str, address: str, user_id: str | None) -> int:
        """0 when the request may pass, else whole seconds for `Retry-After`."""
        if limit_class == "auth":
            wait = self.store.take(f"auth:{address}", self._auth)
        elif user_id is not None:
            wait = self.store.take(f"user:{user_id}", self._user)
        else:
            wait = self.store.take(f"addr:{address}", self._address)
        return math.ceil(wait) if wait else 0
