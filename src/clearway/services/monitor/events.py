"""What the monitor does with the events it takes: request records and searches in batches (one
transaction, one executemany per table per batch), other domain events one by one (they are
few). Each is applied once however often the bus delivers it: request records de-duplicate on
their event id in the request table itself (an inbox row per request would double the writes);
searches and domain events go through the inbox.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts import DOMAIN_EVENTS, TELEMETRY
from clearway.contracts.gateway import GatewayRequest
from clearway.contracts.rules import SearchPerformed
from clearway.kit.bus import CloudEvent, Event, inbox, subscribe
from clearway.kit.bus.contract import Subscription
from clearway.kit.bus.events import expand
from clearway.kit.db import Database, dialect_insert, insert_ignoring
from clearway.kit.service import BatchSubscription
from clearway.services.monitor.audit import AuditTrail
from clearway.services.monitor.domain import audit_chain
from clearway.services.monitor.domain.stats import floor, search_keys
from clearway.services.monitor.metrics import MonitorMetrics
from clearway.services.monitor.tables import (
    active_users,
    activity,
    order_stages,
    requests,
    search_rollups,
    searches,
)

log = logging.getLogger("clearway.monitor.ingest")

# Envelopes per delivery: each carries up to `kit.bus.telemetry.MAX_BATCH` records.
MAX_ENVELOPES = 8
# Rows per statement: each statement is built on the event loop, so a long batch is cut into
# pieces that keep requests waiting a few milliseconds at most (in `clearway up`'s one process;
# with workers, ingest has the background process to itself).
CHUNK = 250

USER_FIELDS = ("user_id", "by", "customer_id", "provider_id")


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    return str(value)[:64] if value not in (None, "") else None


def _request_row(event: CloudEvent) -> dict[str, Any] | None:
    data = event.data
    try:
        row = {
            "event_id": event.id,
            "time": event.time,
            "route": str(data["route"])[:200],
            "method": str(data["method"])[:10],
            "status": int(data["status"]),
            "latency_ms": float(data["latency_ms"]),
        }
    except (KeyError, TypeError, ValueError):
        # A malformed record must not sink its batch into the dead-letter queue.
        log.warning("skipping malformed request record %s", event.id)
        return None
    user_id, client = data.get("user_id"), data.get("client")
    row["role"] = str(data.get("role") or "anonymous")[:16]
    row["user_id"] = str(user_id)[:64] if user_id else None
    row["client"] = str(client) if client else None  # pseudonymised before it is stored
    row["request_id"] = str(data.get("request_id") or event.id)[:128]
    return row


class Ingest:
    def __init__(
        self, db: Database, audit: AuditTrail, pseudonym: audit_chain.Mac, metrics: MonitorMetrics
    ) -> None:
        self.db = db
        self.audit = audit
        self.pseudonym = pseudonym
        self.metrics = metrics

    async def batch(self, delivered: Sequence[CloudEvent]) -> None:
        """The batch handler of the high-volume streams: the whole batch in one transaction."""
        events: list[CloudEvent] = []
        for envelope in delivered:
            events.extend(expand(envelope))
            await asyncio.sleep(0)  # a turn for requests between envelopes (see CHUNK)
        records = [e for e in events if e.type == GatewayRequest.TYPE]
        searched = [e for e in events if e.type == SearchPerformed.TYPE]
        async with self.db.transaction() as session:
            for i in range(0, len(records), CHUNK):
                await self.requests(records[i : i + CHUNK], session)
            for i in range(0, len(searched), CHUNK):
                chunk = searched[i : i + CHUNK]
                # Searches have no natural key: the inbox makes a redelivery count once.
                new = await inbox.record(session, "monitor.batch", [e.id for e in chunk])
                await self.searches([e for e in chunk if e.id in new], session)

    async def requests(self, events: Sequence[CloudEvent], session: AsyncSession) -> None:
        started = time.perf_counter()
        rows = [row for row in map(_request_row, events) if row is not None]
        for row in rows:
            # No client address is stored: a keyed pseudonym follows one address (an attack)
            # without naming it, and cannot be reversed without the platform's keys.
            if row["client"]:
                row["client"] = self.pseudonym(row["client"])
        if rows:
            # Only the records not seen before count (the bus delivers at least once).
            statement = insert_ignoring(session, requests)
            result = await session.execute(statement.returning(requests.c.event_id), rows)
            new = set(result.scalars())
            rows = [row for row in rows if row["event_id"] in new]
        users = {(floor(r["time"], "day"), r["role"], r["user_id"]) for r in rows if r["user_id"]}
        if users:
            await session.execute(
                insert_ignoring(session, active_users),
                [{"day": day, "role": role, "user_id": user} for day, role, user in users],
            )
        audited = [record for row in rows if (record := audit_chain.access_denied(row))]
        await self.audit.append(session, audited)
        self.metrics.observe_requests(
            (r["route"], r["method"], r["status"], r["latency_ms"]) for r in rows
        )
        self.metrics.events.labels("request").inc(len(rows))
        self.metrics.audit_entries.inc(len(audited))
        self.metrics.batch_seconds.observe(time.perf_counter() - started)

    async def domain_event(self, typed: Event, session: AsyncSession) -> None:
        # The audit keeps what the event said, as it travelled: its envelope and raw payload.
        event = typed.envelope
        data = event.data
        if audit_chain.is_audited(event.type, data):
            record = audit_chain.AuditRecord(
                event.time,
                audit_chain.audit_actor(event.type, data),
                event.type,
                audit_chain.audit_details(data, self.pseudonym),
            )
            self.metrics.audit_entries.inc(await self.audit.append(session, [record]))
        if event.type.startswith("order."):
            await self._order(event, session)
        subject = str(data.get("order_id") or event.subject or "")[:100] or None
        users = {str(data[f])[:64] for f in USER_FIELDS if isinstance(data.get(f), str) and data[f]}
        if users:
            await session.execute(
                insert(activity),
                [
                    {"time": event.time, "user_id": u, "action": event.type, "subject": subject}
                    for u in sorted(users)
                ],
            )
        self.metrics.events.labels("domain").inc()

    async def searches(self, events: Sequence[CloudEvent], session: AsyncSession) -> None:
        """Search records and their hourly counts, in one statement each."""
        if not events:
            return
        rows = []
        counts: Counter[tuple[datetime, str, str]] = Counter()
        for event in events:
            data = event.data
            keys = search_keys(data)
            rows.append(
                {
                    "time": event.time,
                    "hs_code": _text(data, "hs_code"),
                    "hs_chapter": keys.get("chapter"),
                    "hs_heading": keys.get("heading"),
                    "category": keys.get("category"),
                    "market": keys.get("market"),
                    "role": _text(data, "role"),
                }
            )
            hour = floor(event.time, "hour")
            counts.update((hour, dimension, key) for dimension, key in keys.items())
        await session.execute(insert(searches), rows)
        if counts:
            statement = dialect_insert(session, search_rollups)
            statement = statement.on_conflict_do_update(
                index_elements=["hour", "dimension", "key"],
                set_={"count": search_rollups.c.count + statement.excluded.count},
            )
            await session.execute(
                statement,
                [
                    {"hour": hour, "dimension": d, "key": k, "count": n}
                    for (hour, d, k), n in counts.items()
                ],
            )
        self.metrics.events.labels("search").inc(len(events))

    async def _order(self, event: CloudEvent, session: AsyncSession) -> None:
        order_id = event.data.get("order_id") or event.subject
        if not order_id:
            log.warning("order event %s names no order", event.id)
            return
        await session.execute(
            insert_ignoring(session, order_stages),
            [
                {
                    "order_id": str(order_id)[:64],
                    "stage": event.type.removeprefix("order.")[:32],
                    "time": event.time,
                }
            ],
        )


def subscriptions(ingest: Ingest) -> list[Subscription]:
    """Every domain event one by one: its users' activity, the audit trail, the order funnel."""
    return [subscribe(DOMAIN_EVENTS, ingest.domain_event)]


def batch_subscriptions(ingest: Ingest) -> list[BatchSubscription]:
    """The telemetry streams, in batches of envelopes."""
    return [BatchSubscription(TELEMETRY, ingest.batch, MAX_ENVELOPES)]
