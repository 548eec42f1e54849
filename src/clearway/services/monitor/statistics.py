"""Statistics: the queries behind the administrators' API, on the roll-ups and raw records."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select

from clearway.kit.db import Database
from clearway.services.monitor.domain.stats import (
    BUCKET_SECONDS,
    FUNNEL_STAGES,
    Granularity,
    RequestStats,
    SearchDimension,
    floor,
)
from clearway.services.monitor.rollups import Rollups, stats_of
from clearway.services.monitor.tables import (
    active_users,
    activity,
    order_stages,
    request_rollups,
    requests,
    search_rollups,
)


class Statistics:
    def __init__(self, db: Database, rollups: Rollups) -> None:
        self.db = db
        self.rollups = rollups

    async def requests(
        self,
        start: datetime,
        end: datetime,
        granularity: Granularity,
        route: str | None,
        method: str | None,
    ) -> list[dict[str, Any]]:
        await self.rollups.fold()
        conditions = [
            request_rollups.c.granularity == granularity,
            request_rollups.c.start >= floor(start, granularity),
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
            seconds = BUCKET_SECONDS[granularity]
            return [
                _report(row.start, row.route, row.method, stats_of(row), seconds) for row in rows
            ]

    async def top_searches(
        self,
        start: datetime,
        end: datetime,
        by: SearchDimension,
        limit: int,
        granularity: Granularity | None,
    ) -> dict[str, Any]:
        window = and_(
            search_rollups.c.dimension == by,
            search_rollups.c.hour >= floor(start, "hour"),
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
                    series[(floor(hour, granularity), key)] += count
                result["series"] = [
                    {"start": bucket, "key": key, "count": count}
                    for (bucket, key), count in sorted(series.items())
                ]
        return result

    async def active_users(self, start: datetime, end: datetime) -> dict[str, Any]:
        window = and_(active_users.c.day >= floor(start, "day"), active_users.c.day < end)
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
        stages = {stage: int(counts.get(stage, 0)) for stage in FUNNEL_STAGES}
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


def _report(
    start: datetime, route: str, method: str, stats: RequestStats, seconds: int
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
