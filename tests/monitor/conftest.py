"""Helpers for the monitor suites: known event streams, and waiting for the monitor to have them."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from clearway.contracts import TELEMETRY
from clearway.kit.bus import CloudEvent, Event
from clearway.kit.bus.events import batch
from clearway.runtime.platform import Platform
from tests import support
from tests.conftest import query_sql


def event(
    type: str, time: datetime, data: dict[str, Any], subject: str | None = None
) -> CloudEvent:
    return CloudEvent(uuid.uuid4().hex, "/tests", type, time, data, subject)


# What a domain event says beyond the fields a test cares about.
FILLER: dict[str, Any] = {
    "customer_id": "c0",
    "provider_id": "p0",
    "market": "DE",
    "hs_code": "850440",
    "requirements": [],
    "state": "submitted",
    "from_state": "submitted",
    "party": "provider",
    "version": 2,
    "notify": [],
    "client": None,
}


def domain_event(kind: type[Event], time: datetime, **fields: Any) -> CloudEvent:
    """A whole event of `kind` (it must pass the contract), as its publisher sends it."""
    filler = {k: v for k, v in FILLER.items() if k in kind.model_fields}
    sent = kind(**(filler | fields)).to_cloudevent()
    return CloudEvent(sent.id, sent.source, sent.type, time, sent.data, sent.subject)


def request(
    time: datetime,
    route: str,
    status: int = 200,
    latency_ms: float = 10.0,
    *,
    method: str = "GET",
    role: str = "customer",
    user_id: str | None = None,
    client: str = "203.0.113.9",
) -> CloudEvent:
    data = {
        "route": route,
        "method": method,
        "status": status,
        "latency_ms": latency_ms,
        "role": role,
        "user_id": user_id,
        "client": client,
        "request_id": uuid.uuid4().hex,
    }
    return event("gateway.request", time, data)


def envelopes(events: list[CloudEvent]) -> list[CloudEvent]:
    """Request records and searches as rows in batches, as the gateway and rules send them
    (a batch per type and set of fields: a test may give an event only the fields it needs);
    other events one by one."""
    streams: dict[tuple[str, tuple[str, ...]], list[CloudEvent]] = {}
    singles = []
    for e in events:
        if e.type in {kind.TYPE for kind in TELEMETRY}:
            streams.setdefault((e.type, tuple(e.data)), []).append(e)
        else:
            singles.append(e)
    batches = [
        batch("/tests", kind, fields, [(e.time.timestamp(), *e.data.values()) for e in stream])
        for (kind, fields), stream in streams.items()
    ]
    return [*singles, *batches]


async def publish(platform: Platform, events: list[CloudEvent]) -> None:
    await platform.bus.publish_many(envelopes(events))


def query(platform: Platform, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
    """Rows from the monitor's database, read from outside the platform (either engine)."""
    return query_sql(platform.settings, "monitor", sql, *parameters)


# A platform starts with the seed's backlog in the monitor's queue (an event per shipped rule,
# some 300), applied one by one before a test's own events: patience for that too.
WAIT_SECONDS = 4 * support.PATIENCE


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    await support.eventually(check, within=WAIT_SECONDS)


async def ingested(platform: Platform, table: str, count: int, where: str = "1=1") -> None:
    async def check() -> bool:
        return query(platform, f"SELECT COUNT(*) FROM {table} WHERE {where}")[0][0] >= count

    await eventually(check)


def job(platform: Platform, name: str) -> Callable[[], Awaitable[object]]:
    return next(j.run for j in platform.hosted["monitor"].service.jobs if j.name == name)
