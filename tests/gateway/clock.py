"""A clock for the rate-limit stores that moves only when the test moves it."""

from __future__ import annotations

# Any fixed instant will do; this one is in the range a wall clock gives (epoch milliseconds).
START_MS = 1_750_000_000_000


class ManualClock:
    def __init__(self, start_ms: int = START_MS) -> None:
        self.ms = start_ms

    def now(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += round(seconds * 1000)
