"""Statistics rules in plain Python: time buckets, latency histograms, search keys, funnel stages.

Latency percentiles come from histograms with fixed, shared bin bounds rather than from stored
latencies: a minute's histogram and an hour's are merged by adding counts, so hour and day
roll-ups are exactly the sum of their minutes, outlive the raw records, and cost a few dozen
numbers per route and bucket. The price is resolution: bins grow by 2^(1/8) (about 9 %), and a
reported percentile is the upper bound of its bin (capped by the exact maximum), so it is never
below the true nearest-rank value and at most 9 % above it.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson

# --- time buckets ---------------------------------------------------------------------------

Granularity = Literal["minute", "hour", "day"]
GRANULARITIES: tuple[Granularity, ...] = ("minute", "hour", "day")
BUCKET_SECONDS: dict[Granularity, int] = {"minute": 60, "hour": 3600, "day": 86400}
MAX_BUCKETS = 10_000
"""A query spanning more buckets than this must use a coarser granularity."""


class RangeError(ValueError):
    """A time range the API refuses (answered as 422)."""


def floor(moment: datetime, granularity: Granularity) -> datetime:
    moment = moment.astimezone(UTC)
    if granularity == "minute":
        return moment.replace(second=0, microsecond=0)
    if granularity == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def check_range(start: datetime, end: datetime, granularity: Granularity) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise RangeError("times must carry a UTC offset, e.g. 2026-01-01T00:00:00Z")
    if start >= end:
        raise RangeError("'from' must be before 'to'")
    buckets = (end - floor(start, granularity)) / timedelta(seconds=BUCKET_SECONDS[granularity])
    if buckets > MAX_BUCKETS:
        raise RangeError(f"more than {MAX_BUCKETS} {granularity} buckets; use a coarser one")


# --- latency histograms ---------------------------------------------------------------------

BIN_BASE_MS = 0.01
BINS_PER_DOUBLING = 8
BIN_COUNT = 8 * 24  # 0.01 ms · 2^24 ≈ 168 s: beyond any upstream timeout
BOUNDS: tuple[float, ...] = tuple(
    BIN_BASE_MS * 2 ** (i / BINS_PER_DOUBLING) for i in range(BIN_COUNT)
)
BIN_RATIO = 2 ** (1 / BINS_PER_DOUBLING)


def bin_of(latency_ms: float) -> int:
    """Bin i holds latencies in (BOUNDS[i-1], BOUNDS[i]]; the last bin holds everything above."""
    return min(bisect_left(BOUNDS, latency_ms), BIN_COUNT - 1)


def is_error(status: int) -> bool:
    """A server-side failure; 0 means the gateway never sent an answer."""
    return status >= 500 or status == 0


@dataclass
class RequestStats:
    """One route's requests in one bucket; merged by adding, so roll-ups are exact sums."""

    requests: int = 0
    errors: int = 0
    client_errors: int = 0
    latency_sum: float = 0.0
    latency_max: float = 0.0
    histogram: Counter[int] = field(default_factory=Counter)

    def add(self, status: int, latency_ms: float) -> None:
        self.requests += 1
        self.errors += is_error(status)
        self.client_errors += 400 <= status < 500
        self.latency_sum += latency_ms
        self.latency_max = max(self.latency_max, latency_ms)
        self.histogram[bin_of(latency_ms)] += 1

    def merge(self, other: RequestStats) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.client_errors += other.client_errors
        self.latency_sum += other.latency_sum
        self.latency_max = max(self.latency_max, other.latency_max)
        self.histogram.update(other.histogram)

    def percentile(self, q: float) -> float | None:
        """Nearest-rank percentile: the upper bound of the bin holding rank ⌈q·n⌉."""
        if self.requests == 0:
            return None
        rank = max(1, math.ceil(q * self.requests))
        seen = 0
        for index in sorted(self.histogram):
            seen += self.histogram[index]
            if seen >= rank:
                return min(BOUNDS[index], self.latency_max)
        return self.latency_max

    def histogram_json(self) -> str:
        return orjson.dumps({str(k): v for k, v in sorted(self.histogram.items())}).decode()

    @staticmethod
    def parse_histogram(text: str) -> Counter[int]:
        return Counter({int(k): int(v) for k, v in orjson.loads(text).items()})


# --- searches -------------------------------------------------------------------------------

SearchDimension = Literal["product", "category", "chapter", "heading", "market"]


def search_keys(data: Mapping[str, Any]) -> dict[SearchDimension, str]:
    """What one `search.performed` counts towards; a product is its most specific HS code."""

    def text(name: str) -> str | None:
        value = data.get(name)
        return None if value is None else (str(value).strip()[:64] or None)

    product = text("hs_code") or text("hs_heading") or text("hs_chapter") or text("category")
    market = text("market")
    found: dict[SearchDimension, str | None] = {
        "product": product,
        "category": text("category"),
        "chapter": text("hs_chapter"),
        "heading": text("hs_heading"),
        "market": market.upper() if market else None,
    }
    return {dimension: value for dimension, value in found.items() if value is not None}


# --- orders ---------------------------------------------------------------------------------

FUNNEL_STAGES = ("created", "accepted", "completed", "declined", "cancelled", "expired")
