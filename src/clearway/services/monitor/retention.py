"""Retention: raw records go after days, roll-ups after longer; the audit trail is kept."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from clearway.kit.bus.inbox import prune as prune_inbox
from clearway.kit.db import Database
from clearway.services.monitor.domain.stats import BUCKET_SECONDS
from clearway.services.monitor.metrics import MonitorMetrics
from clearway.services.monitor.rollups import Rollups
from clearway.services.monitor.tables import (
    active_users,
    activity,
    order_stages,
    request_rollups,
    requests,
    search_rollups,
    searches,
)

log = logging.getLogger("clearway.monitor")


class Retention:
    def __init__(
        self,
        db: Database,
        rollups: Rollups,
        metrics: MonitorMetrics,
        raw_days: int,
        rollup_days: int,
    ) -> None:
        self.db = db
        self.rollups = rollups
        self.metrics = metrics
        self.raw_days = raw_days
        self.rollup_days = rollup_days

    async def run(self) -> dict[str, int]:
        """The scheduled clean-up: remove what is past its time, count and log it."""
        removed = await self.clean(datetime.now(UTC))
        for table, count in removed.items():
            self.metrics.retention_removed.labels(table).inc(count)
        log.info("retention clean-up", extra={"removed": removed})
        return removed

    async def clean(self, now: datetime) -> dict[str, int]:
        """Remove raw records (and minute roll-ups) older than `raw_days`, raw requests only
        once folded, and hour/day buckets that ended more than `rollup_days` ago. The audit
        trail is never removed."""
        await self.rollups.fold()
        raw = now - timedelta(days=self.raw_days)
        kept = now - timedelta(days=self.rollup_days)
        removed: dict[str, int] = {}
        async with self.db.transaction() as session:
            folded = await self.rollups.folded(session)
            statements = {
                "requests": delete(requests).where(requests.c.time < raw, requests.c.id <= folded),
                "searches": delete(searches).where(searches.c.time < raw),
                "activity": delete(activity).where(activity.c.time < raw),
                "search_rollups": delete(search_rollups).where(
                    search_rollups.c.hour <= kept - timedelta(hours=1)
                ),
                "active_users": delete(active_users).where(
                    active_users.c.day <= kept - timedelta(days=1)
                ),
                "order_stages": delete(order_stages).where(order_stages.c.time < kept),
            }
            for table, statement in statements.items():
                removed[table] = (await session.execute(statement)).rowcount  # type: ignore[attr-defined]
            removed["request_rollups"] = 0
            for granularity, seconds in BUCKET_SECONDS.items():
                # Minute roll-ups are as fine as the raw records and go with them.
                horizon = raw if granularity == "minute" else kept
                result = await session.execute(
                    delete(request_rollups).where(
                        request_rollups.c.granularity == granularity,
                        request_rollups.c.start <= horizon - timedelta(seconds=seconds),
                    )
                )
                removed["request_rollups"] += result.rowcount  # type: ignore[attr-defined]
        # Domain events older than the raw records cannot be re-ingested meaningfully anyway.
        removed["inbox"] = await prune_inbox(self.db, timedelta(days=self.raw_days))
        return removed
