"""Roll-ups: request records folded into minute, hour and day statistics.

Ingest only appends raw records (so it keeps up); a fold, run by a job and before every
statistics query, adds the records not yet folded (by id, so a late record is folded into its
own bucket) to the minute, hour and day roll-ups in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.db import Database
from clearway.services.monitor.domain.stats import GRANULARITIES, Granularity, RequestStats, floor
from clearway.services.monitor.tables import fold_state, request_rollups, requests

FOLD_BATCH = 250  # rows per transaction: a fold must not hold the event loop for long
FOLD = "requests"
GroupKey = tuple[Granularity, datetime, str, str]


class Rollups:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def fold(self) -> int:
        """Fold every request record not yet in the roll-ups; return how many."""
        total = 0
        while True:
            async with self.db.transaction() as session:
                folded = await self._fold_batch(session)
            total += folded
            if folded < FOLD_BATCH:
                return total

    async def _fold_batch(self, session: AsyncSession) -> int:
        query: Select[Any] = select(fold_state.c.last_id).where(fold_state.c.name == FOLD)
        if not self.db.is_sqlite:
            query = query.with_for_update()  # one fold at a time across processes
        last_id = (await session.execute(query)).scalar()
        rows = (
            await session.execute(
                select(
                    requests.c.id,
                    requests.c.time,
                    requests.c.route,
                    requests.c.method,
                    requests.c.status,
                    requests.c.latency_ms,
                )
                .where(requests.c.id > (last_id or 0))
                .order_by(requests.c.id)
                .limit(FOLD_BATCH)
            )
        ).all()
        if not rows:
            return 0
        groups: dict[GroupKey, RequestStats] = defaultdict(RequestStats)
        for row in rows:
            for granularity in GRANULARITIES:
                key = (granularity, floor(row.time, granularity), row.route, row.method)
                groups[key].add(row.status, row.latency_ms)
        existing = await self._merge_existing(session, groups)
        values = [self._values(key, stats) for key, stats in groups.items()]
        updates = [v for v, key in zip(values, groups, strict=True) if key in existing]
        inserts = [v for v, key in zip(values, groups, strict=True) if key not in existing]
        if updates:
            await session.execute(
                update(request_rollups)
                .where(
                    request_rollups.c.granularity == bindparam("k_granularity"),
                    request_rollups.c.start == bindparam("k_start"),
                    request_rollups.c.route == bindparam("k_route"),
                    request_rollups.c.method == bindparam("k_method"),
                )
                .values(
                    requests=bindparam("requests"),
                    errors=bindparam("errors"),
                    client_errors=bindparam("client_errors"),
                    latency_sum=bindparam("latency_sum"),
                    latency_max=bindparam("latency_max"),
                    histogram=bindparam("histogram"),
                )
                .execution_options(synchronize_session=False),
                [
                    {f"k_{k}": v[k] for k in ("granularity", "start", "route", "method")} | v
                    for v in updates
                ],
            )
        if inserts:
            await session.execute(insert(request_rollups), inserts)
        newest = rows[-1].id
        if last_id is None:
            await session.execute(insert(fold_state).values(name=FOLD, last_id=newest))
        else:
            await session.execute(
                update(fold_state).where(fold_state.c.name == FOLD).values(last_id=newest)
            )
        return len(rows)

    async def _merge_existing(
        self, session: AsyncSession, groups: dict[GroupKey, RequestStats]
    ) -> set[GroupKey]:
        """Add the stored roll-ups of these keys into `groups`; return the keys that exist."""
        found: set[GroupKey] = set()
        for granularity in GRANULARITIES:
            keys = [k for k in groups if k[0] == granularity]
            starts = {k[1] for k in keys}
            stored = await session.execute(
                select(request_rollups).where(
                    request_rollups.c.granularity == granularity,
                    request_rollups.c.start.in_(starts),
                    request_rollups.c.route.in_({k[2] for k in keys}),
                )
            )
            for row in stored:
                key: GroupKey = (granularity, row.start, row.route, row.method)
                if key in groups:
                    groups[key].merge(stats_of(row))
                    found.add(key)
        return found

    @staticmethod
    def _values(key: GroupKey, stats: RequestStats) -> dict[str, Any]:
        granularity, start, route, method = key
        return {
            "granularity": granularity,
            "start": start,
            "route": route,
            "method": method,
            "requests": stats.requests,
            "errors": stats.errors,
            "client_errors": stats.client_errors,
            "latency_sum": stats.latency_sum,
            "latency_max": stats.latency_max,
            "histogram": stats.histogram_json(),
        }

    async def folded(self, session: AsyncSession) -> int:
        """The id of the last request record in the roll-ups (0 before the first fold)."""
        query = select(fold_state.c.last_id).where(fold_state.c.name == FOLD)
        return int((await session.execute(query)).scalar() or 0)


def stats_of(row: Any) -> RequestStats:
    return RequestStats(
        requests=row.requests,
        errors=row.errors,
        client_errors=row.client_errors,
        latency_sum=row.latency_sum,
        latency_max=row.latency_max,
        histogram=RequestStats.parse_histogram(row.histogram),
    )
