"""Statistics: folding request records into roll-ups, the queries behind the admin API, and the
retention clean-up.

Ingest only appends raw records (so it keeps up); a fold, run by a job and before every
statistics query, adds the records not yet folded (by id, so a late record is folded into its
own bucket) to the minute, hour and day roll-ups in one transaction.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.bus.inbox import prune as prune_inbox
from clearway.kit.db import Database
from clearway.services.monitor import domain
from clearway.services.monitor.tables import (
    active_users,
    activity,
    fold_state,
    order_stages,
    request_rollups,
    requests,
    search_rollups,
    searches,
)

log = logging.getLogger("clearway.monitor.stats")

FOLD_BATCH = 250  # rows per transaction: a fold must not hold the event loop for long
FOLD = "requests"
GroupKey = tuple[domain.Granularity, datetime, str, str]


class Statistics:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- folding ----------------------------------------------------------------------------

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
        groups: dict[GroupKey, domain.RequestStats] = defaultdict(domain.RequestStats)
        for row in rows:
            for granularity in domain.GRANULARITIES:
                key = (granularity, domain.floor(row.time, granularity), row.route, row.method)
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
        self, session: AsyncSession, groups: dict[GroupKey, domain.RequestStats]
    ) -> set[GroupKey]:
        """Add the stored roll-ups of these keys into `groups`; return the keys that exist."""
        found: set[GroupKey] = set()
        for granularity in domain.GRANULARITIES:
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
                    groups[key].merge(_stats(row))
                    found.add(key)
        return found

    @staticmethod
    def _values(key: GroupKey, stats: domain.RequestStats) -> dict[str, Any]:
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

    # --- queries ----------------------------------------------------------------------------

    async def requests(
        self,
        start: datetime,
        end: datetime,
        granularity: domain.Granularity,
        route: str | None,
        method: str | None,
    ) -> list[dict[str, Any]]:
        await self.fold()
        conditions = [
            request_rollups.c.granularity == granularity,
            request_rollups.c.start >= domain.floor(start, granularity),
            request_rollups.c.start < end,
        ]
        if route is not None:
            conditions.append(request_rollups.c.route == route)
        if method is not None:
            conditions.append(request_rollups.c.method == method.upper())
        async with self.db.read() as session:
            rows = await session.execute(
                select(request_rollups)
                .where(*conditions)
                .order_by(
                    request_rollups.c.start, request_rollups.c.route, request_rollups.c.method
                )
            )
            seconds = domain.BUCKET_SECONDS[granularity]
            return [_report(row.start, row.route, row.method, _stats(row), seconds) for row in rows]

    async def top_searches(
        self,
        start: datetime,
        end: datetime,
        by: domain.SearchDimension,
        limit: int,
        granularity: domain.Granularity | None,
    ) -> dict[str, Any]:
        window = and_(
            search_rollups.c.dimension == by,
            search_rollups.c.hour >= domain.floor(start, "hour"),
            search_rollups.c.hour < end,
        )
        total = func.sum(search_rollups.c.count)
        async with self.db.read() as session:
            top = (
                await session.execute(
                    select(search_rollups.c.key, total.label("hits"))
                    .where(window)
                    .group_by(search_rollups.c.key)
                    .order_by(total.desc(), search_rollups.c.key)
                    .limit(limit)
                )
            ).all()
            items: list[dict[str, Any]] = [{"key": r.key, "count": int(r.hits)} for r in top]
            result: dict[str, Any] = {"by": by, "items": items}
            if granularity is not None and items:
                hours = await session.execute(
                    select(
                        search_rollups.c.hour, search_rollups.c.key, search_rollups.c.count
                    ).where(window, search_rollups.c.key.in_([i["key"] for i in items]))
                )
                series: dict[tuple[datetime, str], int] = defaultdict(int)
                for hour, key, count in hours:
                    series[(domain.floor(hour, granularity), key)] += count
                result["series"] = [
                    {"start": bucket, "key": key, "count": count}
                    for (bucket, key), count in sorted(series.items())
                ]
        return result

    async def active_users(self, start: datetime, end: datetime) -> dict[str, Any]:
        window = and_(active_users.c.day >= domain.floor(start, "day"), active_users.c.day < end)
        distinct = func.count(active_users.c.user_id.distinct())
        async with self.db.read() as session:
            totals = await session.execute(
                select(active_users.c.role, distinct.label("users"))
                .where(window)
                .group_by(active_users.c.role)
                .order_by(active_users.c.role)
            )
            items = [{"role": role, "users": int(users)} for role, users in totals]
            days = await session.execute(
                select(active_users.c.day, active_users.c.role, func.count().label("users"))
                .where(window)
                .group_by(active_users.c.day, active_users.c.role)
                .order_by(active_users.c.day, active_users.c.role)
            )
            by_day = [{"day": day, "role": role, "users": int(n)} for day, role, n in days]
        return {"items": items, "by_day": by_day}

    async def funnel(self, start: datetime, end: datetime) -> dict[str, Any]:
        """Of the orders submitted in the range, how many reached each later stage (by now)."""
        cohort = select(order_stages.c.order_id).where(
            order_stages.c.stage == "created",
            order_stages.c.time >= start,
            order_stages.c.time < end,
        )
        async with self.db.read() as session:
            counts: dict[str, int] = dict(
                (
                    await session.execute(
                        select(order_stages.c.stage, func.count())
                        .where(order_stages.c.order_id.in_(cohort))
                        .group_by(order_stages.c.stage)
                    )
                ).all()
            )
        stages = {stage: int(counts.get(stage, 0)) for stage in domain.FUNNEL_STAGES}
        submitted = stages.pop("created")

        def rate(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        return {
            "submitted": submitted,
            **stages,
            "accepted_rate": rate(stages["accepted"], submitted),
            "completed_rate": rate(stages["completed"], submitted),
            "completed_of_accepted": rate(stages["completed"], stages["accepted"]),
        }

    async def activity(
        self, user_id: str, start: datetime, end: datetime, limit: int
    ) -> list[dict[str, Any]]:
        """A user's requests and domain events, newest first."""
        async with self.db.read() as session:
            calls = await session.execute(
                select(requests)
                .where(
                    requests.c.user_id == user_id,
                    requests.c.time >= start,
                    requests.c.time < end,
                )
                .order_by(requests.c.time.desc())
                .limit(limit)
            )
            items = [
                {
                    "time": r.time,
                    "kind": "request",
                    "action": f"{r.method} {r.route}",
                    "status": r.status,
                    "subject": r.request_id,
                }
                for r in calls
            ]
            events = await session.execute(
                select(activity)
                .where(
                    activity.c.user_id == user_id,
                    activity.c.time >= start,
                    activity.c.time < end,
                )
                .order_by(activity.c.time.desc())
                .limit(limit)
            )
            items += [
                {
                    "time": r.time,
                    "kind": "event",
                    "action": r.action,
                    "status": None,
                    "subject": r.subject,
                }
                for r in events
            ]
        items.sort(key=lambda item: item["time"], reverse=True)
        return items[:limit]

    # --- retention --------------------------------------------------------------------------

    async def clean(self, now: datetime, raw_days: int, rollup_days: int) -> dict[str, int]:
        """Remove raw records (and minute roll-ups) older than `raw_days`, raw requests only
        once folded, and hour/day buckets that ended more than `rollup_days` ago. The audit
        trail is never removed."""
        await self.fold()
        raw = now - timedelta(days=raw_days)
        kept = now - timedelta(days=rollup_days)
        removed: dict[str, int] = {}
        async with self.db.transaction() as session:
            folded = (
                await session.execute(select(fold_state.c.last_id).where(fold_state.c.name == FOLD))
            ).scalar() or 0
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
            for granularity, seconds in domain.BUCKET_SECONDS.items():
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
        removed["inbox"] = await prune_inbox(self.db, timedelta(days=raw_days))
        return removed


def _stats(row: Any) -> domain.RequestStats:
    return domain.RequestStats(
        requests=row.requests,
        errors=row.errors,
        client_errors=row.client_errors,
        latency_sum=row.latency_sum,
        latency_max=row.latency_max,
        histogram=domain.RequestStats.parse_histogram(row.histogram),
    )


def _report(
    start: datetime, route: str, method: str, stats: domain.RequestStats, seconds: int
) -> dict[str, Any]:
    def ms(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    return {
        "start": start,
        "route": route,
        "method": method,
        "requests": stats.requests,
        "errors": stats.errors,
        "client_errors": stats.client_errors,
        "error_rate": round(stats.errors / stats.requests, 6),
        "rps": round(stats.requests / seconds, 6),
        "p50_ms": ms(stats.percentile(0.50)),
        "p95_ms": ms(stats.percentile(0.95)),
        "p99_ms": ms(stats.percentile(0.99)),
        "mean_ms": ms(stats.latency_sum / stats.requests),
        "max_ms": ms(stats.latency_max),
    }
